#pragma once
// Time as tcpcore sees it: microseconds since an epoch the clock policy
// chooses. The engine never reads a clock; every call that needs the time is
// given a time_point. Durations are std::chrono durations, so configuration
// reads naturally: cfg.keepalive_idle = 2s.

#include <chrono>
#include <cstdint>
#include <limits>

namespace tcpcore {

// The epoch is the clock policy's business (a steady clock's boot time, a
// simulator's zero); tcpcore only subtracts time points.
struct tcp_clock_epoch {};

using duration = std::chrono::microseconds;
using time_point = std::chrono::time_point<tcp_clock_epoch, duration>;

// "No deadline": later than any real time point.
inline constexpr time_point never = time_point::max();

// Literal time points for tests and examples: at(2s) is two seconds after
// the epoch.
template <class Rep, class Period>
[[nodiscard]] constexpr time_point at(std::chrono::duration<Rep, Period> since_epoch) noexcept {
    return time_point{std::chrono::duration_cast<duration>(since_epoch)};
}

using namespace std::chrono_literals;

}  // namespace tcpcore
