#pragma once
// Handles: what the application holds instead of pointers into the endpoint.
// An index and a generation, so that a handle to something gone (whose slot
// may already serve something new) is told apart from the new one, and every
// call answers it the same way: std::errc::bad_file_descriptor, as Linux
// answers a closed descriptor with EBADF.

#include <cstdint>
#include <system_error>

namespace tcpcore {

struct connection_handle {
    std::uint32_t index = 0xffffffffu;
    std::uint32_t generation = 0;
    friend constexpr bool operator==(connection_handle, connection_handle) noexcept = default;
};

struct listener_handle {
    std::uint32_t index = 0xffffffffu;
    std::uint32_t generation = 0;
    friend constexpr bool operator==(listener_handle, listener_handle) noexcept = default;
};

// The one answer to a handle that names nothing (any more).
[[nodiscard]] inline std::error_code bad_handle() noexcept {
    return std::make_error_code(std::errc::bad_file_descriptor);
}

}  // namespace tcpcore
