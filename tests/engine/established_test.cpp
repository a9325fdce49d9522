// ESTABLISHED: data both ways, windows, delayed ACK, Nagle, reassembly,
// zero-window probing, and RFC 5961's answers to RST and SYN.

#include "../support/harness.hpp"

#include <string>

using namespace tcpcore;
using namespace tcpcore::test;

namespace {
constexpr seq32 us = local_iss + 1;     // our first data byte
constexpr seq32 peer = remote_iss + 1;  // the peer's first data byte
constexpr std::uint16_t our_window = 64000;

std::string text(std::size_t n, char c = 'a') { return std::string(n, c); }
}  // namespace

TEST_CASE("ESTABLISHED: send -> one PSH,ACK segment, its ACK empties the queue") {
    harness h;
    h.established();
    CHECK(h.write(at(0ms), "hello") == 5);
    h.expect(at(0ms), {{PSH | ACK, us, peer, our_window, {}, bytes_of("hello")}});
    CHECK(h.conn.info().send_queue == 5);
    h.send(at(10ms), {ACK, peer, us + 5, 64000, {}, {}});
    CHECK(h.conn.info().send_queue == 0);
    CHECK(h.conn.take_events().has(connection_events::writable));
    h.expect_nothing_until(never);
}

TEST_CASE("ESTABLISHED: data in order -> readable, ACKed (no delayed ACK)") {
    harness h;
    h.established();
    CHECK(h.send(at(1ms), {PSH | ACK, peer, us, 64000, {}, bytes_of("abc")}).result == segment_result::accepted);
    CHECK(h.conn.take_events().has(connection_events::readable));
    h.expect(at(1ms), {{ACK, us, peer + 3, our_window - 3, {}, {}}});
    CHECK(h.read_all() == "abc");
}

TEST_CASE("ESTABLISHED: a large write goes out in MSS segments, as many as the initial window allows") {
    harness h;
    h.established();
    const std::string data = text(20 * 1460);
    CHECK(h.write(at(0ms), data) == data.size());
    const auto out = h.recv(at(0ms));
    REQUIRE(out.size() == 10);  // IW 10 (RFC 6928)
    for (std::size_t i = 0; i < out.size(); ++i) {
        CHECK(out[i].seq == us + static_cast<std::uint32_t>(i * 1460));
        CHECK(out[i].payload.size() == 1460);
        CHECK(out[i].flags == ACK);  // PSH only on the segment that ends the write
    }
    // Each ACK grows cwnd by one MSS (slow start) and frees two segments.
    h.send(at(10ms), {ACK, peer, us + 1460, 64000, {}, {}});
    CHECK(h.recv(at(10ms)).size() == 2);
}

TEST_CASE("ESTABLISHED: the peer's window limits what is sent") {
    harness h;
    h.established();
    // The window shrinks to 3000 on a segment with new data (Linux ignores a
    // shrinking window on a segment that brings nothing new).
    h.send(at(0ms), {ACK, peer, us, 64000, {}, bytes_of("x")});
    h.send(at(0ms), {ACK, peer + 1, us, 3000, {}, {}});
    h.recv(at(0ms));
    h.write(at(1ms), text(5000));
    const auto out = h.recv(at(1ms));
    REQUIRE(out.size() == 3);
    CHECK(out[0].payload.size() == 1460);
    CHECK(out[1].payload.size() == 1460);
    CHECK(out[2].payload.size() == 80);  // 3000 - 2 x 1460
    h.expect_nothing(at(2ms));
    // The window moves with the ACK: a full segment follows; the 540-byte
    // tail waits for its ACK (Nagle).
    h.send(at(10ms), {ACK, peer + 1, us + 3000, 3000, {}, {}});
    h.expect(at(10ms), {{ACK, us + 3000, peer + 1, 63999, {}, bytes_of(text(1460))}});
    h.send(at(20ms), {ACK, peer + 1, us + 4460, 3000, {}, {}});
    h.expect(at(20ms), {{PSH | ACK, us + 4460, peer + 1, 63999, {}, bytes_of(text(540))}});
}

TEST_CASE("ESTABLISHED: out-of-order data is held, duplicate ACKs go out, the hole's filling delivers all") {
    harness h;
    h.established();
    h.send(at(1ms), {ACK, peer + 100, us, 64000, {}, bytes_of(text(100, 'b'))});
    h.expect(at(1ms), {{ACK, us, peer, our_window, {}, {}}});  // dup ACK at once
    CHECK(h.conn.readable() == 0);
    h.send(at(2ms), {ACK, peer + 300, us, 64000, {}, bytes_of(text(50, 'd'))});
    h.expect(at(2ms), {{ACK, us, peer, our_window, {}, {}}});
    h.send(at(3ms), {ACK, peer, us, 64000, {}, bytes_of(text(100, 'a'))});
    h.expect(at(3ms), {{ACK, us, peer + 200, our_window - 200, {}, {}}});
    h.send(at(4ms), {ACK, peer + 200, us, 64000, {}, bytes_of(text(100, 'c'))});
    h.expect(at(4ms), {{ACK, us, peer + 350, our_window - 350, {}, {}}});
    CHECK(h.read_all() == text(100, 'a') + text(100, 'b') + text(100, 'c') + text(50, 'd'));
}

TEST_CASE("ESTABLISHED: overlapping and duplicate data is delivered once") {
    harness h;
    h.established();
    h.send(at(1ms), {ACK, peer, us, 64000, {}, bytes_of("abcdef")});
    h.send(at(2ms), {ACK, peer + 3, us, 64000, {}, bytes_of("defghi")});
    h.send(at(3ms), {ACK, peer, us, 64000, {}, bytes_of("abc")});
    CHECK(h.read_all() == "abcdefghi");
}

TEST_CASE("ESTABLISHED: delayed ACK waits at most 40 ms, and ACKs every second full segment at once") {
    config c = plain_config();
    c.delayed_ack = true;
    c.quick_ack = false;  // RFC 1122's delayed ACK from the first segment on
    harness h(c);
    h.established();
    h.send(at(1ms), {ACK, peer, us, 64000, {}, bytes_of(text(100))});
    h.expect_nothing_until(at(41ms));
    h.expect(at(41ms), {{ACK, us, peer + 100, our_window - 100, {}, {}}});
    // Two full-sized segments: the second is ACKed at once.
    h.send(at(50ms), {ACK, peer + 100, us, 64000, {}, bytes_of(text(536))});
    h.expect_nothing(at(50ms));
    h.send(at(51ms), {ACK, peer + 636, us, 64000, {}, bytes_of(text(536))});
    h.expect(at(51ms), {{ACK, us, peer + 1172, our_window - 1172, {}, {}}});
}

TEST_CASE("ESTABLISHED: quick-ACK mode ACKs the first 16 data segments at once, then ACKs wait, and a silence starts it again") {
    config c = plain_config();
    c.delayed_ack = true;  // and quick_ack, Linux's default
    harness h(c);
    h.established();
    // 64000 bytes of window over 2 x 536 (the first guess of the peer's MSS)
    // is more than 16: the cap.
    seq32 next = peer;
    for (int i = 0; i < 16; ++i) {
        const time_point t = at(1ms) + i * 10ms;
        h.send(t, {ACK, next, us, 64000, {}, bytes_of(text(100))});
        next = next + 100;
        const auto held = static_cast<std::uint16_t>(100 * (i + 1));  // unread: the window closes by it
        h.expect(t, {{ACK, us, next, static_cast<std::uint16_t>(our_window - held), {}, {}}});
    }
    h.send(at(200ms), {ACK, next, us, 64000, {}, bytes_of(text(100))});
    next = next + 100;
    h.expect_nothing_until(at(240ms));
    h.expect(at(240ms), {{ACK, us, next, our_window - 1700, {}, {}}});
    // Longer than the RTO without data: quick ACKs again.
    h.send(at(5s), {ACK, next, us, 64000, {}, bytes_of(text(100))});
    h.expect(at(5s), {{ACK, us, next + 100, our_window - 1800, {}, {}}});
}

TEST_CASE("ESTABLISHED: an interactive connection's ACKs ride on its answers until one has to go alone") {
    config c = plain_config();
    c.delayed_ack = true;
    harness h(c);
    h.established();
    h.send(at(1ms), {PSH | ACK, peer, us, 64000, {}, bytes_of("ping")});
    h.expect(at(1ms), {{ACK, us, peer + 4, our_window - 4, {}, {}}});  // quick ACK
    CHECK(h.read_all() == "ping");
    // Answering within the delayed-ACK time makes the exchange interactive.
    h.write(at(10ms), "pong");
    // (What was read reopens the window only once worth announcing.)
    h.expect(at(10ms), {{PSH | ACK, us, peer + 4, our_window - 4, {}, bytes_of("pong")}});
    CHECK_FALSE(h.conn.quick_ack_mode());
    h.send(at(100ms), {PSH | ACK, peer + 4, us + 4, 64000, {}, bytes_of("ping")});
    h.expect_nothing_until(at(140ms));  // waiting for an answer to ride on
    h.expect(at(140ms), {{ACK, us + 4, peer + 8, our_window - 8, {}, {}}});
    // That ACK went alone: quick ACKs again.
    CHECK(h.conn.quick_ack_mode());
    CHECK(h.read_all() == "ping");
    h.send(at(300ms), {PSH | ACK, peer + 8, us + 4, 64000, {}, bytes_of("ping")});
    h.expect(at(300ms), {{ACK, us + 4, peer + 12, our_window - 12, {}, {}}});
}

TEST_CASE("ESTABLISHED: out-of-order data and duplicates start quick-ACK mode again") {
    config c = plain_config();
    c.delayed_ack = true;
    harness h(c);
    h.established();
    REQUIRE(h.conn.set_quick_ack(false));  // interactive: in-order data waits
    h.send(at(1ms), {ACK, peer, us, 64000, {}, bytes_of(text(100))});
    h.expect_nothing(at(1ms));
    h.send(at(2ms), {ACK, peer + 200, us, 64000, {}, bytes_of(text(100))});  // a hole at 100
    h.expect(at(2ms), {{ACK, us, peer + 100, our_window - 100, {}, {}}});
    CHECK(h.conn.quick_ack_mode());
    h.send(at(3ms), {ACK, peer + 100, us, 64000, {}, bytes_of(text(100))});  // fills it
    h.expect(at(3ms), {{ACK, us, peer + 300, our_window - 300, {}, {}}});
}

TEST_CASE("ESTABLISHED: TCP_QUICKACK off delays ACKs, on sends the one owed at once") {
    config c = plain_config();
    c.delayed_ack = true;
    harness h(c);
    h.established();
    REQUIRE(h.conn.set_quick_ack(false));
    CHECK_FALSE(h.conn.quick_ack_mode());
    h.send(at(1ms), {ACK, peer, us, 64000, {}, bytes_of(text(100))});
    h.expect_nothing(at(10ms));
    REQUIRE(h.conn.set_quick_ack(true));
    h.expect(at(10ms), {{ACK, us, peer + 100, our_window - 100, {}, {}}});
}

// Found by the connection fuzzer: the delayed-ACK deadline is kept as 32
// bits read back around the last arrival. When the clock ran on for hours
// without a poll and then a segment arrived, the overdue deadline read back
// as one far in the future, and the ACK waited another hour.
TEST_CASE("ESTABLISHED: a delayed ACK overdue by hours goes at the next arrival") {
    config c = plain_config();
    c.delayed_ack = true;
    harness h(c);
    h.established();
    h.send(at(1ms), {ACK, peer, us, 64000, {}, bytes_of(text(100))});
    const time_point later = at(1ms) + std::chrono::hours{2};
    h.send(later, {ACK, peer + 100, us, 64000, {}, {}});  // a bare ACK: nothing to answer by itself
    h.expect(later, {{ACK, us, peer + 100, our_window - 100, {}, {}}});
    h.expect_nothing_until(never);
}

// Found by the simulated-network properties: two ends that disagree about
// the sequence space (after damage below the checksum) answered each other's
// out-of-window ACKs for ever. Linux (tcp_oow_rate_limited) answers a segment
// that carries nothing at most once per 500 ms; data, SYN and FIN always.
TEST_CASE("ESTABLISHED: out-of-window segments that carry nothing get one answer per 500 ms") {
    harness h;
    h.established();
    const seg answer{ACK, us, peer, our_window, {}, {}};
    const seg stray{ACK, peer + 100000, us, 64000, {}, {}};  // far beyond the window
    h.send(at(10ms), stray);
    h.expect(at(10ms), {answer});
    h.send(at(20ms), stray);
    h.expect_nothing(at(20ms));
    h.send(at(509ms), stray);
    h.expect_nothing(at(509ms));
    h.send(at(510ms), stray);
    h.expect(at(510ms), {answer});
    h.send(at(520ms), {ACK, peer + 100000, us, 64000, {}, bytes_of("x")});
    h.expect(at(520ms), {answer});
}

TEST_CASE("ESTABLISHED: Nagle holds a small segment while data is unacknowledged, no-delay does not") {
    harness h;
    h.established();
    h.write(at(0ms), "a");
    h.expect(at(0ms), {{PSH | ACK, us, peer, our_window, {}, bytes_of("a")}});
    h.write(at(1ms), "b");
    h.expect_nothing(at(1ms));  // held: "a" is in flight
    h.send(at(10ms), {ACK, peer, us + 1, 64000, {}, {}});
    h.expect(at(10ms), {{PSH | ACK, us + 1, peer, our_window, {}, bytes_of("b")}});
    REQUIRE(h.conn.set_nodelay(true));
    h.write(at(11ms), "c");
    h.expect(at(11ms), {{PSH | ACK, us + 2, peer, our_window, {}, bytes_of("c")}});
}

TEST_CASE("ESTABLISHED: TCP_CORK holds a small tail until uncorked, or until the probe timer fires") {
    harness h;
    h.established();
    REQUIRE(h.conn.set_cork(true));
    const std::string full = text(1460, 'm');
    CHECK(h.write(at(0ms), full + "ab") == 1462);
    h.expect(at(0ms), {{ACK, us, peer, our_window, {}, bytes_of(full)}});  // a full segment is never held
    h.write(at(5ms), "cd");
    h.expect_nothing(at(5ms));
    h.send(at(10ms), {ACK, peer, us + 1460, 64000, {}, {}});
    h.expect_nothing(at(10ms));  // corked: the ACK does not release the tail
    REQUIRE(h.conn.set_cork(false));
    h.expect(at(11ms), {{PSH | ACK, us + 1460, peer, our_window, {}, bytes_of("abcd")}});
    h.send(at(20ms), {ACK, peer, us + 1464, 64000, {}, {}});

    // Corked with nothing in flight, Linux's probe timer sends the tail
    // one RTO later (the cork's "200 ms ceiling").
    REQUIRE(h.conn.set_cork(true));
    h.write(at(30ms), "ef");
    const duration rto = h.conn.info().rto;
    h.expect_deadline(at(30ms) + rto);
    h.expect_nothing(at(30ms) + rto - 1ms);
    h.expect(at(30ms) + rto, {{PSH | ACK, us + 1464, peer, our_window, {}, bytes_of("ef")}});
}

TEST_CASE("ESTABLISHED: MSG_MORE holds a small tail even with no-delay, until the next send or an ACK") {
    harness h;
    h.established();
    REQUIRE(h.conn.set_nodelay(true));
    REQUIRE(h.conn.send(at(0ms), bytes_of("ab"), true));
    h.expect_nothing(at(0ms));
    REQUIRE(h.conn.send(at(1ms), bytes_of("cd")));  // without MSG_MORE: the tail goes
    h.expect(at(1ms), {{PSH | ACK, us, peer, our_window, {}, bytes_of("abcd")}});
    REQUIRE(h.conn.send(at(2ms), bytes_of("ef"), true));
    h.expect_nothing(at(2ms));
    // The peer's ACK releases it as the socket's own setting (no-delay) allows.
    h.send(at(10ms), {ACK, peer, us + 4, 64000, {}, {}});
    h.expect(at(10ms), {{PSH | ACK, us + 4, peer, our_window, {}, bytes_of("ef")}});
}

TEST_CASE("ESTABLISHED: setting no-delay sends what a cork holds, once") {
    harness h;
    h.established();
    REQUIRE(h.conn.set_cork(true));
    h.write(at(0ms), "ab");
    h.expect_nothing(at(0ms));
    REQUIRE(h.conn.set_nodelay(true));
    h.expect(at(1ms), {{PSH | ACK, us, peer, our_window, {}, bytes_of("ab")}});
    h.send(at(10ms), {ACK, peer, us + 2, 64000, {}, {}});
    h.write(at(11ms), "cd");  // still corked: the push was for what was there
    h.expect_nothing(at(11ms));
    CHECK(h.conn.corked());
}

TEST_CASE("ESTABLISHED: a window clamp caps the window offered, below the buffer") {
    config c = plain_config();
    c.window_clamp = 4000;  // TCP_WINDOW_CLAMP; the buffer holds 64000
    harness h(c);
    h.established();
    // The clamp bounds the window, not what the buffer holds (Linux's
    // window is min(free space, clamp)): with 1000 bytes unread it is still 4000.
    h.send(at(1ms), {ACK, peer, us, 64000, {}, bytes_of(text(1000))});
    h.expect(at(1ms), {{ACK, us, peer + 1000, 4000, {}, {}}});
    h.send(at(2ms), {ACK, peer + 1000, us, 64000, {}, bytes_of(text(4000))});
    h.expect(at(2ms), {{ACK, us, peer + 5000, 4000, {}, {}}});
    // Reading frees buffer space but opens no window past the clamp: no update.
    std::uint8_t buf[5000];
    CHECK(h.conn.recv(buf) == 5000);
    h.expect_nothing(at(3ms));
}

TEST_CASE("ESTABLISHED: a read that opens the window announces it") {
    config c = plain_config();
    c.receive_buffer = 4000;
    harness h(c);
    h.established();  // the SYN,ACK offered the whole 4000
    h.send(at(1ms), {ACK, peer, us, 64000, {}, bytes_of(text(1460))});
    h.expect(at(1ms), {{ACK, us, peer + 1460, 4000 - 1460, {}, {}}});
    h.send(at(2ms), {ACK, peer + 1460, us, 64000, {}, bytes_of(text(1460))});
    h.expect(at(2ms), {{ACK, us, peer + 2920, 4000 - 2920, {}, {}}});
    // Reading it all opens the window to 4000, more than double the 1080
    // offered: the update goes out at once (Linux tcp_cleanup_rbuf).
    std::uint8_t buf[4000];
    CHECK(h.conn.recv(buf) == 2920);
    h.expect(at(3ms), {{ACK, us, peer + 2920, 4000, {}, {}}});
    // A small read that opens little is not announced.
    h.send(at(4ms), {ACK, peer + 2920, us, 64000, {}, bytes_of(text(1000))});
    h.recv(at(4ms));
    CHECK(h.conn.recv(std::span(buf, 10)) == 10);
    h.expect_nothing(at(5ms));
}

TEST_CASE("ESTABLISHED: the advertised right edge never moves left") {
    config c = plain_config();
    c.receive_buffer = 3000;
    harness h(c);
    h.established();
    seq32 edge = peer + 3000;  // what the SYN,ACK offered
    for (int i = 0; i < 5; ++i) {
        h.send(at(std::chrono::milliseconds{i + 1}), {ACK, peer + static_cast<std::uint32_t>(i * 500), us, 64000, {},
                                                      bytes_of(text(500))});
        for (const seg& s : h.recv(at(std::chrono::milliseconds{i + 1}))) {
            const seq32 right = s.ack + s.window;
            CHECK(!(right < edge));
            edge = seq_max(edge, right);
        }
    }
}

TEST_CASE("ESTABLISHED: zero window -> probes at RTO, backing off, until the window opens") {
    harness h;
    h.established();
    h.send(at(0ms), {ACK, peer + 1, us, 0, {}, {}});  // the peer's window closes (a newer segment)
    h.write(at(0ms), "data");
    h.expect_nothing_until(at(210ms));  // RTO 210 ms
    // A probe: ACK with seq = SND.UNA - 1, no data (Linux).
    const seg probe{ACK, us - 1, peer, our_window, {}, {}};
    h.expect(at(210ms), {probe});
    h.send(at(210ms), {ACK, peer + 1, us, 0, {}, {}});  // answered, still closed
    h.expect_nothing_until(at(630ms));
    h.expect(at(630ms), {probe});  // 420 ms later: backed off
    h.send(at(630ms), {ACK, peer + 1, us, 0, {}, {}});
    h.expect_nothing_until(at(1470ms));
    h.send(at(1s), {ACK, peer + 1, us, 1000, {}, {}});  // the window opens
    h.expect(at(1s), {{PSH | ACK, us, peer, our_window, {}, bytes_of("data")}});
}

TEST_CASE("ESTABLISHED: unanswered zero-window probes give up after retries2 (Linux tcp_probe_timer)") {
    config c = plain_config();
    c.retries2 = 3;
    harness h(c);
    h.established();
    h.send(at(0ms), {ACK, peer + 1, us, 0, {}, {}});
    h.write(at(0ms), "data");
    for (auto t : {210ms, 630ms, 1470ms}) h.expect(at(t), {{ACK, us - 1, peer, our_window, {}, {}}});
    h.expect_nothing_until(at(3150ms));
    h.expect_nothing(at(3150ms));
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(h.conn.error() == std::errc::timed_out);
}

TEST_CASE("ESTABLISHED: RST exactly at RCV.NXT -> reset, in window -> challenge ACK, outside -> nothing") {
    harness h;
    h.established();
    CHECK(h.send(at(1ms), {RST, peer + 10, {}, 0, {}, {}}).reason == drop_reason::rst_not_exact);
    h.expect(at(1ms), {{ACK, us, peer, our_window, {}, {}}});  // the challenge ACK
    CHECK(h.send(at(2ms), {RST, peer + 100000, {}, 0, {}, {}}).reason == drop_reason::rst_out_of_window);
    h.expect_nothing(at(2ms));
    CHECK(h.conn.state() == tcp_state::established);
    CHECK(h.send(at(3ms), {RST, peer, {}, 0, {}, {}}).result == segment_result::reset);
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(h.conn.error() == std::errc::connection_reset);
    h.expect_nothing_until(never);  // a RST is never answered with a RST
}

TEST_CASE("ESTABLISHED: a SYN gets a challenge ACK and changes nothing (RFC 5961 §4)") {
    harness h;
    h.established();
    CHECK(h.send(at(1ms), {SYN, seq32{5}, {}, 1000, {}, {}}).reason == drop_reason::syn_in_window);
    h.expect(at(1ms), {{ACK, us, peer, our_window, {}, {}}});
    CHECK(h.conn.state() == tcp_state::established);
}

TEST_CASE("ESTABLISHED: challenge ACKs are rate-limited per second") {
    config c = plain_config();
    c.challenge_ack_limit = 2;
    harness h(c);
    h.established();
    for (int i = 0; i < 4; ++i) h.send(at(1ms), {RST, peer + 10, {}, 0, {}, {}});
    CHECK(h.recv(at(1ms)).size() == 1);  // one ACK answers both that were allowed
    h.send(at(2ms), {RST, peer + 10, {}, 0, {}, {}});
    h.expect_nothing(at(2ms));  // limit reached in this second
    h.send(at(1001ms), {RST, peer + 10, {}, 0, {}, {}});
    CHECK(h.recv(at(1001ms)).size() == 1);  // a new second
}

TEST_CASE("ESTABLISHED: a segment outside the window is answered with an ACK and dropped") {
    harness h;
    h.established();
    CHECK(h.send(at(1ms), {ACK, peer + 70000, us, 64000, {}, bytes_of("x")}).reason == drop_reason::out_of_window);
    h.expect(at(1ms), {{ACK, us, peer, our_window, {}, {}}});
    CHECK(h.conn.readable() == 0);
    // An ACK of data never sent: challenge ACK, nothing processed.
    CHECK(h.send(at(2ms), {ACK, peer, us + 100, 64000, {}, bytes_of("y")}).reason == drop_reason::ack_of_unsent_data);
    h.expect(at(2ms), {{ACK, us, peer, our_window, {}, {}}});
    CHECK(h.conn.readable() == 0);
}

TEST_CASE("ESTABLISHED: send before and after the connection is usable reports typed errors") {
    harness h;
    std::uint8_t b = 1;
    CHECK(h.conn.send(at(0ms), std::span(&b, 1)).error() == std::errc::not_connected);
    h.established();
    REQUIRE(!h.conn.shutdown(at(0ms)));
    CHECK(h.conn.send(at(0ms), std::span(&b, 1)).error() == std::errc::broken_pipe);
}
