#pragma once
// SYN cookies (RFC 4987 §3.6): under a SYN flood a listener can answer a SYN
// without keeping any state, by making its ISS carry what it would have kept.
// The handshake's final ACK returns the ISS (SEG.ACK - 1); if the cookie checks
// out, the connection is created then.
//
// As in Linux, the cookie holds a coarse minute counter (8 bits, at the top)
// and an index into a small MSS table, and is bound to the 4-tuple and the
// client's ISN by two keyed hashes: one that ignores time and one that covers
// the counter. Unlike Linux, the counter and MSS index are covered by the MAC
// itself (Linux adds its data outside the hash and only checks that it lands
// in range) and by a parity bit, so no single-bit change to a cookie is ever
// accepted, and the full minute count is hashed, so a cookie does not come
// back to life when the 8-bit counter wraps after 256 minutes.
//
// Layout before whitening (bit 31 first):
//   31..24  minute counter mod 256
//   23..22  MSS table index
//   21      parity of bits 31..22
//   20..0   MAC: low 21 bits of SipHash(mac key; tuple, client ISN, full minute
//           count, MSS index)
// ISS = that value XOR the low 32 bits of SipHash(whitening key; tuple, client
// ISN). XOR (rather than Linux's addition) keeps a one-bit change to the ISS a
// one-bit change to exactly one field, which is what makes single-bit changes
// always detectable.
//
// A SYN-ACK sent from a cookie carries no state, so window scaling and SACK
// would be lost; when the client uses timestamps they travel in the low bits
// of our TSval (encode_tsval) and come back in its TSecr (decode_tsecr).

#include <tcpcore/detail/byte_order.hpp>
#include <tcpcore/detail/siphash.hpp>
#include <tcpcore/policies/isn.hpp>
#include <tcpcore/rules/time.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/seq.hpp>

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace tcpcore {

// Linux's IPv4 table: the MSS values seen most often, so that rounding the
// client's MSS down to an entry costs little.
inline constexpr std::array<std::uint16_t, 4> syn_cookie_mss_table{536, 1300, 1440, 1460};

// Cookies made in this minute or the one before are accepted (Linux's
// MAX_SYNCOOKIE_AGE): a cookie lives at least 60 s and never more than 120 s.
inline constexpr std::uint32_t syn_cookie_max_age_minutes = 2;

// The TCP options a cookie's SYN-ACK agreed to, as recovered from TSecr.
struct syn_cookie_ts_options {
    std::optional<std::uint8_t> wscale;  // the client's window scale; none if it sent no option
    bool sack = false;                   // the client sent SACK-permitted

    friend constexpr bool operator==(const syn_cookie_ts_options&, const syn_cookie_ts_options&) noexcept = default;
};

class syn_cookie_jar {
public:
    // Secure by default: a default-constructed jar (an endpoint's
    // `syn_cookie_jar cookies = {}`) draws its secret as with_random_key()
    // does, because a jar with a well-known secret would accept forged
    // cookies. Not constexpr, and it reads the random source; use the key
    // constructor where either matters.
    syn_cookie_jar() : syn_cookie_jar(random_secret_key()) {}

    // A fixed secret: deterministic cookies, for tests and reproducible simulations.
    constexpr explicit syn_cookie_jar(const secret_key& secret) noexcept
        : whitening_key_(detail::siphash_derive_key(secret, detail::key_purpose_cookie_whitening)),
          mac_key_(detail::siphash_derive_key(secret, detail::key_purpose_cookie_mac)) {}

    // A secret from random_secret_key(); see there for what may throw.
    [[nodiscard]] static syn_cookie_jar with_random_key() { return syn_cookie_jar(random_secret_key()); }

    // The table entry a client MSS is rounded down to (the smallest entry when
    // the client's is smaller still: RFC 9293's 536 is the floor anyway).
    [[nodiscard]] static constexpr std::uint16_t encoded_mss(std::uint16_t client_mss) noexcept {
        return syn_cookie_mss_table[mss_index(client_mss)];
    }

    // Our ISS for a SYN from `tuple` (seen from our side) with SEG.SEQ =
    // client_isn and MSS option client_mss (536 when the SYN had none).
    [[nodiscard]] constexpr seq32 make(const four_tuple& tuple, seq32 client_isn, std::uint16_t client_mss,
                                       time_point now) const noexcept {
        const std::int64_t minute = minutes_since_epoch(now);
        const std::uint32_t index = mss_index(client_mss);
        const std::uint32_t counter_and_index = ((static_cast<std::uint32_t>(minute) & 0xff) << 2) | index;
        const std::uint32_t plain = (counter_and_index << index_shift) | (parity(counter_and_index) << parity_shift) |
                                    mac(tuple, client_isn, minute, index);
        return seq32{plain ^ whitening(tuple, client_isn)};
    }

    // Checks the cookie returned by a handshake-completing ACK: cookie is
    // SEG.ACK - 1 and client_isn is SEG.SEQ - 1. Returns the MSS to use for
    // the peer (a table entry), or nothing when the cookie was not made by
    // this jar for this tuple and client ISN within the last two minutes.
    [[nodiscard]] constexpr std::optional<std::uint16_t> check(const four_tuple& tuple, seq32 client_isn, seq32 cookie,
                                                               time_point now) const noexcept {
        const std::uint32_t plain = cookie.raw() ^ whitening(tuple, client_isn);
        const std::uint32_t counter_and_index = plain >> index_shift;
        if (parity(counter_and_index) != ((plain >> parity_shift) & 1)) return std::nullopt;
        const std::int64_t minute_now = minutes_since_epoch(now);
        const std::uint32_t age = (static_cast<std::uint32_t>(minute_now) - (counter_and_index >> 2)) & 0xff;
        if (age >= syn_cookie_max_age_minutes) return std::nullopt;
        const std::uint32_t index = counter_and_index & 3;
        if ((plain & mac_mask) != mac(tuple, client_isn, minute_now - age, index)) return std::nullopt;
        return syn_cookie_mss_table[index];
    }

    // The TSval for a cookie's SYN-ACK: the clock's value with its low 6 bits
    // replaced by the options (bits 0..3 window scale, 0xf for none; bit 4
    // SACK-permitted; bit 5 reserved, 0), moved back by 64 when that would put
    // it ahead of the clock, because a TSval must never run ahead of the clock
    // later TSvals come from (RFC 7323 §5.4 monotonicity, and PAWS at the peer).
    // A window scale above 14 is sent as 14 (RFC 7323 §2.3).
    [[nodiscard]] static constexpr std::uint32_t encode_tsval(std::uint32_t now_ms_tsval,
                                                              std::optional<std::uint8_t> wscale, bool sack) noexcept {
        std::uint32_t options = wscale ? (*wscale > max_window_scale ? max_window_scale : *wscale) : no_window_scale;
        if (sack) options |= sack_bit;
        std::uint32_t tsval = (now_ms_tsval & ~options_mask) | options;
        if (static_cast<std::int32_t>(tsval - now_ms_tsval) > 0) tsval -= options_mask + 1;
        return tsval;
    }

    [[nodiscard]] static constexpr syn_cookie_ts_options decode_tsecr(std::uint32_t tsecr) noexcept {
        syn_cookie_ts_options out;
        const std::uint32_t scale = tsecr & no_window_scale;
        if (scale != no_window_scale) out.wscale = static_cast<std::uint8_t>(scale);
        out.sack = (tsecr & sack_bit) != 0;
        return out;
    }

private:
    static constexpr int index_shift = 22;
    static constexpr int parity_shift = 21;
    static constexpr std::uint32_t mac_mask = (std::uint32_t{1} << parity_shift) - 1;

    static constexpr std::uint32_t options_mask = 0x3f;
    static constexpr std::uint32_t no_window_scale = 0xf;
    static constexpr std::uint32_t sack_bit = 0x10;
    static constexpr std::uint8_t max_window_scale = 14;

    static constexpr std::size_t tuple_and_isn_size = detail::four_tuple_wire_size + 4;
    static constexpr std::size_t mac_input_size = tuple_and_isn_size + 8 + 1;

    [[nodiscard]] static constexpr std::uint32_t mss_index(std::uint16_t client_mss) noexcept {
        std::uint32_t index = 0;
        for (std::uint32_t i = 1; i < syn_cookie_mss_table.size(); ++i)
            if (syn_cookie_mss_table[i] <= client_mss) index = i;
        return index;
    }

    [[nodiscard]] static constexpr std::uint32_t parity(std::uint32_t bits) noexcept {
        return static_cast<std::uint32_t>(std::popcount(bits)) & 1;
    }

    // Floor, not truncation, so the counter ticks evenly across the epoch.
    [[nodiscard]] static constexpr std::int64_t minutes_since_epoch(time_point now) noexcept {
        return std::chrono::floor<std::chrono::minutes>(now.time_since_epoch()).count();
    }

    [[nodiscard]] static constexpr std::array<std::uint8_t, tuple_and_isn_size> tuple_and_isn_bytes(
        const four_tuple& tuple, seq32 client_isn) noexcept {
        std::array<std::uint8_t, tuple_and_isn_size> out{};
        const auto tuple_bytes = detail::four_tuple_bytes(tuple);
        for (std::size_t i = 0; i < tuple_bytes.size(); ++i) out[i] = tuple_bytes[i];
        detail::store_be32(&out[tuple_bytes.size()], client_isn.raw());
        return out;
    }

    [[nodiscard]] constexpr std::uint32_t whitening(const four_tuple& tuple, seq32 client_isn) const noexcept {
        return static_cast<std::uint32_t>(detail::siphash24(whitening_key_, tuple_and_isn_bytes(tuple, client_isn)));
    }

    [[nodiscard]] constexpr std::uint32_t mac(const four_tuple& tuple, seq32 client_isn, std::int64_t minute,
                                              std::uint32_t index) const noexcept {
        std::array<std::uint8_t, mac_input_size> input{};
        const auto prefix = tuple_and_isn_bytes(tuple, client_isn);
        for (std::size_t i = 0; i < prefix.size(); ++i) input[i] = prefix[i];
        const auto minute_bits = static_cast<std::uint64_t>(minute);
        detail::store_be32(&input[prefix.size()], static_cast<std::uint32_t>(minute_bits >> 32));
        detail::store_be32(&input[prefix.size() + 4], static_cast<std::uint32_t>(minute_bits));
        input[prefix.size() + 8] = static_cast<std::uint8_t>(index);
        return static_cast<std::uint32_t>(detail::siphash24(mac_key_, input)) & mac_mask;
    }

    detail::siphash_key whitening_key_;
    detail::siphash_key mac_key_;
};

}  // namespace tcpcore
