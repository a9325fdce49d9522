// The endpoint: demultiplexing, listeners and their queues, SYN cookies,
// replies for no connection, TIME-WAIT entries, events, ephemeral ports.

#include "../support/network.hpp"

#include <tcpcore/host/endpoint.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

using namespace tcpcore;
using namespace tcpcore::test;
using namespace std::chrono_literals;

namespace {
struct test_policies : default_policies {
    using clock = manual_clock;
    using io = network_io;
    using isn = sequential_isn;
};
using test_endpoint = endpoint<test_policies>;

const ip_address client_ip = ip_address::v4(10, 0, 0, 1);
const ip_address server_ip = ip_address::v4(10, 0, 0, 2);

config test_config() {
    config c;
    c.send_buffer = 16 * 1024;
    c.receive_buffer = 16 * 1024;
    return c;
}

struct pair_fixture {
    config cfg = test_config();
    memory_network net;
    test_endpoint client{check(cfg).value()};
    test_endpoint server{check(cfg).value()};
    pair_fixture() {
        net.attach(client, client_ip);
        net.attach(server, server_ip);
    }
};

std::string read_all(test_endpoint& ep, connection_handle h) {
    std::string s;
    std::uint8_t buf[4096];
    for (std::size_t n; (n = ep.recv(h, buf).value_or(0)) != 0;) s.append(reinterpret_cast<char*>(buf), n);
    return s;
}

std::size_t write(test_endpoint& ep, connection_handle h, std::string_view s) {
    const auto r = ep.send(h, std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
    REQUIRE(r.has_value());
    return *r;
}

// A raw TCP datagram from anywhere, for probing the endpoint directly.
std::vector<std::uint8_t> datagram(const ip_address& src, std::uint16_t sport, const ip_address& dst,
                                   std::uint16_t dport, std::uint8_t flags, seq32 seq, seq32 ack,
                                   const tcp_options& o = {}) {
    std::vector<std::uint8_t> out(ipv6_header_length + tcp_max_header_length);
    tcp_header_fields f{sport, dport, seq, ack, flags, 65535, 0, 0};
    const auto tl = build_tcp_segment(std::span(out).subspan(20), f, o, {}, src, dst);
    REQUIRE(tl.has_value());
    REQUIRE(write_ip_header(out, src, dst, ip_protocol_tcp, *tl).has_value());
    out.resize(20 + *tl);
    return out;
}

tcp_options mss_option_for_test() {
    tcp_options o;
    o.mss = 1460;
    return o;
}

struct captured_segment {
    ip_address src, dst;
    std::vector<std::uint8_t> bytes;
    [[nodiscard]] tcp_segment_view view() const { return *tcp_segment_view::parse(bytes, src, dst); }
};
std::vector<captured_segment> segments_in(const std::vector<std::vector<std::uint8_t>>& trace) {
    std::vector<captured_segment> out;
    for (const auto& d : trace) {
        const auto ip = parse_ip_packet(d);
        REQUIRE(ip.has_value());
        out.push_back({ip->src, ip->dst, {ip->payload.begin(), ip->payload.end()}});
    }
    return out;
}
}  // namespace

TEST_CASE("endpoint: a client and a server exchange data and close, TIME-WAIT moves to a compact entry") {
    pair_fixture p;
    const auto l = p.server.listen({server_ip, 80});
    REQUIRE(l.has_value());
    const auto c = p.client.connect({server_ip, 80}, {client_ip, 0});
    REQUIRE(c.has_value());
    std::optional<connection_handle> accepted;
    REQUIRE(p.net.run_until(
        [&] {
            while (auto e = p.server.next_event())
                if (e->accept_ready)
                    if (const auto a = p.server.accept(*l)) accepted = *a;
            return accepted.has_value();
        },
        at(10s)));
    // The client learns of its connection.
    bool connected = false;
    while (auto e = p.client.next_event())
        if (e->connection == *c && e->events.has(connection_events::connected)) connected = true;
    CHECK(connected);
    CHECK(p.client.get(*c).value()->state() == tcp_state::established);
    CHECK(p.client.get(*c).value()->tuple().local.port >= 32768);

    write(p.client, *c, "hello server");
    std::string got;
    REQUIRE(p.net.run_until([&] { return (got += read_all(p.server, *accepted)).size() == 12; }, at(20s)));
    CHECK(got == "hello server");
    write(p.server, *accepted, "hello client");
    got.clear();
    REQUIRE(p.net.run_until([&] { return (got += read_all(p.client, *c)).size() == 12; }, at(30s)));
    CHECK(got == "hello client");

    // The client closes first, so it keeps TIME-WAIT (as a 64-byte entry).
    REQUIRE(!p.client.close(*c));
    REQUIRE(p.net.run_until([&] { return p.server.get(*accepted).value()->eof(); }, at(40s)));
    REQUIRE(!p.server.close(*accepted));
    REQUIRE(p.net.run_until([&] { return p.server.connection_count() == 0 && p.client.time_wait_count() == 1; },
                            at(50s)));
    CHECK(p.client.connection_count() == 0);
    CHECK(p.server.time_wait_count() == 0);
    const time_point tw_start = p.net.now();
    REQUIRE(p.net.run_until([&] { return p.client.time_wait_count() == 0; }, at(200s)));
    CHECK(p.net.now() - tw_start <= 60s + 2ms);
    CHECK(p.net.now() - tw_start >= 60s - 2ms);
}

TEST_CASE("endpoint: segments for no connection get RFC 9293 3.10.7.1 replies (as Linux 6.18 measured)") {
    pair_fixture p;
    p.net.keep_trace = true;
    const ip_address stranger = ip_address::v4(10, 0, 0, 1);  // answers go to the client host
    // A SYN to a closed port: RST,ACK seq=0 ack=SEG.SEQ+1.
    p.net.inject(datagram(stranger, 5555, server_ip, 81, tcp_flags::syn, seq32{1000}, {}));
    // An ACK: RST seq=SEG.ACK.
    p.net.inject(datagram(stranger, 5555, server_ip, 81, tcp_flags::ack, seq32{1000}, seq32{777}));
    // A RST: nothing.
    p.net.inject(datagram(stranger, 5555, server_ip, 81, tcp_flags::rst, seq32{1000}, {}));
    p.net.run_until([] { return false; }, at(1s));
    const auto segs = segments_in(p.net.trace);
    REQUIRE(segs.size() == 2);
    CHECK(segs[0].view().flags() == tcp_flags{tcp_flags::rst | tcp_flags::ack});
    CHECK(segs[0].view().seq() == seq32{0});
    CHECK(segs[0].view().ack() == seq32{1001});
    CHECK(segs[1].view().flags() == tcp_flags{tcp_flags::rst});
    CHECK(segs[1].view().seq() == seq32{777});
    CHECK(p.server.stats().resets_for_no_connection == 2);
}

TEST_CASE("endpoint: malformed datagrams are counted by reason and change nothing") {
    pair_fixture p;
    std::vector<std::uint8_t> bad = datagram(client_ip, 1, server_ip, 80, tcp_flags::syn, seq32{1}, {});
    bad[30] ^= 0xff;  // inside the TCP header: bad checksum
    p.server.receive_datagram(bad);
    std::vector<std::uint8_t> truncated(bad.begin(), bad.begin() + 10);
    p.server.receive_datagram(truncated);
    CHECK(p.server.stats().tcp_errors[static_cast<std::size_t>(tcp_parse_error::bad_checksum)] == 1);
    CHECK(p.server.stats().ip_errors[static_cast<std::size_t>(ip_parse_error::too_short)] == 1);
    CHECK(p.server.connection_count() == 0);
}

TEST_CASE("endpoint: a full SYN backlog drops SYNs when cookies are off") {
    pair_fixture p;
    p.net.keep_trace = true;
    listen_options o;
    o.syn_backlog = 4;
    o.syn_cookies = syn_cookie_mode::off;
    REQUIRE(p.server.listen({server_ip, 80}, o).has_value());
    for (std::uint16_t i = 0; i < 10; ++i)
        p.net.inject(datagram(client_ip, static_cast<std::uint16_t>(2000 + i), server_ip, 80, tcp_flags::syn,
                              seq32{100u * i}, {}, mss_option_for_test()));
    p.net.step(at(0ms) + 1ms);
    p.net.step(at(0ms) + 1ms);
    CHECK(p.server.stats().syn_backlog_overflows == 6);
    CHECK(p.server.connection_count() == 4);
    std::size_t synacks = 0;
    for (const auto& s : segments_in(p.net.trace))
        if (s.view().flags().syn_set()) ++synacks;
    CHECK(synacks == 4);
}

TEST_CASE("endpoint: with SYN cookies a full backlog still completes handshakes, without state") {
    pair_fixture p;
    p.net.keep_trace = true;
    listen_options o;
    o.syn_backlog = 2;
    const auto l = p.server.listen({server_ip, 80}, o);
    REQUIRE(l.has_value());
    // Ten clients connect at once through the client endpoint.
    std::vector<connection_handle> clients;
    for (int i = 0; i < 10; ++i) clients.push_back(*p.client.connect({server_ip, 80}, {client_ip, 0}));
    std::vector<connection_handle> accepted;
    REQUIRE(p.net.run_until(
        [&] {
            while (auto e = p.server.next_event())
                if (e->accept_ready)
                    while (auto a = p.server.accept(*l)) accepted.push_back(*a);
            return accepted.size() == 10;
        },
        at(10s)));
    CHECK(p.server.stats().syn_cookies_sent == 8);
    CHECK(p.server.stats().syn_cookies_accepted == 8);
    for (auto c : clients) CHECK(p.client.get(c).value()->state() == tcp_state::established);
    // Data flows on a cookie connection like on any other (with timestamps the
    // cookie remembered window scaling and SACK too).
    write(p.client, clients.back(), "cookie");
    std::string got;
    REQUIRE(p.net.run_until(
        [&] {
            for (auto a : accepted) got += read_all(p.server, a);
            return got == "cookie";
        },
        at(20s)));
    const auto* last = p.server.get(accepted.back()).value();
    CHECK(last->info().timestamps);
    CHECK(last->info().sack);
    CHECK(last->info().send_window_scale == p.client.get(clients.back()).value()->info().receive_window_scale);
}

TEST_CASE("endpoint: a forged or stale cookie ACK is answered with RST and creates nothing") {
    pair_fixture p;
    p.net.keep_trace = true;
    listen_options o;
    o.syn_cookies = syn_cookie_mode::always;
    REQUIRE(p.server.listen({server_ip, 80}, o).has_value());
    p.net.inject(datagram(client_ip, 4000, server_ip, 80, tcp_flags::ack, seq32{5001}, seq32{123456}));
    p.net.run_until([] { return false; }, at(1s));
    CHECK(p.server.stats().syn_cookies_rejected == 1);
    CHECK(p.server.connection_count() == 0);
    const auto segs = segments_in(p.net.trace);
    REQUIRE(segs.size() == 1);
    CHECK(segs[0].view().flags() == tcp_flags{tcp_flags::rst});
    CHECK(segs[0].view().seq() == seq32{123456});
}

TEST_CASE("endpoint: the accept queue is bounded, a full one holds handshakes back until accept()") {
    pair_fixture p;
    listen_options o;
    o.backlog = 2;
    o.syn_cookies = syn_cookie_mode::off;
    const auto l = p.server.listen({server_ip, 80}, o);
    REQUIRE(l.has_value());
    std::vector<connection_handle> clients;
    for (int i = 0; i < 4; ++i) clients.push_back(*p.client.connect({server_ip, 80}, {client_ip, 0}));
    p.net.run_until([] { return false; }, at(500ms));
    CHECK(p.server.stats().accept_queue_overflows > 0);
    // Accepting makes room; the held-back clients get in on their retries.
    std::size_t accepted = 0;
    REQUIRE(p.net.run_until(
        [&] {
            while (p.server.accept(*l)) ++accepted;
            return accepted == 4;
        },
        at(30s)));
}

TEST_CASE("endpoint: 100,000 spoofed SYNs do not keep legitimate clients out (SYN cookies)") {
    pair_fixture p;
    listen_options o;
    o.syn_backlog = 128;
    const auto l = p.server.listen({server_ip, 80}, o);
    REQUIRE(l.has_value());
    // The flood: random sources that never answer (their SYN,ACKs go nowhere).
    std::uint32_t x = 12345;
    for (int i = 0; i < 100000; ++i) {
        x = x * 1664525u + 1013904223u;
        const auto src = ip_address::v4(172, 16, static_cast<std::uint8_t>(x >> 24), static_cast<std::uint8_t>(x >> 16));
        p.server.receive_datagram(datagram(src, static_cast<std::uint16_t>(x), server_ip, 80, tcp_flags::syn,
                                           seq32{x}, {}, mss_option_for_test()));
    }
    CHECK(p.server.connection_count() <= 128);  // state stays bounded by the backlog
    CHECK(p.server.stats().syn_cookies_sent >= 100000 - 128);
    // Meanwhile real clients connect.
    std::vector<connection_handle> clients;
    for (int i = 0; i < 20; ++i) clients.push_back(*p.client.connect({server_ip, 80}, {client_ip, 0}));
    std::size_t accepted = 0;
    REQUIRE(p.net.run_until(
        [&] {
            while (p.server.accept(*l)) ++accepted;
            return accepted == 20;
        },
        at(10s)));
    for (auto c : clients) CHECK(p.client.get(c).value()->state() == tcp_state::established);
}

TEST_CASE("endpoint: 10,000 simultaneous connections through an in-memory network") {
    config cfg = test_config();
    cfg.send_buffer = cfg.receive_buffer = 4096;
    memory_network net;
    test_endpoint client(check(cfg).value()), server(check(cfg).value());
    net.attach(client, client_ip);
    net.attach(server, server_ip);
    listen_options o;
    o.backlog = 10000;
    o.syn_backlog = 10000;
    const auto l = server.listen({server_ip, 7}, o);
    REQUIRE(l.has_value());
    constexpr int n = 10000;
    std::vector<connection_handle> clients;
    for (int i = 0; i < n; ++i) {
        const auto c = client.connect({server_ip, 7}, {client_ip, 0});
        REQUIRE(c.has_value());
        clients.push_back(*c);
    }
    // The server echoes what it reads; each client sends its index.
    std::vector<connection_handle> accepted;
    std::map<std::uint32_t, std::string> echoed;
    std::size_t sent = 0, done = 0;
    REQUIRE(net.run_until(
        [&] {
            while (auto a = server.accept(*l)) accepted.push_back(*a);
            while (auto e = server.next_event()) {
                if (e->accept_ready || !e->events.has(connection_events::readable)) continue;
                const std::string msg = read_all(server, e->connection);
                if (!msg.empty()) write(server, e->connection, msg);
            }
            for (; sent < clients.size(); ++sent) {
                if (client.get(clients[sent]).value()->state() != tcp_state::established) break;
                write(client, clients[sent], "conn " + std::to_string(sent) + ";");
            }
            while (auto e = client.next_event()) {
                if (!e->events.has(connection_events::readable)) continue;
                std::string& s = echoed[e->connection.index];
                s += read_all(client, e->connection);
                if (s.back() == ';') ++done;
            }
            return done == n;
        },
        at(60s)));
    CHECK(server.connection_count() == n);
    // Every client got exactly its own message back.
    for (std::size_t i = 0; i < clients.size(); ++i) CHECK(echoed[clients[i].index] == "conn " + std::to_string(i) + ";");
    for (auto c : clients) client.close(c);
    for (auto a : accepted) server.close(a);
    REQUIRE(net.run_until([&] { return client.connection_count() == 0 && server.connection_count() == 0; }, at(120s)));
    CHECK(client.time_wait_count() == n);
}

TEST_CASE("endpoint: TIME-WAIT entries re-ACK a retransmitted FIN and restart, and die on RST") {
    pair_fixture p;
    p.net.keep_trace = true;
    const auto l = p.server.listen({server_ip, 80});
    const auto c = p.client.connect({server_ip, 80}, {client_ip, 0});
    std::optional<connection_handle> a;
    REQUIRE(p.net.run_until(
        [&] {
            if (const auto r = p.server.accept(*l)) a = *r;
            return a.has_value();
        },
        at(1s)));
    p.client.close(*c);
    REQUIRE(p.net.run_until([&] { return p.server.get(*a).value()->eof(); }, at(2s)));
    // The server's FIN goes out; make the client's last ACK vanish.
    p.net.drop = [&](const std::vector<std::uint8_t>& d) {
        const auto ip = parse_ip_packet(d);
        return ip->src == client_ip;
    };
    p.server.close(*a);
    REQUIRE(p.net.run_until([&] { return p.client.time_wait_count() == 1; }, at(3s)));
    const time_point entered = p.net.now();
    // The server retransmits its FIN at its RTO; the entry answers it again.
    const std::size_t before = p.net.trace.size();
    REQUIRE(p.net.run_until([&] { return p.net.trace.size() >= before + 2; }, at(10s)));
    const auto segs = segments_in(p.net.trace);
    const auto& last = segs.back();
    CHECK(last.src == client_ip);
    CHECK(last.view().flags() == tcp_flags{tcp_flags::ack});
    const time_point restarted = p.net.now();
    CHECK(restarted > entered);
    // ... and restarts 2MSL from there.
    p.net.drop = nullptr;
    REQUIRE(p.net.run_until([&] { return p.client.time_wait_count() == 0; }, at(300s)));
    CHECK(p.net.now() >= restarted + 60s - 2ms);
}

TEST_CASE("endpoint: ephemeral ports are unique per destination and run out cleanly") {
    config cfg = test_config();
    memory_network net;
    endpoint_options eo;
    eo.ephemeral_first = 50000;
    eo.ephemeral_last = 50009;
    test_endpoint client(check(cfg).value(), {.options = eo});
    net.attach(client, client_ip);
    std::set<std::uint16_t> ports;
    for (int i = 0; i < 10; ++i) {
        const auto c = client.connect({server_ip, 80}, {client_ip, 0});
        REQUIRE(c.has_value());
        ports.insert(client.get(*c).value()->tuple().local.port);
    }
    CHECK(ports.size() == 10);
    CHECK(*ports.begin() == 50000);
    CHECK(*ports.rbegin() == 50009);
    CHECK(client.connect({server_ip, 80}, {client_ip, 0}).error() == std::errc::address_not_available);
    // Another destination has its own ports.
    CHECK(client.connect({server_ip, 81}, {client_ip, 0}).has_value());
}

TEST_CASE("endpoint: stale handles are refused") {
    pair_fixture p;
    const auto c = p.client.connect({server_ip, 80}, {client_ip, 0});
    REQUIRE(c.has_value());
    p.client.abort(*c);
    std::uint8_t b = 0;
    CHECK(p.client.send(*c, std::span(&b, 1)).error() == std::errc::bad_file_descriptor);
    CHECK(p.client.get(*c).error() == std::errc::bad_file_descriptor);
}

// Found by the endpoint fuzzer: connect() put its flow in the table without
// marking the slot as being there, so an active open that ended without
// TIME-WAIT (refused, aborted, timed out) left a stale entry behind. The next
// segment for that 4-tuple reached a freed slot, and the port stayed taken.
TEST_CASE("endpoint: an active open that ends without TIME-WAIT frees its 4-tuple") {
    pair_fixture p;
    p.net.keep_trace = true;
    const socket_address client_local{client_ip, 40000};

    SECTION("refused: the same local port connects again") {
        const auto c = p.client.connect({server_ip, 81}, client_local);  // nobody listens on 81
        REQUIRE(c.has_value());
        REQUIRE(p.net.run_until([&] { return p.client.get(*c).value()->state() == tcp_state::closed; }, at(1s)));
        CHECK(p.client.get(*c).value()->error() == std::errc::connection_refused);
        p.client.close(*c);
        const auto again = p.client.connect({server_ip, 81}, client_local);
        CHECK(again.has_value());
    }
    SECTION("aborted in SYN-SENT: a late segment for the tuple is a segment for no connection") {
        const auto c = p.client.connect({server_ip, 81}, client_local);
        REQUIRE(c.has_value());
        p.client.abort(*c);
        const std::size_t resets_before = p.client.stats().resets_for_no_connection;
        // The server's refusal arrives after the abort, then an ACK.
        p.net.inject(datagram(server_ip, 81, client_ip, 40000, tcp_flags::rst | tcp_flags::ack, seq32{0}, seq32{1}));
        p.net.inject(datagram(server_ip, 81, client_ip, 40000, tcp_flags::ack, seq32{5}, seq32{777}));
        p.net.run_until([] { return false; }, at(1s));
        CHECK(p.client.stats().resets_for_no_connection == resets_before + 1);  // the ACK's RST only
        const auto segs = segments_in(p.net.trace);
        REQUIRE(!segs.empty());
        CHECK(segs.back().src == client_ip);
        CHECK(segs.back().view().flags() == tcp_flags{tcp_flags::rst});
        CHECK(segs.back().view().seq() == seq32{777});
        CHECK(p.client.connect({server_ip, 81}, client_local).has_value());
    }
}
