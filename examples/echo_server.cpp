// An echo server on tcpcore, over a TUN device: every byte a client sends
// comes back. Runs until interrupted.

#include "echo_service.hpp"
#include "tun_host.hpp"

#include <cstring>

namespace {
void usage(const char* self) {
    std::fprintf(stderr,
                 "usage: %s <tun-name> <address> <port> [--setup <kernel-address/prefix>]\n"
                 "\n"
                 "Serves TCP echo at <address>:<port> behind the TUN device <tun-name>, which it\n"
                 "creates if needed (root or CAP_NET_ADMIN). With --setup, it also gives the\n"
                 "kernel's end of the device that address and brings it up; otherwise do so\n"
                 "yourself.\n"
                 "\n"
                 "example:\n"
                 "  sudo %s tcpc0 10.7.0.2 7 --setup 10.7.0.1/24 &\n"
                 "  nc 10.7.0.2 7\n",
                 self, self);
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 4 && argc != 6) {
        usage(argv[0]);
        return 2;
    }
    const char* setup = nullptr;
    if (argc == 6) {
        if (std::strcmp(argv[4], "--setup") != 0) {
            usage(argv[0]);
            return 2;
        }
        setup = argv[5];
    }
    const auto address = example::parse_ipv4(argv[2]);
    const int port = std::atoi(argv[3]);
    if (!address || port <= 0 || port > 65535) {
        usage(argv[0]);
        return 2;
    }
    auto tun = example::open_tun(argv[1], setup);
    if (!tun) return 1;

    static const tcpcore::config cfg;  // Linux's defaults; it must outlive the endpoint
    const auto checked = example::check_config(cfg);
    if (!checked) return 1;
    example::tun_endpoint ep(*checked, {.io = tcpcore::tun_io{&*tun}});
    const auto listener = ep.listen({*address, static_cast<std::uint16_t>(port)});
    if (!listener) {
        std::fprintf(stderr, "listen: %s\n", listener.error().message().c_str());
        return 1;
    }
    std::printf("echo server on %s:%d (TUN %s)\n", argv[2], port, argv[1]);
    std::fflush(stdout);
    example::echo_service service(ep, *listener);
    example::run(*tun, ep, [&] {
        service.handle_events();
        return true;
    });
}
