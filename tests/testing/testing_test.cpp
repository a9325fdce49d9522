// The public testing API itself (<tcpcore/testing.hpp>): a failed
// expectation says what differed, a mismatch never passes, and the driver
// loop stops exactly at deadlines, at its time limit and at its step cap.
// Written against the public names only, as a user outside the project would.

#include <tcpcore/testing.hpp>

#include "../support/harness.hpp"  // the project's Catch2 adapter, checked at the end

#include <catch2/catch.hpp>

#include <string>

using namespace tcpcore;
using namespace tcpcore::testing;
using namespace std::chrono_literals;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const seq32 us = local_iss + 1, peer = remote_iss + 1;
}  // namespace

TEST_CASE("testing: an expectation that holds passes, and one that does not says what differed") {
    harness h;
    h.established();
    REQUIRE(h.write(at(0ms), "hello").value() == 5);
    harness twin;
    twin.established();
    REQUIRE(twin.write(at(0ms), "hello").value() == 5);

    const expectation right = h.expect(at(0ms), {{PSH | ACK, us, peer, 64000, {}, bytes_of("hello")}});
    CHECK(right.ok());
    CHECK(right.message().empty());

    // The same segment, expected with another window and other bytes.
    const expectation wrong = twin.expect(at(0ms), {{PSH | ACK, us, peer, 63000, {}, bytes_of("hellO")}});
    CHECK(!wrong);
    INFO(wrong.message());
    CHECK(contains(wrong.message(), "at 0 us"));
    CHECK(contains(wrong.message(), "differs in window, payload byte 4"));
    // Both sides as tcpdump prints them.
    CHECK(contains(wrong.message(), "expected Flags [P.], seq 10001:10006, ack 20001, win 63000, length 5"));
    CHECK(contains(wrong.message(), "got      Flags [P.], seq 10001:10006, ack 20001, win 64000, length 5"));
}

TEST_CASE("testing: a missing or an extra segment is a failure, not a pass") {
    harness h;
    h.established();
    const expectation missing = h.expect(at(1ms), {{ACK, us, peer, 64000, {}, {}}});
    CHECK(!missing);
    CHECK(contains(missing.message(), "expected 1 segment, got 0"));
    CHECK(contains(missing.message(), "missing  Flags [.], seq 10001, ack 20001, win 64000, length 0"));

    REQUIRE(h.write(at(2ms), "x").has_value());
    const expectation extra = h.expect_nothing(at(2ms));
    CHECK(!extra);
    CHECK(contains(extra.message(), "expected 0 segments, got 1"));
    CHECK(contains(extra.message(), "extra    Flags [P.], seq 10001:10002"));
    CHECK(h.log.size() == 1);  // what was sent is logged either way
}

TEST_CASE("testing: deadlines are checked to the microsecond") {
    harness h;
    h.established();
    REQUIRE(h.write(at(0ms), "hello").has_value());
    REQUIRE(h.expect(at(0ms), {{PSH | ACK, us, peer, 64000, {}, bytes_of("hello")}}));
    // The RTO after a 10 ms RTT is 210 ms.
    CHECK(h.expect_deadline(at(210ms)));
    const expectation late = h.expect_deadline(at(210ms) + 1us);
    CHECK(!late);
    CHECK(late.message() == "next deadline 210000 us, expected 210001 us");
    CHECK(h.expect_nothing_until(at(210ms)));
    const expectation too_far = h.expect_nothing_until(at(211ms));
    CHECK(!too_far);
    CHECK(contains(too_far.message(), "next deadline 210000 us, expected nothing before 211000 us"));
    // ... and polling at 210.999 ms found the retransmission.
    CHECK(contains(too_far.message(), "extra    Flags [P.], seq 10001:10006"));
}

TEST_CASE("testing: a template that cannot be a segment is refused, never half-sent") {
    harness h;
    h.established();
    segment s{ACK, peer, us, 64000, {}, {}};
    s.options.timestamps = tcp_timestamps{1, 2};
    for (std::uint32_t i = 0; i < 4; ++i) s.options.add_sack_block({us + 10 * i, us + 10 * i + 5});
    CHECK(!build(s, {remote_ip, remote_port}, {local_ip, local_port}));
    CHECK(!h.send(at(1ms), s).has_value());
    CHECK(describe(s) == "unbuildable segment (options longer than 40 bytes)");
    CHECK(h.expect_nothing(at(1ms)));
}

TEST_CASE("testing: fixtures reached the real way pass, and an impossible one says why") {
    harness h;
    CHECK(h.reach(tcp_state::time_wait));
    harness other;
    const expectation e = other.reach(tcp_state::syn_sent);
    CHECK(!e);
    CHECK(e.message() == "no real-way builder for SYN-SENT");
}

TEST_CASE("testing: the driver loop stops at each deadline exactly, at its limits, and at its cap") {
    // A SYN into a link that loses everything: sent at 0, 1, 3, 7, 15 and
    // 31 s; the connect fails at 63 s.
    const config cfg;
    loopback<> l(cfg, cfg, 1ms);
    l.drop = [](std::uint64_t, const std::vector<std::uint8_t>&) { return true; };
    REQUIRE(!l.open());

    const run_result to_7s = run_until(l, at(7s));
    CHECK(to_7s.finished);
    CHECK(to_7s.end == run_end::time_limit);
    CHECK(l.now == at(7s));  // the last event, not the limit
    CHECK(l.packets == 4);
    CHECK(l.a.conn.next_deadline() == at(15s));

    const run_result capped = run_until_idle(l, never, 1);
    CHECK(!capped);
    CHECK(capped.end == run_end::step_limit);
    CHECK(l.now == at(15s));  // one step: the next deadline
    CHECK(l.packets == 5);

    const run_result idle = run_until_idle(l);
    CHECK(idle.finished);
    CHECK(idle.end == run_end::idle);
    CHECK(l.now == at(63s));
    CHECK(l.a.conn.state() == tcp_state::closed);
    CHECK(l.a.conn.error() == std::errc::timed_out);
    CHECK(l.packets == 6);
    CHECK(l.fault.empty());
}

TEST_CASE("testing: two connections over the memory network, byte-exact, with scripted loss and a trace") {
    const config cfg;
    memory_network net;
    net.keep_trace = true;
    std::uint64_t n = 0;
    net.drop = [&](const std::vector<std::uint8_t>&) { return n++ == 1; };  // the first SYN,ACK
    connection_host<connection, network_io> a(cfg), b(cfg);
    const ip_address a_ip = ip_address::v4(10, 1, 0, 1), b_ip = ip_address::v4(10, 1, 0, 2);
    net.attach_host(a, a_ip);
    net.attach_host(b, b_ip);
    REQUIRE(!b.conn.open_passive(net.now(), {b_ip, 80}, seq32{1}));
    REQUIRE(!a.conn.open_active(net.now(), {{a_ip, 40000}, {b_ip, 80}}, seq32{2}));

    const bool connected = net.run_until([&] { return a.conn.state() == tcp_state::established; }, at(10s));
    REQUIRE(connected);
    CHECK(net.dropped == 1);
    // The first SYN,ACK is lost; after the 1 s RTO the handshake completes
    // one round trip later.
    CHECK(net.now() == at(1002ms));
    CHECK(net.trace.size() >= 3);

    const byte_stream stream{7};
    std::vector<std::uint8_t> data(3000);
    stream.fill(0, data);
    REQUIRE(a.conn.send(net.now(), data).value() == data.size());
    std::vector<std::uint8_t> got;
    REQUIRE(net.run_until(
        [&] {
            std::uint8_t chunk[1024];
            for (std::size_t k; (k = b.conn.recv(chunk)) != 0;) got.insert(got.end(), chunk, chunk + k);
            return got.size() == data.size();
        },
        at(20s)));
    CHECK(stream.mismatch(0, got) == got.size());
    got[1234] ^= 1;
    CHECK(stream.mismatch(0, got) == 1234);  // a changed byte is found
}

// The Catch2 adapter the project's tests use must turn a failed expectation
// into a failed assertion: this case passes only if its CHECK fails.
TEST_CASE("testing: the Catch2 adapter fails a test whose expectation fails", "[!shouldfail]") {
    test::harness h;
    h.established();
    h.write(at(0ms), "hello");
    h.expect(at(0ms), {{PSH | ACK, us, peer, 64000, {}, bytes_of("hellO")}});
}
