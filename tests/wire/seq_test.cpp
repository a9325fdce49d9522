#include <tcpcore/wire/seq.hpp>

#include "../support/bytes.hpp"

#include <rapidcheck/catch.h>

#include <cstdint>
#include <limits>

using tcpcore::seq32;

// Compile-time facts: wrap-around is ordinary arithmetic.
static_assert(seq32{0xffffffffu} + 1 == seq32{0});
static_assert(seq32{0} - 1 == seq32{0xffffffffu});
static_assert(seq32{0xfffffff0u} < seq32{0x10});
static_assert(seq32{0x10} > seq32{0xfffffff0u});
static_assert(seq32{0x10} - seq32{0xfffffff0u} == 0x20);
static_assert(seq32{0xfffffff0u} - seq32{0x10} == -0x20);
static_assert(tcpcore::seq_distance(seq32{0xfffffffeu}, seq32{2}) == 4);
static_assert(tcpcore::seq_in_window(seq32{1}, seq32{0xffffffffu}, 3));
static_assert(!tcpcore::seq_in_window(seq32{2}, seq32{0xffffffffu}, 3));
static_assert(!tcpcore::seq_in_window(seq32{5}, seq32{5}, 0));

TEST_CASE("seq32: exactly 2^31 apart, each is before the other") {
    // The one point where RFC 1982 leaves the order undefined; the signed
    // interpretation makes both comparisons true, which callers must avoid.
    const seq32 a{0}, b{0x80000000u};
    CHECK(a < b);
    CHECK(b < a);
}

TEST_CASE("seq32: comparison laws hold across the wrap") {
    rc::prop("a + d is after a exactly when 0 < d < 2^31", [](std::uint32_t a, std::int32_t d) {
        RC_PRE(d != std::numeric_limits<std::int32_t>::min());
        const seq32 s{a};
        const seq32 t = s + static_cast<std::uint32_t>(d);
        RC_ASSERT((t > s) == (d > 0));
        RC_ASSERT((t < s) == (d < 0));
        RC_ASSERT((t == s) == (d == 0));
        RC_ASSERT(t - s == d);
    });
    rc::prop("< and > are mirror images, and trichotomy holds away from 2^31", [](std::uint32_t a,
                                                                                 std::uint32_t b) {
        RC_PRE(a - b != 0x80000000u);
        const seq32 x{a}, y{b};
        RC_ASSERT((x < y) == (y > x));
        RC_ASSERT((x <= y) == (y >= x));
        RC_ASSERT(int(x < y) + int(x == y) + int(x > y) == 1);
    });
    rc::prop("transitive inside any span shorter than 2^31", [](std::uint32_t base, std::uint32_t i,
                                                               std::uint32_t j, std::uint32_t k) {
        // Three points inside one half-circle starting anywhere, the wrap
        // point included.
        const std::uint32_t half = 0x7fffffffu;
        const seq32 a{base + i % half}, b{base + j % half}, c{base + k % half};
        if (a < b && b < c) RC_ASSERT(a < c);
        if (a <= b && b <= c) RC_ASSERT(a <= c);
    });
    rc::prop("in_window agrees with the distance from the start", [](std::uint32_t start,
                                                                    std::uint32_t offset,
                                                                    std::uint32_t length) {
        const seq32 s{start}, x{start + offset};
        RC_ASSERT(tcpcore::seq_in_window(x, s, length) == (offset < length));
        RC_ASSERT(tcpcore::seq_distance(s, x) == offset);
        RC_ASSERT(tcpcore::seq_in_range(x, s, s + length) == (offset <= length));
    });
    rc::prop("max and min pick by wrapping order", [](std::uint32_t a, std::int32_t d) {
        RC_PRE(d != std::numeric_limits<std::int32_t>::min());
        const seq32 s{a}, t = s + static_cast<std::uint32_t>(d);
        RC_ASSERT(tcpcore::seq_max(s, t) == (d >= 0 ? t : s));
        RC_ASSERT(tcpcore::seq_min(s, t) == (d >= 0 ? s : t));
    });
}
