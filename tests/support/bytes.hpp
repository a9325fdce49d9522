#pragma once
// Byte helpers for tests: hex literals, and Catch printers so that failures
// show sequence numbers and segments readably.

#include <tcpcore/wire/format.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tcpcore::test {

// "45 00 00 3c" or "4500003c" -> bytes. Whitespace is ignored.
inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
    std::vector<std::uint8_t> out;
    int pending = -1;
    for (char c : hex) {
        int v;
        if (c >= '0' && c <= '9') v = c - '0';
        else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
        else continue;
        if (pending < 0) {
            pending = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(pending * 16 + v));
            pending = -1;
        }
    }
    REQUIRE(pending < 0);  // an odd number of hex digits is a typo in the test
    return out;
}

inline std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i != 0 && i % 4 == 0) s += ' ';
        s += digits[bytes[i] >> 4];
        s += digits[bytes[i] & 15];
    }
    return s;
}

inline std::string describe(const tcp_segment_view& s) {
    char buf[512];
    format_segment(s, buf);
    return buf;
}

}  // namespace tcpcore::test

namespace Catch {
template <>
struct StringMaker<tcpcore::seq32> {
    static std::string convert(tcpcore::seq32 s) { return "seq32{" + std::to_string(s.raw()) + "}"; }
};
}  // namespace Catch
