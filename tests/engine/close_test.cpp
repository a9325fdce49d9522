// Closing (docs/behaviour.md §2.4, §2.5): the four-way close from either side, half-close,
// simultaneous close, TIME-WAIT's 2MSL with FIN re-ACK, abort, and the
// RFC 1337 choice.

#include "../support/harness.hpp"

using namespace tcpcore;
using namespace tcpcore::test;

namespace {
constexpr seq32 us = local_iss + 1;
constexpr seq32 peer = remote_iss + 1;
constexpr std::uint16_t win = 64000;
}  // namespace

TEST_CASE("ESTABLISHED: close -> FIN, ACK -> FIN-WAIT-2, FIN -> ACK, TIME-WAIT, 60 s -> CLOSED") {
    harness h;
    h.established();
    REQUIRE(!h.conn.close(at(0s)));
    CHECK(h.conn.state() == tcp_state::fin_wait_1);
    h.expect(at(0s), {{FIN | ACK, us, peer, win, {}, {}}});
    h.send(at(10ms), {ACK, peer, us + 1, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::fin_wait_2);
    h.send(at(20ms), {FIN | ACK, peer, us + 1, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::time_wait);
    // The FIN takes a sequence number but no buffer: the edge stays, so the
    // window reads one less (RFC 1122 4.2.3.3 keeps the edge still).
    h.expect(at(20ms), {{ACK, us + 1, peer + 1, win - 1, {}, {}}});
    h.expect_nothing_until(at(20ms) + 60s);
    h.expect_nothing(at(20ms) + 60s);
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(!h.conn.error());
}

TEST_CASE("TIME-WAIT: a retransmitted FIN is ACKed again and restarts the 2MSL timer") {
    harness h;
    h.established();
    h.conn.shutdown(at(0s));
    h.recv(at(0s));
    h.send(at(10ms), {FIN | ACK, peer, us + 1, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::time_wait);
    h.expect(at(10ms), {{ACK, us + 1, peer + 1, win - 1, {}, {}}});
    // Our ACK was lost; the peer's FIN comes again 30 s later.
    CHECK(h.send(at(30s), {FIN | ACK, peer, us + 1, 64000, {}, {}}).reason == drop_reason::out_of_window);
    h.expect(at(30s), {{ACK, us + 1, peer + 1, win - 1, {}, {}}});
    h.expect_nothing_until(at(90s));  // 60 s from the retransmission, not from entry
    h.expect_nothing(at(90s));
    CHECK(h.conn.state() == tcp_state::closed);
}

TEST_CASE("TIME-WAIT: a RST ends it (Linux default), with RFC 1337 protection it is ignored") {
    harness h;
    h.established();
    h.conn.shutdown(at(0s));
    h.recv(at(0s));
    h.send(at(10ms), {FIN | ACK, peer, us + 1, 64000, {}, {}});
    h.recv(at(10ms));
    CHECK(h.send(at(1s), {RST, peer + 1, {}, 0, {}, {}}).result == segment_result::reset);
    CHECK(h.conn.state() == tcp_state::closed);

    config c = plain_config();
    c.rfc1337 = true;
    harness p(c);
    p.established();
    p.conn.shutdown(at(0s));
    p.recv(at(0s));
    p.send(at(10ms), {FIN | ACK, peer, us + 1, 64000, {}, {}});
    p.recv(at(10ms));
    CHECK(p.send(at(1s), {RST, peer + 1, {}, 0, {}, {}}).reason == drop_reason::rst_in_time_wait);
    CHECK(p.conn.state() == tcp_state::time_wait);
}

TEST_CASE("ESTABLISHED: the peer's FIN -> ACK, CLOSE-WAIT, close -> FIN, LAST-ACK, ACK -> CLOSED") {
    harness h;
    h.established();
    h.send(at(1ms), {FIN | ACK, peer, us, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::close_wait);
    const auto ev = h.conn.take_events();
    CHECK(ev.has(connection_events::peer_closed));
    CHECK(h.conn.eof());
    h.expect(at(1ms), {{ACK, us, peer + 1, win - 1, {}, {}}});
    // CLOSE-WAIT may still send.
    h.write(at(2ms), "bye");
    h.expect(at(2ms), {{PSH | ACK, us, peer + 1, win - 1, {}, bytes_of("bye")}});
    h.conn.close(at(3ms));
    CHECK(h.conn.state() == tcp_state::last_ack);
    h.send(at(4ms), {ACK, peer + 1, us + 3, 64000, {}, {}});  // acks the data only
    h.expect(at(4ms), {{FIN | ACK, us + 3, peer + 1, win - 1, {}, {}}});
    h.send(at(5ms), {ACK, peer + 1, us + 4, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(!h.conn.error());
    h.expect_nothing_until(never);
}

TEST_CASE("half-close: after our FIN the peer may go on sending, we read it all") {
    harness h;
    h.established();
    h.conn.shutdown(at(0ms));
    h.expect(at(0ms), {{FIN | ACK, us, peer, win, {}, {}}});
    h.send(at(1ms), {ACK, peer, us + 1, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::fin_wait_2);
    h.send(at(2ms), {PSH | ACK, peer, us + 1, 64000, {}, bytes_of("still talking")});
    h.expect(at(2ms), {{ACK, us + 1, peer + 13, win - 13, {}, {}}});
    h.send(at(3ms), {FIN | ACK, peer + 13, us + 1, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::time_wait);
    CHECK(h.read_all() == "still talking");
    CHECK(h.conn.eof());
}

TEST_CASE("simultaneous close: FIN-WAIT-1 -> CLOSING -> TIME-WAIT (RFC 9293 Figure 13)") {
    harness h;
    h.established();
    h.conn.close(at(0ms));
    h.expect(at(0ms), {{FIN | ACK, us, peer, win, {}, {}}});
    // The peer's FIN crosses ours: it does not acknowledge our FIN.
    h.send(at(1ms), {FIN | ACK, peer, us, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::closing);
    h.expect(at(1ms), {{ACK, us + 1, peer + 1, win - 1, {}, {}}});
    h.send(at(2ms), {ACK, peer + 1, us + 1, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::time_wait);
    h.expect_nothing_until(at(2ms) + 60s);
}

TEST_CASE("FIN-WAIT-1: a FIN that also acknowledges our FIN -> TIME-WAIT at once") {
    harness h;
    h.established();
    h.conn.close(at(0ms));
    h.recv(at(0ms));
    h.send(at(1ms), {FIN | ACK, peer, us + 1, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::time_wait);
    h.expect(at(1ms), {{ACK, us + 1, peer + 1, win - 1, {}, {}}});
}

TEST_CASE("FIN-WAIT-1: an unacknowledged FIN is retransmitted at the RTO") {
    harness h;
    h.established();
    h.conn.close(at(0ms));
    const seg fin{FIN | ACK, us, peer, win, {}, {}};
    h.expect(at(0ms), {fin});
    h.expect_nothing_until(at(210ms));
    h.expect(at(210ms), {fin});
    h.expect(at(630ms), {fin});
}

TEST_CASE("close with unread data -> RST (RFC 2525 §2.17), CLOSED") {
    harness h;
    h.established();
    h.send(at(1ms), {PSH | ACK, peer, us, 64000, {}, bytes_of("unread")});
    h.recv(at(1ms));
    h.conn.close(at(2ms));
    CHECK(h.conn.state() == tcp_state::closed);
    h.expect(at(2ms), {{RST | ACK, us, peer + 6, 0, {}, {}}});
}

TEST_CASE("abort -> RST,ACK seq=SND.NXT, the connection is aborted") {
    harness h;
    h.established();
    h.write(at(0ms), "abc");
    h.recv(at(0ms));
    h.conn.abort(at(1ms));
    CHECK(h.conn.state() == tcp_state::closed);
    CHECK(h.conn.error() == std::errc::connection_aborted);
    h.expect(at(1ms), {{RST | ACK, us + 3, peer, 0, {}, {}}});
    h.expect_nothing_until(never);
}

TEST_CASE("after close, new data from the peer is answered with RST") {
    harness h;
    h.established();
    h.conn.close(at(0ms));
    h.recv(at(0ms));
    h.send(at(1ms), {ACK, peer, us + 1, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::fin_wait_2);
    h.send(at(2ms), {PSH | ACK, peer, us + 1, 64000, {}, bytes_of("late")});
    CHECK(h.conn.state() == tcp_state::closed);
    h.expect(at(2ms), {{RST | ACK, us + 1, peer, 0, {}, {}}});
}

TEST_CASE("orphaned FIN-WAIT-2 gives up after fin_timeout (60 s)") {
    harness h;
    h.established();
    h.conn.close(at(0s));
    h.recv(at(0s));
    h.send(at(1s), {ACK, peer, us + 1, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::fin_wait_2);
    h.expect_nothing_until(at(61s));
    h.expect_nothing(at(61s));
    CHECK(h.conn.state() == tcp_state::closed);
}

TEST_CASE("half-closed FIN-WAIT-2 (shutdown, not close) waits for the peer without limit") {
    harness h;
    h.established();
    h.conn.shutdown(at(0s));
    h.recv(at(0s));
    h.send(at(1s), {ACK, peer, us + 1, 64000, {}, {}});
    CHECK(h.conn.state() == tcp_state::fin_wait_2);
    h.expect_nothing_until(never);
}

TEST_CASE("shutdown with data queued: the FIN follows the data") {
    harness h;
    h.established();
    h.write(at(0ms), "last words");
    h.conn.shutdown(at(0ms));
    h.expect(at(0ms), {{FIN | PSH | ACK, us, peer, win, {}, bytes_of("last words")}});
}

TEST_CASE("TIME-WAIT hand-off: refused outside TIME-WAIT, changing nothing, and in TIME-WAIT it closes") {
    harness h;
    h.established();
    CHECK_FALSE(h.conn.hand_off_time_wait(at(0s)).has_value());
    CHECK(h.conn.state() == tcp_state::established);
    h.expect_nothing(at(0s));

    REQUIRE(!h.conn.close(at(0s)));
    h.expect(at(0s), {{FIN | ACK, us, peer, win, {}, {}}});
    h.send(at(10ms), {FIN | ACK, peer, us + 1, 64000, {}, {}});
    REQUIRE(h.conn.state() == tcp_state::time_wait);
    h.expect(at(10ms), {{ACK, us + 1, peer + 1, win - 1, {}, {}}});
    const auto r = h.conn.hand_off_time_wait(at(20ms));
    REQUIRE(r.has_value());
    CHECK(r->snd_nxt == us + 1);
    CHECK(r->rcv_nxt == peer + 1);
    CHECK(h.conn.state() == tcp_state::closed);
    h.expect_nothing(at(20ms) + 60s);
}
