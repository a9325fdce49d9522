// Opening a connection: passive, active and simultaneous open, SYN and SYN,ACK
// retransmission schedules, and the handshake's defences (docs/behaviour.md §2.2-§2.3, §4.1).

#include "../support/harness.hpp"

using namespace tcpcore;
using namespace tcpcore::test;

namespace {
// Our SYN as plain_config() sends it: MSS only, our whole buffer as window.
seg our_syn() { return {SYN, local_iss, {}, 64000, mss_option(1460), {}}; }

void open_active(harness& h, time_point t = time_point{}) {
    REQUIRE(!h.conn.open_active(t, h.tuple(), local_iss));
}

void open_passive(harness& h, time_point t = time_point{}) {
    REQUIRE(!h.conn.open_passive(t, {local_ip, local_port}, local_iss));
}
}  // namespace

TEST_CASE("CLOSED: active open -> SYN with MSS at once, SYN-SENT") {
    harness h;
    open_active(h);
    CHECK(h.conn.state() == tcp_state::syn_sent);
    h.expect(at(0ms), {our_syn()});
}

TEST_CASE("CLOSED: active open with every option -> Linux's SYN layout") {
    config c;  // defaults: window scaling, SACK, timestamps
    c.receive_buffer = 256 * 1024;
    harness h(c);
    REQUIRE(!h.conn.open_active(at(5ms), h.tuple(), local_iss, 1000));
    tcp_options o;
    o.mss = 1460;
    o.sack_permitted = true;
    o.timestamps = tcp_timestamps{1005, 0};  // ms clock + offset
    o.window_scale = 3;                      // 256 KiB >> 3 fits 16 bits
    h.expect(at(5ms), {{SYN, local_iss, {}, 65535, o, {}}});
}

TEST_CASE("SYN-SENT: SYN,ACK -> ACK, ESTABLISHED, connected") {
    harness h;
    open_active(h);
    h.expect(at(0ms), {our_syn()});
    const auto r = h.send(at(10ms), {SYN | ACK, remote_iss, local_iss + 1, 5000, mss_option(1400), {}});
    CHECK(r.result == segment_result::accepted);
    CHECK(h.conn.state() == tcp_state::established);
    CHECK(h.conn.take_events().has(connection_events::connected));
    h.expect(at(10ms), {{ACK, local_iss + 1, remote_iss + 1, 64000, {}, {}}});
    // The peer's MSS, 1400, now bounds what we send; the handshake gave an
    // RTT of 10 ms, so RTO = 10 + max(4 x 5, 200) = 210 ms (docs/behaviour.md §4.2).
    CHECK(h.conn.info().send_mss == 1400);
    CHECK(h.conn.info().srtt == 10ms);
    CHECK(h.conn.info().rto == 210ms);
    h.expect_nothing_until(never);
}

TEST_CASE("LISTEN: SYN -> SYN,ACK, ACK -> ESTABLISHED") {
    harness h;
    open_passive(h);
    CHECK(h.conn.state() == tcp_state::listen);
    h.expect_nothing(at(0ms));
    CHECK(h.send(at(1ms), {SYN, remote_iss, {}, 5000, mss_option(1460), {}}).result == segment_result::accepted);
    CHECK(h.conn.state() == tcp_state::syn_received);
    h.expect(at(1ms), {{SYN | ACK, local_iss, remote_iss + 1, 64000, mss_option(1460), {}}});
    h.send(at(3ms), {ACK, remote_iss + 1, local_iss + 1, 5000, {}, {}});
    CHECK(h.conn.state() == tcp_state::established);
    CHECK(h.conn.tuple() == h.tuple());
    CHECK(h.conn.info().srtt == 2ms);
    h.expect_nothing_until(never);
}

TEST_CASE("LISTEN: segments that are not a SYN get the replies of RFC 9293 3.10.7.2") {
    harness h;
    open_passive(h);
    // An ACK: RST seq=SEG.ACK.
    CHECK(h.send(at(1ms), {ACK, remote_iss, seq32{777}, 5000, {}, {}}).reason == drop_reason::ack_in_listen);
    h.expect(at(1ms), {{RST, seq32{777}, {}, 0, {}, {}}});
    // A RST: ignored.
    CHECK(h.send(at(2ms), {RST, remote_iss, {}, 0, {}, {}}).reason == drop_reason::rst_ignored);
    h.expect_nothing(at(2ms));
    CHECK(h.conn.state() == tcp_state::listen);
}

TEST_CASE("SYN-SENT: retransmissions at 1, 3, 7, 15, 31 s, timed out at 63 s (docs/behaviour.md §4.1)") {
    harness h;
    open_active(h);
    h.expect(at(0s), {our_syn()});
    for (auto t : {1s, 3s, 7s, 15s, 31s}) {
        h.expect_nothing_until(at(t));
        h.expect(at(t), {our_syn()});
        CHECK(h.conn.state() == tcp_state::syn_sent);
    }
    h.expect_nothing_until(at(63s));
    h.expect_nothing(at(63s));
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(h.conn.error() == std::errc::timed_out);
    CHECK(h.conn.take_events().has(connection_events::closed));
    h.expect_nothing_until(never);
}

TEST_CASE("SYN-SENT: with syn_linear_timeouts 4: 1, 2, 3, 4, 5, 7, 11, 19, 35 s, timed out at 67 s") {
    config c = plain_config();
    c.syn_linear_timeouts = 4;
    harness h(c);
    open_active(h);
    h.expect(at(0s), {our_syn()});
    for (auto t : {1s, 2s, 3s, 4s, 5s, 7s, 11s, 19s, 35s}) {
        h.expect_nothing_until(at(t));
        h.expect(at(t), {our_syn()});
    }
    h.expect_nothing_until(at(67s));
    h.expect_nothing(at(67s));
    CHECK(h.conn.error() == std::errc::timed_out);
}

TEST_CASE("SYN-SENT: per-connection syn_retries 2 -> 1, 3 s, timed out at 7 s") {
    harness h;
    REQUIRE(h.conn.set_syn_retries(2));
    open_active(h);
    h.expect(at(0s), {our_syn()});
    h.expect(at(1s), {our_syn()});
    h.expect(at(3s), {our_syn()});
    h.expect_nothing_until(at(7s));
    h.expect_nothing(at(7s));
    CHECK(h.conn.error() == std::errc::timed_out);
    CHECK(!h.conn.set_syn_retries(0));  // refused: the value stays
}

TEST_CASE("SYN-SENT: an ACK for another attempt -> RST seq=SEG.ACK, and no handshake (docs/behaviour.md §2.2)") {
    harness h;
    open_active(h);
    h.expect(at(0ms), {our_syn()});
    // A SYN,ACK acknowledging an older SYN of ours (ISS 9000).
    const auto r = h.send(at(5ms), {SYN | ACK, remote_iss, seq32{9001}, 5000, {}, {}});
    CHECK(r.reason == drop_reason::unacceptable_ack);
    h.expect(at(5ms), {{RST, seq32{9001}, {}, 0, {}, {}}});
    CHECK(h.conn.state() == tcp_state::syn_sent);
    // The real SYN,ACK still completes it.
    h.send(at(10ms), {SYN | ACK, seq32{30000}, local_iss + 1, 5000, {}, {}});
    CHECK(h.conn.state() == tcp_state::established);
}

TEST_CASE("SYN-SENT: RST acknowledging our SYN -> CLOSED, connection refused") {
    harness h;
    open_active(h);
    h.recv(at(0ms));
    // Without ACK: ignored (RFC 5961 §3.2).
    CHECK(h.send(at(1ms), {RST, seq32{0}, {}, 0, {}, {}}).reason == drop_reason::rst_unacceptable);
    CHECK(h.conn.state() == tcp_state::syn_sent);
    // With the right ACK: refused, nothing sent.
    CHECK(h.send(at(2ms), {RST | ACK, seq32{0}, local_iss + 1, 0, {}, {}}).result == segment_result::reset);
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(h.conn.error() == std::errc::connection_refused);
    h.expect_nothing_until(never);
}

TEST_CASE("SYN-SENT: simultaneous open -> SYN-RECEIVED -> ESTABLISHED (RFC 9293 Figure 7)") {
    harness h;
    open_active(h);
    h.expect(at(0ms), {our_syn()});
    h.send(at(5ms), {SYN, remote_iss, {}, 5000, mss_option(1460), {}});
    CHECK(h.conn.state() == tcp_state::syn_received);
    h.expect(at(5ms), {{SYN | ACK, local_iss, remote_iss + 1, 64000, mss_option(1460), {}}});
    // The peer's SYN,ACK, crossing ours: its ISN again, acking our SYN.
    CHECK(h.send(at(8ms), {SYN | ACK, remote_iss, local_iss + 1, 5000, mss_option(1460), {}}).result ==
          segment_result::accepted);
    CHECK(h.conn.state() == tcp_state::established);
    h.expect_nothing_until(never);
}

TEST_CASE("SYN-RECEIVED: SYN,ACK retransmitted at 1, 3, 7, 15, 31 s, dropped at 63 s") {
    harness h;
    open_passive(h);
    h.send(at(0s), {SYN, remote_iss, {}, 5000, mss_option(1460), {}});
    const seg synack{SYN | ACK, local_iss, remote_iss + 1, 64000, mss_option(1460), {}};
    h.expect(at(0s), {synack});
    for (auto t : {1s, 3s, 7s, 15s, 31s}) {
        h.expect_nothing_until(at(t));
        h.expect(at(t), {synack});
    }
    h.expect_nothing_until(at(63s));
    h.expect_nothing(at(63s));
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(h.conn.error() == std::errc::timed_out);
}

TEST_CASE("SYN-RECEIVED: the peer's retransmitted SYN gets the SYN,ACK again at once") {
    harness h;
    open_passive(h);
    h.send(at(0s), {SYN, remote_iss, {}, 5000, mss_option(1460), {}});
    const seg synack{SYN | ACK, local_iss, remote_iss + 1, 64000, mss_option(1460), {}};
    h.expect(at(0s), {synack});
    CHECK(h.send(at(500ms), {SYN, remote_iss, {}, 5000, mss_option(1460), {}}).reason == drop_reason::duplicate_syn);
    h.expect(at(500ms), {synack});
    CHECK(h.conn.state() == tcp_state::syn_received);
}

TEST_CASE("SYN-RECEIVED: RST returns a passive open to LISTEN") {
    harness h;
    open_passive(h);
    h.send(at(0s), {SYN, remote_iss, {}, 5000, mss_option(1460), {}});
    h.recv(at(0s));
    CHECK(h.send(at(1ms), {RST, remote_iss + 1, {}, 0, {}, {}}).result == segment_result::reset);
    CHECK(h.conn.state() == tcp_state::listen);
    CHECK(!h.conn.error());
    h.expect_nothing_until(never);
    // And it accepts the next SYN, from anyone.
    h.send(at(2ms), {SYN, seq32{555}, {}, 5000, mss_option(1460), {}});
    CHECK(h.conn.state() == tcp_state::syn_received);
}

TEST_CASE("MSS negotiation: the smaller of the peer's and ours, 536 when the peer sends none") {
    harness h;
    open_active(h);
    h.recv(at(0ms));
    h.send(at(1ms), {SYN | ACK, remote_iss, local_iss + 1, 5000, {}, {}});
    CHECK(h.conn.info().send_mss == 536);
}

namespace {
struct recording_tracer {
    std::vector<std::pair<tcp_state, tcp_state>>* seen;
    void on_transition(const transition& row) { seen->push_back({row.from, row.to}); }
};
}  // namespace

TEST_CASE("tracer: sees every state change, as the table row that made it") {
    std::vector<std::pair<tcp_state, tcp_state>> seen;
    const config cfg = plain_config();
    basic_connection<newreno, std_allocator, recording_tracer> c(cfg, {}, {}, recording_tracer{&seen});
    REQUIRE(!c.open_active(at(0ms), {{local_ip, 1000}, {remote_ip, 2000}}, local_iss));
    std::uint8_t buf[100];
    (void)c.poll_output(at(0ms), buf);
    std::vector<std::uint8_t> synack(60);
    const auto n = build_tcp_segment(synack, {2000, 1000, remote_iss, local_iss + 1, SYN | ACK, 5000, 0, 0}, {}, {},
                                     remote_ip, local_ip);
    synack.resize(*n);
    c.on_segment(at(1ms), *tcp_segment_view::parse(synack), remote_ip, local_ip);
    c.abort(at(2ms));
    const std::vector<std::pair<tcp_state, tcp_state>> expected = {
        {tcp_state::closed, tcp_state::syn_sent},
        {tcp_state::syn_sent, tcp_state::established},
        {tcp_state::established, tcp_state::closed},
    };
    CHECK(seen == expected);
}
