// A user's program: builds a SYN and checks that it parses back.
#include <tcpcore/tcpcore.hpp>

#include <cstdio>

int main() {
    using namespace tcpcore;
    const auto src = ip_address::v4(192, 0, 2, 1);
    const auto dst = ip_address::v4(192, 0, 2, 2);
    tcp_header_fields f;
    f.src_port = 40000;
    f.dst_port = 80;
    f.seq = seq32{1};
    f.flags = tcp_flags::syn;
    f.window = 64240;
    tcp_options o;
    o.mss = 1460;
    std::uint8_t buf[60];
    const auto len = build_tcp_segment(buf, f, o, {}, src, dst);
    if (!len) return 1;
    const auto seg = tcp_segment_view::parse(std::span(buf, *len), src, dst);
    if (!seg || seg->options().mss != 1460) return 2;
#ifdef TCPCORE_VERSION_STRING
    std::printf("tcpcore %s: consumer OK\n", TCPCORE_VERSION_STRING);
#else
    std::printf("tcpcore (no version header): consumer OK\n");
#endif
    return 0;
}
