// The endpoint at full scale: 1,000,000 idle established connections with
// keepalive armed. Reports the memory each costs (through a counting
// allocator) and the time and timer work per keepalive event, with the
// timing wheel and with the binary heap, beside a baseline of the same
// number of plain hash-map lookups in the same binary.

#include <tcpcore/host/endpoint.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <unordered_map>
#include <vector>

using namespace tcpcore;
using namespace std::chrono_literals;

namespace {
std::size_t live_bytes = 0;

struct counting_allocator {
    void* allocate(std::size_t bytes, std::size_t alignment) noexcept {
        live_bytes += bytes;
        return std_allocator{}.allocate(bytes, alignment);
    }
    void deallocate(void* p, std::size_t bytes, std::size_t alignment) noexcept {
        live_bytes -= bytes;
        std_allocator{}.deallocate(p, bytes, alignment);
    }
};

struct last_datagram_io {
    std::uint8_t last[128];
    std::size_t size = 0;
    std::uint64_t count = 0;
    void send_datagram(std::span<const std::uint8_t> d) {
        size = std::min(d.size(), sizeof last);
        std::copy_n(d.begin(), size, last);
        ++count;
    }
};

template <class Timer>
struct scale_policies : default_policies {
    using clock = manual_clock;
    using io = last_datagram_io;
    using allocator = counting_allocator;
    using isn = sequential_isn;
    using timer = Timer;
};

const ip_address server_ip = ip_address::v4(10, 0, 0, 2);

std::size_t datagram(std::uint8_t* out, const ip_address& src, std::uint16_t sport, std::uint8_t flags, seq32 seq,
                     seq32 ack) {
    tcp_header_fields f{sport, 80, seq, ack, flags, 65535, 0, 0};
    tcp_options o;
    if (flags & tcp_flags::syn) o.mss = 1460;
    const auto tl = build_tcp_segment(std::span(out + 20, 60), f, o, {}, src, server_ip);
    (void)write_ip_header(std::span(out, 20), src, server_ip, ip_protocol_tcp, *tl);
    return 20 + *tl;
}

constexpr std::uint32_t connections = 1'000'000;
const config& keepalive_config() {
    static const config c = [] {
        config x;
        x.keepalive = true;
        return x;
    }();
    return c;
}

template <class Timer>
struct population {
    using ep_type = endpoint<scale_policies<Timer>>;
    std::unique_ptr<ep_type> ep;
    double bytes_per_connection = 0;
    double setup_seconds = 0;

    population() {
        const std::size_t before = live_bytes;
        const auto start = std::chrono::steady_clock::now();
        ep = std::make_unique<ep_type>(check(keepalive_config()).value());
        listen_options o;
        o.backlog = connections;
        o.syn_backlog = connections;
        o.syn_cookies = syn_cookie_mode::off;
        const auto l = ep->listen({server_ip, 80}, o);
        std::uint8_t buf[100];
        for (std::uint32_t i = 0; i < connections; ++i) {
            // A thousand arrivals per millisecond: keepalive deadlines spread
            // over a second, as in a busy server.
            ep->clock().set(at(std::chrono::microseconds{i}));
            const auto src = ip_address::v4(172, static_cast<std::uint8_t>(16 + (i >> 16)),
                                            static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i));
            const seq32 client_isn{i * 1000u};
            ep->receive_datagram(std::span(buf, datagram(buf, src, 40000, tcp_flags::syn, client_isn, {})));
            const auto ip = parse_ip_packet(std::span<const std::uint8_t>(ep->io().last, ep->io().size));
            const auto synack = tcp_segment_view::parse(ip->payload);
            ep->receive_datagram(
                std::span(buf, datagram(buf, src, 40000, tcp_flags::ack, client_isn + 1, synack->seq() + 1)));
            (void)ep->accept(*l);
        }
        setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        bytes_per_connection = static_cast<double>(live_bytes - before) / connections;
    }
};

template <class Timer>
population<Timer>& get_population() {
    static population<Timer> p;
    return p;
}

// One keepalive event per iteration: the clock moves to the next
// connection's deadline and poll() sends its probe.
template <class Timer>
void BM_keepalive_event(benchmark::State& state) {
    auto& p = get_population<Timer>();
    auto& ep = *p.ep;
    std::uint64_t i = 0;
    time_point t = at(7200s);
    const std::uint64_t steps_before = ep.timers().steps();
    const std::uint64_t sent_before = ep.io().count;
    for (auto _ : state) {
        ep.clock().set(t + std::chrono::microseconds{i++});
        ep.poll();
    }
    state.counters["connections"] = static_cast<double>(ep.connection_count());
    state.counters["bytes_per_connection"] = p.bytes_per_connection;
    state.counters["timer_steps_per_event"] =
        static_cast<double>(ep.timers().steps() - steps_before) / static_cast<double>(ep.io().count - sent_before);
    state.counters["setup_s"] = p.setup_seconds;
}

// Baseline: one lookup in a std::unordered_map of a million entries.
void BM_unordered_map_lookup(benchmark::State& state) {
    static std::unordered_map<std::uint64_t, std::uint64_t> m = [] {
        std::unordered_map<std::uint64_t, std::uint64_t> x;
        x.reserve(connections);
        for (std::uint64_t i = 0; i < connections; ++i) x[i * 2654435761u] = i;
        return x;
    }();
    std::uint64_t i = 0, sum = 0;
    for (auto _ : state) {
        sum += m.find((i++ % connections) * 2654435761u)->second;
        benchmark::DoNotOptimize(sum);
    }
}
}  // namespace

BENCHMARK(BM_unordered_map_lookup);
BENCHMARK(BM_keepalive_event<timing_wheel<counting_allocator>>)->Iterations(connections);
BENCHMARK(BM_keepalive_event<timer_heap<counting_allocator>>)->Iterations(connections);

BENCHMARK_MAIN();
