#include <tcpcore/wire/tcp_header.hpp>

#include "../support/bytes.hpp"
#include "../support/linux_captures.hpp"

#include <rapidcheck/catch.h>

#include <cstdint>
#include <vector>

using namespace tcpcore;
using tcpcore::test::from_hex;
using tcpcore::test::to_hex;

namespace {
const ip_address v4_client = ip_address::v4(10, 9, 0, 1);
const ip_address v4_server = ip_address::v4(10, 9, 0, 2);
const ip_address v6_client = ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 1});
const ip_address v6_server = ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 2});

std::vector<std::uint8_t> tcp_part_of(std::string_view hex, std::size_t ip_header) {
    auto all = from_hex(hex);
    return {all.begin() + static_cast<std::ptrdiff_t>(ip_header), all.end()};
}

// A 20-byte header with the given data offset byte and flags, zero elsewhere.
std::vector<std::uint8_t> bare_header(std::uint8_t offset_byte = 0x50, std::uint8_t flags = 0x10) {
    std::vector<std::uint8_t> h(20, 0);
    h[12] = offset_byte;
    h[13] = flags;
    return h;
}

std::vector<std::uint8_t> with_options(std::initializer_list<std::uint8_t> opts) {
    std::vector<std::uint8_t> h(20 + opts.size(), 0);
    std::copy(opts.begin(), opts.end(), h.begin() + 20);
    h[12] = static_cast<std::uint8_t>((h.size() / 4) << 4);
    h[13] = tcp_flags::ack;
    return h;
}

tcp_parse_error error_of(const std::vector<std::uint8_t>& bytes) {
    // Parse from an exactly sized heap copy so that any read past the end is
    // caught by AddressSanitizer.
    auto exact = std::make_unique<std::uint8_t[]>(bytes.size());
    std::copy(bytes.begin(), bytes.end(), exact.get());
    return tcp_segment_view::parse(std::span<const std::uint8_t>(exact.get(), bytes.size())).error();
}
}  // namespace

TEST_CASE("tcp header: Linux's IPv4 SYN, field by field") {
    const auto seg = tcp_part_of(test::linux_syn_ipv4, 20);
    const auto v = tcp_segment_view::parse(seg, v4_client, v4_server);
    REQUIRE(v.has_value());
    CHECK(v->src_port() == 53070);
    CHECK(v->dst_port() == 8080);
    CHECK(v->seq() == seq32{0xfc9d4ff8u});
    CHECK(v->ack() == seq32{0});
    CHECK(v->header_length() == 40);
    CHECK(v->flags() == tcp_flags{tcp_flags::syn});
    CHECK(v->window() == 64240);
    CHECK(v->checksum() == 0xdf73);
    CHECK(v->urgent_pointer() == 0);
    CHECK(v->payload().empty());
    CHECK(v->sequence_length() == 1);
    const auto& o = v->options();
    CHECK(o.mss == std::uint16_t{1460});
    CHECK(o.sack_permitted);
    REQUIRE(o.timestamps.has_value());
    CHECK(o.timestamps->value == 0xb680678eu);
    CHECK(o.timestamps->echo_reply == 0);
    CHECK(o.window_scale == std::uint8_t{10});
    CHECK(o.sack_count == 0);
    CHECK(test::describe(*v) ==
          "53070 > 8080: Flags [S], seq 4238168056, win 64240, options [mss 1460,sackOK,TS val 3061868430 ecr "
          "0,wscale 10], length 0");
}

TEST_CASE("tcp header: the builder reproduces Linux's SYN byte for byte") {
    for (auto [hex, ip_len, src, dst] : {std::tuple{test::linux_syn_ipv4, 20u, v4_client, v4_server},
                                         std::tuple{test::linux_syn_ipv6, 40u, v6_client, v6_server}}) {
        const auto seg = tcp_part_of(hex, ip_len);
        const auto v = tcp_segment_view::parse(seg, src, dst);
        REQUIRE(v.has_value());
        std::vector<std::uint8_t> out(60, 0xcc);
        const auto len = build_tcp_segment(out, v->fields(), v->options(), {}, src, dst);
        REQUIRE(len.has_value());
        out.resize(*len);
        CHECK(to_hex(out) == to_hex(seg));
    }
}

TEST_CASE("tcp header: Linux's option layouts") {
    tcp_options o;
    std::uint8_t buf[40];
    SECTION("data segment: nop, nop, timestamps") {
        o.timestamps = tcp_timestamps{0x01020304, 0x05060708};
        REQUIRE(write_tcp_options(buf, o) == 12);
        CHECK(to_hex(std::span(buf, 12)) == "0101080a 01020304 05060708");
    }
    SECTION("data segment with SACK: nop, nop, TS, nop, nop, sack") {
        o.timestamps = tcp_timestamps{1, 2};
        o.add_sack_block({seq32{100}, seq32{200}});
        o.add_sack_block({seq32{300}, seq32{400}});
        REQUIRE(write_tcp_options(buf, o) == 32);
        CHECK(to_hex(std::span(buf, 32)) ==
              "0101080a 00000001 00000002 01010512 00000064 000000c8 0000012c 00000190");
    }
    SECTION("SYN without timestamps: mss, nop, nop, sackOK, nop, wscale") {
        o.mss = 1460;
        o.sack_permitted = true;
        o.window_scale = 7;
        REQUIRE(write_tcp_options(buf, o) == 12);
        CHECK(to_hex(std::span(buf, 12)) == "020405b4 01010402 01030307");
    }
    SECTION("timestamps leave room for 3 SACK blocks, none for a 4th") {
        o.timestamps = tcp_timestamps{1, 2};
        CHECK(sack_blocks_that_fit(o) == 3);
        for (std::uint32_t i = 0; i < 4; ++i) o.add_sack_block({seq32{i * 10}, seq32{i * 10 + 5}});
        CHECK(tcp_options_length(o) == 48);
        CHECK(write_tcp_options(buf, o) == 0);
        std::uint8_t header[60];
        CHECK(write_tcp_header(header, tcp_header_fields{}, o).error() == tcp_build_error::options_too_long);
    }
    SECTION("without timestamps all 4 SACK blocks fit") {
        CHECK(sack_blocks_that_fit(o) == 4);
        for (std::uint32_t i = 0; i < 4; ++i) o.add_sack_block({seq32{i * 10}, seq32{i * 10 + 5}});
        CHECK(!o.add_sack_block({seq32{1}, seq32{2}}));
        CHECK(write_tcp_options(buf, o) == 36);
    }
}

TEST_CASE("tcp header: every malformation is rejected with its reason") {
    CHECK(error_of(std::vector<std::uint8_t>(19, 0)) == tcp_parse_error::too_short);
    CHECK(error_of({}) == tcp_parse_error::too_short);
    CHECK(error_of(bare_header(0x40)) == tcp_parse_error::data_offset_too_small);
    CHECK(error_of(bare_header(0x00)) == tcp_parse_error::data_offset_too_small);
    CHECK(error_of(bare_header(0x60)) == tcp_parse_error::data_offset_past_end);
    CHECK(error_of(bare_header(0xf0)) == tcp_parse_error::data_offset_past_end);
    CHECK(error_of(bare_header(0x50, tcp_flags::syn | tcp_flags::rst)) == tcp_parse_error::illegal_flags);
    CHECK(error_of(bare_header(0x50, tcp_flags::syn | tcp_flags::fin)) == tcp_parse_error::illegal_flags);
    CHECK(error_of(bare_header(0x50, 0xff)) == tcp_parse_error::illegal_flags);
    // A kind byte with no room for its length byte.
    CHECK(error_of(with_options({1, 1, 1, 2})) == tcp_parse_error::option_past_header);
    // A length reaching past the options area.
    CHECK(error_of(with_options({2, 8, 5, 0xb4})) == tcp_parse_error::option_past_header);
    CHECK(error_of(with_options({253, 5, 0, 0})) == tcp_parse_error::option_past_header);
    CHECK(error_of(with_options({253, 0, 0, 0})) == tcp_parse_error::option_length_invalid);
    CHECK(error_of(with_options({253, 1, 0, 0})) == tcp_parse_error::option_length_invalid);
    CHECK(error_of(with_options({2, 3, 5, 1})) == tcp_parse_error::bad_mss_length);
    CHECK(error_of(with_options({3, 4, 7, 0})) == tcp_parse_error::bad_window_scale_length);
    CHECK(error_of(with_options({4, 3, 0, 1})) == tcp_parse_error::bad_sack_permitted_length);
    CHECK(error_of(with_options({5, 2, 1, 1})) == tcp_parse_error::bad_sack_length);
    CHECK(error_of(with_options({5, 6, 0, 0, 0, 0, 1, 1})) == tcp_parse_error::bad_sack_length);
    CHECK(error_of(with_options({8, 8, 0, 0, 0, 0, 0, 0})) == tcp_parse_error::bad_timestamps_length);
    auto seg = tcp_part_of(test::linux_syn_ipv4, 20);
    seg[5] ^= 0x01;  // one bit of the sequence number
    CHECK(tcp_segment_view::parse(seg, v4_client, v4_server).error() == tcp_parse_error::bad_checksum);
    CHECK(tcp_segment_view::parse(seg).has_value());  // without addresses, the checksum is not checked
    seg[5] ^= 0x01;
    CHECK(tcp_segment_view::parse(seg, v4_client, v4_server).has_value());
    CHECK(tcp_segment_view::parse(seg, v4_server, v4_client).has_value());  // the sum is symmetric in src/dst
    CHECK(tcp_segment_view::parse(seg, v4_client, ip_address::v4(10, 9, 0, 3)).error() ==
          tcp_parse_error::bad_checksum);
}

TEST_CASE("tcp header: option details") {
    SECTION("a window scale above 14 is read as 14") {
        tcp_options o;
        const std::uint8_t area[] = {3, 3, 15, 0};
        REQUIRE(parse_tcp_options(area, o) == tcp_option_error::none);
        CHECK(o.window_scale == std::uint8_t{14});
    }
    SECTION("unknown options are skipped by length") {
        tcp_options o;
        const std::uint8_t area[] = {253, 6, 1, 2, 3, 4, 2, 4, 0x05, 0xb4};
        REQUIRE(parse_tcp_options(area, o) == tcp_option_error::none);
        CHECK(o.mss == std::uint16_t{1460});
    }
    SECTION("end of list ends parsing; what follows is padding") {
        tcp_options o;
        const std::uint8_t area[] = {0, 2, 1, 0xff};  // would be a bad MSS if read
        REQUIRE(parse_tcp_options(area, o) == tcp_option_error::none);
        CHECK(!o.mss);
    }
    SECTION("SACK blocks are read in order") {
        tcp_options o;
        const auto area = from_hex("0101050a 00000010 00000020");
        REQUIRE(parse_tcp_options(area, o) == tcp_option_error::none);
        REQUIRE(o.sack_count == 1);
        CHECK(o.sack[0] == sack_block{seq32{0x10}, seq32{0x20}});
    }
}

namespace {
struct random_header {
    tcp_header_fields fields;
    tcp_options options;
    std::vector<std::uint8_t> payload;
    bool v6;
};

rc::Gen<random_header> gen_header() {
    return rc::gen::exec([] {
        random_header h;
        h.fields.src_port = *rc::gen::arbitrary<std::uint16_t>();
        h.fields.dst_port = *rc::gen::arbitrary<std::uint16_t>();
        h.fields.seq = seq32{*rc::gen::arbitrary<std::uint32_t>()};
        h.fields.ack = seq32{*rc::gen::arbitrary<std::uint32_t>()};
        // Any flags but the illegal SYN combinations.
        h.fields.flags = *rc::gen::suchThat(rc::gen::arbitrary<std::uint8_t>(), [](std::uint8_t f) {
            return !is_illegal_flag_combination(tcp_flags{f});
        });
        h.fields.window = *rc::gen::arbitrary<std::uint16_t>();
        h.fields.urgent_pointer = *rc::gen::arbitrary<std::uint16_t>();
        h.fields.reserved = *rc::gen::inRange<std::uint8_t>(0, 16);
        if (*rc::gen::arbitrary<bool>()) h.options.mss = *rc::gen::arbitrary<std::uint16_t>();
        if (*rc::gen::arbitrary<bool>()) h.options.window_scale = *rc::gen::inRange<std::uint8_t>(0, 15);
        h.options.sack_permitted = *rc::gen::arbitrary<bool>();
        if (*rc::gen::arbitrary<bool>())
            h.options.timestamps = tcp_timestamps{*rc::gen::arbitrary<std::uint32_t>(),
                                                  *rc::gen::arbitrary<std::uint32_t>()};
        const auto room = sack_blocks_that_fit(h.options);
        const auto blocks = *rc::gen::inRange<std::size_t>(0, room + 1);
        for (std::size_t i = 0; i < blocks; ++i)
            h.options.add_sack_block({seq32{*rc::gen::arbitrary<std::uint32_t>()},
                                      seq32{*rc::gen::arbitrary<std::uint32_t>()}});
        h.payload = *rc::gen::arbitrary<std::vector<std::uint8_t>>();
        h.v6 = *rc::gen::arbitrary<bool>();
        return h;
    });
}
}  // namespace

TEST_CASE("tcp header: build then parse gives back every field and option") {
    rc::prop("IPv4 and IPv6, any options that fit", [] {
        const auto h = *gen_header();
        const auto& src = h.v6 ? v6_client : v4_client;
        const auto& dst = h.v6 ? v6_server : v4_server;
        std::vector<std::uint8_t> out(60 + h.payload.size());
        const auto len = build_tcp_segment(out, h.fields, h.options, h.payload, src, dst);
        RC_ASSERT(len.has_value());
        RC_ASSERT(*len == tcp_header_length(h.options) + h.payload.size());
        out.resize(*len);
        const auto v = tcp_segment_view::parse(out, src, dst);
        RC_ASSERT(v.has_value());
        RC_ASSERT(v->fields() == h.fields);
        auto expected_options = h.options;
        if (expected_options.window_scale && *expected_options.window_scale > max_window_scale)
            expected_options.window_scale = max_window_scale;
        RC_ASSERT(v->options() == expected_options);
        RC_ASSERT(std::equal(h.payload.begin(), h.payload.end(), v->payload().begin(), v->payload().end()));
    });
}

TEST_CASE("tcp header: random bytes are rejected with a reason or rebuild to themselves") {
    rc::prop("arbitrary header bytes", [] {
        // Bias toward plausible headers: a data offset that fits and an
        // options area of random, often well-formed, option bytes.
        const auto opt_words = *rc::gen::inRange<std::size_t>(0, 11);
        auto bytes = *rc::gen::container<std::vector<std::uint8_t>>(20 + 4 * opt_words,
                                                                     rc::gen::arbitrary<std::uint8_t>());
        if (*rc::gen::arbitrary<bool>()) bytes[12] = static_cast<std::uint8_t>((5 + opt_words) << 4 | (bytes[12] & 15));
        const auto tail = *rc::gen::arbitrary<std::vector<std::uint8_t>>();
        bytes.insert(bytes.end(), tail.begin(), tail.end());
        if (*rc::gen::arbitrary<bool>()) bytes.resize(*rc::gen::inRange<std::size_t>(0, bytes.size() + 1));

        auto exact = std::make_unique<std::uint8_t[]>(bytes.size());
        std::copy(bytes.begin(), bytes.end(), exact.get());
        const auto v = tcp_segment_view::parse(std::span<const std::uint8_t>(exact.get(), bytes.size()));
        if (!v) {
            RC_ASSERT(v.error() != tcp_parse_error::none);
            RC_TAG(to_string(v.error()));
            return;
        }
        RC_TAG("accepted");
        std::vector<std::uint8_t> rebuilt(60);
        const auto len = write_tcp_header(rebuilt, v->fields(), v->raw_options());
        RC_ASSERT(len.has_value());
        RC_ASSERT(*len == v->header_length());
        // Same bytes, the checksum field (written 0 by the builder) aside.
        rebuilt[16] = bytes[16];
        rebuilt[17] = bytes[17];
        RC_ASSERT(std::equal(rebuilt.begin(), rebuilt.begin() + static_cast<std::ptrdiff_t>(*len), bytes.begin()));
    });
}

TEST_CASE("tcp header: builder refuses what does not fit") {
    tcp_options o;
    o.mss = 1460;
    std::uint8_t small[23];
    CHECK(write_tcp_header(small, tcp_header_fields{}, o).error() == tcp_build_error::buffer_too_small);
    const std::uint8_t odd_raw[] = {1, 1, 1};
    std::uint8_t out[60];
    CHECK(write_tcp_header(out, tcp_header_fields{}, std::span(odd_raw)).error() ==
          tcp_build_error::options_not_aligned);
    std::vector<std::uint8_t> payload(70000);
    std::vector<std::uint8_t> big(70100);
    CHECK(build_tcp_segment(big, tcp_header_fields{}, o, payload, v4_client, v4_server).error() ==
          tcp_build_error::segment_too_long);
    std::vector<std::uint8_t> tight(24 + 9);
    CHECK(build_tcp_segment(tight, tcp_header_fields{}, o, std::span(payload).first(10), v4_client, v4_server)
              .error() == tcp_build_error::buffer_too_small);
}

TEST_CASE("tcp header: flags render as tcpdump writes them") {
    auto render = [](std::uint8_t bits) {
        char buf[9];
        format_flags(tcp_flags{bits}, buf);
        return std::string(buf);
    };
    CHECK(render(tcp_flags::syn) == "S");
    CHECK(render(tcp_flags::syn | tcp_flags::ack) == "S.");
    CHECK(render(tcp_flags::fin | tcp_flags::ack) == "F.");
    CHECK(render(tcp_flags::psh | tcp_flags::ack) == "P.");
    CHECK(render(tcp_flags::rst) == "R");
    CHECK(render(tcp_flags::rst | tcp_flags::ack) == "R.");
    CHECK(render(0) == ".");
}
