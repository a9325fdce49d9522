// Wire-layer speed, each figure beside memcpy of the same bytes in the same
// binary, so the ratios survive a change of machine:
//   checksum (GB/s) over 64 B .. 64 KiB, plain and fused with a copy;
//   segment parse with and without checksum verification, and segment build
//   (ns per segment) for a 1460-byte data segment and a SYN.
// After the usual table, a summary prints each ratio to its memcpy baseline.

#include <tcpcore/tcpcore.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace tcpcore;

namespace {

std::vector<std::uint8_t> random_bytes(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    std::uint32_t x = 0x9e3779b9u;
    for (auto& b : v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<std::uint8_t>(x);
    }
    return v;
}

void BM_memcpy(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto src = random_bytes(n);
    std::vector<std::uint8_t> dst(n);
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data(), n);
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_checksum(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto src = random_bytes(n);
    for (auto _ : state) {
        benchmark::DoNotOptimize(src.data());
        auto sum = internet_checksum{}.add(src).value();
        benchmark::DoNotOptimize(sum);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_checksum_copy(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto src = random_bytes(n);
    std::vector<std::uint8_t> dst(n);
    for (auto _ : state) {
        auto sum = internet_checksum{}.add_copy(dst.data(), src).value();
        benchmark::DoNotOptimize(sum);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

const ip_address src_addr = ip_address::v4(10, 0, 0, 1);
const ip_address dst_addr = ip_address::v4(10, 0, 0, 2);

std::vector<std::uint8_t> make_segment(bool syn, std::size_t payload_size) {
    tcp_header_fields f{40000, 80, seq32{1}, seq32{2}, syn ? tcp_flags::syn : tcp_flags::ack, 502, 0, 0};
    tcp_options o;
    o.timestamps = tcp_timestamps{1, 2};
    if (syn) {
        o.mss = 1460;
        o.sack_permitted = true;
        o.window_scale = 7;
    }
    auto payload = random_bytes(payload_size);
    std::vector<std::uint8_t> seg(60 + payload_size);
    seg.resize(*build_tcp_segment(seg, f, o, payload, src_addr, dst_addr));
    return seg;
}

// state.range(0): 0 = SYN (no payload), else payload bytes.
void BM_parse_verified(benchmark::State& state) {
    const auto seg = make_segment(state.range(0) == 0, static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        benchmark::DoNotOptimize(seg.data());
        auto v = tcp_segment_view::parse(seg, src_addr, dst_addr);
        benchmark::DoNotOptimize(v);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * seg.size()));
}

void BM_parse_unverified(benchmark::State& state) {
    const auto seg = make_segment(state.range(0) == 0, static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        benchmark::DoNotOptimize(seg.data());
        auto v = tcp_segment_view::parse(seg);
        benchmark::DoNotOptimize(v);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * seg.size()));
}

void BM_build(benchmark::State& state) {
    const bool syn = state.range(0) == 0;
    tcp_header_fields f{40000, 80, seq32{1}, seq32{2}, syn ? tcp_flags::syn : tcp_flags::ack, 502, 0, 0};
    tcp_options o;
    o.timestamps = tcp_timestamps{1, 2};
    if (syn) {
        o.mss = 1460;
        o.sack_permitted = true;
        o.window_scale = 7;
    }
    const auto payload = random_bytes(static_cast<std::size_t>(state.range(0)));
    std::vector<std::uint8_t> out(60 + payload.size());
    std::size_t total = 0;
    for (auto _ : state) {
        f.seq += 1;
        auto len = build_tcp_segment(out, f, o, payload, src_addr, dst_addr);
        benchmark::DoNotOptimize(len);
        benchmark::ClobberMemory();
        total = *len;
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total));
}

// The memcpy baseline for a whole segment: the bytes a build writes.
void BM_memcpy_segment(benchmark::State& state) {
    const auto seg = make_segment(state.range(0) == 0, static_cast<std::size_t>(state.range(0)));
    std::vector<std::uint8_t> dst(seg.size());
    for (auto _ : state) {
        std::memcpy(dst.data(), seg.data(), seg.size());
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * seg.size()));
}

}  // namespace

BENCHMARK(BM_memcpy)->Arg(64)->Arg(1460)->Arg(9000)->Arg(65536);
BENCHMARK(BM_checksum)->Arg(64)->Arg(1460)->Arg(9000)->Arg(65536);
BENCHMARK(BM_checksum_copy)->Arg(64)->Arg(1460)->Arg(9000)->Arg(65536);
BENCHMARK(BM_memcpy_segment)->Arg(0)->Arg(1460);
BENCHMARK(BM_parse_verified)->Arg(0)->Arg(1460);
BENCHMARK(BM_parse_unverified)->Arg(0)->Arg(1460);
BENCHMARK(BM_build)->Arg(0)->Arg(1460);

namespace {
// Collects each run's time per iteration so the summary can divide them.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& r : runs)
            if (r.run_type == Run::RT_Iteration)
                ns_per_iteration_[r.benchmark_name()] = r.GetAdjustedRealTime();
        ConsoleReporter::ReportRuns(runs);
    }
    void Finalize() override {
        ConsoleReporter::Finalize();
        std::printf("\nRatios to memcpy of the same bytes (memcpy time / our time; 1.0 = as fast as memcpy):\n");
        auto ratio = [&](const std::string& ours, const std::string& base) {
            const auto o = ns_per_iteration_.find(ours), b = ns_per_iteration_.find(base);
            if (o == ns_per_iteration_.end() || b == ns_per_iteration_.end() || o->second <= 0) return;
            std::printf("  %-28s %6.1f ns  vs %-24s %6.1f ns  ratio %.2f\n", ours.c_str(), o->second,
                        base.c_str(), b->second, b->second / o->second);
        };
        for (const char* n : {"64", "1460", "9000", "65536"}) {
            ratio(std::string("BM_checksum/") + n, std::string("BM_memcpy/") + n);
            ratio(std::string("BM_checksum_copy/") + n, std::string("BM_memcpy/") + n);
        }
        for (const char* n : {"0", "1460"}) {
            for (const char* op : {"BM_parse_verified/", "BM_parse_unverified/", "BM_build/"})
                ratio(std::string(op) + n, std::string("BM_memcpy_segment/") + n);
        }
    }

private:
    std::map<std::string, double> ns_per_iteration_;
};
}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}
