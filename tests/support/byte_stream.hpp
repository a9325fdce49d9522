#pragma once
// A deterministic byte stream: byte i of stream `seed` is a function of both,
// so a receiver can check what it gets without storing what was sent. The
// loopback, stress and interop tests all send it.

#include <cstdint>
#include <span>

namespace tcpcore::test {

struct byte_stream {
    std::uint64_t seed;
    [[nodiscard]] std::uint8_t at(std::uint64_t i) const noexcept {
        std::uint64_t x = (i >> 3) * 0x9e3779b97f4a7c15ull ^ seed;
        x ^= x >> 31;
        x *= 0xbf58476d1ce4e5b9ull;
        x ^= x >> 29;
        return static_cast<std::uint8_t>(x >> (8 * (i & 7)));
    }
    void fill(std::uint64_t from, std::span<std::uint8_t> out) const noexcept {
        for (std::size_t k = 0; k < out.size(); ++k) out[k] = at(from + k);
    }
};

}  // namespace tcpcore::test
