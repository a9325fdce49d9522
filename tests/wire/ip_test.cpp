#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include "../support/bytes.hpp"
#include "../support/linux_captures.hpp"

#include <rapidcheck/catch.h>

#include <string>
#include <vector>

using namespace tcpcore;
using tcpcore::test::from_hex;
using tcpcore::test::to_hex;

namespace {
ip_parse_error error_of(const std::vector<std::uint8_t>& bytes) {
    auto exact = std::make_unique<std::uint8_t[]>(bytes.size());
    std::copy(bytes.begin(), bytes.end(), exact.get());
    return parse_ip_packet(std::span<const std::uint8_t>(exact.get(), bytes.size())).error();
}

void fix_ipv4_checksum(std::vector<std::uint8_t>& p) {
    const std::size_t ihl = std::size_t{p[0]} % 16 * 4;
    p[10] = p[11] = 0;
    detail::store_be16(&p[10], internet_checksum{}.add(std::span(p).first(ihl)).value());
}

std::string text(const ip_address& a) {
    char buf[46];
    format_address(a, buf);
    return buf;
}

// Linux's IPv6 SYN with extension headers spliced in after the fixed header.
std::vector<std::uint8_t> ipv6_with_extensions(std::initializer_list<std::vector<std::uint8_t>> exts,
                                               std::uint8_t first_next_header) {
    auto p = from_hex(test::linux_syn_ipv6);
    std::vector<std::uint8_t> out(p.begin(), p.begin() + 40);
    std::size_t added = 0;
    for (const auto& e : exts) {
        out.insert(out.end(), e.begin(), e.end());
        added += e.size();
    }
    out.insert(out.end(), p.begin() + 40, p.end());
    out[6] = first_next_header;
    detail::store_be16(&out[4], static_cast<std::uint16_t>(detail::load_be16(&out[4]) + added));
    return out;
}
}  // namespace

TEST_CASE("ip: Linux's IPv4 SYN parses and its header rebuilds byte for byte") {
    const auto p = from_hex(test::linux_syn_ipv4);
    const auto v = parse_ip_packet(p);
    REQUIRE(v.has_value());
    CHECK(v->family == ip_family::v4);
    CHECK(v->src == ip_address::v4(10, 9, 0, 1));
    CHECK(v->dst == ip_address::v4(10, 9, 0, 2));
    CHECK(v->protocol == ip_protocol_tcp);
    CHECK(v->ttl == 64);
    CHECK(v->header_length == 20);
    CHECK(v->payload.size() == 40);
    CHECK(v->payload.data() == p.data() + 20);

    std::uint8_t header[20];
    ip_header_params params;
    params.identification = 0xc988;
    const auto len = write_ip_header(header, v->src, v->dst, ip_protocol_tcp, 40, params);
    REQUIRE(len.has_value());
    CHECK(*len == 20);
    CHECK(to_hex(header) == to_hex(std::span(p).first(20)));
}

TEST_CASE("ip: Linux's IPv6 SYN parses and its header rebuilds byte for byte") {
    const auto p = from_hex(test::linux_syn_ipv6);
    const auto v = parse_ip_packet(p);
    REQUIRE(v.has_value());
    CHECK(v->family == ip_family::v6);
    CHECK(text(v->src) == "fd00::1");
    CHECK(text(v->dst) == "fd00::2");
    CHECK(v->protocol == ip_protocol_tcp);
    CHECK(v->ttl == 64);
    CHECK(v->payload.size() == 40);

    std::uint8_t header[40];
    ip_header_params params;
    params.flow_label = 0x9c398;
    const auto len = write_ip_header(header, v->src, v->dst, ip_protocol_tcp, 40, params);
    REQUIRE(len.has_value());
    CHECK(to_hex(header) == to_hex(std::span(p).first(40)));
}

TEST_CASE("ip: link-layer padding after the datagram is not payload") {
    auto p = from_hex(test::linux_syn_ipv4);
    p.insert(p.end(), 6, 0);  // e.g. an Ethernet minimum-size pad
    const auto v = parse_ip_packet(p);
    REQUIRE(v.has_value());
    CHECK(v->payload.size() == 40);
}

TEST_CASE("ip: every malformation is rejected with its reason") {
    const auto v4 = from_hex(test::linux_syn_ipv4);
    const auto v6 = from_hex(test::linux_syn_ipv6);
    CHECK(error_of({}) == ip_parse_error::too_short);
    CHECK(error_of(std::vector<std::uint8_t>(v4.begin(), v4.begin() + 19)) == ip_parse_error::too_short);
    CHECK(error_of(std::vector<std::uint8_t>(v6.begin(), v6.begin() + 39)) == ip_parse_error::too_short);
    {
        auto p = v4;
        p[0] = 0x55;
        CHECK(error_of(p) == ip_parse_error::bad_version);
    }
    {
        auto p = v4;
        p[0] = 0x44;  // IHL 16 bytes
        CHECK(error_of(p) == ip_parse_error::bad_header_length);
        p[0] = 0x4f;  // IHL 60 bytes in a 40-byte packet
        p.resize(40);
        CHECK(error_of(p) == ip_parse_error::bad_header_length);
    }
    {
        auto p = v4;
        detail::store_be16(&p[2], 61);  // claims more bytes than there are
        fix_ipv4_checksum(p);
        CHECK(error_of(p) == ip_parse_error::bad_total_length);
        detail::store_be16(&p[2], 19);  // smaller than the header
        fix_ipv4_checksum(p);
        CHECK(error_of(p) == ip_parse_error::bad_total_length);
    }
    {
        auto p = v4;
        p[8] = 63;  // TTL changed, checksum not
        CHECK(error_of(p) == ip_parse_error::bad_header_checksum);
    }
    {
        auto p = v4;
        detail::store_be16(&p[6], 0x2000);  // more fragments
        fix_ipv4_checksum(p);
        CHECK(error_of(p) == ip_parse_error::fragment);
        detail::store_be16(&p[6], 0x0001);  // a later fragment
        fix_ipv4_checksum(p);
        CHECK(error_of(p) == ip_parse_error::fragment);
    }
    {
        auto p = v6;
        detail::store_be16(&p[4], 41);
        CHECK(error_of(p) == ip_parse_error::bad_total_length);
        detail::store_be16(&p[4], 0);  // jumbogram marker
        CHECK(error_of(p) == ip_parse_error::bad_total_length);
    }
    {
        const std::vector<std::uint8_t> fragment_header = {6, 0, 0, 1, 0, 0, 0, 42};
        CHECK(error_of(ipv6_with_extensions({fragment_header}, 44)) == ip_parse_error::fragment);
    }
    {
        auto p = v6;
        p[6] = 50;  // ESP
        CHECK(error_of(p) == ip_parse_error::unsupported_next_header);
        p[6] = 59;  // no next header
        CHECK(error_of(p) == ip_parse_error::unsupported_next_header);
    }
    {
        // A destination-options header claiming 16 bytes with only 8 left
        // before the end.
        auto p = ipv6_with_extensions({}, 60);
        detail::store_be16(&p[4], 8);
        p.resize(48);
        p[41] = 1;
        CHECK(error_of(p) == ip_parse_error::extension_past_end);
    }
    {
        // Hop-by-hop anywhere but first is not allowed.
        const std::vector<std::uint8_t> dest_opts = {0, 0, 1, 4, 0, 0, 0, 0};
        const std::vector<std::uint8_t> hop_by_hop = {6, 0, 1, 4, 0, 0, 0, 0};
        CHECK(error_of(ipv6_with_extensions({dest_opts, hop_by_hop}, 60)) ==
              ip_parse_error::unsupported_next_header);
    }
}

TEST_CASE("ip: IPv6 extension headers before TCP are skipped") {
    const std::vector<std::uint8_t> hop_by_hop = {60, 0, 1, 4, 0, 0, 0, 0};  // PadN
    const std::vector<std::uint8_t> dest_opts = {6, 0, 1, 4, 0, 0, 0, 0};
    const auto p = ipv6_with_extensions({hop_by_hop, dest_opts}, 0);
    const auto v = parse_ip_packet(p);
    REQUIRE(v.has_value());
    CHECK(v->protocol == ip_protocol_tcp);
    CHECK(v->header_length == 56);
    const auto seg = tcp_segment_view::parse(v->payload, v->src, v->dst);
    REQUIRE(seg.has_value());
    CHECK(seg->dst_port() == 8080);
}

TEST_CASE("ip: building refuses mixed families and oversize payloads") {
    std::uint8_t out[40];
    CHECK(write_ip_header(out, ip_address::v4(1, 2, 3, 4), ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 1}), 6, 0)
              .error() == ip_build_error::mixed_families);
    CHECK(write_ip_header(out, ip_address::v4(1, 2, 3, 4), ip_address::v4(1, 2, 3, 5), 6, 65516).error() ==
          ip_build_error::payload_too_long);
    CHECK(write_ip_header(std::span(out).first(19), ip_address::v4(1, 2, 3, 4), ip_address::v4(1, 2, 3, 5), 6, 0)
              .error() == ip_build_error::buffer_too_small);
}

TEST_CASE("ip: random bytes never crash the parser") {
    rc::prop("any bytes, either version nibble", [](std::vector<std::uint8_t> bytes, bool v6) {
        if (!bytes.empty()) bytes[0] = static_cast<std::uint8_t>((v6 ? 0x60 : 0x40) | (bytes[0] & 0x0f));
        auto exact = std::make_unique<std::uint8_t[]>(bytes.size());
        std::copy(bytes.begin(), bytes.end(), exact.get());
        const auto v = parse_ip_packet(std::span<const std::uint8_t>(exact.get(), bytes.size()));
        if (v) {
            RC_ASSERT(v->payload.data() >= exact.get());
            RC_ASSERT(v->payload.data() + v->payload.size() <= exact.get() + bytes.size());
        } else {
            RC_ASSERT(v.error() != ip_parse_error::none);
        }
    });
}

TEST_CASE("ip: addresses print in their usual text form") {
    CHECK(text(ip_address::v4(10, 9, 0, 1)) == "10.9.0.1");
    CHECK(text(ip_address::v4(255, 255, 255, 255)) == "255.255.255.255");
    CHECK(text(ip_address{}) == "::");
    CHECK(text(ip_address::v6({0, 0, 0, 0, 0, 0, 0, 1})) == "::1");
    CHECK(text(ip_address::v6({1, 0, 0, 0, 0, 0, 0, 0})) == "1::");
    CHECK(text(ip_address::v6({0x2001, 0xdb8, 0, 1, 0, 0, 0, 1})) == "2001:db8:0:1::1");
    CHECK(text(ip_address::v6({0x2001, 0xdb8, 1, 2, 3, 4, 5, 6})) == "2001:db8:1:2:3:4:5:6");
    CHECK(ip_address::v4(1, 2, 3, 4).is_v4());
    CHECK(!ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 1}).is_v4());
    CHECK(ip_address::v4(0x0a090001u) == ip_address::v4(10, 9, 0, 1));
}
