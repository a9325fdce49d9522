#pragma once
// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012):
// a keyed 64-bit pseudorandom function for short messages. It is what RFC 6528
// asks of F (a PRF keyed by a secret, cheap enough for every SYN) and what the
// SYN cookies' MACs need; Linux uses it for both for the same reasons.
//
// Written from the paper's description and usable in constant expressions, so
// tests can check the published vectors at compile time.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpcore::detail {

// The 128-bit key as the paper's k0 and k1: the key's bytes 0..7 and 8..15,
// each read little-endian.
using siphash_key = std::array<std::uint64_t, 2>;

[[nodiscard]] constexpr std::uint64_t load_le64(const std::uint8_t* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

[[nodiscard]] constexpr siphash_key siphash_key_from_bytes(std::span<const std::uint8_t, 16> bytes) noexcept {
    return {load_le64(bytes.data()), load_le64(bytes.data() + 8)};
}

class siphash24_state {
public:
    constexpr explicit siphash24_state(const siphash_key& key) noexcept
        : v0_(key[0] ^ 0x736f6d6570736575u),  // "somepseudorandomlygeneratedbytes"
          v1_(key[1] ^ 0x646f72616e646f6du),
          v2_(key[0] ^ 0x6c7967656e657261u),
          v3_(key[1] ^ 0x7465646279746573u) {}

    constexpr void compress(std::uint64_t word) noexcept {
        v3_ ^= word;
        sip_round();
        sip_round();
        v0_ ^= word;
    }

    [[nodiscard]] constexpr std::uint64_t finish() noexcept {
        v2_ ^= 0xff;
        for (int i = 0; i < 4; ++i) sip_round();
        return v0_ ^ v1_ ^ v2_ ^ v3_;
    }

private:
    constexpr void sip_round() noexcept {
        v0_ += v1_;
        v1_ = std::rotl(v1_, 13);
        v1_ ^= v0_;
        v0_ = std::rotl(v0_, 32);
        v2_ += v3_;
        v3_ = std::rotl(v3_, 16);
        v3_ ^= v2_;
        v0_ += v3_;
        v3_ = std::rotl(v3_, 21);
        v3_ ^= v0_;
        v2_ += v1_;
        v1_ = std::rotl(v1_, 17);
        v1_ ^= v2_;
        v2_ = std::rotl(v2_, 32);
    }

    std::uint64_t v0_, v1_, v2_, v3_;
};

[[nodiscard]] constexpr std::uint64_t siphash24(const siphash_key& key,
                                                std::span<const std::uint8_t> message) noexcept {
    siphash24_state state(key);
    const std::size_t whole_words = message.size() / 8;
    for (std::size_t w = 0; w < whole_words; ++w) state.compress(load_le64(message.data() + 8 * w));
    // The last word carries the leftover bytes and, in its top byte, the
    // length mod 256, so messages that differ only in trailing zeros differ.
    std::uint64_t last = static_cast<std::uint64_t>(message.size() & 0xff) << 56;
    const std::size_t tail = message.size() % 8;
    for (std::size_t i = 0; i < tail; ++i)
        last |= static_cast<std::uint64_t>(message[8 * whole_words + i]) << (8 * i);
    state.compress(last);
    return state.finish();
}

// An independent subkey for one purpose. One user secret then serves several
// hashes (ISN, timestamp offset, cookie whitening, cookie MAC) without any two
// of them being computable from another's outputs: each subkey is a PRF output
// under the secret, and the secret itself is never used for anything else.
[[nodiscard]] constexpr siphash_key siphash_derive_key(const siphash_key& secret, std::uint8_t purpose) noexcept {
    const std::array<std::uint8_t, 2> first{purpose, 0};
    const std::array<std::uint8_t, 2> second{purpose, 1};
    return {siphash24(secret, first), siphash24(secret, second)};
}

}  // namespace tcpcore::detail
