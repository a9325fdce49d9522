#pragma once
// Segment templates: what a test says a segment is (flags, seq, ack, window,
// options, payload), to inject one into a connection or to expect one from
// it. Compared field by field, printed as tcpdump prints a segment (through
// wire/format.hpp, so a test failure reads like a capture), and turned into
// checksummed wire bytes by build().

#include <tcpcore/detail/expected.hpp>
#include <tcpcore/wire/format.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>
#include <tcpcore/wire/tcp_options.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tcpcore::testing {

// Flag names short enough for a table of segments: {PSH | ACK, seq, ack, ...}.
inline constexpr std::uint8_t FIN = tcp_flags::fin, SYN = tcp_flags::syn, RST = tcp_flags::rst,
                              PSH = tcp_flags::psh, ACK = tcp_flags::ack, URG = tcp_flags::urg;

struct segment {
    std::uint8_t flags = ACK;
    seq32 seq{};
    seq32 ack{};
    std::uint16_t window = 0;  // the header's field, unscaled
    tcp_options options{};
    std::vector<std::uint8_t> payload{};

    // Without ACK the acknowledgment field means nothing (RFC 9293 3.1), so
    // it is not compared.
    friend bool operator==(const segment& a, const segment& b) {
        return a.flags == b.flags && a.seq == b.seq && (a.ack == b.ack || !(a.flags & ACK)) && a.window == b.window &&
               a.options == b.options && a.payload == b.payload;
    }

    // What a parsed segment says.
    [[nodiscard]] static segment from(const tcp_segment_view& v) {
        return {v.flags().bits(), v.seq(), v.ack(), v.window(), v.options(), {v.payload().begin(), v.payload().end()}};
    }
};

[[nodiscard]] inline std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

[[nodiscard]] inline tcp_options mss_option(std::uint16_t mss) {
    tcp_options o;
    o.mss = mss;
    return o;
}

// The segment on the wire, checksum included, from src to dst. Fails only
// when the options do not fit in 40 bytes.
[[nodiscard]] inline expected<std::vector<std::uint8_t>, tcp_build_error> build(const segment& s,
                                                                              const socket_address& src,
                                                                              const socket_address& dst) {
    std::vector<std::uint8_t> out(tcp_max_header_length + s.payload.size());
    const tcp_header_fields f{src.port, dst.port, s.seq, s.ack, s.flags, s.window, 0, 0};
    const auto len = build_tcp_segment(out, f, s.options, s.payload, src.address, dst.address);
    if (!len) return unexpected{len.error()};
    out.resize(*len);
    return out;
}

// One line as tcpdump prints it, without the ports: "Flags [P.], seq
// 10001:10006, ack 20001, win 64000, length 5". The payload's bytes are not
// shown; differences() names them when they differ.
[[nodiscard]] inline std::string describe(const segment& s) {
    const socket_address a{ip_address::v4(192, 0, 2, 1), 1}, b{ip_address::v4(192, 0, 2, 2), 2};
    const auto bytes = build(s, a, b);
    if (!bytes) return std::string("unbuildable segment (") + to_string(bytes.error()) + ")";
    const auto view = tcp_segment_view::parse(*bytes, a.address, b.address);
    if (!view) return std::string("unparsable segment (") + to_string(view.error()) + ")";
    char text[512];
    const std::string_view line(text, format_segment(*view, text));
    const std::size_t ports_end = line.find(": ");
    return std::string(ports_end == std::string_view::npos ? line : line.substr(ports_end + 2));
}

[[nodiscard]] inline std::string describe(const std::vector<segment>& v) {
    std::string out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i != 0 ? "}, {" : "") + describe(v[i]);
    return out + "}";
}

// The fields in which got differs from expected, comma-separated; empty when
// they are equal.
[[nodiscard]] inline std::string differences(const segment& expected, const segment& got) {
    std::string out;
    auto note = [&](bool differs, std::string_view field) {
        if (differs) out.append(out.empty() ? "" : ", ").append(field);
    };
    note(expected.flags != got.flags, "flags");
    note(expected.seq != got.seq, "seq");
    note(expected.ack != got.ack && (expected.flags & ACK), "ack");
    note(expected.window != got.window, "window");
    note(!(expected.options == got.options), "options");
    if (expected.payload.size() != got.payload.size()) {
        note(true, "payload length");
    } else {
        for (std::size_t i = 0; i < got.payload.size(); ++i)
            if (expected.payload[i] != got.payload[i]) {
                note(true, "payload byte " + std::to_string(i));
                break;
            }
    }
    return out;
}

}  // namespace tcpcore::testing
