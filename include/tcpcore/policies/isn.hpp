#pragma once
// Initial sequence numbers (RFC 6528) and per-connection timestamp offsets
// (RFC 7323 §5.4), supplied through the ISN policy so that tests can replace
// the keyed hash with something deterministic and readable.
//
// RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
// with M a 4-microsecond timer. The timer keeps successive incarnations of one
// 4-tuple moving forward (old duplicates stay behind the new window); the keyed
// F puts every 4-tuple at its own unguessable offset, so seeing the ISN of one
// connection tells an off-path attacker nothing about another's.
//
//   tcpcore::rfc6528_isn isn = tcpcore::rfc6528_isn::with_random_key();  // once, at start-up
//   seq32 iss = isn.initial_sequence(tuple, now);                         // per connection

#include <tcpcore/detail/byte_order.hpp>
#include <tcpcore/detail/siphash.hpp>
#include <tcpcore/rules/time.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/seq.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>

namespace tcpcore {

template <class G>
concept isn_policy = requires(const G& generator, const four_tuple& tuple, time_point now) {
    { generator.initial_sequence(tuple, now) } -> std::same_as<seq32>;
    // Added to this connection's TSval clock (RFC 7323 §5.4), so that TSvals
    // reveal neither the host's uptime nor a clock shared across connections.
    { generator.timestamp_offset(tuple) } -> std::same_as<std::uint32_t>;
};

// A 128-bit secret, as SipHash's two key words.
using secret_key = detail::siphash_key;

// A fresh secret from the operating system. Only key set-up calls this; the
// per-segment paths never do.
//
// Reads /dev/urandom through <cstdio> (no exceptions involved); where that is
// unavailable (not a POSIX system, or a chroot without /dev) it falls back to
// std::random_device, which throws only if the platform's random_device does
// (and aborts instead in a build without exceptions).
[[nodiscard]] inline secret_key random_secret_key() {
    std::array<std::uint8_t, 16> bytes{};
    bool filled = false;
    if (std::FILE* source = std::fopen("/dev/urandom", "rb")) {
        // Unbuffered: a buffered read would pull a whole block of entropy for 16 bytes.
        std::setvbuf(source, nullptr, _IONBF, 0);
        filled = std::fread(bytes.data(), 1, bytes.size(), source) == bytes.size();
        std::fclose(source);
    }
    if (!filled) {
        std::random_device device;
        for (std::size_t i = 0; i < bytes.size(); i += 4) detail::store_be32(&bytes[i], device());
    }
    return detail::siphash_key_from_bytes(bytes);
}

namespace detail {

// Subkey purposes: distinct labels keep the hashes independent even when one
// secret is given to both the ISN generator and the SYN cookie jar.
inline constexpr std::uint8_t key_purpose_isn = 1;
inline constexpr std::uint8_t key_purpose_timestamp_offset = 2;
inline constexpr std::uint8_t key_purpose_cookie_whitening = 3;
inline constexpr std::uint8_t key_purpose_cookie_mac = 4;

inline constexpr std::size_t four_tuple_wire_size = 16 + 2 + 16 + 2;

// The hash input for a 4-tuple, in RFC 6528's order (localip, localport,
// remoteip, remoteport). Addresses are the 16 stored bytes, so an IPv4 peer
// and its IPv4-mapped IPv6 form are the same peer, as they are everywhere else.
[[nodiscard]] constexpr std::array<std::uint8_t, four_tuple_wire_size> four_tuple_bytes(
    const four_tuple& tuple) noexcept {
    std::array<std::uint8_t, four_tuple_wire_size> out{};
    const auto local = tuple.local.address.bytes();
    const auto remote = tuple.remote.address.bytes();
    for (std::size_t i = 0; i < 16; ++i) out[i] = local[i];
    store_be16(&out[16], tuple.local.port);
    for (std::size_t i = 0; i < 16; ++i) out[18 + i] = remote[i];
    store_be16(&out[34], tuple.remote.port);
    return out;
}

}  // namespace detail

class rfc6528_isn {
public:
    // Secure by default: a default-constructed generator (an endpoint's
    // `isn_type isn = {}`) draws its secret as with_random_key() does. Not
    // constexpr, and it reads the random source; use the key constructor
    // where either matters.
    rfc6528_isn() : rfc6528_isn(random_secret_key()) {}

    // A fixed secret: deterministic ISNs, for tests and reproducible simulations.
    constexpr explicit rfc6528_isn(const secret_key& secret) noexcept
        : isn_key_(detail::siphash_derive_key(secret, detail::key_purpose_isn)),
          timestamp_key_(detail::siphash_derive_key(secret, detail::key_purpose_timestamp_offset)) {}

    // A secret from random_secret_key(); see there for what may throw.
    [[nodiscard]] static rfc6528_isn with_random_key() { return rfc6528_isn(random_secret_key()); }

    [[nodiscard]] constexpr seq32 initial_sequence(const four_tuple& tuple, time_point now) const noexcept {
        return seq32{four_microsecond_ticks(now) + static_cast<std::uint32_t>(detail::siphash24(
                                                       isn_key_, detail::four_tuple_bytes(tuple)))};
    }

    // Like Linux's secure_tcp_ts_off, the offset depends on the addresses
    // only: every connection between two hosts shares one TSval clock, which
    // is what PAWS-style checks across connections (and TIME-WAIT reuse by
    // timestamp) expect, while different hosts see unrelated clocks.
    [[nodiscard]] constexpr std::uint32_t timestamp_offset(const four_tuple& tuple) const noexcept {
        std::array<std::uint8_t, 32> addresses{};
        const auto local = tuple.local.address.bytes();
        const auto remote = tuple.remote.address.bytes();
        for (std::size_t i = 0; i < 16; ++i) {
            addresses[i] = local[i];
            addresses[16 + i] = remote[i];
        }
        return static_cast<std::uint32_t>(detail::siphash24(timestamp_key_, addresses));
    }

    // M of RFC 6528: one tick per 4 µs, wrapping about every 4.77 hours.
    // Shifting the two's complement count is floor division, so M stays
    // monotonic even for time points before the clock's epoch.
    [[nodiscard]] static constexpr std::uint32_t four_microsecond_ticks(time_point now) noexcept {
        return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.time_since_epoch().count()) >> 2);
    }

private:
    detail::siphash_key isn_key_;
    detail::siphash_key timestamp_key_;
};

// Readable, predictable ISNs for tests: the n-th call (counting from 0)
// returns base + n * stride, whatever the tuple and time; no timestamp offset.
// The counter advances inside a const call (the policy is const-callable), so
// one instance must not be shared between threads.
class sequential_isn {
public:
    // Not explicit, so that `isn_type isn = {}` works with it.
    constexpr sequential_isn() noexcept = default;
    constexpr explicit sequential_isn(seq32 base, std::uint32_t stride = 1000) noexcept
        : base_(base), stride_(stride) {}

    [[nodiscard]] constexpr seq32 initial_sequence(const four_tuple&, time_point) const noexcept {
        return base_ + stride_ * issued_++;
    }
    [[nodiscard]] constexpr std::uint32_t timestamp_offset(const four_tuple&) const noexcept { return 0; }

    [[nodiscard]] constexpr std::uint32_t issued() const noexcept { return issued_; }

private:
    seq32 base_{1000};
    std::uint32_t stride_ = 1000;
    mutable std::uint32_t issued_ = 0;
};

static_assert(isn_policy<rfc6528_isn>);
static_assert(isn_policy<sequential_isn>);

}  // namespace tcpcore
