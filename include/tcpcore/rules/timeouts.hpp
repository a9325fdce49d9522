#pragma once
// The timeout rules of docs/behaviour.md §2-§4 as constexpr functions: the engine
// computes every deadline with these, and the static_asserts below pin the
// figures that page quotes.

#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/time.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace tcpcore {

namespace detail {
constexpr duration min_duration(duration a, duration b) noexcept { return a < b ? a : b; }
constexpr duration max_duration(duration a, duration b) noexcept { return a < b ? b : a; }
}  // namespace detail

// ---------------------------------------------------------------------------
// SYN retransmission (docs/behaviour.md §4.1): the k-th wait (k = 1 is the wait after
// the first transmission) is the initial RTO for the first linear + 1 waits,
// then doubles, capped at rto_max. Linux (tcp_retransmit_timer): with
// tcp_syn_linear_timeouts = L, the backoff is not applied while
// icsk_retransmits <= L.

[[nodiscard]] constexpr duration syn_wait(unsigned k, duration initial, unsigned linear, duration rto_max) noexcept {
    if (k <= linear + 1) return detail::min_duration(initial, rto_max);
    duration d = initial;
    for (unsigned i = linear + 1; i < k && d < rto_max; ++i) d *= 2;
    return detail::min_duration(d, rto_max);
}

// When the n-th retransmission of the SYN goes out (n = 1 is the first),
// measured from the original SYN.
[[nodiscard]] constexpr duration syn_retransmission_time(unsigned n, duration initial, unsigned linear,
                                                         duration rto_max) noexcept {
    duration t = duration::zero();
    for (unsigned k = 1; k <= n; ++k) t += syn_wait(k, initial, linear, rto_max);
    return t;
}

// When connect() fails: one wait after the last of retries + linear
// retransmissions (Linux counts linear timeouts on top of syn_retries).
[[nodiscard]] constexpr duration syn_give_up_time(unsigned retries, duration initial, unsigned linear,
                                                  duration rto_max) noexcept {
    return syn_retransmission_time(retries + linear + 1, initial, linear, rto_max);
}

[[nodiscard]] constexpr unsigned syn_retransmission_count(unsigned retries, unsigned linear) noexcept {
    return retries + linear;
}

// ---------------------------------------------------------------------------
// RTO (docs/behaviour.md §4.2, RFC 6298 with Linux's combination).

[[nodiscard]] constexpr duration compute_rto(duration srtt, duration rttvar, rto_formula style, duration rto_min,
                                             duration rto_max) noexcept {
    duration rto;
    if (style == rto_formula::linux_style) {
        rto = srtt + detail::max_duration(4 * rttvar, rto_min);
    } else {
        // G, the clock granularity, is a microsecond here.
        rto = detail::max_duration(rto_min, srtt + detail::max_duration(duration{1}, 4 * rttvar));
    }
    return detail::min_duration(rto, rto_max);
}

// RFC 6298 (2.2): the first measurement R gives SRTT = R, RTTVAR = R / 2.
[[nodiscard]] constexpr duration rto_after_first_sample(duration r, rto_formula style, duration rto_min,
                                                        duration rto_max) noexcept {
    return compute_rto(r, r / 2, style, rto_min, rto_max);
}

// RFC 6298 (5.5): each expiry doubles the RTO, up to rto_max.
[[nodiscard]] constexpr duration backed_off_rto(duration rto, duration rto_max) noexcept {
    return rto >= rto_max / 2 ? rto_max : rto * 2;
}

// ---------------------------------------------------------------------------
// Giving up on data (docs/behaviour.md §4.4). T(b): how long the doubling retransmissions
// that start at rto_min take to use up b retries, counting the rto_max cap
// (Linux tcp_model_timeout). The connection is aborted at the first expiry at
// which T(retries2) has passed since the first retransmission.

[[nodiscard]] constexpr duration retries_give_up_time(unsigned b, duration rto_min, duration rto_max) noexcept {
    // k: the number of doublings before rto_min reaches rto_max (9 for
    // 200 ms and 120 s, as log2(600) rounds down to 9).
    unsigned k = 0;
    while ((rto_min * (std::int64_t{1} << (k + 1))) <= rto_max) ++k;
    if (b <= k) return rto_min * ((std::int64_t{1} << (b + 1)) - 1);
    return rto_min * ((std::int64_t{1} << (k + 1)) - 1) + rto_max * static_cast<std::int64_t>(b - k);
}

// TCP_USER_TIMEOUT (docs/behaviour.md §4.5): the next RTO, clamped so that the timer fires
// no later than user_timeout after the first retransmission. Zero user
// timeout means off. A deadline already passed fires at once.
[[nodiscard]] constexpr duration clamp_rto_to_user_timeout(duration rto, duration since_first_retransmission,
                                                           duration user_timeout) noexcept {
    if (user_timeout <= duration::zero()) return rto;
    const duration remaining = user_timeout - since_first_retransmission;
    if (remaining <= duration::zero()) return duration::zero();
    return detail::min_duration(rto, remaining);
}

// Whether an expiry at `since_first_retransmission` ends the connection:
// by the user timeout when it is set, else by T(retries2).
[[nodiscard]] constexpr bool retransmission_gives_up(duration since_first_retransmission, duration user_timeout,
                                                     unsigned retries2, duration rto_min, duration rto_max) noexcept {
    if (user_timeout > duration::zero()) return since_first_retransmission >= user_timeout;
    return since_first_retransmission >= retries_give_up_time(retries2, rto_min, rto_max);
}

// The whole retransmission schedule of one unacknowledged segment sent at 0
// with the given RTO and no answer: when each retransmission goes out and
// when the connection gives up. For pinning the examples of docs/behaviour.md §4 and for tests.
struct retransmission_schedule {
    std::array<duration, 64> retransmissions{};
    std::size_t count = 0;
    duration give_up{};
};

[[nodiscard]] constexpr retransmission_schedule data_retransmission_schedule(duration rto, const config& c) noexcept {
    retransmission_schedule s;
    duration now = duration::zero();
    duration first{};
    bool retransmitted = false;
    for (;;) {
        now += rto;  // the timer expires
        if (retransmitted &&
            retransmission_gives_up(now - first, c.user_timeout, c.retries2, c.rto_min, c.rto_max)) {
            s.give_up = now;
            return s;
        }
        if (!retransmitted) {
            first = now;
            retransmitted = true;
        }
        if (s.count == s.retransmissions.size()) {
            s.give_up = now;
            return s;
        }
        s.retransmissions[s.count++] = now;
        rto = clamp_rto_to_user_timeout(backed_off_rto(rto, c.rto_max), now - first, c.user_timeout);
    }
}

// ---------------------------------------------------------------------------
// Keepalive (docs/behaviour.md §3, Linux tcp_keepalive_timer). Probes go out at
// idle, idle + interval, ...; without a user timeout the connection is
// aborted one interval after the last of `probes` unanswered probes; with
// one, at the first timer run at least user_timeout after the last segment
// received with at least one probe unanswered.

[[nodiscard]] constexpr duration keepalive_probe_time(unsigned n, duration idle, duration interval) noexcept {
    return idle + interval * static_cast<std::int64_t>(n - 1);  // n = 1 is the first probe
}

[[nodiscard]] constexpr duration keepalive_give_up_time(duration idle, duration interval, unsigned probes,
                                                        duration user_timeout) noexcept {
    if (user_timeout <= duration::zero()) return idle + interval * static_cast<std::int64_t>(probes);
    std::int64_t n = 1;
    while (idle + interval * n < user_timeout) ++n;
    return idle + interval * n;
}

// ---------------------------------------------------------------------------
// TIME-WAIT (docs/behaviour.md §2.5).
[[nodiscard]] constexpr duration time_wait_duration(duration msl) noexcept { return 2 * msl; }

// ---------------------------------------------------------------------------
// The figures of docs/behaviour.md §2.5, §3 and §4, pinned.
namespace detail {
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr bool syn_schedule_is(unsigned retries, unsigned linear, std::initializer_list<int> times_s, int fail_s) {
    unsigned n = 1;
    for (int t : times_s) {
        if (syn_retransmission_time(n, seconds{1}, linear, seconds{120}) != seconds{t}) return false;
        ++n;
    }
    return n - 1 == syn_retransmission_count(retries, linear) &&
           syn_give_up_time(retries, seconds{1}, linear, seconds{120}) == seconds{fail_s};
}

constexpr bool schedule_is(const retransmission_schedule& s, std::initializer_list<int> times_ms, int give_up_ms) {
    if (s.count != times_ms.size()) return false;
    std::size_t i = 0;
    for (int t : times_ms)
        if (s.retransmissions[i++] != milliseconds{t}) return false;
    return s.give_up == milliseconds{give_up_ms};
}

constexpr config with_retries2(unsigned b) {
    config c;
    c.retries2 = static_cast<std::uint8_t>(b);
    return c;
}
constexpr config with_user_timeout(duration t) {
    config c;
    c.user_timeout = t;
    return c;
}
}  // namespace detail

static_assert(detail::syn_schedule_is(5, 0, {1, 3, 7, 15, 31}, 63),
              "SYN: retransmissions at 1, 3, 7, 15, 31 s, failure at 63 s");
static_assert(detail::syn_schedule_is(5, 4, {1, 2, 3, 4, 5, 7, 11, 19, 35}, 67),
              "SYN with 4 linear timeouts: 1, 2, 3, 4, 5, 7, 11, 19, 35 s, failure at 67 s");
static_assert(retries_give_up_time(15, std::chrono::milliseconds{200}, std::chrono::seconds{120}) ==
                  std::chrono::milliseconds{924600},
              "T(15) = 924.6 s");
static_assert(retries_give_up_time(4, std::chrono::milliseconds{200}, std::chrono::seconds{120}) ==
                  std::chrono::milliseconds{6200},
              "T(4) = 6.2 s");
static_assert(rto_after_first_sample(std::chrono::milliseconds{10}, rto_formula::linux_style,
                                     std::chrono::milliseconds{200}, std::chrono::seconds{120}) ==
                  std::chrono::milliseconds{210},
              "a 10 ms RTT gives an RTO of 210 ms (Linux)");
static_assert(rto_after_first_sample(std::chrono::milliseconds{10}, rto_formula::rfc6298,
                                     std::chrono::seconds{1}, std::chrono::seconds{60}) ==
                  std::chrono::seconds{1},
              "RFC 6298 with its 1 s minimum");
static_assert(detail::schedule_is(data_retransmission_schedule(std::chrono::milliseconds{210}, detail::with_retries2(4)),
                                  {210, 630, 1470, 3150}, 6510),
              "retries2 4, RTO 210 ms: retransmissions at 0.21, 0.63, 1.47, 3.15 s, abort at 6.51 s");
static_assert(detail::schedule_is(data_retransmission_schedule(std::chrono::milliseconds{210},
                                                               detail::with_user_timeout(std::chrono::seconds{3})),
                                  {210, 630, 1470, 3150}, 3210),
              "user timeout 3 s, RTO 210 ms: the same four, the last RTO clamped, abort at 3.21 s");
static_assert(keepalive_give_up_time(std::chrono::seconds{2}, std::chrono::seconds{1}, 3, duration::zero()) ==
                  std::chrono::seconds{5},
              "keepalive 2/1/3: probes at 2, 3, 4 s, abort at 5 s");
static_assert(keepalive_give_up_time(std::chrono::seconds{7200}, std::chrono::seconds{75}, 9, duration::zero()) ==
                  std::chrono::seconds{7875},
              "keepalive defaults: 7200 + 9 x 75 = 7875 s");
static_assert(keepalive_give_up_time(std::chrono::seconds{2}, std::chrono::seconds{1}, 3,
                                     std::chrono::milliseconds{3500}) == std::chrono::seconds{4},
              "with a user timeout the probe count no longer matters: the first run past it aborts");
static_assert(clamp_rto_to_user_timeout(std::chrono::milliseconds{3360}, std::chrono::milliseconds{2940},
                                        std::chrono::seconds{3}) == std::chrono::milliseconds{60},
              "user timeout clamps the last RTO to 0.06 s");
static_assert(time_wait_duration(config{}.msl) == std::chrono::seconds{60}, "TIME-WAIT = 2 x MSL = 60 s");

}  // namespace tcpcore
