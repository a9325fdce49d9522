#include <tcpcore/wire/checksum.hpp>
#include <tcpcore/detail/byte_order.hpp>

#include "../support/bytes.hpp"
#include "../support/linux_captures.hpp"

#include <rapidcheck/catch.h>

#include <cstdint>
#include <vector>

using tcpcore::internet_checksum;
namespace detail = tcpcore::detail;

namespace {
// RFC 1071 §3's worked example.
constexpr std::uint8_t rfc1071_example[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

// The textbook definition, one big-endian word at a time: the oracle the
// fast kernels are compared with.
std::uint16_t reference_sum(std::span<const std::uint8_t> b) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < b.size(); i += 2) {
        const std::uint32_t word = (std::uint32_t{b[i]} << 8) | (i + 1 < b.size() ? b[i + 1] : 0u);
        sum += word;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}
}  // namespace

static_assert(internet_checksum{}.add(rfc1071_example).sum() == 0xddf2);
static_assert(tcpcore::checksum_of(rfc1071_example) == 0x220d);

TEST_CASE("checksum: RFC 1071 example gives sum ddf2 and checksum 220d") {
    CHECK(internet_checksum{}.add(rfc1071_example).sum() == 0xddf2);
    CHECK(tcpcore::checksum_of(rfc1071_example) == 0x220d);
    // Word order does not matter (RFC 1071 §2(A)), byte order within the
    // words is fixed by the final swap (§2(B)).
    const std::uint8_t reordered[] = {0xf4, 0xf5, 0xf6, 0xf7, 0x00, 0x01, 0xf2, 0x03};
    CHECK(tcpcore::checksum_of(reordered) == 0x220d);
}

TEST_CASE("checksum: an odd final byte is padded with zero on the right") {
    const std::uint8_t one[] = {0x01};
    CHECK(internet_checksum{}.add(one).sum() == 0x0100);
    const std::uint8_t three[] = {0x12, 0x34, 0x56};
    CHECK(internet_checksum{}.add(three).sum() == 0x1234 + 0x5600);
}

TEST_CASE("checksum: the sum of nothing is zero and all-zero data never folds to ffff") {
    CHECK(internet_checksum{}.sum() == 0);
    std::vector<std::uint8_t> zeros(4096, 0);
    CHECK(internet_checksum{}.add(zeros).sum() == 0);
    CHECK(internet_checksum{}.add(zeros).value() == 0xffff);
}

TEST_CASE("checksum: RFC 1624 example updates to 0000, not ffff") {
    // RFC 1624 §4: other octets sum to 0xCD7A, m = 0x5555 becomes 0x3285.
    CHECK(tcpcore::checksum_update(0xdd2f, 0x5555, 0x3285) == 0x0000);
}

TEST_CASE("checksum: Linux's SYN checksums verify (IPv4 header and TCP)") {
    const auto packet = tcpcore::test::from_hex(tcpcore::test::linux_syn_ipv4);
    const auto ip = std::span(packet).first(20);
    const auto tcp = std::span(packet).subspan(20);
    CHECK(internet_checksum{}.add(ip).verifies());
    internet_checksum sum;
    sum.add(ip.subspan(12, 8)).add_u16(6).add_u16(static_cast<std::uint16_t>(tcp.size())).add(tcp);
    CHECK(sum.verifies());
    // Recompute from scratch with the field zeroed: Linux wrote df73.
    auto copy = packet;
    copy[20 + 16] = copy[20 + 17] = 0;
    internet_checksum fresh;
    fresh.add(ip.subspan(12, 8)).add_u16(6).add_u16(static_cast<std::uint16_t>(tcp.size()));
    fresh.add(std::span(copy).subspan(20));
    CHECK(fresh.value() == 0xdf73);
}

TEST_CASE("checksum: every kernel agrees with the textbook definition") {
    rc::prop("at any length and alignment", [](const std::vector<std::uint8_t>& data, std::uint8_t misalign) {
        // Copy to an offset so that loads are misaligned in every way.
        const std::size_t off = misalign % 16;
        std::vector<std::uint8_t> buf(off + data.size() + 1);
        std::copy(data.begin(), data.end(), buf.begin() + static_cast<std::ptrdiff_t>(off));
        const std::span<const std::uint8_t> s(buf.data() + off, data.size());
        const std::uint16_t expected = reference_sum(s);
        RC_ASSERT(internet_checksum{}.add(s).sum() == expected);
        const auto fold = [](std::uint64_t native) {
            const auto f = detail::fold_to_16(native);
            return std::endian::native == std::endian::little ? detail::byteswap16(f) : f;
        };
        RC_ASSERT(fold(detail::sum_native_constexpr(s.data(), s.size())) == expected);
        RC_ASSERT(fold(detail::sum_native_portable(s.data(), s.size())) == expected);
#if TCPCORE_CHECKSUM_X86
        RC_ASSERT(fold(detail::sum_native_sse2(s.data(), s.size())) == expected);
        if (detail::cpu_has_avx2()) RC_ASSERT(fold(detail::sum_native_avx2(s.data(), s.size())) == expected);
#endif
    });
}

TEST_CASE("checksum: long inputs exercise the vector loops") {
    // rapidcheck's vectors stay short; these lengths cross every loop and
    // tail boundary of the SSE2 (32 B) and AVX2 (64 B) kernels.
    std::vector<std::uint8_t> data(70000);
    std::uint32_t x = 12345;
    for (auto& b : data) {
        x = x * 1103515245u + 12345u;
        b = static_cast<std::uint8_t>(x >> 16);
    }
    for (std::size_t n : {63u, 64u, 65u, 95u, 96u, 127u, 128u, 1460u, 1461u, 9000u, 65535u, 70000u}) {
        for (std::size_t off : {0u, 1u, 3u, 7u}) {
            const std::span<const std::uint8_t> s(data.data() + off, n - off);
            INFO("n=" << n << " offset=" << off);
            CHECK(internet_checksum{}.add(s).sum() == reference_sum(s));
        }
    }
}

TEST_CASE("checksum: split into pieces at any points, the sum is the same") {
    rc::prop("odd and even split points", [](const std::vector<std::uint8_t>& data,
                                             const std::vector<std::uint16_t>& cuts) {
        internet_checksum pieces;
        std::size_t pos = 0;
        for (auto c : cuts) {
            const std::size_t len = data.empty() ? 0 : c % (data.size() - pos + 1);
            pieces.add(std::span(data).subspan(pos, len));
            pos += len;
        }
        pieces.add(std::span(data).subspan(pos));
        RC_ASSERT(pieces.sum() == reference_sum(data));
    });
    rc::prop("a separately computed later part merges", [](const std::vector<std::uint8_t>& a,
                                                           const std::vector<std::uint8_t>& b) {
        internet_checksum first, second;
        first.add(a);
        second.add(b);
        first.add(second);
        std::vector<std::uint8_t> all(a);
        all.insert(all.end(), b.begin(), b.end());
        RC_ASSERT(first.sum() == reference_sum(all));
    });
    rc::prop("16- and 32-bit fields add like their big-endian bytes", [](std::uint16_t w, std::uint32_t d,
                                                                        bool odd_start) {
        std::vector<std::uint8_t> bytes;
        if (odd_start) bytes.push_back(0x5a);
        internet_checksum fields;
        if (odd_start) fields.add(std::span(bytes));
        fields.add_u16(w).add_u32(d);
        bytes.push_back(static_cast<std::uint8_t>(w >> 8));
        bytes.push_back(static_cast<std::uint8_t>(w));
        for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(d >> shift));
        RC_ASSERT(fields.sum() == reference_sum(bytes));
    });
}

TEST_CASE("checksum: copy-and-sum copies exactly and sums the same") {
    rc::prop("any length", [](const std::vector<std::uint8_t>& data, std::uint8_t misalign) {
        const std::size_t off = misalign % 8;
        std::vector<std::uint8_t> dst(data.size() + off + 8, 0xee);
        internet_checksum sum;
        sum.add_copy(dst.data() + off, data);
        RC_ASSERT(std::equal(data.begin(), data.end(), dst.begin() + static_cast<std::ptrdiff_t>(off)));
        // Nothing written outside the destination range.
        for (std::size_t i = 0; i < off; ++i) RC_ASSERT(dst[i] == 0xee);
        for (std::size_t i = off + data.size(); i < dst.size(); ++i) RC_ASSERT(dst[i] == 0xee);
        RC_ASSERT(sum.sum() == reference_sum(data));
    });
    std::vector<std::uint8_t> big(5000), out(5000);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 31 + 7);
    for (std::size_t n : {64u, 100u, 1460u, 4999u}) {
        internet_checksum sum;
        sum.add_copy(out.data(), std::span(big).first(n));
        CHECK(std::equal(big.begin(), big.begin() + static_cast<std::ptrdiff_t>(n), out.begin()));
        CHECK(sum.sum() == reference_sum(std::span(big).first(n)));
    }
}

TEST_CASE("checksum: RFC 1624 incremental update equals full recomputation") {
    rc::prop("one 16-bit word changes", [](std::vector<std::uint8_t> data, std::size_t where,
                                          std::uint16_t new_word) {
        RC_PRE(data.size() >= 2);
        if (data.size() % 2) data.push_back(0);
        const std::size_t at = (where % (data.size() / 2)) * 2;
        const std::uint16_t before = tcpcore::checksum_of(data);
        const std::uint16_t old_word = detail::load_be16(&data[at]);
        detail::store_be16(&data[at], new_word);
        const std::uint16_t after = tcpcore::checksum_of(data);
        const std::uint16_t updated = tcpcore::checksum_update(before, old_word, new_word);
        // Eqn. 3 and recomputation may give the two spellings of ones'
        // complement zero (0000 and ffff); they are the same number.
        RC_ASSERT(static_cast<std::uint16_t>(~updated) % 0xffff == static_cast<std::uint16_t>(~after) % 0xffff);
    });
    rc::prop("a 32-bit field changes", [](std::vector<std::uint8_t> data, std::size_t where,
                                         std::uint32_t new_value) {
        RC_PRE(data.size() >= 4);
        while (data.size() % 4) data.push_back(0);
        const std::size_t at = (where % (data.size() / 4)) * 4;
        const std::uint16_t before = tcpcore::checksum_of(data);
        const std::uint32_t old_value = detail::load_be32(&data[at]);
        detail::store_be32(&data[at], new_value);
        const std::uint16_t after = tcpcore::checksum_of(data);
        const std::uint16_t updated = tcpcore::checksum_update32(before, old_value, new_value);
        RC_ASSERT(static_cast<std::uint16_t>(~updated) % 0xffff == static_cast<std::uint16_t>(~after) % 0xffff);
    });
}
