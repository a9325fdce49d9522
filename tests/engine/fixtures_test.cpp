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
        CHECK(detail::test_access::snap(direct.conn) == detail::test_access::snap(real.conn));
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
