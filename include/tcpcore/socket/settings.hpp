#pragma once
// One socket's options, and their getsockopt/setsockopt encoding with
// Linux's names, value sizes, ranges and errors. What the options do is
// the socket layer's business (socket_layer.hpp); this header only knows
// what may be stored and how Linux reads and reports each value:
//   - an int option with optlen < sizeof(int) is EINVAL, longer is fine;
//   - getsockopt copies min(optlen, size) bytes and reports that length;
//   - an unknown option is ENOPROTOOPT;
//   - a value out of range is Linux's error, and nothing changes.

#include <tcpcore/detail/expected.hpp>
#include <tcpcore/host/options.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/time.hpp>
#include <tcpcore/socket/constants.hpp>
#include <tcpcore/wire/ip_address.hpp>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <system_error>

namespace tcpcore {

// The socket layer's host-wide settings, as Linux's sysctls.
struct socket_layer_options {
    int somaxconn = sock::default_somaxconn;   // net.core.somaxconn: listen()'s backlog cap
    int wmem_max = sock::default_wmem_max;     // net.core.wmem_max: SO_SNDBUF's cap
    int rmem_max = sock::default_rmem_max;     // net.core.rmem_max: SO_RCVBUF's cap
    std::uint32_t notsent_lowat = 0xffffffffu; // net.ipv4.tcp_notsent_lowat
    std::uint32_t max_sockets = 1024;          // descriptors (sockets and epoll sets); beyond: EMFILE
    // The interface's addresses: what connect() sends from when a socket is
    // not bound to one (unset: ENETUNREACH), and what bind() accepts besides
    // the wildcard (unset: any).
    ip_address source_v4 = ip_address::v4(0, 0, 0, 0);
    ip_address source_v6{};
    // What listen() gives a listener besides its backlog (SYN backlog and
    // SYN cookies: net.ipv4.tcp_max_syn_backlog, tcp_syncookies).
    listen_options listen_defaults{};
};

// struct linger and struct timeval as Linux lays them out (64-bit).
struct linux_linger {
    std::int32_t l_onoff;
    std::int32_t l_linger;
};
struct linux_timeval {
    std::int64_t tv_sec;
    std::int64_t tv_usec;
};

// What setsockopt may change on one socket. Engine settings that also live
// in the connection (keepalive, timers, Nagle) are kept here too, so a
// socket carries them from before connect() (or from its listener) into
// its connection.
struct socket_settings {
    bool reuseaddr = false;
    bool reuseport = false;
    bool keepalive = false;
    bool nodelay = false;
    bool cork = false;  // TCP_CORK
    std::uint32_t window_clamp = 0;  // TCP_WINDOW_CLAMP; 0: none
    bool inq = false;
    bool linger = false;
    std::uint32_t linger_seconds = 0;
    int sndbuf = 0;   // 0: the configuration's; else what SO_SNDBUF made it (doubled, clamped)
    int rcvbuf = 0;
    int rcvlowat = 1;
    std::uint32_t notsent_lowat = 0;             // 0: the layer's (sysctl), as in Linux
    std::uint16_t user_mss = 0;                  // TCP_MAXSEG; 0: none
    std::optional<duration> keepidle, keepintvl, user_timeout, linger2;
    std::optional<std::uint8_t> keepcnt, syncnt;
    std::optional<duration> rcvtimeo, sndtimeo;  // none: wait forever
};

namespace detail {

// Reads an int option value as Linux does.
[[nodiscard]] inline expected<int, std::error_code> option_int(std::span<const std::byte> v) noexcept {
    if (v.size() < sizeof(int)) return unexpected{std::make_error_code(std::errc::invalid_argument)};
    int x;
    std::memcpy(&x, v.data(), sizeof x);
    return x;
}

// Writes a getsockopt answer: min(room, size) bytes; the length written.
template <class T>
[[nodiscard]] std::size_t option_out(std::span<std::byte> out, const T& value) noexcept {
    const std::size_t n = std::min(out.size(), sizeof(T));
    std::memcpy(out.data(), &value, n);
    return n;
}

[[nodiscard]] inline std::error_code no_option() noexcept {
    return std::make_error_code(std::errc::no_protocol_option);
}
[[nodiscard]] inline std::error_code bad_value() noexcept {
    return std::make_error_code(std::errc::invalid_argument);
}

// Linux's SO_SNDBUF / SO_RCVBUF rule: the request, read as unsigned and
// capped by the sysctl, is doubled (for bookkeeping overhead) with a floor.
[[nodiscard]] inline int doubled_buffer(int requested, int cap, int floor) noexcept {
    const std::uint32_t v = std::min<std::uint32_t>(static_cast<std::uint32_t>(requested),
                                                    static_cast<std::uint32_t>(cap));
    const std::uint32_t halved_max = INT_MAX / 2;
    return std::max<int>(static_cast<int>(std::min(v, halved_max) * 2), floor);
}

// SO_RCVTIMEO / SO_SNDTIMEO: {0,0} waits forever; a negative time does not wait.
[[nodiscard]] inline expected<std::optional<duration>, std::error_code> option_timeout(
    std::span<const std::byte> v) noexcept {
    if (v.size() < sizeof(linux_timeval)) return unexpected{bad_value()};
    linux_timeval tv;
    std::memcpy(&tv, v.data(), sizeof tv);
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return unexpected{std::make_error_code(std::errc::argument_out_of_domain)};
    if (tv.tv_sec < 0) return std::optional<duration>{duration::zero()};
    if (tv.tv_sec == 0 && tv.tv_usec == 0) return std::optional<duration>{};
    // Linux takes a time too long for its clock as "forever" (and reads it
    // back as {0, 0}); here, one that microseconds in 64 bits cannot hold.
    constexpr std::int64_t longest_seconds = std::numeric_limits<std::int64_t>::max() / 1'000'000 - 1;
    if (tv.tv_sec >= longest_seconds) return std::optional<duration>{};
    return std::optional<duration>{std::chrono::seconds{tv.tv_sec} + std::chrono::microseconds{tv.tv_usec}};
}

[[nodiscard]] inline linux_timeval timeval_of(const std::optional<duration>& d) noexcept {
    if (!d) return {0, 0};
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(*d).count();
    return {us / 1000000, us % 1000000};
}

}  // namespace detail
}  // namespace tcpcore
