#include <tcpcore/policies.hpp>

#include <rapidcheck/catch.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory_resource>

using namespace tcpcore;
using namespace std::chrono_literals;

namespace {
// Negative checks: each misuse is refused by its concept.
struct no_now {};
struct now_wrong_type {
    int now() { return 0; }
};
struct io_without_send {};
struct allocator_that_throws {
    void* allocate(std::size_t, std::size_t);  // not noexcept
    void deallocate(void*, std::size_t, std::size_t) noexcept;
};
struct timer_without_pop {
    void schedule(timer_id, time_point);
    void cancel(timer_id);
    time_point next_deadline() const;
};
static_assert(!clock_policy<no_now>);
static_assert(!clock_policy<now_wrong_type>);
static_assert(!io_policy<io_without_send>);
static_assert(!allocator_policy<allocator_that_throws>);
static_assert(!timer_policy<timer_without_pop>);

struct virtual_time_policies : default_policies {
    using clock = manual_clock;
    using allocator = pmr_allocator;
    using io = capture_segment_io;
};
static_assert(policy_bundle<virtual_time_policies>);
struct bad_bundle : default_policies {
    using clock = no_now;
};
static_assert(!policy_bundle<bad_bundle>);
}  // namespace

TEST_CASE("clock: the manual clock moves only forward and only when told") {
    manual_clock c;
    CHECK(c.now() == time_point{});
    c.advance(2s);
    CHECK(c.now() == at(2s));
    c.set(at(1s));  // backwards: ignored
    CHECK(c.now() == at(2s));
    c.set(at(5s));
    CHECK(c.now() == at(5s));
    c.advance(-1s);
    CHECK(c.now() == at(5s));
}

TEST_CASE("clock: the steady clock source is monotonic") {
    steady_clock_source c;
    const auto a = c.now();
    const auto b = c.now();
    CHECK(b >= a);
}

TEST_CASE("io: the capture models keep what was sent, in order") {
    capture_io io;
    const std::uint8_t d1[] = {0x45, 1}, d2[] = {0x60, 2, 3};
    io.send_datagram(d1);
    io.send_datagram(d2);
    REQUIRE(io.datagrams.size() == 2);
    CHECK(io.datagrams[1] == std::vector<std::uint8_t>{0x60, 2, 3});
    capture_segment_io sio;
    four_tuple t{{ip_address::v4(1, 1, 1, 1), 1}, {ip_address::v4(2, 2, 2, 2), 2}};
    sio.send_segment(t, d1);
    REQUIRE(sio.segments.size() == 1);
    CHECK(sio.segments[0].addresses == t);
}

TEST_CASE("allocator: std and pmr models allocate aligned memory and report exhaustion as nullptr") {
    std_allocator a;
    void* p = a.allocate(1000, 64);
    REQUIRE(p != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(p) % 64 == 0);
    a.deallocate(p, 1000, 64);

    std::array<std::byte, 4096> arena_storage;
    std::pmr::monotonic_buffer_resource arena(arena_storage.data(), arena_storage.size(),
                                              std::pmr::null_memory_resource());
    pmr_allocator pa(&arena);
    void* q = pa.allocate(1024, 16);
    REQUIRE(q != nullptr);
    CHECK(reinterpret_cast<std::byte*>(q) >= arena_storage.data());
    CHECK(reinterpret_cast<std::byte*>(q) + 1024 <= arena_storage.data() + arena_storage.size());
    // The arena is exhausted and has no upstream: nullptr, not a throw.
    CHECK(pa.allocate(8192, 16) == nullptr);
    pa.deallocate(q, 1024, 16);
}

TEST_CASE("timer list: expired ids come out in deadline order, ties in scheduling order") {
    rc::prop("against a sorted reference", [](const std::vector<std::pair<std::uint8_t, std::uint16_t>>& ops) {
        timer_list timers;
        std::map<timer_id, std::pair<time_point, std::uint64_t>> reference;
        std::uint64_t seq = 0;
        for (auto [id, ms] : ops) {
            if (ms % 7 == 0) {
                timers.cancel(id);
                reference.erase(id);
            } else {
                timers.schedule(id, at(std::chrono::milliseconds{ms}));
                reference[id] = {at(std::chrono::milliseconds{ms}), ++seq};
            }
        }
        time_point expected_next = never;
        for (auto& [id, v] : reference) expected_next = std::min(expected_next, v.first);
        RC_ASSERT(timers.next_deadline() == expected_next);
        const time_point now = at(30000ms);
        std::vector<std::tuple<time_point, std::uint64_t, timer_id>> due;
        for (auto& [id, v] : reference)
            if (v.first <= now) due.emplace_back(v.first, v.second, id);
        std::sort(due.begin(), due.end());
        for (auto& [when, s, id] : due) {
            const auto got = timers.pop_expired(now);
            RC_ASSERT(got.has_value());
            RC_ASSERT(*got == id);
        }
        RC_ASSERT(!timers.pop_expired(now).has_value());
    });
    timer_list t;
    t.schedule(1, never);
    CHECK(t.size() == 0);
    CHECK(t.next_deadline() == never);
}
