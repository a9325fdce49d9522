#pragma once
// A deterministic byte stream: byte i of stream `seed` is a function of both,
// so a receiver can check what it gets without storing what was sent, at any
// length. The loopback, the stress tests and interop all send it.

#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpcore::testing {

struct byte_stream {
    std::uint64_t seed;
    [[nodiscard]] constexpr std::uint8_t at(std::uint64_t i) const noexcept {
        std::uint64_t x = (i >> 3) * 0x9e3779b97f4a7c15ull ^ seed;
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 29;
        return static_cast<std::uint8_t>(x >> (8 * (i & 7)));
    }
    constexpr void fill(std::uint64_t from, std::span<std::uint8_t> out) const noexcept {
        for (std::size_t k = 0; k < out.size(); ++k) out[k] = at(from + k);
    }
    // The offset, from `from` on, of the first byte of `got` that is not the
    // stream's; got.size() when all are.
    [[nodiscard]] constexpr std::size_t mismatch(std::uint64_t from, std::span<const std::uint8_t> got) const noexcept {
        for (std::size_t k = 0; k < got.size(); ++k)
            if (got[k] != at(from + k)) return k;
        return got.size();
    }
};

}  // namespace tcpcore::testing
