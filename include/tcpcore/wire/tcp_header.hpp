#pragma once
// The TCP header (RFC 9293 §3.1): a zero-copy view over received bytes that
// is only ever constructed from bytes that passed validation, and a builder
// that writes into caller-provided memory.

#include <tcpcore/detail/byte_order.hpp>
#include <tcpcore/detail/expected.hpp>
#include <tcpcore/wire/checksum.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_options.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpcore {

inline constexpr std::size_t tcp_min_header_length = 20;
inline constexpr std::size_t tcp_max_header_length = 60;

// The flag byte (byte 13 of the header).
class tcp_flags {
public:
    static constexpr std::uint8_t fin = 0x01;
    static constexpr std::uint8_t syn = 0x02;
    static constexpr std::uint8_t rst = 0x04;
    static constexpr std::uint8_t psh = 0x08;
    static constexpr std::uint8_t ack = 0x10;
    static constexpr std::uint8_t urg = 0x20;
    static constexpr std::uint8_t ece = 0x40;
    static constexpr std::uint8_t cwr = 0x80;

    constexpr tcp_flags() noexcept = default;
    constexpr tcp_flags(std::uint8_t bits) noexcept : bits_(bits) {}  // NOLINT: flags compose as bytes

    [[nodiscard]] constexpr std::uint8_t bits() const noexcept { return bits_; }
    [[nodiscard]] constexpr bool has(std::uint8_t f) const noexcept { return (bits_ & f) == f; }
    [[nodiscard]] constexpr bool has_any(std::uint8_t f) const noexcept { return (bits_ & f) != 0; }
    [[nodiscard]] constexpr bool syn_set() const noexcept { return has(syn); }
    [[nodiscard]] constexpr bool ack_set() const noexcept { return has(ack); }
    [[nodiscard]] constexpr bool rst_set() const noexcept { return has(rst); }
    [[nodiscard]] constexpr bool fin_set() const noexcept { return has(fin); }
    [[nodiscard]] constexpr bool psh_set() const noexcept { return has(psh); }
    [[nodiscard]] constexpr bool urg_set() const noexcept { return has(urg); }

    friend constexpr bool operator==(tcp_flags, tcp_flags) noexcept = default;

private:
    std::uint8_t bits_ = 0;
};

// SYN with RST or FIN has no meaning in any state (RFC 9293 gives none, Linux
// drops them); such a segment is malformed.
[[nodiscard]] constexpr bool is_illegal_flag_combination(tcp_flags f) noexcept {
    return f.syn_set() && f.has_any(tcp_flags::rst | tcp_flags::fin);
}

// Writes flag names as tcpdump does ("S.", "F.", "R", "P.", ...) into out;
// returns the length (at most 8, out needs 9 for the NUL).
constexpr std::size_t format_flags(tcp_flags f, std::span<char, 9> out) noexcept {
    std::size_t n = 0;
    if (f.has(tcp_flags::syn)) out[n++] = 'S';
    if (f.has(tcp_flags::fin)) out[n++] = 'F';
    if (f.has(tcp_flags::psh)) out[n++] = 'P';
    if (f.has(tcp_flags::rst)) out[n++] = 'R';
    if (f.has(tcp_flags::urg)) out[n++] = 'U';
    if (f.has(tcp_flags::ece)) out[n++] = 'E';
    if (f.has(tcp_flags::cwr)) out[n++] = 'W';
    if (f.has(tcp_flags::ack)) out[n++] = '.';
    if (n == 0) out[n++] = '.';
    out[n] = '\0';
    return n;
}

// Why a segment was rejected. Every reason is counted by the endpoint.
enum class tcp_parse_error : std::uint8_t {
    none = 0,
    too_short,                  // fewer than 20 bytes
    data_offset_too_small,      // data offset < 5 words
    data_offset_past_end,       // data offset points past the segment
    option_past_header,
    option_length_invalid,
    bad_mss_length,
    bad_window_scale_length,
    bad_sack_permitted_length,
    bad_sack_length,
    bad_timestamps_length,
    bad_checksum,
    illegal_flags,              // SYN together with RST or FIN
};
inline constexpr std::size_t tcp_parse_error_count = 13;

[[nodiscard]] constexpr tcp_parse_error to_parse_error(tcp_option_error e) noexcept {
    switch (e) {
        case tcp_option_error::none: return tcp_parse_error::none;
        case tcp_option_error::option_past_header: return tcp_parse_error::option_past_header;
        case tcp_option_error::option_length_invalid: return tcp_parse_error::option_length_invalid;
        case tcp_option_error::bad_mss_length: return tcp_parse_error::bad_mss_length;
        case tcp_option_error::bad_window_scale_length: return tcp_parse_error::bad_window_scale_length;
        case tcp_option_error::bad_sack_permitted_length: return tcp_parse_error::bad_sack_permitted_length;
        case tcp_option_error::bad_sack_length: return tcp_parse_error::bad_sack_length;
        case tcp_option_error::bad_timestamps_length: return tcp_parse_error::bad_timestamps_length;
    }
    return tcp_parse_error::none;
}

[[nodiscard]] constexpr const char* to_string(tcp_parse_error e) noexcept {
    switch (e) {
        case tcp_parse_error::none: return "none";
        case tcp_parse_error::too_short: return "segment shorter than 20 bytes";
        case tcp_parse_error::data_offset_too_small: return "data offset below 5 words";
        case tcp_parse_error::data_offset_past_end: return "data offset past the end of the segment";
        case tcp_parse_error::option_past_header: return "option runs past the header";
        case tcp_parse_error::option_length_invalid: return "option length 0 or 1";
        case tcp_parse_error::bad_mss_length: return "MSS option length is not 4";
        case tcp_parse_error::bad_window_scale_length: return "window scale option length is not 3";
        case tcp_parse_error::bad_sack_permitted_length: return "SACK-permitted option length is not 2";
        case tcp_parse_error::bad_sack_length: return "SACK option length is not 2 + 8n (n = 1..4)";
        case tcp_parse_error::bad_timestamps_length: return "timestamps option length is not 10";
        case tcp_parse_error::bad_checksum: return "bad checksum";
        case tcp_parse_error::illegal_flags: return "SYN together with RST or FIN";
    }
    return "unknown";
}

// The checksum pseudo-header (RFC 9293 §3.1 for IPv4, RFC 8200 §8.1 for
// IPv6), chosen by the address family.
[[nodiscard]] constexpr internet_checksum pseudo_header_sum(const ip_address& src, const ip_address& dst,
                                                            std::uint8_t protocol,
                                                            std::uint32_t length) noexcept {
    internet_checksum sum;
    sum.add(src.wire_bytes()).add(dst.wire_bytes());
    if (src.is_v4()) {
        sum.add_u16(protocol).add_u16(static_cast<std::uint16_t>(length));
    } else {
        sum.add_u32(length).add_u32(protocol);
    }
    return sum;
}

// The header fields other than data offset, options and checksum.
struct tcp_header_fields {
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    seq32 seq{};
    seq32 ack{};
    tcp_flags flags{};
    std::uint16_t window = 0;
    std::uint16_t urgent_pointer = 0;
    // The 4 bits between data offset and flags (reserved, AccECN's AE bit);
    // kept so that a parsed header rebuilds to the same bytes.
    std::uint8_t reserved = 0;

    friend constexpr bool operator==(const tcp_header_fields&, const tcp_header_fields&) noexcept = default;
};

class tcp_segment_view;

struct tcp_checksum_addresses {
    ip_address src;
    ip_address dst;
};

// A validated TCP segment. Cheap to copy (a span and the parsed options);
// valid as long as the bytes it views.
class tcp_segment_view {
public:
    constexpr tcp_segment_view() noexcept = default;

    // Validates everything but the checksum (for checksums verified by
    // hardware or by the caller).
    [[nodiscard]] static constexpr expected<tcp_segment_view, tcp_parse_error> parse(
        std::span<const std::uint8_t> bytes) noexcept {
        if (bytes.size() < tcp_min_header_length) return unexpected{tcp_parse_error::too_short};
        const std::size_t header_len = std::size_t{bytes[12]} / 16 * 4;
        if (header_len < tcp_min_header_length) return unexpected{tcp_parse_error::data_offset_too_small};
        if (header_len > bytes.size()) return unexpected{tcp_parse_error::data_offset_past_end};
        if (is_illegal_flag_combination(tcp_flags{bytes[13]})) return unexpected{tcp_parse_error::illegal_flags};
        tcp_segment_view v;
        const auto err = parse_tcp_options(bytes.subspan(tcp_min_header_length, header_len - tcp_min_header_length),
                                           v.options_);
        if (err != tcp_option_error::none) return unexpected{to_parse_error(err)};
        v.bytes_ = bytes;
        v.header_length_ = static_cast<std::uint8_t>(header_len);
        return v;
    }

    // Validates everything, the checksum over the pseudo-header included.
    [[nodiscard]] static constexpr expected<tcp_segment_view, tcp_parse_error> parse(
        std::span<const std::uint8_t> bytes, const ip_address& src, const ip_address& dst) noexcept {
        auto v = parse(bytes);
        if (!v) return v;
        auto sum = pseudo_header_sum(src, dst, ip_protocol_tcp, static_cast<std::uint32_t>(bytes.size()));
        if (!sum.add(bytes).verifies()) return unexpected{tcp_parse_error::bad_checksum};
        return v;
    }

    [[nodiscard]] constexpr std::uint16_t src_port() const noexcept { return detail::load_be16(&bytes_[0]); }
    [[nodiscard]] constexpr std::uint16_t dst_port() const noexcept { return detail::load_be16(&bytes_[2]); }
    [[nodiscard]] constexpr seq32 seq() const noexcept { return seq32{detail::load_be32(&bytes_[4])}; }
    [[nodiscard]] constexpr seq32 ack() const noexcept { return seq32{detail::load_be32(&bytes_[8])}; }
    [[nodiscard]] constexpr std::size_t header_length() const noexcept { return header_length_; }
    [[nodiscard]] constexpr std::uint8_t reserved_bits() const noexcept { return bytes_[12] & 0x0f; }
    [[nodiscard]] constexpr tcp_flags flags() const noexcept { return tcp_flags{bytes_[13]}; }
    [[nodiscard]] constexpr std::uint16_t window() const noexcept { return detail::load_be16(&bytes_[14]); }
    [[nodiscard]] constexpr std::uint16_t checksum() const noexcept { return detail::load_be16(&bytes_[16]); }
    [[nodiscard]] constexpr std::uint16_t urgent_pointer() const noexcept { return detail::load_be16(&bytes_[18]); }
    [[nodiscard]] constexpr const tcp_options& options() const noexcept { return options_; }
    [[nodiscard]] constexpr std::span<const std::uint8_t> raw_options() const noexcept {
        return bytes_.subspan(tcp_min_header_length, header_length_ - tcp_min_header_length);
    }
    [[nodiscard]] constexpr std::span<const std::uint8_t> payload() const noexcept {
        return bytes_.subspan(header_length_);
    }
    [[nodiscard]] constexpr std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }

    // Sequence space the segment occupies: data plus one each for SYN and FIN.
    [[nodiscard]] constexpr std::uint32_t sequence_length() const noexcept {
        return static_cast<std::uint32_t>(payload().size()) + (flags().syn_set() ? 1u : 0u) +
               (flags().fin_set() ? 1u : 0u);
    }

    [[nodiscard]] constexpr tcp_header_fields fields() const noexcept {
        return {src_port(), dst_port(), seq(), ack(), flags(), window(), urgent_pointer(), reserved_bits()};
    }

private:
    std::span<const std::uint8_t> bytes_{};
    tcp_options options_{};
    std::uint8_t header_length_ = 0;
};

enum class tcp_build_error : std::uint8_t {
    none = 0,
    buffer_too_small,       // the output span cannot hold the segment
    options_too_long,       // more than 40 bytes of options
    options_not_aligned,    // raw options not a multiple of 4 bytes
    segment_too_long,       // the segment exceeds 65535 bytes
};

[[nodiscard]] constexpr const char* to_string(tcp_build_error e) noexcept {
    switch (e) {
        case tcp_build_error::none: return "none";
        case tcp_build_error::buffer_too_small: return "output buffer too small";
        case tcp_build_error::options_too_long: return "options longer than 40 bytes";
        case tcp_build_error::options_not_aligned: return "options not a multiple of 4 bytes";
        case tcp_build_error::segment_too_long: return "segment longer than 65535 bytes";
    }
    return "unknown";
}

namespace detail {
constexpr void write_fixed_header(std::uint8_t* p, const tcp_header_fields& f, std::size_t header_len) noexcept {
    store_be16(p, f.src_port);
    store_be16(p + 2, f.dst_port);
    store_be32(p + 4, f.seq.raw());
    store_be32(p + 8, f.ack.raw());
    p[12] = static_cast<std::uint8_t>(((header_len / 4) << 4) | (f.reserved & 0x0f));
    p[13] = f.flags.bits();
    store_be16(p + 14, f.window);
    p[16] = 0;
    p[17] = 0;
    store_be16(p + 18, f.urgent_pointer);
}
}  // namespace detail

// Bytes the header takes with these options in Linux's layout.
[[nodiscard]] constexpr std::size_t tcp_header_length(const tcp_options& o) noexcept {
    return tcp_min_header_length + tcp_options_length(o);
}

// Writes header and options (checksum left 0) and returns the header length.
[[nodiscard]] constexpr expected<std::size_t, tcp_build_error> write_tcp_header(
    std::span<std::uint8_t> out, const tcp_header_fields& f, const tcp_options& o) noexcept {
    const std::size_t opt_len = tcp_options_length(o);
    if (opt_len > max_options_length) return unexpected{tcp_build_error::options_too_long};
    const std::size_t len = tcp_min_header_length + opt_len;
    if (out.size() < len) return unexpected{tcp_build_error::buffer_too_small};
    detail::write_fixed_header(out.data(), f, len);
    (void)write_tcp_options(out.subspan(tcp_min_header_length), o);
    return len;
}

// Writes header and options given as raw bytes (already padded), as a parsed
// view holds them; checksum left 0.
[[nodiscard]] constexpr expected<std::size_t, tcp_build_error> write_tcp_header(
    std::span<std::uint8_t> out, const tcp_header_fields& f, std::span<const std::uint8_t> raw_options) noexcept {
    if (raw_options.size() > max_options_length) return unexpected{tcp_build_error::options_too_long};
    if (raw_options.size() % 4 != 0) return unexpected{tcp_build_error::options_not_aligned};
    const std::size_t len = tcp_min_header_length + raw_options.size();
    if (out.size() < len) return unexpected{tcp_build_error::buffer_too_small};
    detail::write_fixed_header(out.data(), f, len);
    for (std::size_t i = 0; i < raw_options.size(); ++i) out[tcp_min_header_length + i] = raw_options[i];
    return len;
}

// Computes and stores the checksum of a complete segment (header, options
// and payload in `segment`, its checksum field ignored).
constexpr void write_tcp_checksum(std::span<std::uint8_t> segment, const ip_address& src,
                                  const ip_address& dst) noexcept {
    segment[16] = 0;
    segment[17] = 0;
    auto sum = pseudo_header_sum(src, dst, ip_protocol_tcp, static_cast<std::uint32_t>(segment.size()));
    detail::store_be16(&segment[16], sum.add(segment).value());
}

// Builds a whole segment: header, options in Linux's layout, the payload
// copied in, and the checksum, reading the payload once. Returns its length.
[[nodiscard]] inline expected<std::size_t, tcp_build_error> build_tcp_segment(
    std::span<std::uint8_t> out, const tcp_header_fields& f, const tcp_options& o,
    std::span<const std::uint8_t> payload, const ip_address& src, const ip_address& dst) noexcept {
    const auto header = write_tcp_header(out, f, o);
    if (!header) return header;
    const std::size_t total = *header + payload.size();
    if (total > 0xffff) return unexpected{tcp_build_error::segment_too_long};
    if (out.size() < total) return unexpected{tcp_build_error::buffer_too_small};
    auto sum = pseudo_header_sum(src, dst, ip_protocol_tcp, static_cast<std::uint32_t>(total));
    sum.add(out.first(*header));
    sum.add_copy(out.data() + *header, payload);
    detail::store_be16(&out[16], sum.value());
    return total;
}

}  // namespace tcpcore
