// An echo client on tcpcore, over a TUN device: sends a message, prints what
// comes back, and closes.

#include "tun_host.hpp"

#include <cstring>
#include <string>

int main(int argc, char** argv) {
    if (argc != 6 && argc != 8) {
        std::fprintf(stderr,
                     "usage: %s <tun-name> <local-address> <server-address> <port> <message> "
                     "[--setup <kernel-address/prefix>]\n"
                     "\n"
                     "Connects from <local-address> (behind the TUN device) to an echo server, sends\n"
                     "<message>, prints the echo and closes. Exit status 0 when the echo matched.\n"
                     "\n"
                     "example (a kernel echo server on 10.7.0.1:7, e.g. 'socat TCP-LISTEN:7,fork EXEC:cat'):\n"
                     "  sudo %s tcpc0 10.7.0.2 10.7.0.1 7 hello --setup 10.7.0.1/24\n",
                     argv[0], argv[0]);
        return 2;
    }
    const char* setup = argc == 8 && std::strcmp(argv[6], "--setup") == 0 ? argv[7] : nullptr;
    const auto local = example::parse_ipv4(argv[2]);
    const auto server = example::parse_ipv4(argv[3]);
    const int port = std::atoi(argv[4]);
    const std::string message = argv[5];
    if (!local || !server || port <= 0 || port > 65535) {
        std::fprintf(stderr, "bad address or port\n");
        return 2;
    }
    auto tun = example::open_tun(argv[1], setup);
    if (!tun) return 1;

    static const tcpcore::config cfg;  // Linux's defaults; it must outlive the endpoint
    const auto checked = example::check_config(cfg);
    if (!checked) return 1;
    example::tun_endpoint ep(*checked, {.io = tcpcore::tun_io{&*tun}});
    const auto c = ep.connect({*server, static_cast<std::uint16_t>(port)}, {*local, 0});
    if (!c) {
        std::fprintf(stderr, "connect: %s\n", c.error().message().c_str());
        return 1;
    }
    std::string echo;
    bool sent = false, failed = false, closed = false;
    example::run(*tun, ep, [&] {
        while (auto e = ep.next_event()) {
            if (e->events.has(tcpcore::connection_events::closed) && e->error) {
                std::fprintf(stderr, "connection failed: %s\n", e->error.message().c_str());
                failed = true;
                return false;
            }
        }
        if (closed) return ep.connection_count() != 0;  // until the close completes (the handle is gone)
        if (ep.get(*c).value()->state() == tcpcore::tcp_state::established && !sent) {
            sent = true;
            (void)ep.send(*c, std::span(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()));
        }
        std::uint8_t chunk[4096];
        // recv: bytes, 0 at the end of the stream, or an error (EAGAIN: nothing yet).
        for (auto n = ep.recv(*c, chunk); n && *n != 0; n = ep.recv(*c, chunk))
            echo.append(reinterpret_cast<char*>(chunk), *n);
        if (echo.size() >= message.size()) {
            ep.close(*c);
            closed = true;
        }
        return true;
    });
    if (failed) return 1;
    std::printf("%s\n", echo.c_str());
    return echo == message ? 0 : 1;
}
