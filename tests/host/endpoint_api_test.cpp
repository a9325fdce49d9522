// The endpoint's API as a new user meets it: a checked configuration, policy
// instances by name, one answer for bad handles, recv's three outcomes,
// flow-control queries, an I/O policy that may refuse, the tracer and the
// drop hook. Built with NDEBUG (tests/CMakeLists.txt): nothing here may rest
// on an assert.

#include <tcpcore/host/endpoint.hpp>
#include <tcpcore/policies/clock.hpp>
#include <tcpcore/policies/io.hpp>
#include <tcpcore/policies/isn.hpp>
#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

using namespace tcpcore;
using namespace std::chrono_literals;

namespace {
const ip_address client_ip = ip_address::v4(10, 1, 0, 1);
const ip_address server_ip = ip_address::v4(10, 1, 0, 2);

// An I/O policy over a ring of `room` slots: takes that many datagrams, then
// refuses until the test makes room again.
struct ring_io {
    std::vector<std::vector<std::uint8_t>> taken{};
    std::size_t room = 1000;
    std::size_t refused = 0;
    bool send_datagram(std::span<const std::uint8_t> d) {
        if (room == 0) {
            ++refused;
            return false;
        }
        --room;
        taken.emplace_back(d.begin(), d.end());
        return true;
    }
};
static_assert(datagram_io<ring_io>);
static_assert(datagram_io<capture_io>, "a policy whose send returns void still models the concept");

struct transition_seen {
    connection_handle handle;
    tcp_state from, to;
};
struct recording_tracer {
    std::vector<transition_seen> seen;
    void on_transition(connection_handle h, const transition& row) { seen.push_back({h, row.from, row.to}); }
};
struct recording_drop_hook {
    std::vector<dropped_packet> seen;
    std::vector<std::vector<std::uint8_t>> datagrams, segments;
    void operator()(const dropped_packet& d) {
        seen.push_back(d);
        datagrams.emplace_back(d.datagram.begin(), d.datagram.end());
        segments.emplace_back(d.segment.begin(), d.segment.end());
    }
};

struct plain_policies : default_policies {
    using clock = manual_clock;
    using isn = sequential_isn;
};
struct ring_policies : plain_policies {
    using io = ring_io;
};
struct traced_policies : plain_policies {
    using tracer = recording_tracer;
    using drop_hook = recording_drop_hook;
};

config small_config() {
    config c;
    c.send_buffer = c.receive_buffer = 16 * 1024;
    return c;
}
const config& shared_config() {
    static const config c = small_config();
    return c;
}

// The datagrams one endpoint's I/O holds, handed to another (in order).
template <class From, class To>
std::size_t deliver(From& from, To& to) {
    std::vector<std::vector<std::uint8_t>> batch;
    if constexpr (std::is_same_v<typename From::io_type, ring_io>) batch.swap(from.io().taken);
    else batch.swap(from.io().datagrams);
    for (const auto& d : batch) to.receive_datagram(d);
    return batch.size();
}
template <class A, class B>
void exchange(A& a, B& b) {
    while (deliver(a, b) + deliver(b, a) != 0) {}
}

template <class Ep>
std::string read_some(Ep& ep, connection_handle h) {
    std::string s;
    std::uint8_t buf[4096];
    for (auto n = ep.recv(h, buf); n && *n != 0; n = ep.recv(h, buf)) s.append(reinterpret_cast<char*>(buf), *n);
    return s;
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::vector<std::uint8_t> raw_datagram(std::uint8_t flags, seq32 seq, seq32 ack) {
    std::vector<std::uint8_t> out(20 + tcp_max_header_length);
    tcp_header_fields f{4000, 80, seq, ack, flags, 65535, 0, 0};
    const auto tl = build_tcp_segment(std::span(out).subspan(20), f, {}, {}, client_ip, server_ip);
    REQUIRE(tl.has_value());
    REQUIRE(write_ip_header(out, client_ip, server_ip, ip_protocol_tcp, *tl).has_value());
    out.resize(20 + *tl);
    return out;
}

template <class T>
concept checkable = requires(T&& c) { check(std::forward<T>(c)); };

// A connected pair, client -> server port 80.
template <class ClientEp, class ServerEp>
std::pair<connection_handle, connection_handle> connect_pair(ClientEp& client, ServerEp& server) {
    const auto l = server.listen({server_ip, 80});
    REQUIRE(l.has_value());
    const auto c = client.connect({server_ip, 80}, {client_ip, 0});
    REQUIRE(c.has_value());
    exchange(client, server);
    const auto a = server.accept(*l);
    REQUIRE(a.has_value());
    return {*c, *a};
}
}  // namespace

TEST_CASE("endpoint API: an invalid configuration is refused with its field and reason, in release builds too") {
    config bad = small_config();
    bad.keepalive = true;
    bad.keepalive_interval = 0s;
    const auto checked = check(bad);
    REQUIRE_FALSE(checked.has_value());
    CHECK(checked.error().field == config_field::keepalive_interval);
    CHECK(checked.error().message == validate(bad).message);
    CHECK_FALSE(checked.error().message.empty());

    // Nothing but a checked_config reaches an endpoint: not a bare config, not a temporary.
    static_assert(!std::is_constructible_v<endpoint<plain_policies>, const config&>);
    static_assert(!std::is_constructible_v<endpoint<plain_policies>, config&&>);
    static_assert(std::is_constructible_v<endpoint<plain_policies>, checked_config>);
    static_assert(!checkable<config>, "check() refuses a temporary: the endpoint would keep a dangling pointer");
    static_assert(checkable<const config&>);

    const auto good = check(shared_config());
    REQUIRE(good.has_value());
    CHECK(&good->get() == &shared_config());
    endpoint<plain_policies> ep(*good);
    CHECK(&ep.configuration() == &shared_config());
    // A default checked_config is the defaults, which are valid.
    CHECK(validate(checked_config{}.get()).ok());
}

TEST_CASE("endpoint API: policy instances are given by name in one struct") {
    endpoint<plain_policies> client(check(shared_config()).value(),
                                    {.clock = manual_clock{at(5s)}, .isn = sequential_isn{seq32{1000}},
                                     .options = {.ephemeral_first = 40000, .ephemeral_last = 40000}});
    const auto c = client.connect({server_ip, 80}, {client_ip, 0});
    REQUIRE(c.has_value());
    REQUIRE(client.io().datagrams.size() == 1);
    const auto ip = parse_ip_packet(client.io().datagrams[0]);
    REQUIRE(ip.has_value());
    const auto syn = tcp_segment_view::parse(ip->payload);
    REQUIRE(syn.has_value());
    CHECK(syn->seq() == seq32{1000});  // the isn given
    CHECK(syn->src_port() == 40000);   // the options given
    CHECK(client.clock().now() == at(5s));
}

TEST_CASE("endpoint API: every call taking a handle answers a bad one with EBADF") {
    const auto ebadf = std::make_error_code(std::errc::bad_file_descriptor);
    endpoint<plain_policies> client(check(shared_config()).value()), server(check(shared_config()).value());
    auto [c, a] = connect_pair(client, server);
    const auto l = server.listen({server_ip, 81});
    REQUIRE(l.has_value());
    REQUIRE(!client.abort(c));  // c is stale from here on
    const connection_handle never_issued{};
    std::uint8_t b[8] = {};

    for (const connection_handle h : {c, never_issued}) {
        CHECK(client.send(h, std::span(b, 1)).error() == ebadf);
        CHECK(client.recv(h, b).error() == ebadf);
        CHECK(client.send_space(h).error() == ebadf);
        CHECK(client.readable(h).error() == ebadf);
        CHECK(client.shutdown(h) == ebadf);
        CHECK(client.close(h) == ebadf);
        CHECK(client.abort(h) == ebadf);
        CHECK(client.get(h).error() == ebadf);
        CHECK(client.configure(h, [](auto& conn) { return conn.set_nodelay(true); }).error() == ebadf);
        CHECK(client.configure(h, [](auto&) {}) == ebadf);
    }
    // Listeners: a closed one and one never issued.
    REQUIRE(!server.close_listener(*l));
    for (const listener_handle h : {*l, listener_handle{}}) {
        CHECK(server.accept(h).error() == ebadf);
        CHECK(server.close_listener(h) == ebadf);
    }
    // A live handle still works, and configure gives f's answer.
    const auto r = server.configure(a, [](auto& conn) { return conn.set_nodelay(true); });
    REQUIRE(r.has_value());
    CHECK(r->ok());
}

TEST_CASE("endpoint API: recv tells nothing yet (EAGAIN) from end of stream (0) from data") {
    endpoint<plain_policies> client(check(shared_config()).value()), server(check(shared_config()).value());
    auto [c, a] = connect_pair(client, server);
    std::uint8_t buf[64];
    CHECK(server.recv(a, buf).error() == std::errc::resource_unavailable_try_again);
    const auto listener = server.listen({server_ip, 82});
    REQUIRE(listener.has_value());
    CHECK(server.accept(*listener).error() == std::errc::resource_unavailable_try_again);

    REQUIRE(client.send(c, bytes_of("hello")).value() == 5);
    exchange(client, server);
    const auto n = server.recv(a, buf);
    REQUIRE(n.has_value());
    CHECK(*n == 5);
    CHECK(server.recv(a, buf).error() == std::errc::resource_unavailable_try_again);

    REQUIRE(!client.shutdown(c));
    exchange(client, server);
    const auto end = server.recv(a, buf);
    REQUIRE(end.has_value());
    CHECK(*end == 0);
}

TEST_CASE("endpoint API: recv after a reset gives the connection's error") {
    endpoint<plain_policies> client(check(shared_config()).value()), server(check(shared_config()).value());
    auto [c, a] = connect_pair(client, server);
    REQUIRE(!server.abort(a));
    exchange(client, server);
    std::uint8_t buf[16];
    CHECK(client.recv(c, buf).error() == std::errc::connection_reset);
}

TEST_CASE("endpoint API: send_space and readable answer without reading the configuration") {
    endpoint<plain_policies> client(check(shared_config()).value()), server(check(shared_config()).value());
    auto [c, a] = connect_pair(client, server);
    REQUIRE(client.send_space(c).value() == shared_config().send_buffer);
    CHECK(server.readable(a).value() == 0);

    const std::string data(20000, 'x');  // more than the send buffer
    const auto took = client.send(c, bytes_of(data));
    REQUIRE(took.has_value());
    CHECK(*took == shared_config().send_buffer);
    CHECK(client.send_space(c).value() == 0);
    deliver(client, server);
    const std::size_t readable = server.readable(a).value();
    CHECK(readable > 0);
    CHECK(readable == read_some(server, a).size());
    CHECK(server.readable(a).value() == 0);

    REQUIRE(!client.shutdown(c));
    CHECK(client.send_space(c).value() == 0);  // send() would take nothing now
}

TEST_CASE("endpoint API: a refused datagram is held, output stops, and it goes first when the ring has room") {
    endpoint<ring_policies> client(check(shared_config()).value(), {.io = ring_io{.room = 1}});
    endpoint<plain_policies> server(check(shared_config()).value());
    const auto l = server.listen({server_ip, 80});
    REQUIRE(l.has_value());
    const auto c = client.connect({server_ip, 80}, {client_ip, 0});
    REQUIRE(c.has_value());
    CHECK(client.io().taken.size() == 1);  // the SYN
    CHECK(client.stats().io_refusals == 0);
    deliver(client, server);
    deliver(server, client);  // SYN,ACK in: the client's ACK is refused
    CHECK(client.stats().io_refusals == 1);
    CHECK(client.output_held());
    CHECK(client.next_deadline() <= client.clock().now());  // "now" while something is held

    // Events still come; data is queued but not pulled while the ACK is held.
    bool connected = false;
    while (auto e = client.next_event()) connected = connected || e->events.has(connection_events::connected);
    CHECK(connected);
    const std::string data(6000, 'd');
    REQUIRE(client.send(*c, bytes_of(data)).value() == data.size());
    client.poll();
    CHECK(client.io().taken.empty());
    CHECK(client.io().refused >= 2);                 // offered again at the poll...
    CHECK(client.stats().io_refusals == 1);          // ...but counted once: one packet was refused
    const std::uint64_t out_before = client.stats().segments_out;

    // Room for three: the held ACK first, then two data segments, then held again.
    client.io().room = 3;
    client.poll();
    REQUIRE(client.io().taken.size() == 3);
    const auto first = tcp_segment_view::parse(parse_ip_packet(client.io().taken[0])->payload);
    REQUIRE(first.has_value());
    CHECK(first->payload().empty());  // the handshake's ACK
    CHECK(client.stats().segments_out == out_before + 3);
    CHECK(client.stats().io_refusals == 2);
    CHECK(client.output_held());

    // An explicit call sends the held packet; the next poll() the rest.
    client.io().room = 100;
    CHECK(client.resume_output());
    CHECK_FALSE(client.output_held());
    client.poll();
    std::size_t payload = 0;
    seq32 next = first->seq();
    for (const auto& d : client.io().taken) {
        const auto seg = tcp_segment_view::parse(parse_ip_packet(d)->payload);
        REQUIRE(seg.has_value());
        CHECK(seg->seq() == next);  // in order, nothing lost or repeated
        next = next + static_cast<std::uint32_t>(seg->payload().size());
        payload += seg->payload().size();
    }
    CHECK(payload >= 4 * 1448);  // all but what Nagle keeps until an ACK comes
    CHECK(client.next_deadline() > client.clock().now());
    deliver(client, server);
    const auto a = server.accept(*l);
    REQUIRE(a.has_value());
    exchange(client, server);
    CHECK(read_some(server, *a) == data);
}

TEST_CASE("endpoint API: a connection entering TIME-WAIT while output is held still sends its last ACK") {
    endpoint<ring_policies> client(check(shared_config()).value());
    endpoint<plain_policies> server(check(shared_config()).value());
    auto [c, a] = connect_pair(client, server);
    REQUIRE(!client.close(c));
    exchange(client, server);  // FIN-WAIT-2 and CLOSE-WAIT
    REQUIRE(!server.close(a));
    client.io().room = 0;
    deliver(server, client);  // the server's FIN: the client's ACK is refused
    CHECK(client.output_held());
    CHECK(client.time_wait_count() == 0);  // the hand-off to TIME-WAIT waits for the ACK to go
    client.io().room = 10;
    client.poll();
    REQUIRE(client.io().taken.size() == 1);
    const auto last = tcp_segment_view::parse(parse_ip_packet(client.io().taken[0])->payload);
    REQUIRE(last.has_value());
    CHECK(last->flags() == tcp_flags{tcp_flags::ack});
    CHECK(client.time_wait_count() == 1);
    CHECK(client.connection_count() == 0);
    deliver(client, server);
    CHECK(server.connection_count() == 0);  // LAST-ACK got its ACK
}

TEST_CASE("endpoint API: the tracer sees every transition with its connection's handle") {
    static_assert(std::is_same_v<endpoint<plain_policies>::connection_type, basic_connection<newreno, std_allocator>>,
                  "without a tracer, connections carry none");
    endpoint<traced_policies> client(check(shared_config()).value()), server(check(shared_config()).value());
    auto [c, a] = connect_pair(client, server);
    const auto& seen = client.tracer().seen;
    REQUIRE(seen.size() >= 2);
    CHECK(seen[0].handle == c);
    CHECK(seen[0].from == tcp_state::closed);
    CHECK(seen[0].to == tcp_state::syn_sent);
    CHECK(seen.back().to == tcp_state::established);
    bool server_saw = false;
    for (const auto& t : server.tracer().seen)
        if (t.handle == a && t.to == tcp_state::syn_received) server_saw = true;
    CHECK(server_saw);
    // The handle names the connection it traced.
    for (const auto& t : seen) CHECK(t.handle == c);
}

TEST_CASE("endpoint API: the drop hook sees each dropped packet with the reason the counters use") {
    endpoint<traced_policies> server(check(shared_config()).value());
    const auto ack = raw_datagram(tcp_flags::ack, seq32{5}, seq32{77});  // no connection: a RST answers
    server.receive_datagram(ack);
    const auto& hook = server.drop_hook();
    REQUIRE(hook.seen.size() == 1);
    CHECK(hook.seen[0].kind == drop_kind::rule);
    CHECK(hook.seen[0].reason == drop_reason::no_connection);
    CHECK(hook.datagrams[0] == ack);
    CHECK(hook.segments[0] == std::vector<std::uint8_t>(ack.begin() + 20, ack.end()));
    CHECK(server.stats().drops[static_cast<std::size_t>(drop_reason::no_connection)] == 1);

    std::vector<std::uint8_t> garbage(ack);
    garbage[0] = 0x35;  // IPv3
    server.receive_datagram(garbage);
    REQUIRE(hook.seen.size() == 2);
    CHECK(hook.seen[1].kind == drop_kind::ip_error);
    CHECK(server.stats().ip_errors[static_cast<std::size_t>(hook.seen[1].ip_error)] == 1);
    CHECK(hook.segments[1].empty());

    std::vector<std::uint8_t> bad_sum(ack);
    bad_sum[20 + 16] ^= 0x01;  // the TCP checksum
    server.receive_segment(client_ip, server_ip, std::span(bad_sum).subspan(20));
    REQUIRE(hook.seen.size() == 3);
    CHECK(hook.seen[2].kind == drop_kind::tcp_error);
    CHECK(hook.datagrams[2].empty());  // it came as a bare segment
    CHECK(server.stats().tcp_errors[static_cast<std::size_t>(hook.seen[2].tcp_error)] == 1);
}
