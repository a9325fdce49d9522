// Scale, in a size CI can afford: many idle established connections with
// keepalive armed. Memory per connection is measured through the allocator;
// timer work per event is counted by the timing wheel. bench/endpoint_bench
// repeats this with 1,000,000 connections.

#include <tcpcore/host/endpoint.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

using namespace tcpcore;
using namespace std::chrono_literals;

namespace {
struct counting_allocator {
    std::size_t* live;
    void* allocate(std::size_t bytes, std::size_t alignment) noexcept {
        *live += bytes;
        return std_allocator{}.allocate(bytes, alignment);
    }
    void deallocate(void* p, std::size_t bytes, std::size_t alignment) noexcept {
        *live -= bytes;
        std_allocator{}.deallocate(p, bytes, alignment);
    }
};

// Keeps only the last datagram: enough to read the ISN of a SYN,ACK.
struct last_datagram_io {
    std::vector<std::uint8_t> last;
    std::uint64_t count = 0;
    void send_datagram(std::span<const std::uint8_t> d) {
        last.assign(d.begin(), d.end());
        ++count;
    }
};

struct scale_policies : default_policies {
    using clock = manual_clock;
    using io = last_datagram_io;
    using allocator = counting_allocator;
    using isn = sequential_isn;
    using timer = timing_wheel<counting_allocator>;
};

const ip_address server_ip = ip_address::v4(10, 0, 0, 2);


std::vector<std::uint8_t> datagram(const ip_address& src, std::uint16_t sport, std::uint8_t flags, seq32 seq,
                                   seq32 ack) {
    std::vector<std::uint8_t> out(80);
    tcp_header_fields f{sport, 80, seq, ack, flags, 65535, 0, 0};
    tcp_options o;
    if (flags & tcp_flags::syn) o.mss = 1460;
    const auto tl = build_tcp_segment(std::span(out).subspan(20), f, o, {}, src, server_ip);
    (void)write_ip_header(out, src, server_ip, ip_protocol_tcp, *tl);
    out.resize(20 + *tl);
    return out;
}

// Connections arrive 1 ms apart (a thousand a second), so their keepalive
// deadlines are spread as in life; timers due at the same instant would add
// log(k) to order k ties exactly.
struct keepalive_round {
    double bytes_per_connection;
    double steps_per_event;
};

keepalive_round run(std::uint32_t n) {
    std::size_t live = 0;
    config cfg;
    cfg.keepalive = true;  // 7200 s idle, 75 s interval, 9 probes
    scale_policies::timer timers(counting_allocator{&live});
    endpoint<scale_policies> ep(check(cfg).value(),
                                {.timer = std::move(timers), .allocator = counting_allocator{&live}});
    listen_options o;
    o.backlog = n;
    o.syn_backlog = n;
    o.syn_cookies = syn_cookie_mode::off;
    const auto l = ep.listen({server_ip, 80}, o);
    REQUIRE(l.has_value());
    const std::size_t before = live;
    for (std::uint32_t i = 0; i < n; ++i) {
        ep.clock().set(at(std::chrono::milliseconds{i}));
        const auto src = ip_address::v4(172, 16, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i));
        const seq32 client_isn{i * 1000u};
        ep.receive_datagram(datagram(src, 40000, tcp_flags::syn, client_isn, {}));
        const auto ip = parse_ip_packet(ep.io().last);
        const auto synack = tcp_segment_view::parse(ip->payload);
        REQUIRE(synack->flags().syn_set());
        ep.receive_datagram(datagram(src, 40000, tcp_flags::ack, client_isn + 1, synack->seq() + 1));
        REQUIRE(ep.accept(*l).has_value());
    }
    REQUIRE(ep.connection_count() == n);
    keepalive_round r{};
    r.bytes_per_connection = static_cast<double>(live - before) / n;

    // Idle until the first probes; then every connection's first probe, in
    // the order the connections came.
    const std::uint64_t sent_before = ep.io().count;
    ep.clock().set(at(7199s));
    ep.poll();
    REQUIRE(ep.io().count == sent_before);
    const std::uint64_t steps_before = ep.timers().steps();
    for (std::uint32_t i = 0; i < n; ++i) {
        ep.clock().set(at(7200s) + std::chrono::milliseconds{i});
        ep.poll();
    }
    CHECK(ep.io().count == sent_before + n);  // one probe each, each at its time
    r.steps_per_event = static_cast<double>(ep.timers().steps() - steps_before) / n;
    return r;
}
}  // namespace

TEST_CASE("scale: idle connections with keepalive armed: bytes each, and timer work per event independent of n") {
    const auto small = run(5000);
    const auto large = run(20000);
    WARN("idle connection with keepalive armed: " << large.bytes_per_connection << " bytes (slot and table share "
                                                  << endpoint<scale_policies>::idle_connection_bytes()
                                                  << " B, timer node the rest); timer steps per event: "
                                                  << small.steps_per_event << " at 5,000, " << large.steps_per_event
                                                  << " at 20,000");
    CHECK(large.bytes_per_connection <= 400);
    CHECK(small.steps_per_event <= 8);
    CHECK(large.steps_per_event <= 8);
    CHECK(large.steps_per_event <= small.steps_per_event + 1);  // O(1): four times the connections, no more work
}
