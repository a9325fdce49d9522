#pragma once
// What the TUN examples share: opening and (optionally) addressing the TUN
// device, parsing addresses, and the event loop that moves datagrams between
// the device and a tcpcore endpoint.

#include <tcpcore/host/endpoint.hpp>
#include <tcpcore/policies/tun.hpp>

#include <arpa/inet.h>
#include <poll.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace example {

struct tun_policies : tcpcore::default_policies {
    using io = tcpcore::tun_io;
};
using tun_endpoint = tcpcore::endpoint<tun_policies>;

// The configuration as an endpoint takes it, or why not (on stderr).
inline std::optional<tcpcore::checked_config> check_config(const tcpcore::config& cfg) {
    const auto checked = tcpcore::check(cfg);
    if (checked) return *checked;
    const std::string_view field = to_string(checked.error().field), why = checked.error().message;
    std::fprintf(stderr, "configuration: %.*s: %.*s\n", static_cast<int>(field.size()), field.data(),
                 static_cast<int>(why.size()), why.data());
    return std::nullopt;
}

inline std::optional<tcpcore::ip_address> parse_ipv4(const char* text) {
    in_addr a{};
    if (inet_pton(AF_INET, text, &a) != 1) return std::nullopt;
    return tcpcore::ip_address::v4(ntohl(a.s_addr));
}

inline std::string to_text(const tcpcore::ip_address& a) {
    char buf[46];
    tcpcore::format_address(a, buf);
    return buf;
}

// Opens the TUN device; with `kernel_side` ("10.7.0.1/24"), also gives the
// kernel's end of it that address and brings it up, as
// `ip addr add <kernel_side> dev <name> && ip link set <name> up` would.
inline std::optional<tcpcore::tun_device> open_tun(const char* name, const char* kernel_side) {
    auto tun = tcpcore::tun_device::open(name);
    if (!tun) {
        std::fprintf(stderr, "cannot open TUN device %s: %s (root or CAP_NET_ADMIN needed)\n", name,
                     tun.error().message().c_str());
        return std::nullopt;
    }
    if (kernel_side != nullptr) {
        const std::string cmd = std::string("ip addr add ") + kernel_side + " dev " + name + " && ip link set " +
                                name + " up";
        if (std::system(cmd.c_str()) != 0) {
            std::fprintf(stderr, "could not configure %s: %s\n", name, cmd.c_str());
            return std::nullopt;
        }
    }
    return std::move(*tun);
}

// Runs the endpoint on the TUN device until `step` returns false: waits for
// a datagram or the endpoint's next deadline, whichever comes first.
template <class Step>
void run(tcpcore::tun_device& tun, tun_endpoint& ep, Step&& step) {
    for (;;) {
        if (!step()) return;
        const tcpcore::time_point next = ep.next_deadline();
        const tcpcore::time_point now = ep.clock().now();
        int wait_ms = 1000;
        if (next <= now) wait_ms = 0;
        else if (next != tcpcore::never && next - now < std::chrono::seconds{1})
            wait_ms = static_cast<int>((next - now).count() / 1000) + 1;
        pollfd p{tun.fd(), POLLIN, 0};
        ::poll(&p, 1, wait_ms);
        tun.receive([&](std::span<const std::uint8_t> d) { ep.receive_datagram(d); });
        ep.poll();
    }
}

}  // namespace example
