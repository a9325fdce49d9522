// The echo server inside an Asio event loop (standalone Asio): the TUN
// descriptor waits in an asio::posix::stream_descriptor, and one
// asio::steady_timer is re-armed from the endpoint's next deadline. tcpcore
// needs nothing else from the loop: it fits the loops applications already
// run.

#include "echo_service.hpp"
#include "tun_host.hpp"

#include <asio.hpp>

#include <unistd.h>

#include <cstring>

int main(int argc, char** argv) {
    if (argc != 4 && argc != 6) {
        std::fprintf(stderr,
                     "usage: %s <tun-name> <address> <port> [--setup <kernel-address/prefix>]\n"
                     "\n"
                     "The echo server of tcpcore_echo_server, run by an Asio io_context.\n"
                     "\n"
                     "example:\n"
                     "  sudo %s tcpc0 10.7.0.2 7 --setup 10.7.0.1/24 &\n"
                     "  nc 10.7.0.2 7\n",
                     argv[0], argv[0]);
        return 2;
    }
    const char* setup = argc == 6 && std::strcmp(argv[4], "--setup") == 0 ? argv[5] : nullptr;
    const auto address = example::parse_ipv4(argv[2]);
    const int port = std::atoi(argv[3]);
    if (!address || port <= 0 || port > 65535) return 2;
    auto tun = example::open_tun(argv[1], setup);
    if (!tun) return 1;

    static const tcpcore::config cfg;  // Linux's defaults; it must outlive the endpoint
    const auto checked = example::check_config(cfg);
    if (!checked) return 1;
    example::tun_endpoint ep(*checked, {.io = tcpcore::tun_io{&*tun}});
    const auto listener = ep.listen({*address, static_cast<std::uint16_t>(port)});
    if (!listener) return 1;
    example::echo_service service(ep, *listener);

    asio::io_context io;
    // Asio owns a duplicate of the descriptor, so each side closes its own.
    asio::posix::stream_descriptor device(io, ::dup(tun->fd()));
    asio::steady_timer timer(io);

    // After anything ran: report, then wake for the next deadline.
    std::function<void()> rearm = [&] {
        service.handle_events();
        const tcpcore::time_point next = ep.next_deadline();
        if (next == tcpcore::never) {
            timer.cancel();
            return;
        }
        // steady_clock_source counts from the steady clock's epoch.
        timer.expires_at(std::chrono::steady_clock::time_point(
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(next.time_since_epoch())));
        timer.async_wait([&](const asio::error_code& ec) {
            if (ec) return;  // cancelled or re-armed
            ep.poll();
            rearm();
        });
    };
    std::function<void()> wait_for_datagrams = [&] {
        device.async_wait(asio::posix::stream_descriptor::wait_read, [&](const asio::error_code& ec) {
            if (ec) return;
            tun->receive([&](std::span<const std::uint8_t> d) { ep.receive_datagram(d); });
            rearm();
            wait_for_datagrams();
        });
    };

    std::printf("asio echo server on %s:%d (TUN %s)\n", argv[2], port, argv[1]);
    std::fflush(stdout);
    wait_for_datagrams();
    rearm();
    io.run();
}
