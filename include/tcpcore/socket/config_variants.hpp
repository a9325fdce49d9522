#pragma once
// Per-socket settings that the engine reads from a configuration: buffer
// sizes, the MSS clamp, the orphaned FIN-WAIT-2 time. Linux keeps them per
// socket; an engine connection keeps one pointer to a shared configuration
// (it costs nothing per connection). So the socket layer keeps the few
// distinct configurations its sockets ask for, each checked once and shared
// by every socket that asks for the same values, and hands the endpoint the
// one a connection or listener should use.

#include <tcpcore/detail/expected.hpp>
#include <tcpcore/host/options.hpp>
#include <tcpcore/rules/config.hpp>

#include <array>
#include <cstdint>
#include <system_error>

namespace tcpcore::detail {

class config_variants {
public:
    // Distinct configurations alive at once. Sockets usually share a handful
    // (the defaults, a listener's, a bulk socket's larger buffers).
    static constexpr std::uint8_t capacity = 32;
    static constexpr std::uint8_t none = 0xff;

    // Slot 0 always holds the layer's base configuration.
    explicit config_variants(const config& base) noexcept {
        slots_[0] = base;
        users_[0] = 1;  // never released
    }
    config_variants(const config_variants&) = delete;
    config_variants& operator=(const config_variants&) = delete;

    [[nodiscard]] const config& base() const noexcept { return slots_[0]; }
    [[nodiscard]] const config& operator[](std::uint8_t i) const noexcept { return slots_[i]; }

    // The slot holding `c` (shared when an equal one is alive), counted as
    // one more user. EINVAL when `c` fails validation, ENOBUFS when every
    // slot holds a different configuration.
    [[nodiscard]] expected<std::uint8_t, std::error_code> acquire(const config& c) noexcept {
        if (!validate(c)) return unexpected{std::make_error_code(std::errc::invalid_argument)};
        std::uint8_t free_slot = none;
        for (std::uint8_t i = 0; i < capacity; ++i) {
            if (users_[i] != 0 && slots_[i] == c) {
                ++users_[i];
                return i;
            }
            if (users_[i] == 0 && free_slot == none) free_slot = i;
        }
        if (free_slot == none) return unexpected{std::make_error_code(std::errc::no_buffer_space)};
        slots_[free_slot] = c;
        users_[free_slot] = 1;
        return free_slot;
    }

    // The slot of a configuration handed out before (a connection's), or none.
    [[nodiscard]] std::uint8_t index_of(const config& c) const noexcept {
        for (std::uint8_t i = 0; i < capacity; ++i)
            if (&slots_[i] == &c) return i;
        return none;
    }
    // One more user of a slot in use.
    void retain(std::uint8_t i) noexcept {
        if (i < capacity && users_[i] != 0) ++users_[i];
    }

    void release(std::uint8_t i) noexcept {
        if (i != 0 && i < capacity && users_[i] != 0) --users_[i];
    }

    // For the endpoint, which takes only checked configurations.
    [[nodiscard]] checked_config checked(std::uint8_t i) const noexcept { return *check(slots_[i]); }

private:
    std::array<config, capacity> slots_{};
    std::array<std::uint32_t, capacity> users_{};
};

}  // namespace tcpcore::detail
