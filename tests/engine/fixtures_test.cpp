// Each fixture builds its state directly from the engine's variables; each
// must equal the state reached the real way, with calls and segments, or the
// tests that start from it prove nothing.

#include "../support/harness.hpp"

using namespace tcpcore;
using namespace tcpcore::test;

TEST_CASE("fixtures: each state built directly equals the state reached the real way") {
    for (tcp_state s : {tcp_state::listen, tcp_state::syn_received, tcp_state::established, tcp_state::fin_wait_1,
                        tcp_state::fin_wait_2, tcp_state::close_wait, tcp_state::closing, tcp_state::last_ack,
                        tcp_state::time_wait}) {
        harness real;
        real.reach(s);
        harness direct;
        direct.fixture(s);
        INFO(to_string(s));
        CHECK(testing::fixtures::snap(direct.conn) == testing::fixtures::snap(real.conn));
    }
}

TEST_CASE("fixtures: and they behave alike from there on") {
    // Same inputs, same outputs: a short exchange from each of the two.
    for (tcp_state s : {tcp_state::established, tcp_state::close_wait, tcp_state::fin_wait_2}) {
        harness real, direct;
        real.reach(s);
        direct.fixture(s);
        real.log.clear();
        for (harness* h : {&real, &direct}) {
            if (s != tcp_state::fin_wait_2) h->write(at(5ms), "ping");
            h->send(at(6ms), {PSH | ACK, remote_iss + 1 + (s == tcp_state::close_wait ? 1u : 0u),
                              local_iss + 1 + (s == tcp_state::fin_wait_2 ? 1u : 0u), 64000, {}, bytes_of("pong")});
            h->recv(at(6ms));
            h->recv(at(500ms));
        }
        INFO(to_string(s));
        CHECK(!real.log.empty());
        CHECK(describe(real.log) == describe(direct.log));
    }
}

TEST_CASE("sequence(): the sequence variables after a handshake and some data, exactly") {
    harness h;
    h.reach(tcp_state::established);
    // The peer's SYN: ISS 20000, window 64000, MSS 1460; our SYN,ACK offered
    // the whole 64000-byte buffer (unscaled); its ACK at 0 ms.
    sequence_variables v = h.conn.sequence();
    CHECK(v.snd_una == local_iss + 1);
    CHECK(v.snd_nxt == local_iss + 1);
    CHECK(v.snd_wl1 == remote_iss + 1);  // the ACK's own sequence number
    CHECK(v.snd_wnd == 64000);
    CHECK(v.max_snd_wnd == 64000);
    CHECK(v.rcv_nxt == remote_iss + 1);
    CHECK(v.rcv_wnd == 64000);
    CHECK(v.rcv_adv == remote_iss + 1 + 64000);
    CHECK(v.last_ack_sent == remote_iss + 1);
    CHECK(v.cwnd == 10 * 1460);  // RFC 6928's initial window
    CHECK(v.ssthresh == 0xffffffffu);
    CHECK(v.snd_mss == 1460);
    CHECK(v.rcv_mss == 536);  // nothing received yet: RFC 9293's default
    CHECK(v.snd_wscale == 0);
    CHECK(v.rcv_wscale == 0);
    CHECK(v.ts_recent == 0);
    CHECK(v.ts_offset == 0);
    CHECK(v.send_queue == 0);
    CHECK(v.receive_queue == 0);
    CHECK(!v.fin_received);

    // Five bytes out; the peer acks them with 100 bytes of its own.
    h.write(at(5ms), "hello");
    h.expect(at(5ms), {seg{PSH | ACK, local_iss + 1, remote_iss + 1, 64000, {}, bytes_of("hello")}});
    v = h.conn.sequence();
    CHECK(v.snd_una == local_iss + 1);
    CHECK(v.snd_nxt == local_iss + 6);
    CHECK(v.send_queue == 5);
    const std::string hundred(100, 'x');
    h.send(at(6ms), {PSH | ACK, remote_iss + 1, local_iss + 6, 50000, {}, bytes_of(hundred)});
    h.expect(at(6ms), {seg{ACK, local_iss + 6, remote_iss + 101, 63900, {}, {}}});
    v = h.conn.sequence();
    CHECK(v.snd_una == local_iss + 6);
    CHECK(v.snd_nxt == local_iss + 6);
    CHECK(v.snd_wl1 == remote_iss + 1);
    CHECK(v.snd_wnd == 50000);
    CHECK(v.max_snd_wnd == 64000);
    CHECK(v.rcv_nxt == remote_iss + 101);
    CHECK(v.rcv_wnd == 63900);                   // the buffer holds 100 unread bytes
    CHECK(v.rcv_adv == remote_iss + 1 + 64000);  // the right edge stays put
    CHECK(v.last_ack_sent == remote_iss + 101);
    CHECK(v.cwnd == 10 * 1460 + 5);  // slow start: one byte per byte acked
    CHECK(v.rcv_mss == 536);         // 100 bytes say nothing about the peer's MSS
    CHECK(v.send_queue == 0);
    CHECK(v.receive_queue == 100);
    CHECK(!v.fin_received);
}
