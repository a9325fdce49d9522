// docs/behaviour.md §3-§4 with exact virtual times: retransmission give-up by retries2
// and by TCP_USER_TIMEOUT, retries1's report, and keepalive's four outcomes.

#include "../support/harness.hpp"

using namespace tcpcore;
using namespace tcpcore::test;

namespace {
constexpr seq32 us = local_iss + 1;
constexpr seq32 peer = remote_iss + 1;

// An active open whose handshake measures an RTT of 10 ms: RTO 210 ms.
void open_with_10ms_rtt(harness& h) {
    REQUIRE(!h.conn.open_active(at(0ms), h.tuple(), local_iss));
    h.recv(at(0ms));
    h.send(at(10ms), {SYN | ACK, remote_iss, us, 64000, mss_option(1460), {}});
    h.recv(at(10ms));
    REQUIRE(h.conn.info().rto == 210ms);
}

const seg data_segment{PSH | ACK, us, peer, 64000, {}, bytes_of("data")};

// Data sent at T0 = 10 ms and never acknowledged.
void send_data_unanswered(harness& h) {
    h.write(at(10ms), "data");
    h.expect(at(10ms), {data_segment});
}
}  // namespace

TEST_CASE("retransmission: RTT 10 ms, retries2 4 -> 0.21, 0.63, 1.47, 3.15 s, timed out at 6.51 s, no RST") {
    config c = plain_config();
    c.retries2 = 4;
    harness h(c);
    open_with_10ms_rtt(h);
    send_data_unanswered(h);
    const time_point t0 = at(10ms);
    for (auto d : {210ms, 630ms, 1470ms, 3150ms}) {
        h.expect_nothing_until(t0 + d);
        h.expect(t0 + d, {data_segment});
        CHECK(h.conn.state() == tcp_state::established);
    }
    h.expect_nothing_until(t0 + 6510ms);
    h.expect_nothing(t0 + 6510ms);  // aborted without a RST
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(h.conn.error() == std::errc::timed_out);
}

TEST_CASE("retransmission: RTT 10 ms, user timeout 3 s -> 0.21, 0.63, 1.47, 3.15 s, the last RTO clamped, abort at 3.21 s") {
    harness h;
    REQUIRE(h.conn.set_user_timeout(3s));
    open_with_10ms_rtt(h);
    send_data_unanswered(h);
    const time_point t0 = at(10ms);
    for (auto d : {210ms, 630ms, 1470ms, 3150ms}) h.expect(t0 + d, {data_segment});
    h.expect_deadline(t0 + 3210ms);  // 3.36 s clamped to 0.06 s
    h.expect_nothing(t0 + 3210ms);   // no RST
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(h.conn.error() == std::errc::timed_out);
}

TEST_CASE("retransmission: default retries2 15 gives up 924.6 s after the first retransmission") {
    harness h;
    open_with_10ms_rtt(h);
    send_data_unanswered(h);
    const time_point first = at(10ms) + 210ms;
    h.expect(first, {data_segment});
    time_point t = first;
    while (h.conn.state() == tcp_state::established) {
        t = h.conn.next_deadline();
        REQUIRE(t != never);
        h.recv(t);
    }
    CHECK(t - first >= 924600ms);
    CHECK(h.conn.error() == std::errc::timed_out);
    // The last RTO before giving up was 120 s (rto_max), so the expiry came
    // less than one rto_max after T(15).
    CHECK(t - first < 924600ms + 120s);
}

TEST_CASE("retransmission: retries1 (3) retransmissions report that the path may be broken") {
    harness h;
    open_with_10ms_rtt(h);
    send_data_unanswered(h);
    h.conn.take_events();
    const time_point t0 = at(10ms);
    h.recv(t0 + 210ms);
    h.recv(t0 + 630ms);
    CHECK(!h.conn.take_events().has(connection_events::path_may_be_broken));
    h.recv(t0 + 1470ms);
    CHECK(h.conn.take_events().has(connection_events::path_may_be_broken));
    CHECK(h.conn.state() == tcp_state::established);  // the connection goes on
    // An ACK clears the episode.
    h.send(t0 + 1500ms, {ACK, peer, us + 4, 64000, {}, {}});
    CHECK(h.conn.info().retransmits == 0);
}

TEST_CASE("retransmission: an ACK restarts the RTO at its base and clears the user timeout") {
    harness h;
    REQUIRE(h.conn.set_user_timeout(1s));
    open_with_10ms_rtt(h);
    send_data_unanswered(h);
    const time_point t0 = at(10ms);
    h.expect(t0 + 210ms, {data_segment});
    h.expect(t0 + 630ms, {data_segment});
    h.send(t0 + 700ms, {ACK, peer, us + 4, 64000, {}, {}});
    h.write(t0 + 700ms, "more");
    h.recv(t0 + 700ms);
    // Fresh: RTO back to 210 ms, and a whole new user timeout.
    h.expect_deadline(t0 + 910ms);
    CHECK(h.conn.state() == tcp_state::established);
}

// ---- Keepalive (docs/behaviour.md §3): idle 2 s, interval 1 s, probes 3 -------

namespace {
config keepalive_config() {
    config c = plain_config();
    c.keepalive = true;
    c.keepalive_idle = 2s;
    c.keepalive_interval = 1s;
    c.keepalive_probes = 3;
    return c;
}
const seg probe{ACK, us - 1, peer, 64000, {}, {}};  // seq = SND.UNA - 1, no data
}  // namespace

TEST_CASE("keepalive (b) the peer has crashed: probes at 2, 3, 4 s, at 5 s RST and timed out") {
    harness h(keepalive_config());
    h.established();
    for (auto t : {2s, 3s, 4s}) {
        h.expect_nothing_until(at(t));
        h.expect(at(t), {probe});
    }
    h.expect_nothing_until(at(5s));
    h.expect(at(5s), {{RST | ACK, us, peer, 0, {}, {}}});
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(h.conn.error() == std::errc::timed_out);
}

TEST_CASE("keepalive (a) the peer answers: the next probe comes idle after the last segment (2, 4, 6 s)") {
    harness h(keepalive_config());
    h.established();
    for (auto t : {2s, 4s, 6s}) {
        h.expect_nothing_until(at(t));
        h.expect(at(t), {probe});
        h.send(at(t), {ACK, peer, us, 64000, {}, {}});  // the answer
    }
    h.expect_nothing_until(at(8s));
    CHECK(h.conn.state() == tcp_state::established);
}

TEST_CASE("keepalive (c) the peer rebooted: its RST ends the connection at once, reset") {
    harness h(keepalive_config());
    h.established();
    h.expect(at(2s), {probe});
    // A rebooted stack answers the probe with RST seq=SEG.ACK (= our RCV.NXT).
    CHECK(h.send(at(2s), {RST, peer, {}, 0, {}, {}}).result == segment_result::reset);
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(h.conn.error() == std::errc::connection_reset);
    h.expect_nothing_until(never);
}

TEST_CASE("keepalive (d) the peer is fine but unreachable: indistinguishable from (b)") {
    harness h(keepalive_config());
    h.established();
    // The peer's answers never arrive: exactly the crash schedule.
    for (auto t : {2s, 3s, 4s}) h.expect(at(t), {probe});
    h.expect(at(5s), {{RST | ACK, us, peer, 0, {}, {}}});
    CHECK(h.conn.error() == std::errc::timed_out);
}

TEST_CASE("keepalive with a user timeout: idle past it with a probe unanswered aborts, whatever the count") {
    harness h(keepalive_config());
    REQUIRE(h.conn.set_user_timeout(3500ms));
    h.established();
    h.expect(at(2s), {probe});
    h.expect(at(3s), {probe});
    h.expect(at(4s), {{RST | ACK, us, peer, 0, {}, {}}});  // idle 4 s >= 3.5 s
    CHECK(h.conn.error() == std::errc::timed_out);

    harness longer(keepalive_config());
    REQUIRE(longer.conn.set_user_timeout(10s));
    longer.established();
    for (auto t : {2s, 3s, 4s, 5s, 6s, 7s, 8s, 9s}) longer.expect(at(t), {probe});  // beyond 3 probes
    longer.expect(at(10s), {{RST | ACK, us, peer, 0, {}, {}}});
}

// Found by the connection fuzzer: a clock that jumps hours ahead (a host
// waking from suspend, a simulator) found every missed probe due at once, and
// with a user timeout they never ran out: poll_output() sent probes forever.
// As Linux re-arms its timer from the firing, one probe goes, then one per
// interval.
TEST_CASE("keepalive: after a jump of the clock, one probe, then one per interval") {
    harness h(keepalive_config());
    h.established();
    h.expect(at(100s), {probe});
    h.expect_nothing_until(at(101s));
    h.expect(at(101s), {probe});
    h.expect(at(102s), {probe});
    h.expect(at(103s), {{RST | ACK, us, peer, 0, {}, {}}});
    CHECK(h.conn.error() == std::errc::timed_out);

    harness with_user_timeout(keepalive_config());
    REQUIRE(with_user_timeout.conn.set_user_timeout(3h));
    with_user_timeout.established();
    with_user_timeout.expect(at(2h), {probe});
    with_user_timeout.expect_nothing_until(at(2h + 1s));
    with_user_timeout.expect(at(2h + 1s), {probe});
    // An answer starts the idle period again, from the answer.
    with_user_timeout.send(at(2h + 1500ms), {ACK, peer, us, 64000, {}, {}});
    with_user_timeout.expect_nothing_until(at(2h + 3500ms));
    with_user_timeout.expect(at(2h + 3500ms), {probe});
}

TEST_CASE("keepalive: off by default, settings change a live connection") {
    harness h;  // keepalive off
    h.established();
    h.expect_nothing_until(never);
    REQUIRE(h.conn.set_keepalive(true, at(100s)));
    REQUIRE(h.conn.set_keepalive_idle(5s));
    REQUIRE(h.conn.set_keepalive_interval(2s));
    REQUIRE(h.conn.set_keepalive_probes(1));
    h.expect_nothing_until(at(105s));
    h.expect(at(105s), {probe});
    h.expect(at(107s), {{RST | ACK, us, peer, 0, {}, {}}});
    // Refused values change nothing and say why.
    harness g;
    g.established();
    const auto bad = g.conn.set_keepalive_interval(0s);
    CHECK(!bad);
    CHECK(bad.field == config_field::keepalive_interval);
}

TEST_CASE("keepalive: no probes while data is outstanding (the retransmission timer watches)") {
    harness h(keepalive_config());
    h.established();
    h.write(at(0ms), "x");
    h.recv(at(0ms));
    // RTO 210 ms: retransmissions, not probes.
    h.expect(at(210ms), {{PSH | ACK, us, peer, 64000, {}, bytes_of("x")}});
    h.expect(at(630ms), {{PSH | ACK, us, peer, 64000, {}, bytes_of("x")}});
    h.send(at(1500ms), {ACK, peer, us + 1, 64000, {}, {}});
    // Idle from the ACK: first probe at 3.5 s.
    h.expect_nothing_until(at(3500ms));
    h.expect(at(3500ms), {{ACK, us, peer, 64000, {}, {}}});
}
