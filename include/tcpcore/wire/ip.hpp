#pragma once
// Just enough IPv4 (RFC 791) and IPv6 (RFC 8200) to carry TCP over a TUN
// device or a raw socket: parse with typed reasons, build into caller memory.
// Fragments are not reassembled; they are rejected with a reason, as are
// extension headers and upper-layer protocols this parser does not know.

#include <tcpcore/detail/byte_order.hpp>
#include <tcpcore/detail/expected.hpp>
#include <tcpcore/wire/checksum.hpp>
#include <tcpcore/wire/ip_address.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpcore {

inline constexpr std::size_t ipv4_header_length = 20;  // without options
inline constexpr std::size_t ipv6_header_length = 40;

inline constexpr std::uint8_t ip_protocol_icmp = 1;
inline constexpr std::uint8_t ip_protocol_udp = 17;
inline constexpr std::uint8_t ip_protocol_icmpv6 = 58;

enum class ip_parse_error : std::uint8_t {
    none = 0,
    too_short,               // shorter than the fixed header
    bad_version,             // neither 4 nor 6
    bad_header_length,       // IPv4 IHL < 5 or past the end
    bad_total_length,        // length field smaller than the header or larger than the bytes
    bad_header_checksum,     // IPv4 header checksum
    fragment,                // IPv4 MF/offset, or an IPv6 fragment header
    unsupported_next_header, // an IPv6 extension header or protocol this parser does not know
    extension_past_end,      // an IPv6 extension header runs past the payload
};
inline constexpr std::size_t ip_parse_error_count = 9;

[[nodiscard]] constexpr const char* to_string(ip_parse_error e) noexcept {
    switch (e) {
        case ip_parse_error::none: return "none";
        case ip_parse_error::too_short: return "packet shorter than the IP header";
        case ip_parse_error::bad_version: return "IP version is neither 4 nor 6";
        case ip_parse_error::bad_header_length: return "IPv4 header length below 20 or past the end";
        case ip_parse_error::bad_total_length: return "IP length field disagrees with the packet";
        case ip_parse_error::bad_header_checksum: return "bad IPv4 header checksum";
        case ip_parse_error::fragment: return "fragment (not reassembled)";
        case ip_parse_error::unsupported_next_header: return "unsupported IPv6 next header or protocol";
        case ip_parse_error::extension_past_end: return "IPv6 extension header runs past the payload";
    }
    return "unknown";
}

struct ip_packet_view {
    ip_family family = ip_family::v4;
    ip_address src;
    ip_address dst;
    std::uint8_t protocol = 0;   // upper-layer protocol (after IPv6 extension headers)
    std::uint8_t ttl = 0;        // TTL or hop limit
    std::size_t header_length = 0;  // every header before the upper-layer payload
    std::span<const std::uint8_t> payload;  // the upper-layer bytes, link padding excluded
};

namespace detail {
constexpr bool is_known_upper_layer(std::uint8_t p) noexcept {
    return p == ip_protocol_tcp || p == ip_protocol_udp || p == ip_protocol_icmp ||
           p == ip_protocol_icmpv6;
}
}  // namespace detail

[[nodiscard]] constexpr expected<ip_packet_view, ip_parse_error> parse_ipv4(
    std::span<const std::uint8_t> b) noexcept {
    if (b.size() < ipv4_header_length) return unexpected{ip_parse_error::too_short};
    if ((b[0] >> 4) != 4) return unexpected{ip_parse_error::bad_version};
    const std::size_t ihl = std::size_t{b[0]} % 16 * 4;
    if (ihl < ipv4_header_length || ihl > b.size()) return unexpected{ip_parse_error::bad_header_length};
    const std::size_t total = detail::load_be16(&b[2]);
    if (total < ihl || total > b.size()) return unexpected{ip_parse_error::bad_total_length};
    if (!internet_checksum{}.add(b.first(ihl)).verifies()) return unexpected{ip_parse_error::bad_header_checksum};
    const std::uint16_t frag = detail::load_be16(&b[6]);
    if ((frag & 0x2000u) != 0 || (frag & 0x1fffu) != 0) return unexpected{ip_parse_error::fragment};
    ip_packet_view v;
    v.family = ip_family::v4;
    v.src = ip_address::v4(b[12], b[13], b[14], b[15]);
    v.dst = ip_address::v4(b[16], b[17], b[18], b[19]);
    v.protocol = b[9];
    v.ttl = b[8];
    v.header_length = ihl;
    v.payload = b.subspan(ihl, total - ihl);
    return v;
}

[[nodiscard]] constexpr expected<ip_packet_view, ip_parse_error> parse_ipv6(
    std::span<const std::uint8_t> b) noexcept {
    if (b.size() < ipv6_header_length) return unexpected{ip_parse_error::too_short};
    if ((b[0] >> 4) != 6) return unexpected{ip_parse_error::bad_version};
    const std::size_t payload_len = detail::load_be16(&b[4]);
    // A zero payload length means a jumbogram (RFC 2675), which TCP over a
    // TUN device never sees; it is refused like any other length mismatch.
    if (payload_len == 0 || ipv6_header_length + payload_len > b.size())
        return unexpected{ip_parse_error::bad_total_length};
    const auto packet = b.first(ipv6_header_length + payload_len);
    std::uint8_t next = b[6];
    std::size_t offset = ipv6_header_length;
    bool first = true;
    for (;;) {
        if (next == 44) return unexpected{ip_parse_error::fragment};
        // Hop-by-hop options (0) are allowed only right after the fixed header.
        const bool skippable = (next == 0 && first) || next == 43 || next == 60;
        if (!skippable) break;
        if (offset + 8 > packet.size()) return unexpected{ip_parse_error::extension_past_end};
        const std::size_t ext_len = (std::size_t{packet[offset + 1]} + 1) * 8;
        if (offset + ext_len > packet.size()) return unexpected{ip_parse_error::extension_past_end};
        next = packet[offset];
        offset += ext_len;
        first = false;
    }
    if (!detail::is_known_upper_layer(next)) return unexpected{ip_parse_error::unsupported_next_header};
    ip_packet_view v;
    v.family = ip_family::v6;
    v.src = ip_address::v6(packet.subspan<8, 16>());
    v.dst = ip_address::v6(packet.subspan<24, 16>());
    v.protocol = next;
    v.ttl = b[7];
    v.header_length = offset;
    v.payload = packet.subspan(offset);
    return v;
}

// Parses either version, by the first nibble.
[[nodiscard]] constexpr expected<ip_packet_view, ip_parse_error> parse_ip_packet(
    std::span<const std::uint8_t> b) noexcept {
    if (b.empty()) return unexpected{ip_parse_error::too_short};
    switch (b[0] >> 4) {
        case 4: return parse_ipv4(b);
        case 6: return parse_ipv6(b);
        default: return unexpected{ip_parse_error::bad_version};
    }
}

struct ip_header_params {
    std::uint8_t ttl = 64;            // Linux's default TTL and hop limit
    std::uint16_t identification = 0; // IPv4 only
    bool dont_fragment = true;        // IPv4 only; Linux sets DF on TCP
    std::uint8_t traffic_class = 0;   // DSCP/ECN (TOS for IPv4)
    std::uint32_t flow_label = 0;     // IPv6 only, 20 bits
};

enum class ip_build_error : std::uint8_t {
    none = 0,
    buffer_too_small,
    payload_too_long,   // more than 65535 bytes in the length field
    mixed_families,     // source and destination of different families
};

[[nodiscard]] constexpr const char* to_string(ip_build_error e) noexcept {
    switch (e) {
        case ip_build_error::none: return "none";
        case ip_build_error::buffer_too_small: return "output buffer too small";
        case ip_build_error::payload_too_long: return "payload too long for the length field";
        case ip_build_error::mixed_families: return "source and destination of different IP versions";
    }
    return "unknown";
}

[[nodiscard]] constexpr std::size_t ip_header_length(ip_family f) noexcept {
    return f == ip_family::v4 ? ipv4_header_length : ipv6_header_length;
}

// Writes the IP header for a payload of payload_length bytes that the caller
// places right after it. Returns the header length.
[[nodiscard]] constexpr expected<std::size_t, ip_build_error> write_ip_header(
    std::span<std::uint8_t> out, const ip_address& src, const ip_address& dst, std::uint8_t protocol,
    std::size_t payload_length, const ip_header_params& params = {}) noexcept {
    if (src.is_v4() != dst.is_v4()) return unexpected{ip_build_error::mixed_families};
    if (src.is_v4()) {
        if (out.size() < ipv4_header_length) return unexpected{ip_build_error::buffer_too_small};
        if (payload_length + ipv4_header_length > 0xffff) return unexpected{ip_build_error::payload_too_long};
        std::uint8_t* p = out.data();
        p[0] = 0x45;
        p[1] = params.traffic_class;
        detail::store_be16(p + 2, static_cast<std::uint16_t>(payload_length + ipv4_header_length));
        detail::store_be16(p + 4, params.identification);
        detail::store_be16(p + 6, params.dont_fragment ? 0x4000 : 0);
        p[8] = params.ttl;
        p[9] = protocol;
        p[10] = 0;
        p[11] = 0;
        const auto s = src.wire_bytes();
        const auto d = dst.wire_bytes();
        for (std::size_t i = 0; i < 4; ++i) {
            p[12 + i] = s[i];
            p[16 + i] = d[i];
        }
        detail::store_be16(p + 10, internet_checksum{}.add(out.first(ipv4_header_length)).value());
        return ipv4_header_length;
    }
    if (out.size() < ipv6_header_length) return unexpected{ip_build_error::buffer_too_small};
    if (payload_length > 0xffff) return unexpected{ip_build_error::payload_too_long};
    std::uint8_t* p = out.data();
    detail::store_be32(p, (6u << 28) | (std::uint32_t{params.traffic_class} << 20) | (params.flow_label & 0xfffffu));
    detail::store_be16(p + 4, static_cast<std::uint16_t>(payload_length));
    p[6] = protocol;
    p[7] = params.ttl;
    const auto s = src.bytes();
    const auto d = dst.bytes();
    for (std::size_t i = 0; i < 16; ++i) {
        p[8 + i] = s[i];
        p[24 + i] = d[i];
    }
    return ipv6_header_length;
}

}  // namespace tcpcore
