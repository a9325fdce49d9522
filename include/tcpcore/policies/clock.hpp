#pragma once
// The Clock policy: where the endpoint gets the current time. The connection
// engine never reads a clock; the endpoint reads this one once per call and
// passes the time down.

#include <tcpcore/rules/time.hpp>

#include <chrono>
#include <concepts>

namespace tcpcore {

template <class C>
concept clock_policy = requires(C& clock) {
    { clock.now() } -> std::convertible_to<time_point>;
};

// The process's steady clock, in microseconds since its epoch.
struct steady_clock_source {
    [[nodiscard]] time_point now() const noexcept {
        return time_point{std::chrono::duration_cast<duration>(std::chrono::steady_clock::now().time_since_epoch())};
    }
};
static_assert(clock_policy<steady_clock_source>);

// Virtual time that moves only when told: simulators, tests, fuzzers.
class manual_clock {
public:
    constexpr manual_clock() noexcept = default;
    constexpr explicit manual_clock(time_point start) noexcept : now_(start) {}

    [[nodiscard]] constexpr time_point now() const noexcept { return now_; }
    // Time never runs backwards: an earlier time point is ignored.
    constexpr void set(time_point t) noexcept {
        if (t > now_) now_ = t;
    }
    constexpr void advance(duration d) noexcept {
        if (d > duration::zero()) now_ += d;
    }

private:
    time_point now_{};
};
static_assert(clock_policy<manual_clock>);

}  // namespace tcpcore
