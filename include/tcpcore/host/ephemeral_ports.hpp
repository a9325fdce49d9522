#pragma once
// Ephemeral ports for connect() without a local port, by RFC 6056 Algorithm
// 3: each (local address, remote socket) pair starts at its own keyed offset
// in the range, so a peer cannot predict the next port from the last one it
// saw, and a shared counter then walks on, so that reusing a pair soon after
// does not pick the same port again.

#include <tcpcore/host/options.hpp>

#include <cstdint>
#include <optional>

namespace tcpcore {

class ephemeral_ports {
public:
    // The first free port of options' range, starting at `keyed_offset` (a
    // secret function of the addresses) plus the counter; nothing when
    // every port is taken or the range is empty.
    template <class IsFree>
    std::optional<std::uint16_t> pick(const endpoint_options& options, std::uint32_t keyed_offset, IsFree&& is_free) {
        const std::uint32_t first = options.ephemeral_first, last = options.ephemeral_last;
        if (first == 0 || last < first) return std::nullopt;
        const std::uint32_t range = last - first + 1;
        for (std::uint32_t k = 0; k < range; ++k) {
            const auto port = static_cast<std::uint16_t>(first + (keyed_offset + next_ + k) % range);
            if (is_free(port)) {
                next_ += k + 1;
                return port;
            }
        }
        return std::nullopt;
    }

private:
    std::uint32_t next_ = 0;
};

}  // namespace tcpcore
