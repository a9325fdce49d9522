#pragma once
// Human-readable one-line renderings of segments, in tcpdump's style, for
// logs, test failure messages and the demo. No allocation, no stdio.

#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <cstdint>
#include <span>
#include <string_view>

namespace tcpcore {

namespace detail {
// Appends to a fixed buffer, dropping what does not fit; always leaves a NUL.
class text_writer {
public:
    constexpr explicit text_writer(std::span<char> out) noexcept : out_(out) {
        if (!out_.empty()) out_[0] = '\0';
    }
    constexpr text_writer& operator<<(std::string_view s) noexcept {
        for (char c : s) put(c);
        return *this;
    }
    constexpr text_writer& operator<<(std::uint64_t v) noexcept {
        char digits[20];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (n > 0) put(digits[--n]);
        return *this;
    }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return n_; }

private:
    constexpr void put(char c) noexcept {
        if (n_ + 1 >= out_.size()) return;
        out_[n_++] = c;
        out_[n_] = '\0';
    }
    std::span<char> out_;
    std::size_t n_ = 0;
};
}  // namespace detail

// Renders "40000 > 80: Flags [S.], seq 1, ack 2, win 512, options [mss 1460,...],
// length 0" into out (always NUL-terminated, truncated if out is too small).
// Returns the length written.
constexpr std::size_t format_segment(const tcp_segment_view& s, std::span<char> out) noexcept {
    detail::text_writer w(out);
    char flags[9];
    format_flags(s.flags(), flags);
    w << s.src_port() << " > " << s.dst_port() << ": Flags [" << std::string_view(flags) << "], seq "
      << s.seq().raw();
    if (!s.payload().empty()) w << ":" << (s.seq() + static_cast<std::uint32_t>(s.payload().size())).raw();
    if (s.flags().ack_set()) w << ", ack " << s.ack().raw();
    w << ", win " << s.window();
    const tcp_options& o = s.options();
    if (s.header_length() > tcp_min_header_length) {
        w << ", options [";
        std::string_view sep;
        if (o.mss) { w << sep << "mss " << *o.mss; sep = ","; }
        if (o.sack_permitted) { w << sep << "sackOK"; sep = ","; }
        if (o.timestamps) { w << sep << "TS val " << o.timestamps->value << " ecr " << o.timestamps->echo_reply; sep = ","; }
        if (o.window_scale) { w << sep << "wscale " << *o.window_scale; sep = ","; }
        if (o.sack_count) {
            w << sep << "sack " << o.sack_count;
            for (const auto& b : o.sack_blocks()) w << " {" << b.left.raw() << ":" << b.right.raw() << "}";
        }
        w << "]";
    }
    w << ", length " << s.payload().size();
    return w.size();
}

}  // namespace tcpcore
