#pragma once
// What the application chooses for an endpoint and its listeners, and the
// checked configuration an endpoint is built from.
//
// An endpoint cannot report an error from its constructor (the core builds
// without exceptions, and the endpoint is neither copyable nor movable, so
// there is no factory returning expected<endpoint>). So the check happens
// before it: only tcpcore::check() makes a checked_config, and the endpoint
// takes nothing else. An invalid configuration therefore never reaches an
// endpoint, in any build mode, and the application learns the field and the
// reason where it can handle them:
//
//   const auto checked = tcpcore::check(cfg);   // expected<checked_config, config_check>
//   if (!checked) return log(to_string(checked.error().field), checked.error().message);
//   tcpcore::endpoint<my_policies> ep(*checked, {.io = my_io{...}});

#include <tcpcore/detail/expected.hpp>
#include <tcpcore/rules/config.hpp>

#include <cstdint>
#include <optional>

namespace tcpcore {

enum class syn_cookie_mode : std::uint8_t {
    off,                // a SYN beyond the backlog is dropped
    when_backlog_full,  // the default: cookies only under pressure (Linux tcp_syncookies = 1)
    always,             // no state for any SYN (Linux tcp_syncookies = 2)
};

struct endpoint_options {
    std::uint16_t ephemeral_first = 32768;  // Linux ip_local_port_range
    std::uint16_t ephemeral_last = 60999;
    std::uint32_t max_time_wait = 262144;   // Linux tcp_max_tw_buckets: beyond it, TIME-WAIT is skipped
    std::uint64_t hash_seed = 0;            // demultiplexing hash seed; 0 picks one from the ISN policy
};

// A configuration that validate() passed. It refers to the configuration
// rather than copying it: the endpoint's connections share that one object,
// so it must outlive the endpoint and must not change while the endpoint
// uses it (per-connection changes go through endpoint::configure).
class checked_config {
public:
    // The defaults (Linux's), which validate() passes. (Being default-
    // constructible is also what expected's C++20 stand-in asks of a value.)
    constexpr checked_config() noexcept = default;

    [[nodiscard]] constexpr const config& get() const noexcept { return *cfg_; }
    constexpr const config& operator*() const noexcept { return *cfg_; }
    constexpr const config* operator->() const noexcept { return cfg_; }

private:
    constexpr explicit checked_config(const config& cfg) noexcept : cfg_(&cfg) {}
    friend constexpr expected<checked_config, config_check> check(const config& cfg) noexcept;

    static constexpr config defaults_{};
    const config* cfg_ = &defaults_;
};
static_assert(validate(config{}), "the defaults are a valid configuration");

// The way to a checked_config for one's own configuration: it, or the field
// at fault and why (validate()'s answer).
[[nodiscard]] constexpr expected<checked_config, config_check> check(const config& cfg) noexcept {
    if (const config_check c = validate(cfg); !c) return unexpected{c};
    return checked_config{cfg};
}
// A temporary would be gone before the endpoint's first use of it.
expected<checked_config, config_check> check(const config&& cfg) = delete;

struct listen_options {
    std::uint32_t backlog = 128;      // established connections waiting for accept() (Linux somaxconn)
    std::uint32_t syn_backlog = 256;  // connections in SYN-RECEIVED (Linux tcp_max_syn_backlog)
    syn_cookie_mode syn_cookies = syn_cookie_mode::when_backlog_full;
    // The configuration of the connections this listener makes (a socket
    // layer's per-socket buffer sizes and MSS clamp); none: the endpoint's.
    std::optional<checked_config> connection_config{};
};

}  // namespace tcpcore
