// The wire layer against arbitrary bytes: the input is parsed as an IP
// datagram and as a bare TCP segment (with and without checksum addresses).
// Whatever parses must rebuild to the same bytes, print without overrunning
// its buffer, and agree with a plain reference checksum.

#include "fuzz_support.hpp"

#include <tcpcore/wire/checksum.hpp>
#include <tcpcore/wire/format.hpp>
#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <array>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

using namespace tcpcore;

namespace {

const ip_address v4_src = ip_address::v4(192, 0, 2, 1), v4_dst = ip_address::v4(198, 51, 100, 7);
const ip_address v6_src = ip_address::v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});
const ip_address v6_dst = ip_address::v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 2});

// RFC 1071 written the obvious way, one big-endian word at a time: the SIMD
// kernels must agree with it for every length and alignment.
std::uint16_t reference_sum(std::span<const std::uint8_t> b) {
    std::uint64_t s = 0;
    std::size_t i = 0;
    for (; i + 1 < b.size(); i += 2) s += std::uint32_t{b[i]} << 8 | b[i + 1];
    if (i < b.size()) s += std::uint32_t{b[i]} << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(s);
}

void check_checksum(std::span<const std::uint8_t> b) {
    const std::uint16_t want = reference_sum(b);
    FUZZ_CHECK(internet_checksum{}.add(b).sum() == want);
    // Split at points the input itself picks: odd pieces and pieces on
    // either side of the vector threshold, added directly and merged.
    const std::size_t cut1 = b.empty() ? 0 : b[0] % (b.size() + 1);
    const std::size_t cut2 = b.size() < 2 ? cut1 : cut1 + b[1] % (b.size() - cut1 + 1);
    internet_checksum pieces;
    pieces.add(b.first(cut1)).add(b.subspan(cut1, cut2 - cut1)).add(b.subspan(cut2));
    FUZZ_CHECK(pieces.sum() == want);
    internet_checksum head, tail;
    head.add(b.first(cut2));
    tail.add(b.subspan(cut2));
    FUZZ_CHECK(head.add(tail).sum() == want);
    // Copying while summing: the copy is exact and the sum the same.
    std::vector<std::uint8_t> copy(b.size() + 1, 0xa5);
    internet_checksum copied;
    copied.add_copy(copy.data() + 1, b.first(cut1)).add_copy(copy.data() + 1 + cut1, b.subspan(cut1));
    FUZZ_CHECK(copied.sum() == want);
    FUZZ_CHECK(b.empty() || std::memcmp(copy.data() + 1, b.data(), b.size()) == 0);
    FUZZ_CHECK(copy[0] == 0xa5);
}

void check_format(const tcp_segment_view& v) {
    std::array<char, 512> full;
    const std::size_t n = format_segment(v, full);
    FUZZ_CHECK(n < full.size() && full[n] == '\0' && std::strlen(full.data()) == n);
    // A short buffer gets a NUL-terminated prefix of the same text.
    for (std::size_t room : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{40}}) {
        std::array<char, 41> small;
        small.fill('#');
        const std::size_t m = format_segment(v, std::span(small).first(room));
        if (room == 0) {
            FUZZ_CHECK(m == 0 && small[0] == '#');
            continue;
        }
        FUZZ_CHECK(m < room && small[m] == '\0' && small[room] == '#');
        FUZZ_CHECK(std::string_view(small.data(), m) == std::string_view(full.data(), m));
    }
}

// A segment that parsed (without its checksum) must rebuild to its own bytes.
void check_rebuild(const tcp_segment_view& v, std::span<const std::uint8_t> bytes, const ip_address& src,
                   const ip_address& dst) {
    FUZZ_CHECK(v.bytes().data() == bytes.data() && v.bytes().size() == bytes.size());
    FUZZ_CHECK(v.header_length() >= tcp_min_header_length && v.header_length() <= tcp_max_header_length);
    FUZZ_CHECK(v.header_length() % 4 == 0 && v.header_length() <= bytes.size());
    FUZZ_CHECK(v.raw_options().size() + tcp_min_header_length == v.header_length());
    FUZZ_CHECK(v.payload().size() + v.header_length() == bytes.size());
    FUZZ_CHECK(!is_illegal_flag_combination(v.flags()));
    FUZZ_CHECK(v.options().sack_count <= max_sack_blocks);
    FUZZ_CHECK(!v.options().window_scale || *v.options().window_scale <= max_window_scale);

    std::vector<std::uint8_t> out(bytes.size() + 8, 0xee);
    const auto len = write_tcp_header(out, v.fields(), v.raw_options());
    FUZZ_CHECK(len.has_value() && *len == v.header_length());
    FUZZ_CHECK(std::memcmp(out.data(), bytes.data(), 16) == 0);
    FUZZ_CHECK(out[16] == 0 && out[17] == 0);
    FUZZ_CHECK(std::memcmp(out.data() + 18, bytes.data() + 18, *len - 18) == 0);
    FUZZ_CHECK(out[*len] == 0xee);

    // With the payload behind it and the checksum written, it verifies, and
    // parses back to the same fields and options.
    if (!v.payload().empty()) std::memcpy(out.data() + *len, v.payload().data(), v.payload().size());
    out.resize(bytes.size());
    write_tcp_checksum(out, src, dst);
    const auto again = tcp_segment_view::parse(out, src, dst);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->fields() == v.fields());
    FUZZ_CHECK(again->options() == v.options());
    // Its checksum is the one the original carries when that one verified
    // (up to the two spellings of zero in ones' complement).
    if (tcp_segment_view::parse(bytes, src, dst)) {
        const std::uint16_t a = again->checksum(), b = v.checksum();
        FUZZ_CHECK(a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0));
    }

    // The parsed options, written in Linux's layout, parse back to themselves.
    std::array<std::uint8_t, tcp_max_header_length + 4> linux_layout{};
    if (const auto n = write_tcp_header(linux_layout, v.fields(), v.options())) {
        FUZZ_CHECK(*n == tcp_header_length(v.options()) && *n <= tcp_max_header_length);
        const auto reparsed = tcp_segment_view::parse(std::span(linux_layout).first(*n));
        FUZZ_CHECK(reparsed.has_value());
        FUZZ_CHECK(reparsed->options() == v.options());
        FUZZ_CHECK(reparsed->fields() == v.fields());
    } else {
        FUZZ_CHECK(n.error() == tcp_build_error::options_too_long);
        FUZZ_CHECK(tcp_options_length(v.options()) > max_options_length);
    }

    // A whole segment built from the parsed values carries the payload and a
    // checksum that verifies.
    std::vector<std::uint8_t> built(tcp_max_header_length + v.payload().size());
    if (const auto n = build_tcp_segment(built, v.fields(), v.options(), v.payload(), src, dst)) {
        const auto b = tcp_segment_view::parse(std::span(built).first(*n), src, dst);
        FUZZ_CHECK(b.has_value());
        FUZZ_CHECK(b->payload().size() == v.payload().size());
        FUZZ_CHECK(v.payload().empty() ||
                   std::memcmp(b->payload().data(), v.payload().data(), v.payload().size()) == 0);
    } else {
        FUZZ_CHECK(n.error() == tcp_build_error::options_too_long ||
                   n.error() == tcp_build_error::segment_too_long);
    }

    check_format(v);
}

// Every way of parsing bytes as TCP: the verdicts must agree with each other.
void check_segment(std::span<const std::uint8_t> bytes, const ip_address& src, const ip_address& dst) {
    const auto bare = tcp_segment_view::parse(bytes);
    const auto summed = tcp_segment_view::parse(bytes, src, dst);
    if (summed) FUZZ_CHECK(bare.has_value());
    if (!bare) {
        FUZZ_CHECK(!summed && summed.error() == bare.error());
        FUZZ_CHECK(bare.error() != tcp_parse_error::none && bare.error() != tcp_parse_error::bad_checksum);
        FUZZ_CHECK(std::string_view(to_string(bare.error())) != "unknown");  // every reason has a name
        return;
    }
    if (!summed) FUZZ_CHECK(summed.error() == tcp_parse_error::bad_checksum);
    check_rebuild(*bare, bytes, src, dst);

    // The same bytes with their checksum fixed must pass the checked parse.
    std::vector<std::uint8_t> fixed(bytes.begin(), bytes.end());
    write_tcp_checksum(fixed, src, dst);
    FUZZ_CHECK(tcp_segment_view::parse(fixed, src, dst).has_value());
}

void check_segment_if_tcp(const ip_packet_view& ip) {
    if (ip.protocol == ip_protocol_tcp) check_segment(ip.payload, ip.src, ip.dst);
}

void check_ip(std::span<const std::uint8_t> bytes) {
    const auto ip = parse_ip_packet(bytes);
    if (!ip) {
        FUZZ_CHECK(ip.error() != ip_parse_error::none);
        FUZZ_CHECK(std::string_view(to_string(ip.error())) != "unknown");
        return;
    }
    // The payload lies inside the input, right after the headers.
    FUZZ_CHECK(ip->payload.data() == bytes.data() + ip->header_length);
    FUZZ_CHECK(ip->header_length + ip->payload.size() <= bytes.size());
    FUZZ_CHECK(ip->src.is_v4() == ip->dst.is_v4() || ip->family == ip_family::v6);
    if (ip->family == ip_family::v4) {
        FUZZ_CHECK(ip->src.is_v4() && ip->header_length >= ipv4_header_length && ip->header_length <= 60);
    } else {
        FUZZ_CHECK(ip->header_length >= ipv6_header_length);
    }

    // A header built from what was parsed parses back to the same values.
    if (ip->src.is_v4() == ip->dst.is_v4()) {
        std::array<std::uint8_t, ipv6_header_length> header{};
        ip_header_params params;
        params.ttl = ip->ttl;
        const auto hl = write_ip_header(header, ip->src, ip->dst, ip->protocol, ip->payload.size(), params);
        // IPv4-mapped addresses in an IPv6 packet rebuild as IPv4, whose
        // length field has 20 bytes less room.
        if (!hl) {
            FUZZ_CHECK(hl.error() == ip_build_error::payload_too_long);
            FUZZ_CHECK(ip->payload.size() + ipv4_header_length > 0xffff);
            return check_segment_if_tcp(*ip);
        }
        std::vector<std::uint8_t> packet(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(*hl));
        packet.insert(packet.end(), ip->payload.begin(), ip->payload.end());
        const auto back = parse_ip_packet(packet);
        // An IPv6 payload of 0 bytes is refused as a jumbogram would be, and
        // a rebuilt IPv6 header names its protocol directly, which the parser
        // takes only for protocols it knows.
        if (back) {
            FUZZ_CHECK(back->src == ip->src && back->dst == ip->dst);
            FUZZ_CHECK(back->protocol == ip->protocol && back->ttl == ip->ttl);
            FUZZ_CHECK(back->payload.size() == ip->payload.size());
        } else {
            FUZZ_CHECK(!ip->src.is_v4() && ip->payload.empty());
        }
    }
    check_segment_if_tcp(*ip);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    check_checksum(bytes);
    check_ip(bytes);
    check_segment(bytes, v4_src, v4_dst);
    check_segment(bytes, v6_src, v6_dst);
    return 0;
}
