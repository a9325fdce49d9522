#pragma once
// The test side of interop: a private network namespace with a TUN device in
// it, the Linux kernel's own TCP on ordinary sockets at 10.7.0.1, and tcpcore
// at 10.7.0.2 behind the TUN device. Nothing leaves the namespace.

#include "../support/byte_stream.hpp"

#include <tcpcore/host/endpoint.hpp>
#include <tcpcore/policies/pcap_tap.hpp>
#include <tcpcore/policies/tun.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

namespace tcpcore::interop {

using namespace std::chrono_literals;

inline const ip_address kernel_ip = ip_address::v4(10, 7, 0, 1);
inline const ip_address tcpcore_ip = ip_address::v4(10, 7, 0, 2);
inline constexpr const char* tun_name = "tcpc0";

// Runs a shell command inside the test's namespace; its output.
inline std::string shell(const std::string& cmd) {
    std::string out;
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
    return out;
}

using test::byte_stream;  // the loopback tests' stream, checked byte by byte

// ---- The kernel's side: blocking sockets --------------------------------------

inline sockaddr_in sockaddr_of(const ip_address& a, std::uint16_t port) {
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_port = htons(port);
    s.sin_addr.s_addr = htonl(a.v4_value());
    return s;
}

inline int kernel_listen(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in a = sockaddr_of(kernel_ip, port);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    return fd;
}

// Connects from the kernel to tcpcore; returns the socket or -1 with errno.
inline int kernel_connect(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in a = sockaddr_of(tcpcore_ip, port);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        const int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

inline void set_int(int fd, int level, int opt, int value) { ::setsockopt(fd, level, opt, &value, sizeof value); }

// Sends `bytes` of stream `s`; false on error (errno says which).
inline bool kernel_send_stream(int fd, const byte_stream& s, std::uint64_t bytes) {
    std::uint8_t buf[65536];
    for (std::uint64_t sent = 0; sent < bytes;) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, bytes - sent));
        s.fill(sent, std::span(buf, n));
        std::size_t off = 0;
        while (off < n) {
            const ssize_t w = ::send(fd, buf + off, n - off, MSG_NOSIGNAL);
            if (w < 0) return false;
            off += static_cast<std::size_t>(w);
        }
        sent += n;
    }
    return true;
}

// Reads to end of stream, checking against `s`; returns bytes read, or -1.
inline std::int64_t kernel_receive_stream(int fd, const byte_stream& s, bool& mismatch) {
    std::uint8_t buf[65536];
    std::uint64_t got = 0;
    for (;;) {
        const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r < 0) return -1;
        if (r == 0) return static_cast<std::int64_t>(got);
        for (ssize_t k = 0; k < r; ++k)
            if (buf[k] != s.at(got + static_cast<std::uint64_t>(k))) mismatch = true;
        got += static_cast<std::uint64_t>(r);
    }
}

// ---- tcpcore's side: an endpoint behind the TUN device -----------------------

struct interop_policies : default_policies {
    using io = pcap_tap<tun_io>;
};
using interop_endpoint = endpoint<interop_policies>;

inline config interop_config() {
    config c;
    c.send_buffer = c.receive_buffer = 1024 * 1024;
    return c;
}

// The namespace's network: the TUN device, addressed on the kernel's side.
struct tun_network {
    tun_device tun;
    tun_network() {
        auto t = tun_device::open(tun_name);
        REQUIRE(t.has_value());
        tun = std::move(*t);
        shell(std::string("sysctl -qw net.ipv6.conf.") + tun_name + ".disable_ipv6=1");
        const std::string out = shell(std::string("ip addr add 10.7.0.1/24 dev ") + tun_name + " && ip link set " +
                                      tun_name + " up && ip link set lo up");
        INFO(out);
        REQUIRE(out.empty());
    }
};

struct tcpcore_host {
    config cfg;
    tun_network net;
    pcap_file* capture;
    interop_endpoint ep;

    explicit tcpcore_host(const config& c = interop_config(), pcap_file* cap = nullptr)
        : cfg(c), capture(cap), ep(check(cfg).value(), {.io = pcap_tap<tun_io>{tun_io{&net.tun}, cap}}) {}

    // Runs the endpoint until done() (called after every round) or timeout.
    bool run(const std::function<bool()>& done, std::chrono::steady_clock::duration timeout) {
        const auto give_up = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (done()) return true;
            if (std::chrono::steady_clock::now() > give_up) return false;
            const time_point next = ep.next_deadline();
            const time_point now = ep.clock().now();
            int wait_ms = 10;
            if (next <= now) wait_ms = 0;
            else if (next - now < 10ms) wait_ms = static_cast<int>((next - now).count() / 1000);
            pollfd p{net.tun.fd(), POLLIN, 0};
            ::poll(&p, 1, wait_ms);
            net.tun.receive([&](std::span<const std::uint8_t> d) {
                ep.io().incoming(d);
                ep.receive_datagram(d);
            });
            ep.poll();
        }
    }
};

}  // namespace tcpcore::interop
