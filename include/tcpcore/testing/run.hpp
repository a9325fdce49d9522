#pragma once
// The driver loop every virtual-time test writes: run a world (hosts and the
// link between them) from event to event, in order, until a condition holds,
// a time, or nothing is left; bounded by a cap on steps, so that two hosts
// answering each other for ever end the run instead of the test. Also the
// one accessor for "when does this need attention next" over connections,
// endpoints and timers, so that loops need not know which one they hold.

#include <tcpcore/rules/time.hpp>

#include <concepts>
#include <cstdint>
#include <utility>

namespace tcpcore::testing {

// A world moves in steps: step(limit) goes to its next event, if that is no
// later than `limit`, runs everything due then and returns true; otherwise it
// returns false. next_event() is that next instant (`never`: nothing left).
// simulated_network, testing::memory_network and testing::loopback are
// worlds.
template <class W>
concept world = requires(W& w, const W& cw, time_point limit) {
    { w.step(limit) } -> std::same_as<bool>;
    { cw.next_event() } -> std::convertible_to<time_point>;
};

// Far more instants than any test here needs; reaching it means something
// never ends.
inline constexpr std::uint64_t default_max_steps = 10'000'000;

enum class run_end : std::uint8_t {
    done,        // the condition held
    idle,        // nothing was left to happen
    time_limit,  // the next event lies past the time limit
    step_limit,  // the cap on steps was reached: something may loop
};

[[nodiscard]] constexpr const char* to_string(run_end e) noexcept {
    switch (e) {
        case run_end::done: return "done";
        case run_end::idle: return "idle";
        case run_end::time_limit: return "time limit";
        case run_end::step_limit: return "step limit";
    }
    return "?";
}

struct run_result {
    run_end end = run_end::done;
    std::uint64_t steps = 0;
    bool finished = false;  // what the call asked for happened
    explicit operator bool() const noexcept { return finished; }
};

// Steps until done() holds (checked before every step); finished when it
// does.
template <world W, std::predicate Done>
run_result run_until(W& w, Done&& done, time_point limit, std::uint64_t max_steps = default_max_steps) {
    run_result r;
    for (;; ++r.steps) {
        if (done()) {
            r.end = run_end::done;
            break;
        }
        if (r.steps == max_steps) {
            r.end = run_end::step_limit;
            break;
        }
        if (!w.step(limit)) {
            r.end = done() ? run_end::done : w.next_event() == never ? run_end::idle : run_end::time_limit;
            break;
        }
    }
    r.finished = r.end == run_end::done;
    return r;
}

// Runs every event at or before `limit`; finished when none is left there.
template <world W>
run_result run_until(W& w, time_point limit, std::uint64_t max_steps = default_max_steps) {
    run_result r = run_until(w, [] { return false; }, limit, max_steps);
    r.finished = r.end != run_end::step_limit;
    return r;
}

// Runs until nothing at all is left to happen; finished when that came
// before `limit` (and the cap).
template <world W>
run_result run_until_idle(W& w, time_point limit = never, std::uint64_t max_steps = default_max_steps) {
    run_result r = run_until(w, [] { return false; }, limit, max_steps);
    r.finished = r.end == run_end::idle;
    return r;
}

}  // namespace tcpcore::testing
