#pragma once
// TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018): parsing with typed
// reasons for every malformation, and writing in the layouts Linux uses so
// captures of tcpcore look like captures of Linux.

#include <tcpcore/detail/byte_order.hpp>
#include <tcpcore/wire/seq.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace tcpcore {

enum class tcp_option_kind : std::uint8_t {
    end_of_list = 0,
    nop = 1,
    mss = 2,
    window_scale = 3,
    sack_permitted = 4,
    sack = 5,
    timestamps = 8,
};

// RFC 7323 §2.3: a shift above 14 is used as 14.
inline constexpr std::uint8_t max_window_scale = 14;
// The options area is at most 40 bytes (data offset 15 words).
inline constexpr std::size_t max_options_length = 40;
// 2 + 8 * 4 = 34 bytes: no more than 4 SACK blocks fit the options area.
inline constexpr std::size_t max_sack_blocks = 4;

struct sack_block {
    seq32 left;   // first sequence number of the block
    seq32 right;  // sequence number just past the block
    friend constexpr bool operator==(const sack_block&, const sack_block&) noexcept = default;
};

struct tcp_timestamps {
    std::uint32_t value = 0;        // TSval
    std::uint32_t echo_reply = 0;   // TSecr
    friend constexpr bool operator==(const tcp_timestamps&, const tcp_timestamps&) noexcept = default;
};

// The options a segment carries, as values. Unknown options are not kept
// (they are skipped by their length, RFC 9293 §3.1 MUST-6).
struct tcp_options {
    std::optional<std::uint16_t> mss;
    // Already limited to max_window_scale.
    std::optional<std::uint8_t> window_scale;
    bool sack_permitted = false;
    std::optional<tcp_timestamps> timestamps;
    std::uint8_t sack_count = 0;
    std::array<sack_block, max_sack_blocks> sack{};

    [[nodiscard]] constexpr std::span<const sack_block> sack_blocks() const noexcept {
        return std::span<const sack_block>(sack).first(sack_count);
    }
    constexpr bool add_sack_block(sack_block b) noexcept {
        if (sack_count >= max_sack_blocks) return false;
        sack[sack_count++] = b;
        return true;
    }

    friend constexpr bool operator==(const tcp_options& a, const tcp_options& b) noexcept {
        if (a.mss != b.mss || a.window_scale != b.window_scale || a.sack_permitted != b.sack_permitted ||
            a.timestamps != b.timestamps || a.sack_count != b.sack_count)
            return false;
        for (std::size_t i = 0; i < a.sack_count; ++i)
            if (a.sack[i] != b.sack[i]) return false;
        return true;
    }
};

// Why an options area was rejected. The numbering continues the header's
// reasons (tcp_parse_error), which include these.
enum class tcp_option_error : std::uint8_t {
    none = 0,
    option_past_header,     // a kind or length byte, or the option's body, runs past the header
    option_length_invalid,  // a multi-byte option whose length byte is 0 or 1
    bad_mss_length,         // MSS option length other than 4
    bad_window_scale_length,    // window scale length other than 3
    bad_sack_permitted_length,  // SACK-permitted length other than 2
    bad_sack_length,        // SACK length not 2 + 8n with n in 1..4
    bad_timestamps_length,  // timestamps length other than 10
};

[[nodiscard]] constexpr const char* to_string(tcp_option_error e) noexcept {
    switch (e) {
        case tcp_option_error::none: return "none";
        case tcp_option_error::option_past_header: return "option runs past the header";
        case tcp_option_error::option_length_invalid: return "option length 0 or 1";
        case tcp_option_error::bad_mss_length: return "MSS option length is not 4";
        case tcp_option_error::bad_window_scale_length: return "window scale option length is not 3";
        case tcp_option_error::bad_sack_permitted_length: return "SACK-permitted option length is not 2";
        case tcp_option_error::bad_sack_length: return "SACK option length is not 2 + 8n (n = 1..4)";
        case tcp_option_error::bad_timestamps_length: return "timestamps option length is not 10";
    }
    return "unknown";
}

// Walks an options area. Reads only inside `area`. On error `out` may hold
// the options read before the bad one; callers discard it.
[[nodiscard]] constexpr tcp_option_error parse_tcp_options(std::span<const std::uint8_t> area,
                                                           tcp_options& out) noexcept {
    out = tcp_options{};
    std::size_t i = 0;
    while (i < area.size()) {
        const auto kind = static_cast<tcp_option_kind>(area[i]);
        if (kind == tcp_option_kind::end_of_list) break;  // the rest is padding
        if (kind == tcp_option_kind::nop) {
            ++i;
            continue;
        }
        if (i + 1 >= area.size()) return tcp_option_error::option_past_header;
        const std::size_t len = area[i + 1];
        if (len < 2) return tcp_option_error::option_length_invalid;
        if (i + len > area.size()) return tcp_option_error::option_past_header;
        const std::uint8_t* body = area.data() + i + 2;
        switch (kind) {
            case tcp_option_kind::mss:
                if (len != 4) return tcp_option_error::bad_mss_length;
                out.mss = detail::load_be16(body);
                break;
            case tcp_option_kind::window_scale:
                if (len != 3) return tcp_option_error::bad_window_scale_length;
                out.window_scale = body[0] > max_window_scale ? max_window_scale : body[0];
                break;
            case tcp_option_kind::sack_permitted:
                if (len != 2) return tcp_option_error::bad_sack_permitted_length;
                out.sack_permitted = true;
                break;
            case tcp_option_kind::sack: {
                if (len < 10 || (len - 2) % 8 != 0) return tcp_option_error::bad_sack_length;
                out.sack_count = 0;
                for (std::size_t b = 0; b < (len - 2) / 8; ++b)
                    out.add_sack_block({seq32{detail::load_be32(body + 8 * b)},
                                        seq32{detail::load_be32(body + 8 * b + 4)}});
                break;
            }
            case tcp_option_kind::timestamps:
                if (len != 10) return tcp_option_error::bad_timestamps_length;
                out.timestamps = tcp_timestamps{detail::load_be32(body), detail::load_be32(body + 4)};
                break;
            default:
                break;  // unknown: skipped by its length
        }
        i += len;
    }
    return tcp_option_error::none;
}

// The SACK blocks that fit beside the other options: 4 without timestamps,
// 3 with them (Linux sends the same).
[[nodiscard]] constexpr std::size_t sack_blocks_that_fit(const tcp_options& o) noexcept {
    const std::size_t used = (o.mss ? 4 : 0) + (o.timestamps ? 12 : (o.sack_permitted ? 4 : 0)) +
                             (o.window_scale ? 4 : 0);
    if (used + 4 + 8 > max_options_length) return 0;
    const std::size_t fit = (max_options_length - used - 4) / 8;
    return fit < max_sack_blocks ? fit : max_sack_blocks;
}

// Bytes the options take in Linux's layout (always a multiple of 4).
[[nodiscard]] constexpr std::size_t tcp_options_length(const tcp_options& o) noexcept {
    std::size_t n = 0;
    if (o.mss) n += 4;
    if (o.timestamps) n += 12;                  // [sackOK or nop nop] kind len TSval TSecr
    else if (o.sack_permitted) n += 4;          // nop nop sackOK
    if (o.window_scale) n += 4;                 // nop wscale
    if (o.sack_count) n += 4 + 8 * o.sack_count;  // nop nop sack
    return n;
}

// Writes the options in Linux's order and padding (tcp_options_write):
//   SYN:  mss, sackOK, TS, nop, wscale    (02 04 .. .. 04 02 08 0a ... 01 03 03 ..)
//   data: nop, nop, TS [, nop, nop, sack]
// Returns the bytes written, or 0 when they would not fit `out` or the
// 40-byte options area (nothing is written then).
constexpr std::size_t write_tcp_options(std::span<std::uint8_t> out, const tcp_options& o) noexcept {
    const std::size_t n = tcp_options_length(o);
    if (n > max_options_length || n > out.size()) return 0;
    std::uint8_t* p = out.data();
    if (o.mss) {
        p[0] = 2;
        p[1] = 4;
        detail::store_be16(p + 2, *o.mss);
        p += 4;
    }
    if (o.timestamps) {
        if (o.sack_permitted) {
            p[0] = 4;
            p[1] = 2;
        } else {
            p[0] = 1;
            p[1] = 1;
        }
        p[2] = 8;
        p[3] = 10;
        detail::store_be32(p + 4, o.timestamps->value);
        detail::store_be32(p + 8, o.timestamps->echo_reply);
        p += 12;
    } else if (o.sack_permitted) {
        p[0] = 1;
        p[1] = 1;
        p[2] = 4;
        p[3] = 2;
        p += 4;
    }
    if (o.window_scale) {
        p[0] = 1;
        p[1] = 3;
        p[2] = 3;
        p[3] = *o.window_scale;
        p += 4;
    }
    if (o.sack_count) {
        p[0] = 1;
        p[1] = 1;
        p[2] = 5;
        p[3] = static_cast<std::uint8_t>(2 + 8 * o.sack_count);
        p += 4;
        for (std::size_t b = 0; b < o.sack_count; ++b) {
            detail::store_be32(p, o.sack[b].left.raw());
            detail::store_be32(p + 4, o.sack[b].right.raw());
            p += 8;
        }
    }
    return n;
}

}  // namespace tcpcore
