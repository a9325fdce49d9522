#pragma once
// 32-bit TCP sequence numbers. They wrap, so "before" and "after" are defined
// modulo 2^32 (RFC 1982 serial-number arithmetic, RFC 9293 §3.4): a is before
// b when the signed 32-bit distance b - a is positive. Two numbers exactly 2^31
// apart are each "before" the other; TCP's windows (at most 2^30 with window
// scaling) keep real comparisons far from that point.

#include <cstdint>

namespace tcpcore {

class seq32 {
public:
    constexpr seq32() noexcept = default;
    constexpr explicit seq32(std::uint32_t raw) noexcept : raw_(raw) {}

    [[nodiscard]] constexpr std::uint32_t raw() const noexcept { return raw_; }

    friend constexpr seq32 operator+(seq32 s, std::uint32_t n) noexcept { return seq32{s.raw_ + n}; }
    friend constexpr seq32 operator-(seq32 s, std::uint32_t n) noexcept { return seq32{s.raw_ - n}; }
    constexpr seq32& operator+=(std::uint32_t n) noexcept { raw_ += n; return *this; }
    constexpr seq32& operator-=(std::uint32_t n) noexcept { raw_ -= n; return *this; }

    // Signed distance from b to a: positive when a is after b.
    friend constexpr std::int32_t operator-(seq32 a, seq32 b) noexcept {
        return static_cast<std::int32_t>(a.raw_ - b.raw_);
    }

    friend constexpr bool operator==(seq32 a, seq32 b) noexcept = default;
    // No operator<=>: wrapping comparison is not a total order, and a
    // three-way comparison would invite sorting by it.
    friend constexpr bool operator<(seq32 a, seq32 b) noexcept { return (a - b) < 0; }
    friend constexpr bool operator>(seq32 a, seq32 b) noexcept { return (b - a) < 0; }
    friend constexpr bool operator<=(seq32 a, seq32 b) noexcept { return !(a > b); }
    friend constexpr bool operator>=(seq32 a, seq32 b) noexcept { return !(a < b); }

private:
    std::uint32_t raw_ = 0;
};

// Unsigned forward distance from `from` to `to` (how many sequence numbers
// lie in [from, to)), modulo 2^32.
[[nodiscard]] constexpr std::uint32_t seq_distance(seq32 from, seq32 to) noexcept {
    return to.raw() - from.raw();
}

// x lies in [start, start + length). An empty window holds nothing.
[[nodiscard]] constexpr bool seq_in_window(seq32 x, seq32 start, std::uint32_t length) noexcept {
    return seq_distance(start, x) < length;
}

// x lies in [low, high] (both ends included), walking forward from low.
[[nodiscard]] constexpr bool seq_in_range(seq32 x, seq32 low, seq32 high) noexcept {
    return seq_distance(low, x) <= seq_distance(low, high);
}

[[nodiscard]] constexpr seq32 seq_max(seq32 a, seq32 b) noexcept { return a < b ? b : a; }
[[nodiscard]] constexpr seq32 seq_min(seq32 a, seq32 b) noexcept { return a < b ? a : b; }

}  // namespace tcpcore
