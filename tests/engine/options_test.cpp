// Options at work: window scaling, timestamps with PAWS, SACK both ways.

#include "../support/harness.hpp"

using namespace tcpcore;
using namespace tcpcore::test;

namespace {
constexpr seq32 us = local_iss + 1;
constexpr seq32 peer = remote_iss + 1;

tcp_options syn_options(std::uint16_t mss, std::optional<std::uint8_t> ws, bool sack,
                        std::optional<tcp_timestamps> ts) {
    tcp_options o;
    o.mss = mss;
    o.window_scale = ws;
    o.sack_permitted = sack;
    o.timestamps = ts;
    return o;
}

}  // namespace

TEST_CASE("window scaling: negotiated both ways, windows scaled after the SYNs, never in them") {
    config c = plain_config();
    c.window_scaling = true;
    c.receive_buffer = 256 * 1024;  // needs shift 3
    harness h(c);
    REQUIRE(!h.conn.open_active(at(0ms), h.tuple(), local_iss));
    h.expect(at(0ms), {{SYN, local_iss, {}, 65535, syn_options(1460, 3, false, {}), {}}});
    h.send(at(10ms), {SYN | ACK, remote_iss, us, 65535, syn_options(1460, 7, false, {}), {}});
    // Our window: 256 KiB >> 3 = 32768.
    h.expect(at(10ms), {{ACK, us, peer, 32768, {}, {}}});
    h.send(at(20ms), {ACK, peer, us, 100, {}, bytes_of("x")});  // 100 << 7 = 12800
    CHECK(h.conn.info().send_window == 12800);
    CHECK(h.conn.info().send_window_scale == 7);
    CHECK(h.conn.info().receive_window_scale == 3);
}

TEST_CASE("window scaling: off unless both sides offer it") {
    config c = plain_config();
    c.window_scaling = true;
    c.receive_buffer = 256 * 1024;
    harness h(c);
    REQUIRE(!h.conn.open_passive(at(0ms), {local_ip, local_port}, local_iss));
    h.send(at(0ms), {SYN, remote_iss, {}, 5000, mss_option(1460), {}});
    // The SYN,ACK carries no window scale, and our windows stop at 65535.
    h.expect(at(0ms), {{SYN | ACK, local_iss, peer, 65535, mss_option(1460), {}}});
    h.send(at(1ms), {ACK, peer, us, 5000, {}, {}});
    h.send(at(2ms), {ACK, peer, us, 5000, {}, bytes_of("x")});
    h.expect(at(2ms), {{ACK, us, peer + 1, 65535, {}, {}}});
    CHECK(h.conn.info().send_window == 5000);
}

TEST_CASE("timestamps: every segment carries TSval (ms clock + offset) and echoes TS.Recent") {
    config c = plain_config();
    c.timestamps = true;
    harness h(c);
    REQUIRE(!h.conn.open_active(at(1000ms), h.tuple(), local_iss, 5000));
    h.expect(at(1000ms), {{SYN, local_iss, {}, 64000, syn_options(1460, {}, false, tcp_timestamps{6000, 0}), {}}});
    h.send(at(1010ms), {SYN | ACK, remote_iss, us, 64000, syn_options(1460, {}, false, tcp_timestamps{777, 6000}), {}});
    tcp_options ts;
    ts.timestamps = tcp_timestamps{6010, 777};
    h.expect(at(1010ms), {{ACK, us, peer, 64000, ts, {}}});
    CHECK(h.conn.info().send_mss == 1448);  // 1460 minus the 12 bytes of the option
    tcp_options peer_ts;
    peer_ts.timestamps = tcp_timestamps{800, 6010};
    h.send(at(1020ms), {ACK, peer, us, 64000, peer_ts, bytes_of("abc")});
    ts.timestamps = tcp_timestamps{6020, 800};  // TS.Recent moved on
    h.expect(at(1020ms), {{ACK, us, peer + 3, 63997, ts, {}}});
}

TEST_CASE("timestamps: PAWS drops a segment with an old TSval and answers with an ACK (RFC 7323 §5)") {
    config c = plain_config();
    c.timestamps = true;
    harness h(c);
    REQUIRE(!h.conn.open_active(at(0ms), h.tuple(), local_iss));
    h.recv(at(0ms));
    h.send(at(10ms), {SYN | ACK, remote_iss, us, 64000, syn_options(1460, {}, false, tcp_timestamps{1000, 0}), {}});
    h.recv(at(10ms));
    tcp_options old;
    old.timestamps = tcp_timestamps{999, 10};  // older than TS.Recent 1000
    CHECK(h.send(at(20ms), {ACK, peer, us, 64000, old, bytes_of("stale")}).reason == drop_reason::paws);
    tcp_options ts;
    ts.timestamps = tcp_timestamps{20, 1000};
    h.expect(at(20ms), {{ACK, us, peer, 64000, ts, {}}});
    CHECK(h.conn.readable() == 0);
    // A RST is exempt from PAWS.
    CHECK(h.send(at(21ms), {RST, peer, {}, 0, old, {}}).result == segment_result::reset);
}

// Found by the simulated-network properties: at 10% loss with small windows,
// an ACK lost after a segment arrived made our retransmission a duplicate,
// and the peer's answer echoed the original's timestamp (TS.Recent moves only
// for segments in the window). Taken as an RTT sample it spanned the whole
// timeout; RTOs grew to minutes and a 100 KB transfer took hours.
TEST_CASE("timestamps: after a timeout, an echo older than the retransmission gives no RTT sample") {
    config c = plain_config();
    c.timestamps = true;
    for (const bool echo_the_retransmission : {false, true}) {
        harness h(c);
        REQUIRE(!h.conn.open_active(at(0ms), h.tuple(), local_iss));
        h.recv(at(0ms));
        h.send(at(10ms), {SYN | ACK, remote_iss, us, 64000, syn_options(1460, {}, false, tcp_timestamps{1000, 0}), {}});
        h.recv(at(10ms));
        REQUIRE(h.conn.info().srtt == 10ms);
        h.write(at(20ms), "abc");
        const auto first = h.recv(at(20ms));
        REQUIRE(first.size() == 1);
        REQUIRE(first[0].options.timestamps->value == 20);
        std::vector<seg> again;
        for (time_point t = at(21ms); again.empty(); t += 1ms) again = h.recv(t);
        REQUIRE(again.size() == 1);
        const std::uint32_t retransmitted_at = again[0].options.timestamps->value;
        tcp_options ts;
        ts.timestamps = tcp_timestamps{1001, echo_the_retransmission ? retransmitted_at : 20u};
        h.send(at(std::chrono::milliseconds{retransmitted_at + 30}), {ACK, peer, us + 3, 64000, ts, {}});
        INFO("echo of the " << (echo_the_retransmission ? "retransmission" : "original"));
        if (echo_the_retransmission) CHECK(h.conn.info().srtt != 10ms);  // a 30 ms sample moves it
        else CHECK(h.conn.info().srtt == 10ms);
    }
}

TEST_CASE("SACK: out-of-order data is reported, most recent block first (RFC 2018 §4)") {
    config c = plain_config();
    c.sack = true;
    harness h(c);
    REQUIRE(!h.conn.open_passive(at(0ms), {local_ip, local_port}, local_iss));
    tcp_options syn = mss_option(1460);
    syn.sack_permitted = true;
    h.send(at(0ms), {SYN, remote_iss, {}, 64000, syn, {}});
    h.expect(at(0ms), {{SYN | ACK, local_iss, peer, 64000, syn, {}}});
    h.send(at(1ms), {ACK, peer, us, 64000, {}, {}});
    h.send(at(2ms), {ACK, peer + 100, us, 64000, {}, bytes_of(std::string(100, 'b'))});
    tcp_options one;
    one.add_sack_block({peer + 100, peer + 200});
    h.expect(at(2ms), {{ACK, us, peer, 64000, one, {}}});
    h.send(at(3ms), {ACK, peer + 300, us, 64000, {}, bytes_of(std::string(100, 'd'))});
    tcp_options two;
    two.add_sack_block({peer + 300, peer + 400});
    two.add_sack_block({peer + 100, peer + 200});
    h.expect(at(3ms), {{ACK, us, peer, 64000, two, {}}});
    // Filling the first hole merges blocks and moves the ACK on.
    h.send(at(4ms), {ACK, peer, us, 64000, {}, bytes_of(std::string(100, 'a'))});
    tcp_options left;
    left.add_sack_block({peer + 300, peer + 400});
    h.expect(at(4ms), {{ACK, us, peer + 200, 63800, left, {}}});
}

TEST_CASE("SACK: with holes reported, only the hole is retransmitted (RFC 6675)") {
    config c = plain_config();
    c.sack = true;
    harness h(c);
    REQUIRE(!h.conn.open_passive(at(0ms), {local_ip, local_port}, local_iss));
    tcp_options syn = mss_option(1000);
    syn.sack_permitted = true;
    h.send(at(0ms), {SYN, remote_iss, {}, 64000, syn, {}});
    h.recv(at(0ms));
    h.send(at(10ms), {ACK, peer, us, 64000, {}, {}});
    h.write(at(10ms), std::string(5000, 'x'));
    REQUIRE(h.recv(at(10ms)).size() == 5);  // 5 x 1000
    // Segment 1 is lost; 2..5 arrive and are SACKed in three duplicate ACKs.
    auto dup = [&](std::uint32_t right) {
        tcp_options o;
        o.add_sack_block({us + 1000, us + right});
        return seg{ACK, peer, us, 64000, o, {}};
    };
    h.send(at(20ms), dup(2000));
    h.send(at(21ms), dup(3000));
    h.expect_nothing(at(21ms));
    h.send(at(22ms), dup(4000));
    // Three segments' worth SACKed: recovery; only [us, us+1000) goes again.
    h.expect(at(22ms), {{ACK, us, peer, 64000, {}, bytes_of(std::string(1000, 'x'))}});
    h.send(at(23ms), dup(5000));
    h.expect_nothing(at(23ms));
    h.send(at(30ms), {ACK, peer, us + 5000, 64000, {}, {}});
    CHECK(h.conn.info().send_queue == 0);
}
