// The timer strategies must differ in cost only: the wheel and the heap are
// run against timer_list, the reference model, and their costs are counted
// in steps and bytes rather than timed.

#include <tcpcore/policies/timer.hpp>
#include <tcpcore/policies/timer_heap.hpp>
#include <tcpcore/policies/timer_wheel.hpp>

#include <rapidcheck/catch.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

using namespace tcpcore;
using namespace std::chrono_literals;

namespace {

// What the strategies took from their allocator; refuses once `budget` bytes
// are live, so a test can make growth fail at a chosen moment.
struct allocation_log {
    std::size_t live_bytes = 0;
    std::size_t peak_bytes = 0;
    std::size_t allocations = 0;
    std::size_t budget = std::numeric_limits<std::size_t>::max();
};

class counting_allocator {
public:
    explicit counting_allocator(allocation_log& log) noexcept : log_(&log) {}
    [[nodiscard]] void* allocate(std::size_t bytes, std::size_t alignment) noexcept {
        if (log_->live_bytes > log_->budget || bytes > log_->budget - log_->live_bytes) return nullptr;
        void* p = std_allocator{}.allocate(bytes, alignment);
        if (p == nullptr) return nullptr;
        log_->live_bytes += bytes;
        log_->peak_bytes = std::max(log_->peak_bytes, log_->live_bytes);
        ++log_->allocations;
        return p;
    }
    void deallocate(void* p, std::size_t bytes, std::size_t alignment) noexcept {
        log_->live_bytes -= bytes;
        std_allocator{}.deallocate(p, bytes, alignment);
    }

private:
    allocation_log* log_;
};
static_assert(allocator_policy<counting_allocator>);

struct refusing_allocator {
    [[nodiscard]] void* allocate(std::size_t, std::size_t) noexcept { return nullptr; }
    void deallocate(void*, std::size_t, std::size_t) noexcept {}
};
static_assert(allocator_policy<refusing_allocator>);

static_assert(timer_policy<timing_wheel<counting_allocator>>);
using coarse_wheel = timing_wheel<std_allocator, wheel_deadline::lower_bound>;
static_assert(timer_policy<timer_heap<pmr_allocator>>);

time_point at_us(std::int64_t microseconds) { return time_point{duration{microseconds}}; }

template <class Timers>
std::vector<timer_id> pop_all(Timers& timers, time_point now) {
    std::vector<timer_id> ids;
    while (const auto id = timers.pop_expired(now)) ids.push_back(*id);
    return ids;
}

// ---- Random operation sequences -------------------------------------------

enum class action : std::uint8_t {
    schedule,
    schedule_round,
    schedule_tied,
    reschedule,
    cancel,
    schedule_never,
    pop_one,
    advance
};

struct operation {
    action what;
    timer_id id;
    std::int64_t amount;  // microseconds: a deadline's offset from now, or how far time moves
};

std::ostream& operator<<(std::ostream& os, const operation& op) {
    static constexpr const char* names[] = {"schedule", "schedule_round", "schedule_tied", "reschedule",
                                            "cancel",   "schedule_never", "pop_one",       "advance"};
    return os << names[static_cast<int>(op.what)] << '(' << op.id << ", " << op.amount << "us)";
}

// Connection slots crowd at the bottom, a few ids are far apart, and some
// have the top bit set like the endpoint's TIME-WAIT entries.
rc::Gen<timer_id> gen_id() {
    return rc::gen::oneOf(rc::gen::inRange<timer_id>(0, 8), rc::gen::inRange<timer_id>(0, 5000),
                          rc::gen::map(rc::gen::inRange<timer_id>(0, 8), [](timer_id i) { return i | 0x8000'0000u; }));
}

// From sub-millisecond to hours, a few in the past: every level of the wheel.
// Half are round numbers (a multiple of a power of two, give or take 1 us):
// slot boundaries are where a wheel's off-by-one errors live.
rc::Gen<std::int64_t> gen_microseconds() {
    return rc::gen::oneOf(
        rc::gen::mapcat(rc::gen::element<std::int64_t>(1'500, 70'000, 5'000'000, 300'000'000, 20'000'000'000),
                        [](std::int64_t span) { return rc::gen::inRange<std::int64_t>(-span / 8, span); }),
        rc::gen::apply(
            [](int grid_bits, std::int64_t multiple, std::int64_t jitter) { return (multiple << grid_bits) + jitter; },
            rc::gen::element(10, 16, 22, 28, 34), rc::gen::inRange<std::int64_t>(-1, 65),
            rc::gen::inRange<std::int64_t>(-1, 2)));
}

// A deadline on a round number of microseconds near now: `amount` picks the
// grid (2^10 to 2^34 us, the wheel's slot widths), the multiple and +-1 us.
time_point round_deadline(time_point now, std::int64_t amount) {
    const auto choice = static_cast<std::uint64_t>(amount);
    const unsigned grid_bits = 10 + 6 * static_cast<unsigned>(choice % 5);
    const std::int64_t multiple = static_cast<std::int64_t>(choice / 5 % 66) - 1;
    const std::int64_t jitter = static_cast<std::int64_t>(choice / 330 % 3) - 1;
    const std::int64_t base = now.time_since_epoch().count() >> grid_bits;
    return at_us(((base + multiple) << grid_bits) + jitter);
}

rc::Gen<operation> gen_operation() {
    return rc::gen::apply(
        [](action what, timer_id id, std::int64_t amount) {
            return operation{what, id, amount};
        },
        rc::gen::weightedElement<action>({{4, action::schedule},
                                          {3, action::schedule_round},
                                          {2, action::schedule_tied},
                                          {2, action::reschedule},
                                          {2, action::cancel},
                                          {1, action::schedule_never},
                                          {2, action::pop_one},
                                          {3, action::advance}}),
        gen_id(), gen_microseconds());
}

// The strategies side by side; every call must agree with the list.
struct all_strategies {
    timer_list list;
    timing_wheel<> wheel;
    coarse_wheel coarse;
    timer_heap<> heap;

    void schedule(timer_id id, time_point when) {
        list.schedule(id, when);
        RC_ASSERT(wheel.schedule(id, when));
        RC_ASSERT(coarse.schedule(id, when));
        RC_ASSERT(heap.schedule(id, when));
    }
    void cancel(timer_id id) {
        list.cancel(id);
        wheel.cancel(id);
        coarse.cancel(id);
        heap.cancel(id);
    }
    std::optional<timer_id> pop(time_point now) {
        const auto expected = list.pop_expired(now);
        RC_ASSERT(wheel.pop_expired(now) == expected);
        RC_ASSERT(coarse.pop_expired(now) == expected);
        RC_ASSERT(heap.pop_expired(now) == expected);
        return expected;
    }
    // Not after every operation: the exact wheel's answer moves its timers,
    // and sequences that never ask must work too.
    void check_deadlines() const {
        const time_point earliest = list.next_deadline();
        RC_ASSERT(heap.next_deadline() == earliest);
        RC_ASSERT(wheel.next_deadline() == earliest);
        const time_point bound = coarse.next_deadline();
        RC_ASSERT(bound <= earliest);
        RC_ASSERT((bound == never) == (earliest == never));
    }
    void check_sizes() const {
        RC_ASSERT(wheel.size() == list.size());
        RC_ASSERT(coarse.size() == list.size());
        RC_ASSERT(heap.size() == list.size());
    }
};

std::uint64_t pick(std::int64_t amount, std::size_t count) { return static_cast<std::uint64_t>(amount) % count; }

// ---- An endpoint's loop ----------------------------------------------------

struct arming {
    timer_id id;
    std::int64_t offset;  // microseconds after the start
    std::uint8_t rearms;  // how often the timer re-arms itself when it fires
    std::int64_t period;  // microseconds between re-arms
};

struct expiry {
    timer_id id;
    time_point when;
    friend bool operator==(const expiry&, const expiry&) = default;
};

// timer_list cannot fail (its vector throws instead); the others say so.
template <class Timers>
bool schedule_ok(Timers& timers, timer_id id, time_point when) {
    if constexpr (std::is_void_v<decltype(timers.schedule(id, when))>) {
        timers.schedule(id, when);
        return true;
    } else {
        return timers.schedule(id, when);
    }
}

// Sleeps until next_deadline(), pops what is due there and re-arms periodic
// timers, until nothing is left. Counts the longest run of wake-ups that
// found nothing due.
template <class Timers>
std::vector<expiry> run_endpoint(Timers& timers, const std::vector<arming>& armings, time_point start,
                                 std::size_t& longest_idle_run) {
    std::map<timer_id, arming> plan;
    for (const arming& a : armings) {
        plan[a.id] = a;
        RC_ASSERT(schedule_ok(timers, a.id, start + duration{a.offset}));
    }
    std::vector<expiry> fired;
    std::size_t idle_run = 0;
    longest_idle_run = 0;
    time_point previous_wake = time_point::min();
    for (time_point wake; (wake = timers.next_deadline()) != never;) {
        RC_ASSERT(wake >= previous_wake);
        previous_wake = wake;
        bool any = false;
        while (const auto id = timers.pop_expired(wake)) {
            any = true;
            fired.push_back({*id, wake});
            arming& a = plan[*id];
            if (a.rearms > 0) {
                --a.rearms;
                RC_ASSERT(schedule_ok(timers, *id, wake + duration{a.period}));
            }
        }
        idle_run = any ? 0 : idle_run + 1;
        longest_idle_run = std::max(longest_idle_run, idle_run);
        RC_ASSERT(idle_run <= coarse_wheel::levels);
    }
    return fired;
}

// A strategy with a single timer `deadline`, and the wheel's answers while an
// endpoint sleeps towards it.
std::vector<time_point> lower_bounds_until(coarse_wheel& wheel, time_point deadline) {
    std::vector<time_point> bounds;
    for (time_point wake; (wake = wheel.next_deadline()) != deadline;) {
        bounds.push_back(wake);
        if (bounds.size() > coarse_wheel::levels || wake > deadline) break;
        REQUIRE_FALSE(wheel.pop_expired(wake).has_value());
    }
    return bounds;
}

}  // namespace

// ---- Identical behaviour ----------------------------------------------------

TEST_CASE("timer strategies: random schedule, cancel and advance sequences pop identically under list, wheel, heap") {
    rc::prop("same ids, same order, next_deadline exact (heap) or a lower bound (wheel)", [] {
        // The wheel's position starts at the epoch; clocks need not.
        const std::int64_t start = *rc::gen::element<std::int64_t>(0, 7'777, -3'000'000'000, 1'700'000'000'000'000,
                                                                   100'000'000'000, std::int64_t{1} << 40);
        const auto operations = *rc::gen::container<std::vector<operation>>(gen_operation());
        all_strategies timers;
        time_point now = at_us(start);
        std::vector<time_point> deadlines_used{now};
        std::vector<timer_id> ids_used;
        const bool ask_deadlines = *rc::gen::arbitrary<bool>();
        for (const operation& op : operations) {
            switch (op.what) {
                case action::schedule:
                    deadlines_used.push_back(now + duration{op.amount});
                    ids_used.push_back(op.id);
                    timers.schedule(op.id, deadlines_used.back());
                    break;
                case action::schedule_round:
                    deadlines_used.push_back(round_deadline(now, op.amount));
                    ids_used.push_back(op.id);
                    timers.schedule(op.id, deadlines_used.back());
                    break;
                case action::schedule_tied:
                    ids_used.push_back(op.id);
                    timers.schedule(op.id, deadlines_used[pick(op.amount, deadlines_used.size())]);
                    break;
                case action::reschedule:
                    if (!ids_used.empty())
                        timers.schedule(ids_used[pick(op.amount, ids_used.size())], now + duration{op.amount});
                    break;
                case action::cancel:
                    // Half the time an id that may never have been scheduled.
                    timers.cancel(op.amount % 2 == 0 || ids_used.empty() ? op.id
                                                                         : ids_used[pick(op.amount, ids_used.size())]);
                    break;
                case action::schedule_never:
                    timers.schedule(ids_used.empty() ? op.id : ids_used[pick(op.amount, ids_used.size())], never);
                    break;
                case action::pop_one:
                    timers.pop(now);
                    break;
                case action::advance:
                    // Mostly forwards; backwards steps must not confuse anyone either.
                    now += duration{op.amount};
                    while (timers.pop(now)) {
                    }
                    break;
            }
            timers.check_sizes();
            if (ask_deadlines) timers.check_deadlines();
        }
        timers.check_deadlines();
        while (timers.pop(never)) {
        }
        timers.check_deadlines();
        RC_ASSERT(timers.list.size() == 0u);
    });
}

TEST_CASE("timer strategies: an endpoint sleeping until next_deadline() sees the same expiries under every strategy") {
    rc::prop("same (id, time) expiries; only the lower-bound wheel wakes early, at most `levels` times in a row", [] {
        const std::int64_t start =
            *rc::gen::element<std::int64_t>(0, std::int64_t{1} << 40, -(std::int64_t{1} << 30), -77'000);
        const auto armings = *rc::gen::container<std::vector<arming>>(rc::gen::apply(
            [](timer_id id, std::int64_t offset, std::uint8_t rearms, std::int64_t period) {
                return arming{id, offset, rearms, period};
            },
            gen_id(), gen_microseconds(), rc::gen::inRange<std::uint8_t>(0, 4),
            rc::gen::map(gen_microseconds(), [](std::int64_t us) { return us < 0 ? -us : us; })));
        timer_list list;
        timing_wheel<> wheel;
        coarse_wheel coarse;
        timer_heap<> heap;
        std::size_t list_idle = 0, wheel_idle = 0, coarse_idle = 0, heap_idle = 0;
        const auto expected = run_endpoint(list, armings, at_us(start), list_idle);
        RC_ASSERT(run_endpoint(wheel, armings, at_us(start), wheel_idle) == expected);
        RC_ASSERT(run_endpoint(coarse, armings, at_us(start), coarse_idle) == expected);
        RC_ASSERT(run_endpoint(heap, armings, at_us(start), heap_idle) == expected);
        RC_ASSERT(list_idle == 0u);
        RC_ASSERT(wheel_idle == 0u);
        RC_ASSERT(heap_idle == 0u);
        RC_ASSERT(coarse_idle <= coarse_wheel::levels);
    });
}

TEMPLATE_TEST_CASE("timer strategies: ties pop in scheduling order, and a reschedule goes to the back", "", timer_list,
                   timing_wheel<>, coarse_wheel, timer_heap<>) {
    TestType timers;
    timers.schedule(5, at(10ms));
    timers.schedule(1, at(10ms));
    timers.schedule(9, at(10ms));
    timers.schedule(0x8000'0002u, at(10ms));
    timers.schedule(1, at(10ms));
    timers.schedule(4, at(9ms));
    CHECK(pop_all(timers, at(10ms)) == std::vector<timer_id>{4, 5, 9, 0x8000'0002u, 1});
}

TEMPLATE_TEST_CASE("timer strategies: never cancels, cancelling an unscheduled id does nothing, rescheduling moves", "",
                   timer_list, timing_wheel<>, coarse_wheel, timer_heap<>) {
    TestType timers;
    timers.cancel(42);
    CHECK(timers.size() == 0);
    CHECK(timers.next_deadline() == never);

    timers.schedule(1, at(10ms));
    timers.schedule(1, never);
    CHECK(timers.size() == 0);
    CHECK(timers.next_deadline() == never);
    CHECK_FALSE(timers.pop_expired(at(1h)).has_value());

    timers.schedule(2, at(10ms));
    timers.schedule(2, at(5s));  // later
    timers.schedule(3, at(5s));
    timers.schedule(3, at(2ms));  // earlier
    timers.cancel(7);
    CHECK(timers.size() == 2);
    CHECK(pop_all(timers, at(1s)) == std::vector<timer_id>{3});
    timers.cancel(3);  // already popped
    CHECK(pop_all(timers, at(5s)) == std::vector<timer_id>{2});
    timers.cancel(2);
    timers.cancel(2);
    CHECK(timers.size() == 0);
    CHECK(timers.next_deadline() == never);
}

TEMPLATE_TEST_CASE("timer strategies: within one wheel tick only deadlines at or before now expire", "", timer_list,
                   timing_wheel<>, coarse_wheel, timer_heap<>) {
    // Tick 5 of the wheel is [5120 us, 6144 us).
    TestType timers;
    timers.schedule(1, at(5200us));
    timers.schedule(2, at(6000us));
    timers.schedule(3, at(5121us));
    CHECK(pop_all(timers, at(5500us)) == std::vector<timer_id>{3, 1});
    CHECK(timers.next_deadline() == at(6000us));

    // Into the tick being served, and into the past.
    timers.schedule(4, at(5800us));
    timers.schedule(5, at(100us));
    CHECK(timers.next_deadline() == at(100us));
    CHECK(pop_all(timers, at(5700us)) == std::vector<timer_id>{5});
    CHECK(pop_all(timers, at(5800us)) == std::vector<timer_id>{4});
    CHECK(pop_all(timers, at(6143us)) == std::vector<timer_id>{2});
}

TEMPLATE_TEST_CASE("timer strategies: deadlines anywhere in time_point's range", "", timer_list, timing_wheel<>,
                   coarse_wheel, timer_heap<>) {
    TestType timers;
    timers.schedule(1, time_point::min());
    timers.schedule(2, at(-5s));
    timers.schedule(3, never - 1us);
    timers.schedule(4, at(24h * 365 * 100));
    timers.schedule(5, at(0s));
    timers.schedule(6, never - 2us);
    CHECK(timers.next_deadline() == time_point::min());
    CHECK(pop_all(timers, at(-1s)) == std::vector<timer_id>{1, 2});
    CHECK(pop_all(timers, at(0s)) == std::vector<timer_id>{5});
    CHECK(timers.next_deadline() <= at(24h * 365 * 100));
    CHECK(pop_all(timers, never) == std::vector<timer_id>{4, 6, 3});
    CHECK(timers.next_deadline() == never);
}

// ---- next_deadline ------------------------------------------------------------

TEST_CASE("timer heap: next_deadline() is exact") {
    timer_heap<> heap;
    CHECK(heap.next_deadline() == never);
    heap.schedule(1, at(7ms));
    heap.schedule(2, at(3h));
    heap.schedule(3, at(5001us));
    CHECK(heap.next_deadline() == at(5001us));
    heap.cancel(3);
    CHECK(heap.next_deadline() == at(7ms));
    heap.schedule(1, at(4h));
    CHECK(heap.next_deadline() == at(3h));
    CHECK(heap.pop_expired(at(3h)) == 2u);
    CHECK(heap.next_deadline() == at(4h));
    heap.cancel(1);
    CHECK(heap.next_deadline() == never);
}

TEST_CASE("timing wheel: next_deadline() is exact, and timers before the position it reached still come first") {
    timing_wheel<> wheel;
    CHECK(wheel.next_deadline() == never);
    wheel.schedule(1, at(5'000'300us));
    wheel.schedule(2, at(3h));
    CHECK(wheel.next_deadline() == at(5'000'300us));
    const std::uint64_t steps = wheel.steps();
    CHECK(wheel.next_deadline() == at(5'000'300us));
    CHECK(wheel.steps() == steps);  // the first answer did the cascading

    // That answer took the wheel to 5.0003 s; earlier timers are still earlier.
    wheel.schedule(3, at(2ms));
    CHECK(wheel.next_deadline() == at(2ms));
    CHECK_FALSE(wheel.pop_expired(at(1ms)).has_value());
    CHECK(pop_all(wheel, at(5'000'300us)) == std::vector<timer_id>{3, 1});
    CHECK(wheel.next_deadline() == at(3h));
    wheel.cancel(2);
    CHECK(wheel.next_deadline() == never);
}

TEST_CASE("timing wheel (lower_bound): next_deadline() is the earliest slot's start, exact once due") {
    coarse_wheel wheel;
    static_assert(coarse_wheel::tick == 1024us);
    CHECK(wheel.next_deadline() == never);

    // From the epoch, 5.0003 s (tick 4883) differs from the wheel's position
    // first in digit 2, so it waits in a 4.19 s wide slot starting at tick 4096.
    wheel.schedule(1, at(5'000'300us));
    CHECK(wheel.next_deadline() == at(4096 * 1024us));

    SECTION("an endpoint waking at each lower bound reaches the exact deadline") {
        const auto bounds = lower_bounds_until(wheel, at(5'000'300us));
        CHECK(bounds.size() <= coarse_wheel::levels);
        CHECK(std::is_sorted(bounds.begin(), bounds.end()));
        CHECK(bounds.back() > at(5'000'300us) - 1024us);  // the last was in the deadline's own tick
        CHECK(wheel.pop_expired(at(5'000'300us)) == 1u);
    }
    SECTION("once the wheel has got close, the bound is the start of the deadline's tick") {
        CHECK_FALSE(wheel.pop_expired(at(5s)).has_value());  // moves the wheel to tick 4882
        CHECK(wheel.next_deadline() == at(4883 * 1024us));
        CHECK(at(5'000'300us) - wheel.next_deadline() < coarse_wheel::tick);
        CHECK_FALSE(wheel.pop_expired(at(4883 * 1024us)).has_value());
        CHECK(wheel.next_deadline() == at(5'000'300us));  // due: exact
        wheel.schedule(2, at(5'000'200us));
        CHECK(wheel.next_deadline() == at(5'000'200us));
        wheel.cancel(2);
        wheel.cancel(1);
        CHECK(wheel.next_deadline() == never);
    }
    SECTION("hours away: a coarse bound that tightens as the endpoint wakes") {
        wheel.cancel(1);
        CHECK_FALSE(wheel.pop_expired(at(5s)).has_value());
        wheel.schedule(7, at(3h + 17ms));
        CHECK(wheel.next_deadline() <= at(3h + 17ms));
        const auto bounds = lower_bounds_until(wheel, at(3h + 17ms));
        CHECK(bounds.size() <= coarse_wheel::levels);
        CHECK(std::is_sorted(bounds.begin(), bounds.end()));
        CHECK(wheel.pop_expired(at(3h + 17ms)) == 7u);
    }
}

// ---- Cost ----------------------------------------------------------------

namespace {
constexpr timer_id million = 1'000'000;
constexpr std::int64_t four_hours_us = 4LL * 3600 * 1'000'000;
constexpr std::int64_t ten_minutes_us = 600'000'000;
constexpr std::size_t cancelled_of_a_million = (million + 2) / 3;
constexpr std::size_t rearmed_of_a_million = (million + 1) / 3;

struct cost_report {
    std::uint64_t most_steps_per_schedule = 0;
    std::uint64_t most_steps_per_cancel = 0;
    std::uint64_t most_steps_per_rearm = 0;
    std::uint64_t most_steps_per_pop = 0;
    std::uint64_t most_steps_per_next_deadline = 0;
    std::uint64_t steps = 0;
    std::uint64_t calls = 0;
    std::size_t popped = 0;
    bool in_deadline_order = true;
};

// A million timers spread over four hours; a third are cancelled, the rest
// popped by an endpoint that polls every 10 ms and then asks for its next
// deadline. Half of those popped re-arm once, up to ten minutes ahead.
template <class Timers>
cost_report million_timers(Timers& timers, time_point start) {
    cost_report report;
    std::mt19937_64 random{20240611};
    std::vector<std::int64_t> deadlines(million);  // after `start`, in microseconds
    std::vector<bool> rearmed(million);
    const std::uint64_t steps_before = timers.steps();
    auto counted = [&](std::uint64_t& most, auto&& call) {
        const std::uint64_t before = timers.steps();
        call();
        most = std::max(most, timers.steps() - before);
        ++report.calls;
    };
    for (timer_id id = 0; id < million; ++id) {
        deadlines[id] = static_cast<std::int64_t>(random() % four_hours_us);
        counted(report.most_steps_per_schedule, [&] { (void)timers.schedule(id, start + duration{deadlines[id]}); });
    }
    for (timer_id id = 0; id < million; id += 3) counted(report.most_steps_per_cancel, [&] { timers.cancel(id); });
    std::int64_t last_deadline = -1;
    for (time_point now = start; now <= start + duration{four_hours_us + ten_minutes_us}; now += 10ms) {
        for (;;) {
            std::optional<timer_id> id;
            counted(report.most_steps_per_pop, [&] { id = timers.pop_expired(now); });
            if (!id) break;
            ++report.popped;
            if (deadlines[*id] < last_deadline || *id % 3 == 0) report.in_deadline_order = false;
            last_deadline = deadlines[*id];
            if (*id % 3 == 1 && !rearmed[*id]) {
                rearmed[*id] = true;
                deadlines[*id] = (now - start).count() + static_cast<std::int64_t>(random() % ten_minutes_us);
                counted(report.most_steps_per_rearm,
                        [&] { (void)timers.schedule(*id, start + duration{deadlines[*id]}); });
            }
        }
        counted(report.most_steps_per_next_deadline, [&] { (void)timers.next_deadline(); });
    }
    report.steps = timers.steps() - steps_before;
    return report;
}
}  // namespace

TEMPLATE_TEST_CASE("timing wheel: a million timers cost O(1) steps each, and memory stays proportional to the ids", "",
                   timing_wheel<counting_allocator>, (timing_wheel<counting_allocator, wheel_deadline::lower_bound>)) {
    allocation_log log;
    TestType wheel{counting_allocator{log}};
    const cost_report report = million_timers(wheel, at(1h));

    CHECK(report.popped == million - cancelled_of_a_million + rearmed_of_a_million);
    CHECK(report.in_deadline_order);
    CHECK(wheel.size() == 0);
    CHECK(wheel.next_deadline() == never);
    // schedule() and cancel() touch one list, whatever the load; a re-arm
    // may land among the few timers already due.
    CHECK(report.most_steps_per_schedule == 1);
    CHECK(report.most_steps_per_cancel == 1);
    CHECK(report.most_steps_per_rearm <= 4);
    // pop_expired() and next_deadline() are O(1) amortised: a timer moves
    // down at least a level per cascade (here it starts on level 3 or 4) and
    // a poll passes pop_expired()'s loop a few times. One call may still
    // cascade a whole slot.
    CHECK(report.steps <= 3 * report.calls);
    // 24-byte nodes and a 4-byte due-heap slot per id, blocks doubled from 16.
    CHECK(wheel.memory_used() == (24 + 4) * (std::size_t{1} << 20));
    CHECK(log.live_bytes == wheel.memory_used());
    CHECK(log.peak_bytes <= 48 * std::size_t{million});

    // Steady state: the same load again takes nothing from the allocator.
    const std::size_t allocations = log.allocations;
    const cost_report again = million_timers(wheel, at(6h));
    CHECK(again.popped == report.popped);
    CHECK(again.steps <= 3 * again.calls);
    CHECK(log.allocations == allocations);
    CHECK(log.live_bytes == wheel.memory_used());
}

TEST_CASE("timer heap: a million timers cost O(log n) steps each, and memory stays proportional to the ids") {
    allocation_log log;
    timer_heap<counting_allocator> heap{counting_allocator{log}};
    const cost_report report = million_timers(heap, at(1h));

    CHECK(report.popped == million - cancelled_of_a_million + rearmed_of_a_million);
    CHECK(report.in_deadline_order);
    CHECK(heap.size() == 0);
    CHECK(heap.next_deadline() == never);
    const auto depth = static_cast<std::uint64_t>(std::bit_width(std::uint64_t{million}));
    CHECK(report.most_steps_per_schedule <= 1 + depth);
    CHECK(report.most_steps_per_cancel <= 1 + depth);
    CHECK(report.most_steps_per_rearm <= 1 + depth);
    CHECK(report.most_steps_per_pop <= 1 + depth);
    CHECK(report.most_steps_per_next_deadline == 0);
    // A 4-byte position per id and a 24-byte entry per timer, blocks doubled from 16.
    CHECK(heap.memory_used() == (4 + 24) * (std::size_t{1} << 20));
    CHECK(log.live_bytes == heap.memory_used());
    CHECK(log.peak_bytes <= 48 * std::size_t{million});

    const std::size_t allocations = log.allocations;
    const cost_report again = million_timers(heap, at(6h));
    CHECK(again.popped == report.popped);
    CHECK(again.most_steps_per_pop <= 1 + depth);
    CHECK(log.allocations == allocations);
}

TEMPLATE_TEST_CASE("timer strategies: ids with the top bit set cost memory for their low bits only", "",
                   timing_wheel<counting_allocator>, timer_heap<counting_allocator>) {
    allocation_log log;
    TestType timers{counting_allocator{log}};
    REQUIRE(timers.schedule(0x8000'0007u, at(2ms)));
    REQUIRE(timers.schedule(0x8000'000eu, at(1ms)));
    REQUIRE(timers.schedule(7, at(3ms)));
    CHECK(log.live_bytes <= 2048);
    CHECK(pop_all(timers, at(1s)) == std::vector<timer_id>{0x8000'000eu, 0x8000'0007u, 7});
}

// ---- Allocation failure --------------------------------------------------------

TEMPLATE_TEST_CASE("timer strategies: with an allocator that always fails, schedule() refuses and nothing changes", "",
                   timing_wheel<refusing_allocator>, timer_heap<refusing_allocator>) {
    TestType timers;
    CHECK_FALSE(timers.schedule(1, at(1s)));
    CHECK_FALSE(timers.schedule(0x8000'0000u, at(1s)));
    CHECK(timers.schedule(1, never));  // cancelling needs no memory
    timers.cancel(1);
    CHECK(timers.size() == 0);
    CHECK(timers.next_deadline() == never);
    CHECK_FALSE(timers.pop_expired(never).has_value());
    CHECK_FALSE(timers.reserve(10));
    CHECK(timers.memory_used() == 0);
}

TEMPLATE_TEST_CASE("timer strategies: when growth fails, the new id is refused and earlier timers are untouched", "",
                   timing_wheel<counting_allocator>, timer_heap<counting_allocator>) {
    allocation_log log;
    TestType timers{counting_allocator{log}};
    for (timer_id id = 0; id < 10; ++id) REQUIRE(timers.schedule(id, at(100ms) - id * 1ms));
    log.budget = log.live_bytes;
    const std::size_t allocations = log.allocations;

    CHECK_FALSE(timers.schedule(5000, at(1ms)));          // past the first block of ids
    CHECK_FALSE(timers.schedule(0x8000'0001u, at(1ms)));  // the first top-bit id
    CHECK(timers.schedule(3, at(2s)));                    // moving needs nothing new
    CHECK(timers.schedule(12, at(3s)));                   // inside the first block
    CHECK(log.allocations == allocations);
    CHECK(timers.size() == 11);
    CHECK(pop_all(timers, never) == std::vector<timer_id>{9, 8, 7, 6, 5, 4, 2, 1, 0, 3, 12});

    // Memory returns: growth works again.
    log.budget = std::numeric_limits<std::size_t>::max();
    CHECK(timers.schedule(5000, at(1ms)));
    CHECK(timers.pop_expired(at(1ms)) == 5000u);
}

TEMPLATE_TEST_CASE("timer strategies: after reserve(), scheduling the reserved ids allocates nothing", "",
                   timing_wheel<counting_allocator>, timer_heap<counting_allocator>) {
    allocation_log log;
    TestType timers{counting_allocator{log}};
    REQUIRE(timers.reserve(1000, 10));
    log.budget = 0;  // everything from here on is refused
    const std::size_t allocations = log.allocations;
    for (timer_id id = 0; id < 1000; ++id) REQUIRE(timers.schedule(id, at(1s) + (id % 7) * 1ms));
    for (timer_id id = 0x8000'0000u; id < 0x8000'000au; ++id) REQUIRE(timers.schedule(id, at(500ms)));
    CHECK_FALSE(timers.schedule(1000, at(1s)));
    CHECK(timers.size() == 1010);
    CHECK(pop_all(timers, at(2s)).size() == 1010);
    CHECK(log.allocations == allocations);
}

TEMPLATE_TEST_CASE("timer strategies: a moved strategy keeps its timers, and the moved-from one is empty and usable",
                   "", timing_wheel<>, timer_heap<>) {
    TestType first;
    first.schedule(1, at(2ms));
    first.schedule(2, at(1ms));
    first.schedule(3, at(2h));
    CHECK(first.pop_expired(at(1500us)) == 2u);

    TestType second{std::move(first)};
    CHECK(first.size() == 0);  // NOLINT(bugprone-use-after-move): moved-from state is specified
    CHECK(first.next_deadline() == never);
    first.schedule(9, at(1ms));
    CHECK(pop_all(first, at(1s)) == std::vector<timer_id>{9});

    TestType third;
    third.schedule(4, at(1ms));
    third = std::move(second);
    CHECK(third.size() == 2);
    CHECK(pop_all(third, at(3h)) == std::vector<timer_id>{1, 3});
}
