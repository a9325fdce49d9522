#pragma once
// The Internet checksum (RFC 1071): the ones' complement of the ones'
// complement sum of 16-bit big-endian words, with RFC 1624 incremental update.
//
// Speed: the ones' complement sum does not care about byte order (RFC 1071
// §2(B)), so the kernels add native-order 32-bit words into 64-bit lanes and
// fix the byte order once at the end. On x86-64 the baseline kernel uses SSE2
// (always present there); an AVX2 kernel is used when the compiler targets
// AVX2 or the CPU reports it at run time. Elsewhere a portable kernel adds
// 8 bytes per step. No kernel has a per-byte loop.

#include <tcpcore/detail/assert.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TCPCORE_CHECKSUM_X86 1
#include <immintrin.h>
#endif

namespace tcpcore {

namespace detail {

constexpr std::uint16_t byteswap16(std::uint16_t v) noexcept {
    return static_cast<std::uint16_t>((v >> 8) | (v << 8));
}

// Folds a 64-bit ones' complement accumulator to 16 bits with end-around
// carries. The result is 0 only when every added word was 0.
constexpr std::uint16_t fold_to_16(std::uint64_t sum) noexcept {
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

// Ones' complement addition of two 64-bit partial sums.
constexpr std::uint64_t add_with_carry(std::uint64_t a, std::uint64_t b) noexcept {
    const std::uint64_t s = a + b;
    return s + (s < b ? 1u : 0u);
}

// The 16-bit word that the bytes {hi, lo} form in native order.
constexpr std::uint16_t native_word(std::uint8_t first, std::uint8_t second) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        return static_cast<std::uint16_t>(first | (second << 8));
    } else {
        return static_cast<std::uint16_t>((first << 8) | second);
    }
}

// Used in constant evaluation, where memcpy and intrinsics are unavailable.
constexpr std::uint64_t sum_native_constexpr(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t sum = 0;
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) sum += native_word(p[i], p[i + 1]);
    if (i < n) sum += native_word(p[i], 0);
    return sum;
}

inline std::uint64_t load_native64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Sum of the last n < 8 bytes: zero-padded to 8 bytes, an odd final byte
// lands in the first byte of its 16-bit word, as RFC 1071 pads it.
inline std::uint64_t sum_tail(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    if (n != 0) std::memcpy(&v, p, n);  // p may be null when n is 0
    return (v & 0xffffffffu) + (v >> 32);
}

// 8 bytes per step, four independent lanes so the adds pipeline.
inline std::uint64_t sum_native_portable(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t a = 0, b = 0, c = 0, d = 0;
    for (; n >= 16; p += 16, n -= 16) {
        const std::uint64_t w0 = load_native64(p);
        const std::uint64_t w1 = load_native64(p + 8);
        a += w0 & 0xffffffffu;
        b += w0 >> 32;
        c += w1 & 0xffffffffu;
        d += w1 >> 32;
    }
    if (n >= 8) {
        const std::uint64_t w = load_native64(p);
        a += w & 0xffffffffu;
        b += w >> 32;
        p += 8;
        n -= 8;
    }
    return a + b + c + d + sum_tail(p, n);
}

// Copies while summing: one pass over the bytes instead of two.
inline std::uint64_t copy_sum_native_portable(std::uint8_t* dst, const std::uint8_t* src,
                                              std::size_t n) noexcept {
    std::uint64_t a = 0, b = 0, c = 0, d = 0;
    for (; n >= 16; src += 16, dst += 16, n -= 16) {
        const std::uint64_t w0 = load_native64(src);
        const std::uint64_t w1 = load_native64(src + 8);
        std::memcpy(dst, &w0, 8);
        std::memcpy(dst + 8, &w1, 8);
        a += w0 & 0xffffffffu;
        b += w0 >> 32;
        c += w1 & 0xffffffffu;
        d += w1 >> 32;
    }
    if (n != 0) std::memcpy(dst, src, n);  // either may be null when n is 0
    return a + b + c + d + sum_native_portable(src, n);
}

#if TCPCORE_CHECKSUM_X86
// Each 16-byte vector is split into its 32-bit words, widened to 64-bit lanes
// by interleaving with zero, and added: 2^32 vectors before a lane can
// overflow, far beyond any packet.
inline std::uint64_t sum_native_sse2(const std::uint8_t* p, std::size_t n) noexcept {
    const __m128i zero = _mm_setzero_si128();
    __m128i a = zero, b = zero, c = zero, d = zero;
    for (; n >= 32; p += 32, n -= 32) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
        a = _mm_add_epi64(a, _mm_unpacklo_epi32(v, zero));
        b = _mm_add_epi64(b, _mm_unpackhi_epi32(v, zero));
        c = _mm_add_epi64(c, _mm_unpacklo_epi32(w, zero));
        d = _mm_add_epi64(d, _mm_unpackhi_epi32(w, zero));
    }
    a = _mm_add_epi64(_mm_add_epi64(a, b), _mm_add_epi64(c, d));
    std::uint64_t lanes[2];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lanes), a);
    return lanes[0] + lanes[1] + sum_native_portable(p, n);
}

inline std::uint64_t copy_sum_native_sse2(std::uint8_t* dst, const std::uint8_t* src,
                                          std::size_t n) noexcept {
    const __m128i zero = _mm_setzero_si128();
    __m128i a = zero, b = zero, c = zero, d = zero;
    for (; n >= 32; src += 32, dst += 32, n -= 32) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
        const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 16));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), v);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), w);
        a = _mm_add_epi64(a, _mm_unpacklo_epi32(v, zero));
        b = _mm_add_epi64(b, _mm_unpackhi_epi32(v, zero));
        c = _mm_add_epi64(c, _mm_unpacklo_epi32(w, zero));
        d = _mm_add_epi64(d, _mm_unpackhi_epi32(w, zero));
    }
    a = _mm_add_epi64(_mm_add_epi64(a, b), _mm_add_epi64(c, d));
    std::uint64_t lanes[2];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(lanes), a);
    return lanes[0] + lanes[1] + copy_sum_native_portable(dst, src, n);
}

__attribute__((target("avx2"))) inline std::uint64_t sum_native_avx2(const std::uint8_t* p,
                                                                     std::size_t n) noexcept {
    const __m256i zero = _mm256_setzero_si256();
    __m256i a = zero, b = zero;
    for (; n >= 64; p += 64, n -= 64) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
        a = _mm256_add_epi64(a, _mm256_unpacklo_epi32(v, zero));
        b = _mm256_add_epi64(b, _mm256_unpackhi_epi32(v, zero));
        a = _mm256_add_epi64(a, _mm256_unpacklo_epi32(w, zero));
        b = _mm256_add_epi64(b, _mm256_unpackhi_epi32(w, zero));
    }
    a = _mm256_add_epi64(a, b);
    std::uint64_t lanes[4];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), a);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + sum_native_sse2(p, n);
}

__attribute__((target("avx2"))) inline std::uint64_t copy_sum_native_avx2(
    std::uint8_t* dst, const std::uint8_t* src, std::size_t n) noexcept {
    const __m256i zero = _mm256_setzero_si256();
    __m256i a = zero, b = zero;
    for (; n >= 64; src += 64, dst += 64, n -= 64) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 32));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), v);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 32), w);
        a = _mm256_add_epi64(a, _mm256_unpacklo_epi32(v, zero));
        b = _mm256_add_epi64(b, _mm256_unpackhi_epi32(v, zero));
        a = _mm256_add_epi64(a, _mm256_unpacklo_epi32(w, zero));
        b = _mm256_add_epi64(b, _mm256_unpackhi_epi32(w, zero));
    }
    a = _mm256_add_epi64(a, b);
    std::uint64_t lanes[4];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lanes), a);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + copy_sum_native_sse2(dst, src, n);
}

inline bool cpu_has_avx2() noexcept {
#if defined(__AVX2__)
    return true;
#else
    // Asked once; the answer cannot change while the process runs.
    static const bool has = __builtin_cpu_supports("avx2");
    return has;
#endif
}
#endif  // TCPCORE_CHECKSUM_X86

// Below this size the vector set-up costs more than it saves.
inline constexpr std::size_t vector_threshold = 64;

inline std::uint64_t sum_native(const std::uint8_t* p, std::size_t n) noexcept {
#if TCPCORE_CHECKSUM_X86
    if (n >= vector_threshold) return cpu_has_avx2() ? sum_native_avx2(p, n) : sum_native_sse2(p, n);
#endif
    return sum_native_portable(p, n);
}

inline std::uint64_t copy_sum_native(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) noexcept {
#if TCPCORE_CHECKSUM_X86
    if (n >= vector_threshold)
        return cpu_has_avx2() ? copy_sum_native_avx2(dst, src, n) : copy_sum_native_sse2(dst, src, n);
#endif
    return copy_sum_native_portable(dst, src, n);
}

}  // namespace detail

// Accumulates the Internet checksum over any number of byte ranges and
// header fields, in the order they appear on the wire. Ranges of odd length
// are handled: the next range continues at the odd byte position.
class internet_checksum {
public:
    constexpr internet_checksum() noexcept = default;

    constexpr internet_checksum& add(std::span<const std::uint8_t> bytes) noexcept {
        std::uint64_t s;
        if (std::is_constant_evaluated()) {
            s = detail::sum_native_constexpr(bytes.data(), bytes.size());
        } else {
            s = detail::sum_native(bytes.data(), bytes.size());
        }
        add_native(s, bytes.size());
        return *this;
    }

    // Copies src to dst (which must not overlap and must hold src.size()
    // bytes) and adds the bytes, in one pass.
    internet_checksum& add_copy(std::uint8_t* dst, std::span<const std::uint8_t> src) noexcept {
        add_native(detail::copy_sum_native(dst, src.data(), src.size()), src.size());
        return *this;
    }

    // Adds a 16-bit field as its two big-endian bytes would be added.
    constexpr internet_checksum& add_u16(std::uint16_t value) noexcept {
        const std::uint8_t bytes[2] = {static_cast<std::uint8_t>(value >> 8),
                                       static_cast<std::uint8_t>(value)};
        return add_small(bytes, 2);
    }

    // Adds a 32-bit field as its four big-endian bytes would be added.
    constexpr internet_checksum& add_u32(std::uint32_t value) noexcept {
        const std::uint8_t bytes[4] = {
            static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
            static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
        return add_small(bytes, 4);
    }

    // Merges a sum computed separately over bytes that follow these ones.
    constexpr internet_checksum& add(const internet_checksum& later) noexcept {
        std::uint64_t s = detail::fold_to_16(later.native_);
        if (odd_) s = detail::byteswap16(static_cast<std::uint16_t>(s));
        native_ = detail::add_with_carry(native_, s);
        odd_ = odd_ != later.odd_;
        return *this;
    }

    // The ones' complement sum as a big-endian 16-bit value.
    [[nodiscard]] constexpr std::uint16_t sum() const noexcept {
        const std::uint16_t folded = detail::fold_to_16(native_);
        if constexpr (std::endian::native == std::endian::little) return detail::byteswap16(folded);
        return folded;
    }

    // The value to write into a checksum field (big-endian). Summing data that
    // already holds its correct checksum gives a sum of 0xffff.
    [[nodiscard]] constexpr std::uint16_t value() const noexcept {
        return static_cast<std::uint16_t>(~sum());
    }

    [[nodiscard]] constexpr bool verifies() const noexcept { return sum() == 0xffff; }

private:
    constexpr internet_checksum& add_small(const std::uint8_t* bytes, std::size_t n) noexcept {
        add_native(detail::sum_native_constexpr(bytes, n), n);
        return *this;
    }

    constexpr void add_native(std::uint64_t s, std::size_t length) noexcept {
        if (odd_) {
            // These bytes start at an odd position: each of their words
            // straddles a word boundary of the whole, which swaps their bytes.
            s = detail::byteswap16(detail::fold_to_16(s));
        }
        native_ = detail::add_with_carry(native_, s);
        if (length & 1u) odd_ = !odd_;
    }

    std::uint64_t native_ = 0;
    bool odd_ = false;
};

// The checksum of one contiguous range.
[[nodiscard]] constexpr std::uint16_t checksum_of(std::span<const std::uint8_t> bytes) noexcept {
    return internet_checksum{}.add(bytes).value();
}

// RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data
// changed from old_word to new_word, HC' = ~(~HC + ~m + m').
[[nodiscard]] constexpr std::uint16_t checksum_update(std::uint16_t checksum, std::uint16_t old_word,
                                                      std::uint16_t new_word) noexcept {
    std::uint32_t sum = static_cast<std::uint16_t>(~checksum);
    sum += static_cast<std::uint16_t>(~old_word);
    sum += new_word;
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

// The same for a 32-bit field (an address, a sequence number), word by word.
[[nodiscard]] constexpr std::uint16_t checksum_update32(std::uint16_t checksum, std::uint32_t old_value,
                                                        std::uint32_t new_value) noexcept {
    checksum = checksum_update(checksum, static_cast<std::uint16_t>(old_value >> 16),
                               static_cast<std::uint16_t>(new_value >> 16));
    return checksum_update(checksum, static_cast<std::uint16_t>(old_value),
                           static_cast<std::uint16_t>(new_value));
}

}  // namespace tcpcore
