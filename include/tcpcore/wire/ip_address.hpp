#pragma once
// Addresses and the 4-tuple that names a connection. IPv4 addresses are held
// as IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) so that
// one 16-byte type serves both families and a 4-tuple has one fixed size.

#include <tcpcore/detail/byte_order.hpp>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpcore {

inline constexpr std::uint8_t ip_protocol_tcp = 6;

enum class ip_family : std::uint8_t { v4 = 4, v6 = 6 };

class ip_address {
public:
    constexpr ip_address() noexcept = default;

    [[nodiscard]] static constexpr ip_address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                                 std::uint8_t d) noexcept {
        ip_address r;
        r.bytes_[10] = 0xff;
        r.bytes_[11] = 0xff;
        r.bytes_[12] = a;
        r.bytes_[13] = b;
        r.bytes_[14] = c;
        r.bytes_[15] = d;
        return r;
    }

    // From the 4 bytes of an IPv4 header field.
    [[nodiscard]] static constexpr ip_address v4(std::span<const std::uint8_t, 4> b) noexcept {
        return v4(b[0], b[1], b[2], b[3]);
    }

    [[nodiscard]] static constexpr ip_address v4(std::uint32_t host_order) noexcept {
        return v4(static_cast<std::uint8_t>(host_order >> 24), static_cast<std::uint8_t>(host_order >> 16),
                  static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order));
    }

    // From the 16 bytes of an IPv6 header field.
    [[nodiscard]] static constexpr ip_address v6(std::span<const std::uint8_t, 16> b) noexcept {
        ip_address r;
        for (std::size_t i = 0; i < 16; ++i) r.bytes_[i] = b[i];
        return r;
    }

    // From eight 16-bit groups, as written in text: v6({0xfd00, 0, ..., 1}).
    [[nodiscard]] static constexpr ip_address v6(const std::array<std::uint16_t, 8>& groups) noexcept {
        ip_address r;
        for (std::size_t i = 0; i < 8; ++i) detail::store_be16(&r.bytes_[2 * i], groups[i]);
        return r;
    }

    [[nodiscard]] constexpr bool is_v4() const noexcept {
        for (std::size_t i = 0; i < 10; ++i)
            if (bytes_[i] != 0) return false;
        return bytes_[10] == 0xff && bytes_[11] == 0xff;
    }
    [[nodiscard]] constexpr ip_family family() const noexcept {
        return is_v4() ? ip_family::v4 : ip_family::v6;
    }

    // All 16 bytes (the mapped form for IPv4).
    [[nodiscard]] constexpr std::span<const std::uint8_t, 16> bytes() const noexcept { return bytes_; }
    // The bytes that go on the wire: 4 for IPv4, 16 for IPv6.
    [[nodiscard]] constexpr std::span<const std::uint8_t> wire_bytes() const noexcept {
        return is_v4() ? std::span<const std::uint8_t>(bytes_).subspan(12)
                       : std::span<const std::uint8_t>(bytes_);
    }
    [[nodiscard]] constexpr std::uint32_t v4_value() const noexcept { return detail::load_be32(&bytes_[12]); }

    friend constexpr bool operator==(const ip_address&, const ip_address&) noexcept = default;
    friend constexpr auto operator<=>(const ip_address&, const ip_address&) noexcept = default;

private:
    std::array<std::uint8_t, 16> bytes_{};
};

struct socket_address {
    ip_address address;
    std::uint16_t port = 0;

    friend constexpr bool operator==(const socket_address&, const socket_address&) noexcept = default;
    friend constexpr auto operator<=>(const socket_address&, const socket_address&) noexcept = default;
};

// A connection's name, seen from this side.
struct four_tuple {
    socket_address local;
    socket_address remote;

    friend constexpr bool operator==(const four_tuple&, const four_tuple&) noexcept = default;
};

// Writes the address in its usual text form ("10.0.0.1", "fd00::1") into
// out and returns the number of characters written (at most 45; out needs
// 46 bytes for the terminating NUL, which is always written).
constexpr std::size_t format_address(const ip_address& a, std::span<char, 46> out) noexcept {
    std::size_t n = 0;
    auto put = [&](char c) { out[n++] = c; };
    auto put_decimal = [&](unsigned v) {
        if (v >= 100) put(static_cast<char>('0' + v / 100));
        if (v >= 10) put(static_cast<char>('0' + v / 10 % 10));
        put(static_cast<char>('0' + v % 10));
    };
    auto put_hex = [&](unsigned v) {
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned d = (v >> shift) & 0xf;
            if (d != 0 || started || shift == 0) {
                put("0123456789abcdef"[d]);
                started = true;
            }
        }
    };
    const auto b = a.bytes();
    if (a.is_v4()) {
        for (std::size_t i = 12; i < 16; ++i) {
            if (i != 12) put('.');
            put_decimal(b[i]);
        }
    } else {
        // RFC 5952: the longest run (>= 2) of zero groups becomes "::".
        unsigned groups[8];
        for (std::size_t i = 0; i < 8; ++i) groups[i] = detail::load_be16(&b[2 * i]);
        int best_start = -1, best_len = 0;
        for (int i = 0; i < 8;) {
            if (groups[i] != 0) { ++i; continue; }
            int j = i;
            while (j < 8 && groups[j] == 0) ++j;
            if (j - i > best_len && j - i >= 2) { best_start = i; best_len = j - i; }
            i = j;
        }
        for (int i = 0; i < 8; ++i) {
            if (i == best_start) {
                put(':');
                put(':');
                i += best_len - 1;
                continue;
            }
            if (i != 0 && i != best_start + best_len) put(':');
            put_hex(groups[i]);
        }
    }
    out[n] = '\0';
    return n;
}

}  // namespace tcpcore
