// tcpcore against the Linux kernel's own TCP. Every test process enters a
// network namespace of its own (so nothing it does is seen outside), makes a
// TUN device there, and talks to the kernel's sockets through it.
//
// The namespace is entered by interop_main.cpp before any test runs.

#include "kernel_peer.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cstring>
#include <string_view>
#include <vector>

using namespace tcpcore;
using namespace tcpcore::interop;

namespace {
std::string read_all(interop_endpoint& ep, connection_handle h) {
    std::string s;
    std::uint8_t buf[4096];
    for (std::size_t n; (n = ep.recv(h, buf).value_or(0)) != 0;) s.append(reinterpret_cast<char*>(buf), n);
    return s;
}

bool write_all(interop_endpoint& ep, connection_handle h, std::string_view s, std::size_t& off) {
    while (off < s.size()) {
        const auto r = ep.send(h, std::span(reinterpret_cast<const std::uint8_t*>(s.data()) + off, s.size() - off));
        if (!r || *r == 0) return off == s.size();
        off += *r;
    }
    return true;
}

// Accepts one connection on `l`, running the host until it comes.
connection_handle accept_one(tcpcore_host& h, listener_handle l) {
    std::optional<connection_handle> c;
    REQUIRE(h.run(
        [&] {
            if (const auto r = h.ep.accept(l)) c = *r;
            return c.has_value();
        },
        5s));
    return *c;
}

// Connects and runs the host until the handshake is over. A kernel that
// closes or resets at once may have done so before anyone looks, so any state
// past SYN-SENT will do, as long as the handshake itself succeeded.
connection_handle connect_to_kernel(tcpcore_host& h, std::uint16_t port) {
    const auto c = h.ep.connect({kernel_ip, port}, {tcpcore_ip, 0});
    REQUIRE(c.has_value());
    REQUIRE(h.run([&] { return h.ep.get(*c).value()->state() != tcp_state::syn_sent; }, 5s));
    const auto* conn = h.ep.get(*c).value();
    INFO("state " << to_string(conn->state()) << ", error " << conn->error().message());
    REQUIRE((conn->state() != tcp_state::closed || conn->error() == std::errc::connection_reset));
    return *c;
}

std::string kernel_states(std::uint16_t port) {
    return shell("ss -Htan '( sport = :" + std::to_string(port) + " or dport = :" + std::to_string(port) + " )'");
}
}  // namespace

TEST_CASE("interop: kernel client -> tcpcore server, echo") {
    tcpcore_host h;
    const auto l = h.ep.listen({tcpcore_ip, 7});
    REQUIRE(l.has_value());
    std::atomic<bool> done{false};
    std::string echoed;
    std::thread kernel([&] {
        const int fd = kernel_connect(7);
        REQUIRE(fd >= 0);
        const char msg[] = "hello from the kernel";
        REQUIRE(::send(fd, msg, sizeof msg - 1, 0) == static_cast<ssize_t>(sizeof msg - 1));
        char buf[64];
        while (echoed.size() < sizeof msg - 1) {
            const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
            if (r <= 0) break;
            echoed.append(buf, static_cast<std::size_t>(r));
        }
        ::close(fd);
        done = true;
    });
    const auto c = accept_one(h, *l);
    std::string got;
    std::size_t off = 0;
    REQUIRE(h.run(
        [&] {
            got += read_all(h.ep, c);
            if (got.size() == 21 && off == 0) write_all(h.ep, c, got, off);
            return done.load();
        },
        10s));
    kernel.join();
    CHECK(got == "hello from the kernel");
    CHECK(echoed == "hello from the kernel");
    const auto* conn = h.ep.get(c).value();
    // The kernel offered everything, so everything was negotiated.
    CHECK(conn->info().sack);
    CHECK(conn->info().timestamps);
    CHECK(conn->info().send_window_scale > 0);
}

TEST_CASE("interop: tcpcore client -> kernel server, echo") {
    tcpcore_host h;
    const int lfd = kernel_listen(8007);
    std::thread kernel([&] {
        const int fd = ::accept(lfd, nullptr, nullptr);
        char buf[256];
        const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r > 0) ::send(fd, buf, static_cast<std::size_t>(r), 0);
        ::shutdown(fd, SHUT_WR);
        while (::recv(fd, buf, sizeof buf, 0) > 0) {}
        ::close(fd);
    });
    const auto c = connect_to_kernel(h, 8007);
    std::size_t off = 0;
    write_all(h.ep, c, "hello from tcpcore", off);
    std::string got;
    REQUIRE(h.run([&] { return (got += read_all(h.ep, c)), h.ep.get(c).value()->eof(); }, 10s));
    CHECK(got == "hello from tcpcore");
    h.ep.close(c);
    REQUIRE(h.run([&] { return h.ep.connection_count() == 0; }, 10s));
    kernel.join();
    ::close(lfd);
}

namespace {
// 64 MiB each way at once: the kernel writes and reads on two threads,
// tcpcore writes and reads in its loop; both check every byte as it comes.
struct bulk_result {
    double seconds = 0;
    std::uint64_t to_tcpcore = 0, to_kernel = 0;
    bool mismatch = false;
};

bulk_result bulk(tcpcore_host& h, std::uint64_t bytes) {
    const auto l = h.ep.listen({tcpcore_ip, 5001});
    REQUIRE(l.has_value());
    const byte_stream from_kernel{11}, from_tcpcore{22};
    bulk_result r;
    std::atomic<bool> kernel_done{false};
    std::atomic<std::int64_t> kernel_got{-1};
    bool kernel_mismatch = false;
    const auto start = std::chrono::steady_clock::now();
    std::thread kernel([&] {
        const int fd = kernel_connect(5001);
        REQUIRE(fd >= 0);
        std::thread writer([&] {
            kernel_send_stream(fd, from_kernel, bytes);
            ::shutdown(fd, SHUT_WR);
        });
        kernel_got = kernel_receive_stream(fd, from_tcpcore, kernel_mismatch);
        writer.join();
        ::close(fd);
        kernel_done = true;
    });
    const auto c = accept_one(h, *l);
    std::uint64_t sent = 0, got = 0;
    bool shut = false;
    std::uint8_t buf[65536];
    const bool ok = h.run(
        [&] {
            for (std::size_t n; (n = h.ep.recv(c, buf).value_or(0)) != 0;) {
                for (std::size_t k = 0; k < n; ++k)
                    if (buf[k] != from_kernel.at(got + k)) r.mismatch = true;
                got += n;
            }
            while (sent < bytes) {
                const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, bytes - sent));
                from_tcpcore.fill(sent, std::span(buf, n));
                const auto w = h.ep.send(c, std::span<const std::uint8_t>(buf, n));
                if (!w || *w == 0) break;
                sent += *w;
            }
            if (sent == bytes && !shut) {
                h.ep.shutdown(c);
                shut = true;
            }
            return kernel_done.load() && h.ep.get(c).value()->eof();
        },
        300s);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    kernel.join();
    REQUIRE(ok);
    r.to_tcpcore = got;
    r.to_kernel = static_cast<std::uint64_t>(kernel_got.load());
    r.mismatch = r.mismatch || kernel_mismatch;
    h.ep.close(c);
    return r;
}
}  // namespace

TEST_CASE("interop: 64 MiB in each direction with the kernel, byte-exact") {
    tcpcore_host h;
    constexpr std::uint64_t bytes = 64ull << 20;
    const auto r = bulk(h, bytes);
    CHECK(r.to_tcpcore == bytes);
    CHECK(r.to_kernel == bytes);
    CHECK(!r.mismatch);
    WARN("64 MiB each way, no loss: " << r.seconds << " s, " << 2 * 64 / r.seconds << " MiB/s in both directions together");
}

TEST_CASE("interop: 64 MiB in each direction through 2% loss and reordering, byte-exact") {
    tcpcore_host h;
    h.net.tun.impair({0.02, 0.01, 42});
    constexpr std::uint64_t bytes = 64ull << 20;
    const auto r = bulk(h, bytes);
    CHECK(r.to_tcpcore == bytes);
    CHECK(r.to_kernel == bytes);
    CHECK(!r.mismatch);
    const auto& st = h.net.tun.stats();
    CHECK(st.dropped_in + st.dropped_out > 1000);
    CHECK(st.reordered > 500);
    WARN("64 MiB each way, 2% loss and 1% reordering: " << r.seconds << " s, " << 2 * 64 / r.seconds
                                                         << " MiB/s together; dropped " << st.dropped_in + st.dropped_out
                                                         << ", reordered " << st.reordered);
}

TEST_CASE("interop: tcpcore closes first: tcpcore keeps TIME-WAIT, the kernel's socket ends CLOSED") {
    tcpcore_host h;
    const int lfd = kernel_listen(8101);
    std::atomic<bool> kernel_closed{false};
    std::thread kernel([&] {
        const int fd = ::accept(lfd, nullptr, nullptr);
        char buf[16];
        while (::recv(fd, buf, sizeof buf, 0) > 0) {}  // until tcpcore's FIN
        ::close(fd);
        kernel_closed = true;
    });
    const auto c = connect_to_kernel(h, 8101);
    h.ep.close(c);
    REQUIRE(h.run([&] { return kernel_closed.load() && h.ep.connection_count() == 0; }, 10s));
    REQUIRE(h.run([&] { return h.ep.time_wait_count() == 1; }, 2s));
    kernel.join();
    ::close(lfd);
    const std::string states = kernel_states(8101);
    INFO(states);
    CHECK(states.find("TIME-WAIT") == std::string::npos);
    CHECK(states.find("ESTAB") == std::string::npos);
}

TEST_CASE("interop: the kernel closes first: its socket is in TIME-WAIT, tcpcore's is gone") {
    tcpcore_host h;
    const int lfd = kernel_listen(8102);
    std::thread kernel([&] {
        const int fd = ::accept(lfd, nullptr, nullptr);
        ::close(fd);
    });
    const auto c = connect_to_kernel(h, 8102);
    REQUIRE(h.run([&] { return h.ep.get(c).value()->eof(); }, 10s));
    h.ep.close(c);
    REQUIRE(h.run([&] { return h.ep.connection_count() == 0; }, 10s));
    kernel.join();
    ::close(lfd);
    CHECK(h.ep.time_wait_count() == 0);
    const std::string states = kernel_states(8102);
    INFO(states);
    CHECK(states.find("TIME-WAIT") != std::string::npos);
}

TEST_CASE("interop: simultaneous close: both sides pass CLOSING into TIME-WAIT") {
    tcpcore_host h;
    const int lfd = kernel_listen(8103);
    std::atomic<int> kfd{-1};
    std::thread kernel([&] { kfd = ::accept(lfd, nullptr, nullptr); });
    const auto c = connect_to_kernel(h, 8103);
    kernel.join();
    REQUIRE(kfd >= 0);
    // The kernel's FIN waits in the TUN device until tcpcore reads it, and by
    // then tcpcore's FIN is on its way: the two cross.
    ::close(kfd);
    h.ep.close(c);
    REQUIRE(h.run([&] { return h.ep.connection_count() == 0; }, 10s));
    ::close(lfd);
    const std::string states = kernel_states(8103);
    INFO(states);
    CHECK(h.ep.time_wait_count() == 1);
    CHECK(states.find("TIME-WAIT") != std::string::npos);
}

TEST_CASE("interop: tcpcore aborts: the kernel sees ECONNRESET") {
    tcpcore_host h;
    const int lfd = kernel_listen(8104);
    std::atomic<int> kernel_errno{0};
    std::atomic<bool> done{false};
    std::thread kernel([&] {
        const int fd = ::accept(lfd, nullptr, nullptr);
        char buf[16];
        const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        kernel_errno = r < 0 ? errno : 0;
        ::close(fd);
        done = true;
    });
    const auto c = connect_to_kernel(h, 8104);
    h.ep.abort(c);
    REQUIRE(h.run([&] { return done.load(); }, 10s));
    kernel.join();
    ::close(lfd);
    CHECK(kernel_errno.load() == ECONNRESET);
}

TEST_CASE("interop: the kernel aborts (SO_LINGER 0): tcpcore reports connection_reset") {
    tcpcore_host h;
    const int lfd = kernel_listen(8105);
    std::thread kernel([&] {
        const int fd = ::accept(lfd, nullptr, nullptr);
        const linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd);  // a RST, not a FIN
    });
    // The RST may follow the handshake so closely that ESTABLISHED is over
    // before anyone looks: the events say what happened, in order.
    const auto c = h.ep.connect({kernel_ip, 8105}, {tcpcore_ip, 0});
    REQUIRE(c.has_value());
    bool connected = false;
    std::error_code error;
    REQUIRE(h.run(
        [&] {
            while (auto e = h.ep.next_event()) {
                if (e->connection != *c) continue;
                if (e->events.has(connection_events::connected)) connected = true;
                if (e->events.has(connection_events::closed)) error = e->error;
            }
            return static_cast<bool>(error);
        },
        10s));
    kernel.join();
    ::close(lfd);
    CHECK(connected);
    CHECK(error == std::errc::connection_reset);
}

TEST_CASE("interop: the kernel's keepalive probes are answered by tcpcore") {
    pcap_file capture("interop_kernel_keepalive.pcap");
    tcpcore_host h(interop_config(), &capture);
    const auto l = h.ep.listen({tcpcore_ip, 8106});
    std::atomic<int> kfd{-1};
    std::thread kernel([&] {
        const int fd = kernel_connect(8106);
        set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
        set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 1);
        set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 1);
        set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 2);
        kfd = fd;
    });
    const auto c = accept_one(h, *l);
    kernel.join();
    // Idle for 4.5 s: the kernel probes at 1, 2, 3, 4 s after the last
    // segment; with 2 unanswered probes it would have given up at 3 s.
    const auto until = std::chrono::steady_clock::now() + 4500ms;
    h.run([&] { return std::chrono::steady_clock::now() > until; }, 10s);
    char b;
    const ssize_t r = ::recv(kfd, &b, 1, MSG_DONTWAIT);
    CHECK((r < 0 && errno == EAGAIN));  // still connected, nothing to read
    CHECK(h.ep.get(c).value()->state() == tcp_state::established);
    ::close(kfd);
    capture.flush();
    const std::string probes =
        shell("tshark -n -r interop_kernel_keepalive.pcap -Y 'tcp.analysis.keep_alive && ip.src == 10.7.0.1' | wc -l");
    INFO("kernel keep-alives in the capture: " << probes);
    CHECK(std::stoi(probes) >= 3);
}

TEST_CASE("interop: tcpcore's keepalive probes are answered by the kernel, a vanished peer times out on time") {
    config cfg = interop_config();
    cfg.keepalive = true;
    cfg.keepalive_idle = 1s;
    cfg.keepalive_interval = 1s;
    cfg.keepalive_probes = 3;
    pcap_file capture("interop_tcpcore_keepalive.pcap");
    tcpcore_host h(cfg, &capture);
    const int lfd = kernel_listen(8107);
    std::atomic<int> kfd{-1};
    std::thread kernel([&] { kfd = ::accept(lfd, nullptr, nullptr); });
    const auto c = connect_to_kernel(h, 8107);
    kernel.join();
    // 3.5 s idle: probes at 1, 2, 3 s, each answered: still established.
    auto until = std::chrono::steady_clock::now() + 3500ms;
    h.run([&] { return std::chrono::steady_clock::now() > until; }, 10s);
    CHECK(h.ep.get(c).value()->state() == tcp_state::established);
    // The kernel vanishes: nothing of it arrives any more.
    h.net.tun.impair({1.0, 0.0, 7});
    const auto vanished = std::chrono::steady_clock::now();
    std::error_code error;
    REQUIRE(h.run(
        [&] {
            while (auto e = h.ep.next_event())
                if (e->connection == c && e->events.has(connection_events::closed)) error = e->error;
            return static_cast<bool>(error);
        },
        15s));
    const double after = std::chrono::duration<double>(std::chrono::steady_clock::now() - vanished).count();
    CHECK(error == std::errc::timed_out);
    // The last answer came just before the impairment; the next probe is due
    // within a second of it, then 3 probes 1 s apart, then the give-up: at
    // most idle + probes x interval = 4 s after the last answer.
    CHECK(after <= 4.3);
    CHECK(after >= 2.5);
    ::close(kfd);
    ::close(lfd);
    capture.flush();
    const std::string answered = shell(
        "tshark -n -r interop_tcpcore_keepalive.pcap -Y 'tcp.analysis.keep_alive && ip.src == 10.7.0.2' | wc -l");
    INFO("tcpcore keep-alives in the capture: " << answered);
    CHECK(std::stoi(answered) >= 3);
}

TEST_CASE("interop: window scaling, SACK and timestamps negotiated with the kernel, and SACK used under loss") {
    pcap_file capture("interop_sack.pcap");
    tcpcore_host h(interop_config(), &capture);
    h.net.tun.impair({0.03, 0.0, 9});
    const auto r = bulk(h, 4ull << 20);
    CHECK(r.to_tcpcore == 4ull << 20);
    CHECK(r.to_kernel == 4ull << 20);
    CHECK(!r.mismatch);
    capture.flush();
    // SACK blocks both ways, timestamps everywhere, scaled windows.
    const std::string kernel_sacks = shell("tshark -n -r interop_sack.pcap -Y 'tcp.options.sack_le && ip.src == 10.7.0.1' | wc -l");
    const std::string our_sacks = shell("tshark -n -r interop_sack.pcap -Y 'tcp.options.sack_le && ip.src == 10.7.0.2' | wc -l");
    // (A RST for no connection carries no options, as Linux's does not.)
    const std::string no_ts =
        shell("tshark -n -r interop_sack.pcap -Y 'tcp && !tcp.flags.reset && !tcp.options.timestamp.tsval' | wc -l");
    INFO("kernel SACKs " << kernel_sacks << ", tcpcore SACKs " << our_sacks << ", segments without TS " << no_ts);
    CHECK(std::stoi(kernel_sacks) > 0);
    CHECK(std::stoi(our_sacks) > 0);
    CHECK(std::stoi(no_ts) == 0);
}

TEST_CASE("interop: tshark finds nothing wrong in a capture without loss") {
    pcap_file capture("interop_clean.pcap");
    config cfg = interop_config();
    cfg.keepalive = true;
    cfg.keepalive_idle = 1s;
    cfg.keepalive_interval = 1s;
    tcpcore_host h(cfg, &capture);
    const auto r = bulk(h, 2ull << 20);
    CHECK(r.to_kernel == 2ull << 20);
    // Some idle time for keepalive probes on a fresh connection.
    const int lfd = kernel_listen(8108);
    std::atomic<int> kfd{-1};
    std::thread kernel([&] { kfd = ::accept(lfd, nullptr, nullptr); });
    const auto c = connect_to_kernel(h, 8108);
    kernel.join();
    const auto until = std::chrono::steady_clock::now() + 2500ms;
    h.run([&] { return std::chrono::steady_clock::now() > until; }, 10s);
    h.ep.close(c);
    ::close(kfd);
    h.run([&] { return h.ep.connection_count() == 0; }, 5s);
    ::close(lfd);
    capture.flush();
    auto count = [](const char* filter) {
        return std::stoi(shell(std::string("tshark -n -r interop_clean.pcap -o tcp.check_checksum:TRUE "
                                           "-o ip.check_checksum:TRUE -Y '") +
                               filter + "' | wc -l"));
    };
    CHECK(count("tcp") > 1000);
    CHECK(count("_ws.malformed") == 0);
    // 0: bad. Linux writes a TCP checksum that computes to zero as 0xffff,
    // the other zero of one's complement, which receivers accept (RFC 1624)
    // but tshark calls bad: about one kernel segment in 65,536. Ours must
    // be right to the bit.
    CHECK(count("ip.checksum.status == 0 || (tcp.checksum.status == 0 && "
                "!(ip.src == 10.7.0.1 && tcp.checksum == 0xffff))") == 0);
    CHECK(count("tcp.analysis.ack_lost_segment") == 0);                        // "ACKed unseen segment"
    CHECK(count("tcp.analysis.lost_segment") == 0);                            // "previous segment not captured"
    CHECK(count("tcp.analysis.keep_alive && ip.src == 10.7.0.2") >= 1);      // our probes read as keep-alives
}

// ---- The examples, run as a user would run them ---------------------------------

#if defined(TCPCORE_EXAMPLE_DIR)
namespace {
// Starts an example in the background (in this namespace); stops it on destruction.
struct background_program {
    pid_t pid = -1;
    explicit background_program(std::vector<std::string> args) {
        pid = ::fork();
        if (pid == 0) {
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            std::_Exit(127);
        }
    }
    ~background_program() {
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

std::string example(const char* name) { return std::string(TCPCORE_EXAMPLE_DIR) + "/" + name; }

// Waits until the example has set up its TUN device's kernel side.
bool wait_for_address(const char* device, const char* address) {
    for (int i = 0; i < 100; ++i) {
        if (shell(std::string("ip -4 addr show dev ") + device + " 2>/dev/null").find(address) != std::string::npos)
            return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

// Connects from the kernel to host:port, sends msg, returns the echo.
std::string kernel_echo_exchange(const char* host, std::uint16_t port, const std::string& msg) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, host, &a.sin_addr);
    std::string echo;
    for (int attempt = 0; attempt < 50; ++attempt) {
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
        std::this_thread::sleep_for(50ms);
    }
    ::send(fd, msg.data(), msg.size(), 0);
    ::shutdown(fd, SHUT_WR);
    char buf[256];
    for (ssize_t r; (r = ::recv(fd, buf, sizeof buf, 0)) > 0;) echo.append(buf, static_cast<std::size_t>(r));
    ::close(fd);
    return echo;
}

// A kernel server on 0.0.0.0:port that answers one connection with `reply(request)`.
std::thread kernel_server_once(std::uint16_t port, std::function<std::string(const std::string&)> reply,
                               std::atomic<bool>& ready) {
    return std::thread([port, reply = std::move(reply), &ready] {
        const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(lfd, 4);
        ready = true;
        const int fd = ::accept(lfd, nullptr, nullptr);
        std::string request;
        char buf[4096];
        for (ssize_t r; (r = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
            request.append(buf, static_cast<std::size_t>(r));
            if (request.find("\r\n\r\n") != std::string::npos || request == "hello tcpcore") break;
        }
        const std::string out = reply(request);
        ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        ::close(fd);
        ::close(lfd);
    });
}
}  // namespace

TEST_CASE("examples: tcpcore_echo_server answers a kernel client") {
    background_program server({example("tcpcore_echo_server"), "tcpe0", "10.8.0.2", "7", "--setup", "10.8.0.1/24"});
    REQUIRE(wait_for_address("tcpe0", "10.8.0.1"));
    CHECK(kernel_echo_exchange("10.8.0.2", 7, "echo me, please") == "echo me, please");
}

TEST_CASE("examples: tcpcore_asio_echo_server answers a kernel client") {
    background_program server(
        {example("tcpcore_asio_echo_server"), "tcpe1", "10.8.1.2", "7", "--setup", "10.8.1.1/24"});
    REQUIRE(wait_for_address("tcpe1", "10.8.1.1"));
    CHECK(kernel_echo_exchange("10.8.1.2", 7, "asio runs tcpcore") == "asio runs tcpcore");
}

TEST_CASE("examples: tcpcore_echo_client talks to a kernel echo server") {
    std::atomic<bool> ready{false};
    auto server = kernel_server_once(7, [](const std::string& r) { return r; }, ready);
    while (!ready) std::this_thread::sleep_for(5ms);
    const std::string out = shell("{ " + example("tcpcore_echo_client") +
                                  " tcpe2 10.8.2.2 10.8.2.1 7 'hello tcpcore' --setup 10.8.2.1/24; } 2>&1; echo status=$?");
    server.join();
    INFO(out);
    CHECK(out.find("hello tcpcore") != std::string::npos);
    CHECK(out.find("status=0") != std::string::npos);
}

TEST_CASE("examples: tcpcore_http_get fetches a page from a kernel web server") {
    std::atomic<bool> ready{false};
    std::string request_seen;
    auto server = kernel_server_once(
        8000,
        [&](const std::string& r) {
            request_seen = r;
            return std::string("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n") + std::string(100000, 'w');
        },
        ready);
    while (!ready) std::this_thread::sleep_for(5ms);
    const std::string out = shell("{ " + example("tcpcore_http_get") +
                                  " tcpe3 10.8.3.2 http://10.8.3.1:8000/page.txt page.txt --setup 10.8.3.1/24; } 2>&1; "
                                  "echo status=$?");
    server.join();
    INFO(out);
    CHECK(out.find("HTTP/1.0 200 OK") != std::string::npos);
    CHECK(out.find("status=0") != std::string::npos);
    CHECK(request_seen.rfind("GET /page.txt HTTP/1.0\r\n", 0) == 0);
    CHECK(shell("wc -c < page.txt").find("100000") != std::string::npos);
}
#endif
