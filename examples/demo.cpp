// tcpcore's demo: builds the SYN a Linux client would send, with Linux's
// option layout, prints it as bytes and as tcpdump would, parses it back with
// its checksum checked, and saves it as demo.pcap for Wireshark.

#include <tcpcore/tcpcore.hpp>

#include <cstdio>

int main() {
    using namespace tcpcore;

    const auto client = ip_address::v4(10, 0, 0, 1);
    const auto server = ip_address::v4(10, 0, 0, 2);

    tcp_header_fields syn;
    syn.src_port = 40000;
    syn.dst_port = 80;
    syn.seq = seq32{0x12345678};
    syn.flags = tcp_flags::syn;
    syn.window = 64240;
    tcp_options options;
    options.mss = 1460;
    options.sack_permitted = true;
    options.timestamps = tcp_timestamps{1000, 0};
    options.window_scale = 7;

    std::uint8_t datagram[ipv4_header_length + tcp_max_header_length];
    std::span<std::uint8_t> tcp_part = std::span(datagram).subspan(ipv4_header_length);
    const auto tcp_len = build_tcp_segment(tcp_part, syn, options, {}, client, server);
    if (!tcp_len) {
        std::fprintf(stderr, "build failed: %s\n", to_string(tcp_len.error()));
        return 1;
    }
    const auto ip_len = write_ip_header(datagram, client, server, ip_protocol_tcp, *tcp_len);
    if (!ip_len) {
        std::fprintf(stderr, "IP header failed: %s\n", to_string(ip_len.error()));
        return 1;
    }
    const std::size_t total = *ip_len + *tcp_len;

    std::printf("tcpcore %s demo: a Linux-style SYN, %zu bytes\n", TCPCORE_VERSION_STRING, total);
    for (std::size_t i = 0; i < total; ++i)
        std::printf("%02x%s", datagram[i], (i + 1) % 16 == 0 || i + 1 == total ? "\n" : (i + 1) % 4 == 0 ? "  " : " ");

    const auto ip = parse_ip_packet(std::span(datagram, total));
    if (!ip) {
        std::fprintf(stderr, "IP parse failed: %s\n", to_string(ip.error()));
        return 1;
    }
    const auto seg = tcp_segment_view::parse(ip->payload, ip->src, ip->dst);
    if (!seg) {
        std::fprintf(stderr, "TCP parse failed: %s\n", to_string(seg.error()));
        return 1;
    }
    char src_text[46], dst_text[46], line[256];
    format_address(ip->src, src_text);
    format_address(ip->dst, dst_text);
    format_segment(*seg, line);
    std::printf("parsed back, checksum good:\n  IP %s > %s: %s\n", src_text, dst_text, line);

    pcap_file pcap("demo.pcap");
    if (pcap.is_open()) {
        pcap.write_packet(std::chrono::microseconds{0}, std::span(datagram, total));
        std::printf("saved as demo.pcap (open it in Wireshark)\n");
    }
    return 0;
}
