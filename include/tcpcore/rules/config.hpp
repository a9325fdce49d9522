#pragma once
// Every setting of docs/behaviour.md as one configuration value, with Linux's defaults
// (two SYN settings excepted: see its §7), and its validation (its §5).
//
//   constexpr tcpcore::config cfg = [] { tcpcore::config c; c.keepalive = true;
//                                        c.keepalive_idle = 2s; return c; }();
//   static_assert(tcpcore::validate(cfg));   // a bad field fails to compile,
//                                            // naming the field's rule
//
// At run time the same validate() returns the field and a message, and code
// that applies a configuration refuses an invalid one without changing anything.

#include <tcpcore/rules/time.hpp>

#include <cstdint>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace tcpcore {

// How the retransmission timeout is formed from SRTT and RTTVAR.
enum class rto_formula : std::uint8_t {
    // Linux: RTO = SRTT + max(4 * RTTVAR, rto_min), capped at rto_max
    // (about 200 ms + SRTT on a fast path).
    linux_style,
    // RFC 6298 (2.3): RTO = max(rto_min, SRTT + max(G, 4 * RTTVAR)), capped.
    rfc6298,
};

struct config {
    // --- Retransmission (docs/behaviour.md §4) ---
    duration rto_initial = std::chrono::seconds{1};       // RFC 6298 (2.1)
    duration rto_min = std::chrono::milliseconds{200};    // Linux TCP_RTO_MIN
    duration rto_max = std::chrono::seconds{120};         // Linux TCP_RTO_MAX
    rto_formula rto_style = rto_formula::linux_style;
    std::uint8_t syn_retries = 5;           // docs/behaviour.md §4.1 (Linux's sysctl default is 6)
    std::uint8_t synack_retries = 5;        // tcp_synack_retries
    std::uint8_t syn_linear_timeouts = 0;   // Linux >= 6.5 tcp_syn_linear_timeouts (default 4 there)
    std::uint8_t retries1 = 3;              // tcp_retries1: report "path may be broken"
    std::uint8_t retries2 = 15;             // tcp_retries2: give up, as a time (924.6 s)
    duration user_timeout = duration::zero();  // TCP_USER_TIMEOUT; zero = off

    // --- Keepalive (docs/behaviour.md §3) ---
    bool keepalive = false;                                   // SO_KEEPALIVE
    duration keepalive_idle = std::chrono::seconds{7200};     // tcp_keepalive_time
    duration keepalive_interval = std::chrono::seconds{75};   // tcp_keepalive_intvl
    std::uint8_t keepalive_probes = 9;                        // tcp_keepalive_probes

    // --- Teardown (docs/behaviour.md §2.4, §2.5, §6.2) ---
    duration msl = std::chrono::seconds{30};         // TIME-WAIT lasts 2 * msl
    duration fin_timeout = std::chrono::seconds{60}; // an orphaned FIN-WAIT-2 waits this long
    bool rfc1337 = false;  // true: a RST does not end TIME-WAIT (Linux tcp_rfc1337 default 0)

    // --- Blind-attack defences (RFC 5961 §7) ---
    std::uint32_t challenge_ack_limit = 1000;  // challenge ACKs per second, per connection

    // --- Data path ---
    std::uint16_t mss = 1460;                  // MSS we announce (MTU 1500 - 40)
    std::uint32_t send_buffer = 256 * 1024;    // bytes
    std::uint32_t receive_buffer = 256 * 1024; // bytes; also the largest window we offer
    // The size the window scale is chosen for, when larger than
    // receive_buffer: Linux picks the scale for the largest buffer a socket
    // may grow to (max(tcp_rmem[2], net.core.rmem_max)), so a socket with a
    // small buffer still announces the scale it could use. 0: receive_buffer.
    std::uint32_t receive_buffer_max = 0;
    // The largest window we offer, when smaller than the buffer (Linux's
    // TCP_WINDOW_CLAMP). 0: no clamp; else at least min_window_clamp.
    std::uint32_t window_clamp = 0;
    bool window_scaling = true;                // RFC 7323
    bool sack = true;                          // RFC 2018
    bool timestamps = true;                    // RFC 7323
    bool nodelay = false;                      // true disables Nagle (TCP_NODELAY)
    bool delayed_ack = true;
    duration delayed_ack_timeout = std::chrono::milliseconds{40};  // Linux's minimum ATO
    // Linux's quick-ACK mode: the first data of a connection, data after a
    // silence longer than the RTO, and data after a hole or a duplicate are
    // ACKed at once, up to 16 ACKs, unless the connection is interactive
    // (it answered data within the delayed-ACK time). false: RFC 1122's
    // plain delayed ACK for every in-order segment.
    bool quick_ack = true;
    std::uint8_t initial_cwnd = 10;            // segments (RFC 6928)

    friend constexpr bool operator==(const config&, const config&) noexcept = default;
};

// The field a validation names.
enum class config_field : std::uint8_t {
    none,
    rto_initial,
    rto_min,
    rto_max,
    syn_retries,
    synack_retries,
    syn_linear_timeouts,
    retries2,
    user_timeout,
    keepalive_idle,
    keepalive_interval,
    keepalive_probes,
    msl,
    fin_timeout,
    challenge_ack_limit,
    mss,
    send_buffer,
    receive_buffer,
    receive_buffer_max,
    window_clamp,
    delayed_ack_timeout,
    initial_cwnd,
};

[[nodiscard]] constexpr std::string_view to_string(config_field f) noexcept {
    switch (f) {
        case config_field::none: return "none";
        case config_field::rto_initial: return "rto_initial";
        case config_field::rto_min: return "rto_min";
        case config_field::rto_max: return "rto_max";
        case config_field::syn_retries: return "syn_retries";
        case config_field::synack_retries: return "synack_retries";
        case config_field::syn_linear_timeouts: return "syn_linear_timeouts";
        case config_field::retries2: return "retries2";
        case config_field::user_timeout: return "user_timeout";
        case config_field::keepalive_idle: return "keepalive_idle";
        case config_field::keepalive_interval: return "keepalive_interval";
        case config_field::keepalive_probes: return "keepalive_probes";
        case config_field::msl: return "msl";
        case config_field::fin_timeout: return "fin_timeout";
        case config_field::challenge_ack_limit: return "challenge_ack_limit";
        case config_field::mss: return "mss";
        case config_field::send_buffer: return "send_buffer";
        case config_field::receive_buffer: return "receive_buffer";
        case config_field::receive_buffer_max: return "receive_buffer_max";
        case config_field::window_clamp: return "window_clamp";
        case config_field::delayed_ack_timeout: return "delayed_ack_timeout";
        case config_field::initial_cwnd: return "initial_cwnd";
    }
    return "?";
}

// The result of validation: true when the configuration is sound; otherwise
// the field at fault and why.
struct config_check {
    config_field field = config_field::none;
    std::string_view message = {};

    [[nodiscard]] constexpr bool ok() const noexcept { return field == config_field::none; }
    constexpr explicit operator bool() const noexcept { return ok(); }
    // The error users of std::error_code expect for a bad argument.
    [[nodiscard]] std::error_code error() const noexcept {
        return ok() ? std::error_code{} : std::make_error_code(std::errc::invalid_argument);
    }
};

// Linux's limits for the per-socket options (include/net/tcp.h).
inline constexpr std::uint8_t max_syn_retries = 127;          // MAX_TCP_SYNCNT
inline constexpr std::uint8_t max_keepalive_probes = 127;     // MAX_TCP_KEEPCNT
inline constexpr std::uint32_t min_window_clamp = 1152;  // Linux: SOCK_MIN_RCVBUF / 2
inline constexpr duration max_keepalive_time = std::chrono::seconds{32767};  // MAX_TCP_KEEPIDLE / KEEPINTVL
inline constexpr std::uint16_t min_mss = 88;                  // TCP_MIN_MSS
inline constexpr std::uint32_t max_window_bytes = 1u << 30;   // 65535 << 14, rounded

// Each rule that validation checks, as a function whose name states it. They
// are not constexpr: when validate() runs in a constant expression
// (static_assert) and a rule fails, the compiler stops at the call and prints
// the name, e.g. "call to non-constexpr function
// 'tcpcore::config_rule::keepalive_interval_must_be_whole_seconds_from_1_to_32767()'".
namespace config_rule {
inline void rto_initial_must_be_positive_and_at_most_rto_max() {}
inline void rto_min_must_be_positive() {}
inline void rto_min_must_not_exceed_rto_max() {}
inline void syn_retries_must_be_1_to_127() {}
inline void synack_retries_must_be_1_to_127() {}
inline void syn_linear_timeouts_must_be_at_most_127() {}
inline void retries2_must_be_at_least_1() {}
inline void user_timeout_must_be_zero_or_at_least_1ms() {}
inline void keepalive_idle_must_be_whole_seconds_from_1_to_32767() {}
inline void keepalive_interval_must_be_whole_seconds_from_1_to_32767() {}
inline void keepalive_probes_must_be_1_to_127() {}
inline void msl_must_be_positive() {}
inline void fin_timeout_must_be_positive() {}
inline void challenge_ack_limit_must_be_1_to_65535() {}
inline void mss_must_be_at_least_88() {}
inline void send_buffer_must_be_positive() {}
inline void receive_buffer_must_hold_a_segment_and_fit_a_scaled_window() {}
inline void receive_buffer_max_must_be_zero_or_at_most_1_GiB() {}
inline void window_clamp_must_be_zero_or_1152_to_1_GiB() {}
inline void delayed_ack_timeout_must_be_positive_and_below_500ms() {}
inline void initial_cwnd_must_be_at_least_1() {}
}  // namespace config_rule

namespace detail {
constexpr config_check config_fails(config_field field, std::string_view message, void (*rule)()) noexcept {
    if (std::is_constant_evaluated()) rule();  // see config_rule
    return {field, message};
}
}  // namespace detail

// Checks every field; the first broken rule is reported.
[[nodiscard]] constexpr config_check validate(const config& c) noexcept {
    using detail::config_fails;
    if (c.rto_min <= duration::zero())
        return config_fails(config_field::rto_min, "rto_min must be positive", config_rule::rto_min_must_be_positive);
    if (c.rto_min > c.rto_max)
        return config_fails(config_field::rto_min, "rto_min must not exceed rto_max",
                            config_rule::rto_min_must_not_exceed_rto_max);
    if (c.rto_initial <= duration::zero() || c.rto_initial > c.rto_max)
        return config_fails(config_field::rto_initial, "rto_initial must be positive and at most rto_max",
                            config_rule::rto_initial_must_be_positive_and_at_most_rto_max);
    if (c.syn_retries < 1 || c.syn_retries > max_syn_retries)
        return config_fails(config_field::syn_retries, "syn_retries must be 1 to 127",
                            config_rule::syn_retries_must_be_1_to_127);
    if (c.synack_retries < 1 || c.synack_retries > max_syn_retries)
        return config_fails(config_field::synack_retries, "synack_retries must be 1 to 127",
                            config_rule::synack_retries_must_be_1_to_127);
    if (c.syn_linear_timeouts > max_syn_retries)
        return config_fails(config_field::syn_linear_timeouts, "syn_linear_timeouts must be at most 127",
                            config_rule::syn_linear_timeouts_must_be_at_most_127);
    if (c.retries2 < 1)
        return config_fails(config_field::retries2, "retries2 must be at least 1",
                            config_rule::retries2_must_be_at_least_1);
    // The engine keeps the user timeout in whole milliseconds (as Linux's
    // TCP_USER_TIMEOUT is given): a positive value below 1 ms would read back
    // as zero and silently turn the feature off.
    if (c.user_timeout < duration::zero() ||
        (c.user_timeout > duration::zero() && c.user_timeout < std::chrono::milliseconds{1}))
        return config_fails(config_field::user_timeout, "user_timeout must be zero (off) or at least 1 ms",
                            config_rule::user_timeout_must_be_zero_or_at_least_1ms);
    // The keepalive knobs are checked whether or not keepalive is on: they
    // can be switched on later, per connection, with these values.
    // Whole seconds, as Linux's TCP_KEEPIDLE and TCP_KEEPINTVL take them.
    if (c.keepalive_idle <= duration::zero() || c.keepalive_idle > max_keepalive_time ||
        c.keepalive_idle % std::chrono::seconds{1} != duration::zero())
        return config_fails(config_field::keepalive_idle,
                            "keepalive_idle must be whole seconds, at least 1 and at most 32767",
                            config_rule::keepalive_idle_must_be_whole_seconds_from_1_to_32767);
    if (c.keepalive_interval <= duration::zero() || c.keepalive_interval > max_keepalive_time ||
        c.keepalive_interval % std::chrono::seconds{1} != duration::zero())
        return config_fails(config_field::keepalive_interval,
                            "keepalive_interval must be whole seconds, at least 1 and at most 32767",
                            config_rule::keepalive_interval_must_be_whole_seconds_from_1_to_32767);
    if (c.keepalive_probes < 1 || c.keepalive_probes > max_keepalive_probes)
        return config_fails(config_field::keepalive_probes, "keepalive_probes must be 1 to 127",
                            config_rule::keepalive_probes_must_be_1_to_127);
    if (c.msl <= duration::zero())
        return config_fails(config_field::msl, "msl must be positive", config_rule::msl_must_be_positive);
    if (c.fin_timeout <= duration::zero())
        return config_fails(config_field::fin_timeout, "fin_timeout must be positive",
                            config_rule::fin_timeout_must_be_positive);
    // Counted per second in 16 bits per connection: a larger limit would wrap
    // the count and never bite.
    if (c.challenge_ack_limit < 1 || c.challenge_ack_limit > 65535)
        return config_fails(config_field::challenge_ack_limit, "challenge_ack_limit must be 1 to 65535",
                            config_rule::challenge_ack_limit_must_be_1_to_65535);
    if (c.mss < min_mss)
        return config_fails(config_field::mss, "mss must be at least 88", config_rule::mss_must_be_at_least_88);
    if (c.send_buffer < 1)
        return config_fails(config_field::send_buffer, "send_buffer must be positive",
                            config_rule::send_buffer_must_be_positive);
    if (c.receive_buffer < c.mss || c.receive_buffer > max_window_bytes)
        return config_fails(config_field::receive_buffer, "receive_buffer must hold one MSS and be at most 1 GiB",
                            config_rule::receive_buffer_must_hold_a_segment_and_fit_a_scaled_window);
    if (c.receive_buffer_max > max_window_bytes)
        return config_fails(config_field::receive_buffer_max, "receive_buffer_max must be at most 1 GiB",
                            config_rule::receive_buffer_max_must_be_zero_or_at_most_1_GiB);
    if (c.window_clamp != 0 && (c.window_clamp < min_window_clamp || c.window_clamp > max_window_bytes))
        return config_fails(config_field::window_clamp, "window_clamp must be 0 (none) or 1152 bytes to 1 GiB",
                            config_rule::window_clamp_must_be_zero_or_1152_to_1_GiB);
    if (c.delayed_ack_timeout <= duration::zero() || c.delayed_ack_timeout >= std::chrono::milliseconds{500})
        return config_fails(config_field::delayed_ack_timeout,
                            "delayed_ack_timeout must be positive and below 500 ms (RFC 1122 4.2.3.2)",
                            config_rule::delayed_ack_timeout_must_be_positive_and_below_500ms);
    if (c.initial_cwnd < 1)
        return config_fails(config_field::initial_cwnd, "initial_cwnd must be at least 1",
                            config_rule::initial_cwnd_must_be_at_least_1);
    return {};
}

static_assert(validate(config{}), "the defaults are valid");

// The buffer size our window scale is chosen for (see receive_buffer_max).
[[nodiscard]] constexpr std::uint32_t window_scale_basis(const config& c) noexcept {
    return c.receive_buffer_max > c.receive_buffer ? c.receive_buffer_max : c.receive_buffer;
}

}  // namespace tcpcore
