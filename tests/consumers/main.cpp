// A user's program: builds a SYN and checks that it parses back; opens a
// connection from an endpoint, with nothing but <tcpcore/tcpcore.hpp>; then
// tests a connection in virtual time with the installed <tcpcore/testing.hpp>.
#include <tcpcore/tcpcore.hpp>
#include <tcpcore/testing.hpp>

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

    // An endpoint with the default policies: its SYN lands in capture_io.
    static const config endpoint_cfg;
    const auto checked = check(endpoint_cfg);
    if (!checked) return 8;
    endpoint<> ep(*checked);
    if (!ep.connect({dst, 80}, {src, 0})) return 9;
    ep.poll();
    if (ep.io().datagrams.empty()) return 10;

    // The testing header: one expectation that holds and one that must not,
    // and the driver loop over two connections back to back.
    using namespace std::chrono_literals;
    using namespace tcpcore::testing;
    harness h;
    h.established();
    if (!h.write(at(0ms), "hi")) return 3;
    const auto data = segment{PSH | ACK, local_iss + 1, remote_iss + 1, 64000, {}, bytes_of("hi")};
    if (const auto e = h.expect(at(0ms), {data}); !e) {
        std::printf("%s\n", e.message().c_str());
        return 4;
    }
    if (h.expect_nothing(at(210ms))) return 5;  // the retransmission goes out at 210 ms: must fail
    const config cfg;
    loopback<> l(cfg, cfg, 1ms);
    l.a.to_send = l.b.to_send = 100000;
    if (l.open()) return 6;
    if (!l.run([&] { return l.a.conn.eof() && l.b.conn.eof(); }, at(60s)) || l.a.mismatch || l.b.mismatch) return 7;
#ifdef TCPCORE_VERSION_STRING
    std::printf("tcpcore %s: consumer OK\n", TCPCORE_VERSION_STRING);
#else
    std::printf("tcpcore (no version header): consumer OK\n");
#endif
    return 0;
}
