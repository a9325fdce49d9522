// The socket layer (socket/socket_layer.hpp and the files it includes):
// Linux's errno in Linux's cases, data between two hosts over the in-memory
// network in virtual time, the options and their ranges, poll and epoll,
// blocking calls through a Waiter that runs the network, and the numbers of
// tcpcore::sock against the system's headers (at the end of the file).
//
// Every expectation here is what Linux answers (the errno cases, option
// ranges and poll/epoll answers were checked against Linux 6.18 over
// loopback), with Linux's rule written beside the less obvious ones.

#include "../support/network.hpp"

#include <tcpcore/host/endpoint.hpp>
#include <tcpcore/socket.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

using namespace tcpcore;
using namespace std::chrono_literals;
namespace s = tcpcore::sock;

namespace {

struct net_policies : default_policies {
    using clock = manual_clock;
    using io = testing::network_io;
    using isn = sequential_isn;
};
struct cubic_policies : net_policies {
    using congestion_control = cubic;
};

const ip_address client_ip = ip_address::v4(10, 0, 0, 1);
const ip_address server_ip = ip_address::v4(10, 0, 0, 2);

// A Waiter for virtual time: each wait runs the network to its next event
// or to the deadline, whichever comes first, and runs the actions the test
// scheduled (a peer's send at a given time) when their time comes.
struct virtual_waiter {
    testing::memory_network* net = nullptr;
    struct action {
        time_point when;
        std::function<void()> run;
    };
    std::vector<action> actions;
    int waits = 0;

    bool wait_until(time_point deadline) {
        ++waits;
        if (net == nullptr || waits > 1'000'000) return false;
        run_due();
        time_point limit = deadline;
        for (const auto& a : actions) limit = std::min(limit, a.when);
        if (limit == never && net->next_event() == never) return false;  // nothing can ever happen
        (void)net->step(limit);
        run_due();
        return true;
    }
    void run_due() {
        for (std::size_t i = 0; i < actions.size();) {
            if (actions[i].when > net->now()) {
                ++i;
                continue;
            }
            auto run = std::move(actions[i].run);
            actions.erase(actions.begin() + static_cast<std::ptrdiff_t>(i));
            run();
            i = 0;
        }
    }
};
static_assert(socket_waiter<virtual_waiter>);

config base_config() { return config{}; }

socket_layer_options with_source(socket_layer_options o, const ip_address& a) {
    o.source_v4 = a;
    return o;
}

template <class Waiter>
Waiter make_waiter(testing::memory_network& net) {
    if constexpr (std::is_same_v<Waiter, virtual_waiter>) return virtual_waiter{&net, {}, 0};
    else return Waiter{};
}

// Two hosts, each a socket layer, joined by the in-memory network (1 ms one
// way, nothing lost).
template <class Waiter = no_waiting, class P = net_policies>
struct hosts {
    using layer_type = socket_layer<P, Waiter>;
    config cfg = base_config();
    test::memory_network net;
    layer_type client;
    layer_type server;
    explicit hosts(socket_layer_options copt = {}, socket_layer_options sopt = {})
        : client(*check(cfg), {}, with_source(copt, client_ip), make_waiter<Waiter>(net)),
          server(*check(cfg), {}, with_source(sopt, server_ip), make_waiter<Waiter>(net)) {
        net.attach(client.endpoint(), client_ip);
        net.attach(server.endpoint(), server_ip);
    }
    // Runs the network until `done` (which should call into a layer, so that
    // it syncs), for at most `within` of virtual time.
    template <class Done>
    bool run(Done&& done, duration within = 10s) {
        return net.run_until(std::forward<Done>(done), net.now() + within);
    }
    void run_for(duration d) { (void)net.run_until([] { return false; }, net.now() + d); }
};

// One layer on its own, on no network (what it sends goes nowhere).
template <class P = net_policies>
struct lone {
    config cfg = base_config();
    socket_layer<P> layer;
    explicit lone(socket_layer_options o = {}) : layer(*check(cfg), {}, with_source(o, client_ip)) {}
};

// errno of a call: 0 for success; a code of another category than generic
// shows as -1000 - value, so that it never equals an errno.
int code_of(const std::error_code& ec) {
    if (!ec) return 0;
    return ec.category() == std::generic_category() ? ec.value() : -1000 - ec.value();
}
template <class T>
int code_of(const expected<T, std::error_code>& r) {
    return r ? 0 : code_of(r.error());
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

template <class L>
std::error_code set_int(L& l, int fd, int level, int name, int v) {
    return l.setsockopt(fd, level, name, std::as_bytes(std::span(&v, 1)));
}
// The int value of an option, or -1000 - errno.
template <class L>
int get_int(L& l, int fd, int level, int name) {
    int v = -7;
    const auto r = l.getsockopt(fd, level, name, std::as_writable_bytes(std::span(&v, 1)));
    if (!r) return -1000 - r.error().value();
    REQUIRE(*r == sizeof(int));
    return v;
}

template <class L>
std::uint32_t revents(L& l, int fd, std::uint32_t events) {
    poll_request p{fd, events, 0};
    const auto n = l.poll(std::span(&p, 1), 0);
    REQUIRE(n.has_value());
    CHECK(*n == (p.revents != 0 ? 1 : 0));
    return p.revents;
}

template <class L>
std::size_t send_all(L& l, int fd, std::string_view data) {
    const auto r = l.send(fd, bytes_of(data));
    REQUIRE(r.has_value());
    return *r;
}

// recv into a buffer of `room` bytes: the bytes as a string (the call must succeed).
template <class L>
std::string recv_str(L& l, int fd, std::size_t room, int flags = 0) {
    std::string out(room, '\0');
    const auto r = l.recv(fd, std::span(reinterpret_cast<std::uint8_t*>(out.data()), out.size()), flags);
    REQUIRE(code_of(r) == 0);
    out.resize(r->bytes);
    return out;
}

template <class L>
int recv_errno(L& l, int fd, int flags = 0) {
    std::uint8_t buf[64];
    return code_of(l.recv(fd, buf, flags));
}

template <class L>
int ioctl_of(L& l, int fd, unsigned long request) {
    const auto r = l.ioctl(fd, request);
    REQUIRE(r.has_value());
    return *r;
}

struct connected {
    int client = -1;    // non-blocking
    int server = -1;    // accepted, non-blocking
    int listener = -1;
};

// A listener on the server's port 80 and one connection to it, both ends
// established and acknowledged.
template <class H>
connected establish(H& h, std::uint16_t port = 80, bool nonblocking = true) {
    connected c;
    c.listener = *h.server.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(h.server.bind(c.listener, {server_ip, port})) == 0);
    REQUIRE(code_of(h.server.listen(c.listener, 8)) == 0);
    c.client = *h.client.socket(s::af_inet, s::sock_stream | s::sock_nonblock, 0);
    REQUIRE(code_of(h.client.connect(c.client, {server_ip, port})) == EINPROGRESS);
    REQUIRE(h.run([&] { return revents(h.server, c.listener, s::pollin) == s::pollin; }));
    REQUIRE(code_of(h.client.connect(c.client, {server_ip, port})) == 0);
    const auto a = h.server.accept(c.listener, nullptr, nonblocking ? s::sock_nonblock : 0);
    REQUIRE(a.has_value());
    c.server = *a;
    if (!nonblocking) REQUIRE(code_of(h.client.fcntl(c.client, s::f_setfl, 0)) == 0);
    h.run_for(50ms);  // any delayed ACK goes out
    return c;
}

// The TCP segments of the datagrams in a trace that `from` sent.
std::vector<std::vector<std::uint8_t>> segments_from(const std::vector<std::vector<std::uint8_t>>& trace,
                                                     const ip_address& from) {
    std::vector<std::vector<std::uint8_t>> out;
    for (const auto& d : trace) {
        const auto ip = parse_ip_packet(d);
        REQUIRE(ip.has_value());
        if (ip->src == from) out.emplace_back(ip->payload.begin(), ip->payload.end());
    }
    return out;
}
tcp_segment_view view_of(const std::vector<std::uint8_t>& seg, const ip_address& src, const ip_address& dst) {
    const auto v = tcp_segment_view::parse(seg, src, dst);
    REQUIRE(v.has_value());
    return *v;
}

}  // namespace

// ============================================================================================
// Descriptors and errno
// ============================================================================================

TEST_CASE("socket layer: socket() numbers descriptors from 3 and refuses what is not TCP", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    CHECK(*L.socket(s::af_inet, s::sock_stream, 0) == 3);
    CHECK(*L.socket(s::af_inet6, s::sock_stream, s::ipproto_tcp) == 4);
    CHECK(code_of(L.socket(12345, s::sock_stream, 0)) == EAFNOSUPPORT);
    CHECK(code_of(L.socket(s::af_unspec, s::sock_stream, 0)) == EAFNOSUPPORT);
    // SOCK_DGRAM with TCP, as Linux; the layer has no UDP, so SOCK_DGRAM alone is the same.
    CHECK(code_of(L.socket(s::af_inet, s::sock_dgram, s::ipproto_tcp)) == EPROTONOSUPPORT);
    CHECK(code_of(L.socket(s::af_inet, s::sock_dgram, 0)) == EPROTONOSUPPORT);
    CHECK(code_of(L.socket(s::af_inet, s::sock_stream, 17)) == EPROTONOSUPPORT);  // IPPROTO_UDP
    CHECK(code_of(L.socket(s::af_inet, 5, 0)) == ESOCKTNOSUPPORT);                 // SOCK_SEQPACKET
    // The lowest free number is reused, as a process's descriptors.
    REQUIRE(code_of(L.close(3)) == 0);
    CHECK(*L.socket(s::af_inet, s::sock_stream, 0) == 3);
    CHECK(*L.socket(s::af_inet, s::sock_stream, 0) == 5);
}

TEST_CASE("socket layer: socket() with a type beyond SOCK_MAX is EINVAL", "[socket]") {
    // Linux __sys_socket()/__sock_create(): type < 0 || type >= SOCK_MAX (11) -> EINVAL.
    lone<> l;
    CHECK(code_of(l.layer.socket(s::af_inet, 77, 0)) == EINVAL);
}

TEST_CASE("socket layer: fcntl reports and sets O_NONBLOCK and FD_CLOEXEC", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int a = *L.socket(s::af_inet, s::sock_stream | s::sock_nonblock | s::sock_cloexec, 0);
    const int b = *L.socket(s::af_inet, s::sock_stream, 0);
    CHECK(*L.fcntl(a, s::f_getfl) == (s::o_rdwr | s::o_nonblock));
    CHECK(*L.fcntl(a, s::f_getfd) == s::fd_cloexec);
    CHECK(*L.fcntl(b, s::f_getfl) == s::o_rdwr);
    CHECK(*L.fcntl(b, s::f_getfd) == 0);
    REQUIRE(*L.fcntl(b, s::f_setfl, s::o_nonblock) == 0);
    CHECK(*L.fcntl(b, s::f_getfl) == (s::o_rdwr | s::o_nonblock));
    REQUIRE(*L.fcntl(a, s::f_setfd, 0) == 0);
    CHECK(*L.fcntl(a, s::f_getfd) == 0);
    CHECK(code_of(L.fcntl(a, 9999)) == EINVAL);
}

TEST_CASE("socket layer: every call on a descriptor that is not open is EBADF", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int open_one = *L.socket(s::af_inet, s::sock_stream, 0);  // 3
    REQUIRE(open_one == 3);
    std::uint8_t buf[8];
    int v = 1;
    for (const int fd : {-1, 0, 2, 4, 1000}) {
        CAPTURE(fd);
        CHECK(code_of(L.close(fd)) == EBADF);
        CHECK(code_of(L.fcntl(fd, s::f_getfl)) == EBADF);
        CHECK(code_of(L.bind(fd, {client_ip, 5000})) == EBADF);
        CHECK(code_of(L.listen(fd, 1)) == EBADF);
        CHECK(code_of(L.accept(fd)) == EBADF);
        CHECK(code_of(L.connect(fd, {server_ip, 80})) == EBADF);
        CHECK(code_of(L.send(fd, bytes_of("x"))) == EBADF);
        CHECK(code_of(L.recv(fd, buf)) == EBADF);
        CHECK(code_of(L.shutdown(fd, s::shut_wr)) == EBADF);
        CHECK(code_of(L.ioctl(fd, s::siocinq)) == EBADF);
        CHECK(code_of(L.setsockopt(fd, s::sol_socket, s::so_reuseaddr, std::as_bytes(std::span(&v, 1)))) == EBADF);
        CHECK(code_of(L.getsockopt(fd, s::sol_socket, s::so_type, std::as_writable_bytes(std::span(&v, 1)))) == EBADF);
        CHECK(code_of(L.getsockname(fd)) == EBADF);
        CHECK(code_of(L.getpeername(fd)) == EBADF);
        epoll_item out[1];
        CHECK(code_of(L.epoll_wait(fd, out, 0)) == EBADF);
    }
    // A closed descriptor is not open any more.
    REQUIRE(code_of(L.close(3)) == 0);
    CHECK(code_of(L.close(3)) == EBADF);
    CHECK(code_of(L.listen(3, 1)) == EBADF);
    // epoll_ctl: a bad set or a bad target.
    const int ep = *L.epoll_create1(0);
    const int sk = *L.socket(s::af_inet, s::sock_stream, 0);
    CHECK(code_of(L.epoll_ctl(ep, s::epoll_ctl_add, 1000, {s::pollin, 0})) == EBADF);
    CHECK(code_of(L.epoll_ctl(1000, s::epoll_ctl_add, sk, {s::pollin, 0})) == EBADF);
}

TEST_CASE("socket layer: socket calls on an epoll descriptor are ENOTSOCK", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int ep = *L.epoll_create1(0);
    std::uint8_t buf[8];
    int v = 1;
    CHECK(code_of(L.bind(ep, {client_ip, 5000})) == ENOTSOCK);
    CHECK(code_of(L.listen(ep, 1)) == ENOTSOCK);
    CHECK(code_of(L.accept(ep)) == ENOTSOCK);
    CHECK(code_of(L.connect(ep, {server_ip, 80})) == ENOTSOCK);
    CHECK(code_of(L.send(ep, bytes_of("x"))) == ENOTSOCK);
    CHECK(code_of(L.recv(ep, buf)) == ENOTSOCK);
    CHECK(code_of(L.shutdown(ep, s::shut_wr)) == ENOTSOCK);
    CHECK(code_of(L.setsockopt(ep, s::sol_socket, s::so_reuseaddr, std::as_bytes(std::span(&v, 1)))) == ENOTSOCK);
    CHECK(code_of(L.getsockopt(ep, s::sol_socket, s::so_type, std::as_writable_bytes(std::span(&v, 1)))) == ENOTSOCK);
    CHECK(code_of(L.getsockname(ep)) == ENOTSOCK);
    CHECK(code_of(L.getpeername(ep)) == ENOTSOCK);
    // It is still a descriptor: fcntl and close work.
    CHECK(*L.fcntl(ep, s::f_getfl) == s::o_rdwr);
    CHECK(code_of(L.close(ep)) == 0);
}

TEST_CASE("socket layer: bind errors are Linux's", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int a = *L.socket(s::af_inet, s::sock_stream, 0);
    const int b = *L.socket(s::af_inet, s::sock_stream, 0);
    const int c = *L.socket(s::af_inet, s::sock_stream, 0);

    SECTION("binding twice is EINVAL, even to another port") {
        REQUIRE(code_of(L.bind(a, {client_ip, 5000})) == 0);
        CHECK(code_of(L.bind(a, {client_ip, 5000})) == EINVAL);
        CHECK(code_of(L.bind(a, {client_ip, 5001})) == EINVAL);
        CHECK(*L.getsockname(a) == socket_address{client_ip, 5000});
    }
    SECTION("the same port and an overlapping address is EADDRINUSE") {
        REQUIRE(code_of(L.bind(a, {client_ip, 5000})) == 0);
        CHECK(code_of(L.bind(b, {client_ip, 5000})) == EADDRINUSE);
        CHECK(code_of(L.bind(b, {ip_address::v4(0, 0, 0, 0), 5000})) == EADDRINUSE);
        // The failed binds left b unbound: another port is fine.
        CHECK(code_of(L.bind(b, {client_ip, 5001})) == 0);
    }
    SECTION("SO_REUSEADDR on both lets two sockets that do not listen bind the same port") {
        REQUIRE(code_of(set_int(L, a, s::sol_socket, s::so_reuseaddr, 1)) == 0);
        REQUIRE(code_of(set_int(L, b, s::sol_socket, s::so_reuseaddr, 1)) == 0);
        CHECK(code_of(L.bind(a, {client_ip, 5000})) == 0);
        CHECK(code_of(L.bind(b, {client_ip, 5000})) == 0);
        // Not c, which did not ask.
        CHECK(code_of(L.bind(c, {client_ip, 5000})) == EADDRINUSE);
    }
    SECTION("SO_REUSEADDR does not share a port with a listener") {
        REQUIRE(code_of(set_int(L, a, s::sol_socket, s::so_reuseaddr, 1)) == 0);
        REQUIRE(code_of(set_int(L, b, s::sol_socket, s::so_reuseaddr, 1)) == 0);
        REQUIRE(code_of(L.bind(a, {client_ip, 5000})) == 0);
        REQUIRE(code_of(L.listen(a, 5)) == 0);
        CHECK(code_of(L.bind(b, {client_ip, 5000})) == EADDRINUSE);
    }
    SECTION("an address that is not the host's is EADDRNOTAVAIL") {
        CHECK(code_of(L.bind(a, {ip_address::v4(10, 9, 9, 9), 5000})) == EADDRNOTAVAIL);
        CHECK(code_of(L.bind(a, {ip_address::v4(0, 0, 0, 0), 5000})) == 0);  // the wildcard is
    }
    SECTION("an address of the other family is EAFNOSUPPORT") {
        CHECK(code_of(L.bind(a, {ip_address{}, 5000})) == EAFNOSUPPORT);
    }
    SECTION("port 0 picks an ephemeral port") {
        REQUIRE(code_of(L.bind(a, {client_ip, 0})) == 0);
        const auto n = L.getsockname(a);
        REQUIRE(n.has_value());
        CHECK(n->address == client_ip);
        CHECK(n->port >= 32768);
        CHECK(n->port <= 60999);
    }
}

TEST_CASE("socket layer: SO_REUSEADDR lets one of two sockets bound to a port listen", "[socket]") {
    // Linux inet_csk_get_port() from listen: inet_bind_conflict() with
    // relax=true finds no conflict with a SO_REUSEADDR socket that does not
    // listen, so listen() succeeds (the second listen() is EADDRINUSE).
    lone<> l;
    auto& L = l.layer;
    const int a = *L.socket(s::af_inet, s::sock_stream, 0);
    const int b = *L.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(set_int(L, a, s::sol_socket, s::so_reuseaddr, 1)) == 0);
    REQUIRE(code_of(set_int(L, b, s::sol_socket, s::so_reuseaddr, 1)) == 0);
    REQUIRE(code_of(L.bind(a, {client_ip, 5000})) == 0);
    REQUIRE(code_of(L.bind(b, {client_ip, 5000})) == 0);
    CHECK(code_of(L.listen(a, 5)) == 0);
    CHECK(code_of(L.listen(b, 5)) == EADDRINUSE);
}

TEST_CASE("socket layer: calls that need a connection, on sockets without one", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    CHECK(recv_errno(L, fd) == ENOTCONN);
    CHECK(code_of(L.send(fd, bytes_of("x"))) == EPIPE);
    CHECK(code_of(L.getpeername(fd)) == ENOTCONN);
    CHECK(code_of(L.shutdown(fd, s::shut_wr)) == ENOTCONN);
    CHECK(code_of(L.accept(fd)) == EINVAL);  // not listening
    CHECK(*L.ioctl(fd, s::siocinq) == 0);
    CHECK(*L.getsockname(fd) == socket_address{ip_address::v4(0, 0, 0, 0), 0});
    // shutdown's `how` is checked first.
    CHECK(code_of(L.shutdown(fd, 3)) == EINVAL);
    CHECK(code_of(L.shutdown(fd, -1)) == EINVAL);
    // An unknown ioctl.
    CHECK(code_of(L.ioctl(fd, 0x1234)) == ENOTTY);
    // A listener: connect is EISCONN, the queue ioctls EINVAL, recv ENOTCONN.
    const int lfd = *L.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(L.listen(lfd, 4)) == 0);
    CHECK(code_of(L.connect(lfd, {server_ip, 80})) == EISCONN);
    CHECK(code_of(L.ioctl(lfd, s::siocinq)) == EINVAL);
    CHECK(code_of(L.ioctl(lfd, s::siocoutq)) == EINVAL);
    CHECK(recv_errno(L, lfd) == ENOTCONN);
    CHECK(code_of(L.send(lfd, bytes_of("x"))) == EPIPE);
    CHECK(code_of(L.listen(lfd, 8)) == 0);  // again: only the backlog changes
    CHECK(code_of(L.accept(lfd, nullptr, s::sock_nonblock)) == EAGAIN);
    CHECK(code_of(L.accept(lfd, nullptr, 0x1)) == EINVAL);  // a flag accept4 does not know
}

TEST_CASE("socket layer: a connect in progress, then established, as Linux answers each call", "[socket]") {
    hosts<> h;
    const int l = *h.server.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(h.server.bind(l, {server_ip, 80})) == 0);
    REQUIRE(code_of(h.server.listen(l, 8)) == 0);
    const int c = *h.client.socket(s::af_inet, s::sock_stream | s::sock_nonblock, 0);
    CHECK(code_of(h.client.connect(c, {server_ip, 80})) == EINPROGRESS);
    CHECK(code_of(h.client.connect(c, {server_ip, 80})) == EALREADY);
    CHECK(code_of(h.client.getpeername(c)) == ENOTCONN);  // SYN-SENT
    CHECK(revents(h.client, c, s::pollin | s::pollout) == 0u);
    CHECK(code_of(h.client.send(c, bytes_of("x"))) == EAGAIN);  // waits for the connection
    // The SYN-ACK comes back after one round trip (1 ms each way).
    const time_point start = h.net.now();
    REQUIRE(h.run([&] { return revents(h.client, c, s::pollout) == s::pollout; }));
    CHECK(h.net.now() - start == 2ms);
    CHECK(code_of(h.client.connect(c, {server_ip, 80})) == 0);
    CHECK(code_of(h.client.connect(c, {server_ip, 80})) == EISCONN);
    CHECK(code_of(h.client.connect(c, {server_ip, 80})) == EISCONN);
    CHECK(*h.client.getpeername(c) == socket_address{server_ip, 80});
    const auto local = h.client.getsockname(c);
    REQUIRE(local.has_value());
    CHECK(local->address == client_ip);
    CHECK(local->port >= 32768);
    // The server's side, accepted, names both ends.
    REQUIRE(h.run([&] { return revents(h.server, l, s::pollin) == s::pollin; }));
    socket_address peer{};
    const auto a = h.server.accept(l, &peer, s::sock_nonblock);
    REQUIRE(a.has_value());
    CHECK(peer == *local);
    CHECK(*h.server.getpeername(*a) == *local);
    CHECK(*h.server.getsockname(*a) == socket_address{server_ip, 80});
    CHECK(*h.server.fcntl(*a, s::f_getfl) == (s::o_rdwr | s::o_nonblock));
    CHECK(code_of(h.server.accept(l, nullptr, s::sock_nonblock)) == EAGAIN);  // one only
}

TEST_CASE("socket layer: a refused connect reports ECONNREFUSED once, then the socket may connect anew",
          "[socket]") {
    hosts<> h;
    const int c = *h.client.socket(s::af_inet, s::sock_stream | s::sock_nonblock, 0);
    REQUIRE(code_of(h.client.connect(c, {server_ip, 81})) == EINPROGRESS);  // nobody listens on 81
    REQUIRE(h.run([&] { return (revents(h.client, c, s::pollin | s::pollout) & s::pollhup) != 0; }));
    // POLLIN, POLLOUT, POLLERR and POLLHUP: the end, with an error waiting.
    CHECK(revents(h.client, c, s::pollin | s::pollout) == (s::pollin | s::pollout | s::pollerr | s::pollhup));
    CHECK(code_of(h.client.connect(c, {server_ip, 81})) == ECONNREFUSED);
    // The socket is unconnected again: a new attempt starts.
    CHECK(code_of(h.client.connect(c, {server_ip, 81})) == EINPROGRESS);
    REQUIRE(h.run([&] { return (revents(h.client, c, s::pollout) & s::pollhup) != 0; }));
    CHECK(code_of(h.client.connect(c, {server_ip, 81})) == ECONNREFUSED);
    // And a listener appears: the same socket connects.
    const int l = *h.server.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(h.server.bind(l, {server_ip, 81})) == 0);
    REQUIRE(code_of(h.server.listen(l, 8)) == 0);
    CHECK(code_of(h.client.connect(c, {server_ip, 81})) == EINPROGRESS);
    REQUIRE(h.run([&] { return revents(h.client, c, s::pollout) == s::pollout; }));
    CHECK(code_of(h.client.connect(c, {server_ip, 81})) == 0);
}

TEST_CASE("socket layer: SO_ERROR reads a refused connect's error and clears it", "[socket]") {
    hosts<> h;
    const int c = *h.client.socket(s::af_inet, s::sock_stream | s::sock_nonblock, 0);
    REQUIRE(code_of(h.client.connect(c, {server_ip, 81})) == EINPROGRESS);
    CHECK(get_int(h.client, c, s::sol_socket, s::so_error) == 0);
    REQUIRE(h.run([&] { return (revents(h.client, c, s::pollout) & s::pollerr) != 0; }));
    CHECK(get_int(h.client, c, s::sol_socket, s::so_error) == ECONNREFUSED);
    CHECK(get_int(h.client, c, s::sol_socket, s::so_error) == 0);
    CHECK((revents(h.client, c, s::pollout) & s::pollerr) == 0u);
    // Read through SO_ERROR, the error is gone: connect says only that the attempt ended.
    CHECK(code_of(h.client.connect(c, {server_ip, 81})) == ECONNABORTED);
}

TEST_CASE("socket layer: connect without a source address is ENETUNREACH, of the other family EAFNOSUPPORT",
          "[socket]") {
    config cfg;
    socket_layer<net_policies> L(*check(cfg));  // no source_v4
    const int c = *L.socket(s::af_inet, s::sock_stream | s::sock_nonblock, 0);
    CHECK(code_of(L.connect(c, {server_ip, 80})) == ENETUNREACH);
    CHECK(code_of(L.connect(c, {ip_address{}, 80})) == EAFNOSUPPORT);
}

// ============================================================================================
// Data
// ============================================================================================

TEST_CASE("socket layer: bytes go both ways, exactly, and recv with nothing is EAGAIN", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    CHECK(recv_errno(h.server, c.server) == EAGAIN);
    CHECK(recv_errno(h.client, c.client) == EAGAIN);
    CHECK(recv_errno(h.server, c.server, s::msg_dontwait) == EAGAIN);

    std::string big;
    for (int i = 0; i < 5000; ++i) big += static_cast<char>('a' + i % 26);
    CHECK(send_all(h.client, c.client, big) == big.size());
    std::string got;
    REQUIRE(h.run([&] {
        // Read all there is (700 bytes at a time): the network may have
        // nothing more to do before the next look.
        std::uint8_t buf[700];
        for (auto r = h.server.recv(c.server, buf); r && r->bytes != 0; r = h.server.recv(c.server, buf))
            got.append(reinterpret_cast<const char*>(buf), r->bytes);
        return got.size() >= big.size();
    }));
    CHECK(got == big);
    CHECK(send_all(h.server, c.server, "reply") == 5);
    REQUIRE(h.run([&] { return ioctl_of(h.client, c.client, s::siocinq) == 5; }));
    CHECK(recv_str(h.client, c.client, 64) == "reply");
    CHECK(recv_errno(h.client, c.client) == EAGAIN);
    CHECK(code_of(h.client.send(c.client, {})) == 0);  // nothing to send is fine
}

TEST_CASE("socket layer: MSG_PEEK leaves the data to read", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    REQUIRE(send_all(h.client, c.client, "hello world") == 11);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 11; }));
    CHECK(recv_str(h.server, c.server, 5, s::msg_peek) == "hello");
    CHECK(recv_str(h.server, c.server, 64, s::msg_peek) == "hello world");
    CHECK(ioctl_of(h.server, c.server, s::siocinq) == 11);
    CHECK(recv_str(h.server, c.server, 6) == "hello ");
    CHECK(recv_str(h.server, c.server, 64, s::msg_peek) == "world");
    CHECK(recv_str(h.server, c.server, 64) == "world");
    CHECK(recv_errno(h.server, c.server, s::msg_peek) == EAGAIN);
}

TEST_CASE("socket layer: sendv and recvv take and fill the pieces in order", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    const std::span<const std::uint8_t> out[] = {bytes_of("abc"), bytes_of(""), bytes_of("defg"), bytes_of("hij")};
    const auto sent = h.client.sendv(c.client, out);
    REQUIRE(sent.has_value());
    CHECK(*sent == 10);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 10; }));
    std::array<std::uint8_t, 2> p1{};
    std::array<std::uint8_t, 0> p2{};
    std::array<std::uint8_t, 5> p3{};
    std::array<std::uint8_t, 8> p4{};
    const std::span<std::uint8_t> in[] = {p1, p2, p3, p4};
    const auto got = h.server.recvv(c.server, in);
    REQUIRE(got.has_value());
    CHECK(got->bytes == 10);
    CHECK(std::string(p1.begin(), p1.end()) == "ab");
    CHECK(std::string(p3.begin(), p3.end()) == "cdefg");
    CHECK(std::string(p4.begin(), p4.begin() + 3) == "hij");
    // Peeking fills the pieces the same way.
    REQUIRE(send_all(h.client, c.client, "0123456") == 7);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 7; }));
    std::array<std::uint8_t, 3> q1{};
    std::array<std::uint8_t, 3> q2{};
    const std::span<std::uint8_t> in2[] = {q1, q2};
    const auto peeked = h.server.recvv(c.server, in2, s::msg_peek);
    REQUIRE(peeked.has_value());
    CHECK(peeked->bytes == 6);
    CHECK(std::string(q1.begin(), q1.end()) == "012");
    CHECK(std::string(q2.begin(), q2.end()) == "345");
    CHECK(recv_str(h.server, c.server, 64) == "0123456");
}

TEST_CASE("socket layer: SO_RCVLOWAT holds POLLIN back until that many bytes wait", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    REQUIRE(code_of(set_int(h.server, c.server, s::sol_socket, s::so_rcvlowat, 20)) == 0);
    CHECK(get_int(h.server, c.server, s::sol_socket, s::so_rcvlowat) == 20);
    REQUIRE(send_all(h.client, c.client, "0123456789") == 10);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 10; }));
    CHECK(revents(h.server, c.server, s::pollin) == 0u);
    REQUIRE(send_all(h.client, c.client, "abcdefghij") == 10);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 20; }));
    CHECK(revents(h.server, c.server, s::pollin) == s::pollin);
    // A non-blocking recv takes what there is, below the mark too.
    CHECK(recv_str(h.server, c.server, 15) == "0123456789abcde");
    CHECK(revents(h.server, c.server, s::pollin) == 0u);
    CHECK(recv_str(h.server, c.server, 64) == "fghij");
    // 0 means 1; a negative mark means INT_MAX.
    REQUIRE(code_of(set_int(h.server, c.server, s::sol_socket, s::so_rcvlowat, 0)) == 0);
    CHECK(get_int(h.server, c.server, s::sol_socket, s::so_rcvlowat) == 1);
}

TEST_CASE("socket layer: TCP_INQ gives what is left to read with each recv", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    CHECK(get_int(h.server, c.server, s::sol_tcp, s::tcp_inq) == 0);
    CHECK(code_of(set_int(h.server, c.server, s::sol_tcp, s::tcp_inq, 2)) == EINVAL);
    CHECK(code_of(set_int(h.server, c.server, s::sol_tcp, s::tcp_inq, -1)) == EINVAL);
    REQUIRE(send_all(h.client, c.client, "0123456789") == 10);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 10; }));
    std::uint8_t buf[16];
    {
        const auto r = h.server.recv(c.server, std::span(buf, 2));
        REQUIRE(r.has_value());
        CHECK(r->bytes == 2);
        CHECK_FALSE(r->inq.has_value());  // not asked for
    }
    REQUIRE(code_of(set_int(h.server, c.server, s::sol_tcp, s::tcp_inq, 1)) == 0);
    CHECK(get_int(h.server, c.server, s::sol_tcp, s::tcp_inq) == 1);
    {
        const auto r = h.server.recv(c.server, std::span(buf, 3));
        REQUIRE(r.has_value());
        CHECK(r->bytes == 3);
        REQUIRE(r->inq.has_value());
        CHECK(*r->inq == 5);
    }
    {
        const auto r = h.server.recv(c.server, std::span(buf, 16));
        REQUIRE(r.has_value());
        CHECK(r->bytes == 5);
        REQUIRE(r->inq.has_value());
        CHECK(*r->inq == 0);
    }
}

TEST_CASE("socket layer: SIOCINQ, SIOCOUTQ and SIOCOUTQNSD count what waits to be read, acknowledged and sent",
          "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    CHECK(ioctl_of(h.client, c.client, s::siocinq) == 0);
    CHECK(ioctl_of(h.client, c.client, s::siocoutq) == 0);
    CHECK(ioctl_of(h.client, c.client, s::siocoutqnsd) == 0);
    // The server's acknowledgments are lost: what the client sent stays unacknowledged.
    h.net.keep_trace = true;
    h.net.trace.clear();
    h.net.drop = [](const std::vector<std::uint8_t>& d) {
        const auto ip = parse_ip_packet(d);
        return ip.has_value() && ip->src == server_ip;
    };
    std::string data(50000, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 % 251);
    REQUIRE(send_all(h.client, c.client, data) == data.size());
    h.run_for(5ms);  // the initial window is out and has arrived; no retransmission yet
    std::size_t sent = 0;
    for (const auto& seg : segments_from(h.net.trace, client_ip)) sent += view_of(seg, client_ip, server_ip).payload().size();
    REQUIRE(sent > 0);
    REQUIRE(sent < data.size());
    CHECK(ioctl_of(h.client, c.client, s::siocoutq) == static_cast<int>(data.size()));
    CHECK(ioctl_of(h.client, c.client, s::siocoutqnsd) == static_cast<int>(data.size() - sent));
    CHECK(ioctl_of(h.server, c.server, s::siocinq) == static_cast<int>(sent));
    CHECK(ioctl_of(h.server, c.server, s::siocoutq) == 0);
    // The acknowledgments get through again: everything is sent, acknowledged and read.
    h.net.drop = nullptr;
    std::string got;
    REQUIRE(h.run(
        [&] {
            std::uint8_t buf[4096];
            for (;;) {
                const auto r = h.server.recv(c.server, buf);
                if (!r || r->bytes == 0) break;
                got.append(reinterpret_cast<const char*>(buf), r->bytes);
            }
            return got.size() == data.size() && ioctl_of(h.client, c.client, s::siocoutq) == 0;
        },
        60s));
    CHECK(got == data);
    CHECK(ioctl_of(h.client, c.client, s::siocoutqnsd) == 0);
    CHECK(ioctl_of(h.server, c.server, s::siocinq) == 0);
}

TEST_CASE("socket layer: shutdown(SHUT_WR) makes the peer read the end, and send EPIPE", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    REQUIRE(send_all(h.client, c.client, "last words") == 10);
    REQUIRE(code_of(h.client.shutdown(c.client, s::shut_wr)) == 0);
    CHECK(code_of(h.client.send(c.client, bytes_of("more"))) == EPIPE);
    REQUIRE(h.run([&] { return (revents(h.server, c.server, s::pollrdhup) & s::pollrdhup) != 0; }));
    CHECK(revents(h.server, c.server, s::pollin | s::pollout | s::pollrdhup) ==
          (s::pollin | s::pollout | s::pollrdhup));
    CHECK(recv_str(h.server, c.server, 64) == "last words");
    // The end of the stream: recv gives 0 bytes, and again.
    CHECK(recv_str(h.server, c.server, 64).empty());
    CHECK(recv_str(h.server, c.server, 64).empty());
    // The other direction still works.
    REQUIRE(send_all(h.server, c.server, "still here") == 10);
    REQUIRE(h.run([&] { return ioctl_of(h.client, c.client, s::siocinq) == 10; }));
    CHECK(recv_str(h.client, c.client, 64) == "still here");
}

TEST_CASE("socket layer: close with SO_LINGER {1, 0} sends a RST, and the peer's recv is ECONNRESET",
          "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    const linux_linger lg{1, 0};
    REQUIRE(code_of(h.server.setsockopt(c.server, s::sol_socket, s::so_linger, std::as_bytes(std::span(&lg, 1)))) ==
            0);
    linux_linger back{-1, -1};
    REQUIRE(*h.server.getsockopt(c.server, s::sol_socket, s::so_linger, std::as_writable_bytes(std::span(&back, 1))) ==
            sizeof back);
    CHECK(back.l_onoff == 1);
    CHECK(back.l_linger == 0);
    h.net.keep_trace = true;
    h.net.trace.clear();
    REQUIRE(code_of(h.server.close(c.server)) == 0);
    CHECK(code_of(h.server.close(c.server)) == EBADF);
    const auto segs = segments_from(h.net.trace, server_ip);
    REQUIRE(segs.size() == 1);
    CHECK(view_of(segs[0], server_ip, client_ip).flags().rst_set());
    CHECK_FALSE(view_of(segs[0], server_ip, client_ip).flags().fin_set());
    REQUIRE(h.run([&] { return (revents(h.client, c.client, s::pollin) & s::pollhup) != 0; }));
    CHECK(revents(h.client, c.client, s::pollin | s::pollout) == (s::pollin | s::pollout | s::pollerr | s::pollhup));
    CHECK(recv_errno(h.client, c.client) == ECONNRESET);
    // Reported once: then the end of the stream, and send is EPIPE.
    CHECK(recv_str(h.client, c.client, 64).empty());
    CHECK(code_of(h.client.send(c.client, bytes_of("x"))) == EPIPE);
    CHECK(get_int(h.client, c.client, s::sol_socket, s::so_error) == 0);
}

TEST_CASE("socket layer: shutdown(SHUT_RD) ends reading at once", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    REQUIRE(code_of(h.server.shutdown(c.server, s::shut_rd)) == 0);
    CHECK(recv_str(h.server, c.server, 64).empty());
    CHECK(revents(h.server, c.server, s::pollin | s::pollrdhup) == (s::pollin | s::pollrdhup));
    // Writing still works.
    REQUIRE(send_all(h.server, c.server, "abc") == 3);
    REQUIRE(h.run([&] { return ioctl_of(h.client, c.client, s::siocinq) == 3; }));
}

// ============================================================================================
// Options
// ============================================================================================

TEST_CASE("socket layer: SO_SNDBUF and SO_RCVBUF double the request, capped by wmem_max and rmem_max",
          "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    // Before any request: the configuration's buffers.
    CHECK(get_int(L, fd, s::sol_socket, s::so_sndbuf) == static_cast<int>(l.cfg.send_buffer));
    CHECK(get_int(L, fd, s::sol_socket, s::so_rcvbuf) == static_cast<int>(l.cfg.receive_buffer));

    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_sndbuf, 10000)) == 0);
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_rcvbuf, 10000)) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_sndbuf) == 20000);
    CHECK(get_int(L, fd, s::sol_socket, s::so_rcvbuf) == 20000);

    // Capped by the sysctls (212992 by default), then doubled.
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_sndbuf, 1 << 20)) == 0);
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_rcvbuf, 1 << 20)) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_sndbuf) == 2 * 212992);
    CHECK(get_int(L, fd, s::sol_socket, s::so_rcvbuf) == 2 * 212992);
    // A negative request is read as unsigned: the cap.
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_sndbuf, -1)) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_sndbuf) == 2 * 212992);

    L.options().wmem_max = 50000;
    L.options().rmem_max = 30000;
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_sndbuf, 100000)) == 0);
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_rcvbuf, 100000)) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_sndbuf) == 100000);
    CHECK(get_int(L, fd, s::sol_socket, s::so_rcvbuf) == 60000);
    // Below the cap, the request itself.
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_sndbuf, 12345)) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_sndbuf) == 24690);

    // Layer options given at construction work the same.
    socket_layer_options o;
    o.wmem_max = 4096;
    o.rmem_max = 8192;
    lone<> m(o);
    const int g = *m.layer.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(set_int(m.layer, g, s::sol_socket, s::so_sndbuf, 1 << 20)) == 0);
    REQUIRE(code_of(set_int(m.layer, g, s::sol_socket, s::so_rcvbuf, 1 << 20)) == 0);
    CHECK(get_int(m.layer, g, s::sol_socket, s::so_sndbuf) == 8192);
    CHECK(get_int(m.layer, g, s::sol_socket, s::so_rcvbuf) == 16384);
}

TEST_CASE("socket layer: SO_SNDBUF and SO_RCVBUF have Linux's floors, 4608 and 2304", "[socket]") {
    // SOCK_MIN_SNDBUF = 2 * TCP_SKB_MIN_TRUESIZE, SOCK_MIN_RCVBUF = TCP_SKB_MIN_TRUESIZE
    // (2048 + 256 on 64-bit): include/net/sock.h.
    static_assert(s::min_sndbuf == 4608);
    static_assert(s::min_rcvbuf == 2304);
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_sndbuf, 1)) == 0);
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_rcvbuf, 1)) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_sndbuf) == 4608);
    CHECK(get_int(L, fd, s::sol_socket, s::so_rcvbuf) == 2304);
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_sndbuf, 0)) == 0);
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_rcvbuf, 0)) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_sndbuf) == 4608);
    CHECK(get_int(L, fd, s::sol_socket, s::so_rcvbuf) == 2304);
    // Just above the floors: doubled.
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_sndbuf, 2305)) == 0);
    REQUIRE(code_of(set_int(L, fd, s::sol_socket, s::so_rcvbuf, 1153)) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_sndbuf) == 4610);
    CHECK(get_int(L, fd, s::sol_socket, s::so_rcvbuf) == 2306);
}

TEST_CASE("socket layer: option values shorter than an int are EINVAL, longer ones are read", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    const std::int16_t small = 1;
    const auto two = std::as_bytes(std::span(&small, 1));
    CHECK(code_of(L.setsockopt(fd, s::sol_socket, s::so_reuseaddr, two)) == EINVAL);
    CHECK(code_of(L.setsockopt(fd, s::sol_socket, s::so_sndbuf, two)) == EINVAL);
    CHECK(code_of(L.setsockopt(fd, s::sol_tcp, s::tcp_nodelay, two)) == EINVAL);
    CHECK(code_of(L.setsockopt(fd, s::sol_tcp, s::tcp_keepidle, two)) == EINVAL);
    CHECK(code_of(L.setsockopt(fd, s::sol_socket, s::so_reuseaddr, {})) == EINVAL);
    CHECK(get_int(L, fd, s::sol_socket, s::so_reuseaddr) == 0);  // nothing changed
    const std::int64_t wide = 1;
    CHECK(code_of(L.setsockopt(fd, s::sol_socket, s::so_reuseaddr, std::as_bytes(std::span(&wide, 1)))) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_reuseaddr) == 1);
    // Struct values: SO_LINGER and SO_RCVTIMEO want the whole struct.
    const std::int32_t half_linger = 1;
    CHECK(code_of(L.setsockopt(fd, s::sol_socket, s::so_linger, std::as_bytes(std::span(&half_linger, 1)))) == EINVAL);
    const std::int64_t half_tv = 1;
    CHECK(code_of(L.setsockopt(fd, s::sol_socket, s::so_rcvtimeo, std::as_bytes(std::span(&half_tv, 1)))) == EINVAL);
    // getsockopt writes what fits and says how much.
    std::array<std::byte, 2> out{};
    const auto n = L.getsockopt(fd, s::sol_socket, s::so_type, out);
    REQUIRE(n.has_value());
    CHECK(*n == 2);
    int type = 0;
    std::memcpy(&type, out.data(), 2);
    CHECK(type == s::sock_stream);
    std::array<std::byte, 16> roomy{};
    CHECK(*L.getsockopt(fd, s::sol_socket, s::so_type, roomy) == sizeof(int));
}

TEST_CASE("socket layer: unknown options and levels are ENOPROTOOPT", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    CHECK(code_of(set_int(L, fd, s::sol_socket, 9999, 1)) == ENOPROTOOPT);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, 9999, 1)) == ENOPROTOOPT);
    CHECK(code_of(set_int(L, fd, 999, 1, 1)) == ENOPROTOOPT);
    CHECK(get_int(L, fd, s::sol_socket, 9999) == -1000 - ENOPROTOOPT);
    CHECK(get_int(L, fd, s::sol_tcp, 9999) == -1000 - ENOPROTOOPT);
    CHECK(get_int(L, fd, 999, 1) == -1000 - ENOPROTOOPT);
}

TEST_CASE("socket layer: SO_TYPE, SO_PROTOCOL, SO_DOMAIN, SO_ACCEPTCONN and SO_ERROR can only be read",
          "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    const int fd6 = *L.socket(s::af_inet6, s::sock_stream, 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_type) == s::sock_stream);
    CHECK(get_int(L, fd, s::sol_socket, s::so_protocol) == s::ipproto_tcp);
    CHECK(get_int(L, fd, s::sol_socket, s::so_domain) == s::af_inet);
    CHECK(get_int(L, fd6, s::sol_socket, s::so_domain) == s::af_inet6);
    CHECK(get_int(L, fd, s::sol_socket, s::so_acceptconn) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_error) == 0);
    for (const int name : {s::so_type, s::so_protocol, s::so_domain, s::so_acceptconn, s::so_error}) {
        CAPTURE(name);
        CHECK(code_of(set_int(L, fd, s::sol_socket, name, 1)) == ENOPROTOOPT);
    }
    CHECK(get_int(L, fd, s::sol_socket, s::so_type) == s::sock_stream);
    REQUIRE(code_of(L.listen(fd, 4)) == 0);
    CHECK(get_int(L, fd, s::sol_socket, s::so_acceptconn) == 1);
}

TEST_CASE("socket layer: flag options read back as set", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    for (const auto& [level, name] : {std::pair{s::sol_socket, s::so_reuseaddr}, std::pair{s::sol_socket, s::so_reuseport},
                                     std::pair{s::sol_socket, s::so_keepalive}, std::pair{s::sol_tcp, s::tcp_nodelay}}) {
        CAPTURE(level, name);
        CHECK(get_int(L, fd, level, name) == 0);
        REQUIRE(code_of(set_int(L, fd, level, name, 5)) == 0);
        CHECK(get_int(L, fd, level, name) == 1);
        REQUIRE(code_of(set_int(L, fd, level, name, 0)) == 0);
        CHECK(get_int(L, fd, level, name) == 0);
    }
}

TEST_CASE("socket layer: TCP_MAXSEG takes 0 or 88 to 32767", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_maxseg) == 536);  // TCP_MSS_DEFAULT before a connection
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_maxseg, 87)) == EINVAL);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_maxseg, -1)) == EINVAL);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_maxseg) == 536);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_maxseg, 88)) == 0);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_maxseg) == 88);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_maxseg, 32767)) == 0);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_maxseg) == 32767);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_maxseg, 32768)) == EINVAL);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_maxseg) == 32767);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_maxseg, 0)) == 0);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_maxseg) == 536);
}

TEST_CASE("socket layer: TCP_MAXSEG of a connection is its send MSS, less the timestamp option", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    // MSS 1460 both ways, with timestamps (12 bytes each segment): Linux's mss_cache is 1448.
    CHECK(get_int(h.client, c.client, s::sol_tcp, s::tcp_maxseg) == 1448);
    CHECK(get_int(h.server, c.server, s::sol_tcp, s::tcp_maxseg) == 1448);
}

TEST_CASE("socket layer: a TCP_MAXSEG clamp set before connect is what the SYN announces", "[socket]") {
    hosts<> h;
    const int l = *h.server.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(h.server.bind(l, {server_ip, 80})) == 0);
    REQUIRE(code_of(h.server.listen(l, 8)) == 0);
    const int c = *h.client.socket(s::af_inet, s::sock_stream | s::sock_nonblock, 0);
    REQUIRE(code_of(set_int(h.client, c, s::sol_tcp, s::tcp_maxseg, 1000)) == 0);
    h.net.keep_trace = true;
    REQUIRE(code_of(h.client.connect(c, {server_ip, 80})) == EINPROGRESS);
    h.run_for(1ms);
    const auto segs = segments_from(h.net.trace, client_ip);
    REQUIRE_FALSE(segs.empty());
    const auto syn = view_of(segs[0], client_ip, server_ip);
    REQUIRE(syn.flags().syn_set());
    REQUIRE(syn.options().mss.has_value());
    CHECK(*syn.options().mss == 1000);
}

TEST_CASE("socket layer: TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT take Linux's ranges", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    // The configuration's values (Linux's sysctl defaults) before any change.
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_keepidle) == 7200);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_keepintvl) == 75);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_keepcnt) == 9);
    for (const int name : {s::tcp_keepidle, s::tcp_keepintvl, s::tcp_keepcnt}) {
        CAPTURE(name);
        const int before = get_int(L, fd, s::sol_tcp, name);
        CHECK(code_of(set_int(L, fd, s::sol_tcp, name, 0)) == EINVAL);
        CHECK(code_of(set_int(L, fd, s::sol_tcp, name, -1)) == EINVAL);
        CHECK(get_int(L, fd, s::sol_tcp, name) == before);
        CHECK(code_of(set_int(L, fd, s::sol_tcp, name, 1)) == 0);
        CHECK(get_int(L, fd, s::sol_tcp, name) == 1);
    }
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_keepidle, 32767)) == 0);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_keepidle) == 32767);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_keepintvl, 32767)) == 0);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_keepintvl) == 32767);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_keepcnt, 127)) == 0);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_keepcnt) == 127);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_keepcnt, 128)) == EINVAL);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_keepcnt) == 127);
}

TEST_CASE("socket layer: TCP_KEEPIDLE and TCP_KEEPINTVL above 32767 are EINVAL and change nothing",
          "[socket]") {
    // Linux do_tcp_setsockopt(): val < 1 || val > MAX_TCP_KEEPIDLE / MAX_TCP_KEEPINTVL (32767) -> EINVAL.
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_keepidle, 32768)) == EINVAL);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_keepidle) == 7200);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_keepintvl, 32768)) == EINVAL);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_keepintvl) == 75);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_keepidle, 1000000)) == EINVAL);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_keepidle) == 7200);
    // On a connection too: the error, and the setting as it was.
    hosts<> h;
    const auto c = establish(h);
    REQUIRE(code_of(set_int(h.client, c.client, s::sol_tcp, s::tcp_keepidle, 600)) == 0);
    CHECK(code_of(set_int(h.client, c.client, s::sol_tcp, s::tcp_keepidle, 32768)) == EINVAL);
    CHECK(get_int(h.client, c.client, s::sol_tcp, s::tcp_keepidle) == 600);
}

TEST_CASE("socket layer: TCP_USER_TIMEOUT takes milliseconds, negative is EINVAL", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_user_timeout) == 0);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_user_timeout, -1)) == EINVAL);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_user_timeout) == 0);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_user_timeout, 30000)) == 0);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_user_timeout) == 30000);
    CHECK(code_of(set_int(L, fd, s::sol_tcp, s::tcp_user_timeout, 0)) == 0);
    CHECK(get_int(L, fd, s::sol_tcp, s::tcp_user_timeout) == 0);
}

TEST_CASE("socket layer: TCP_CONGESTION names the bundle's congestion control and refuses others with ENOENT",
          "[socket]") {
    auto name_of = [](auto& L, int fd) {
        std::array<char, 16> out{};
        const auto n = L.getsockopt(fd, s::sol_tcp, s::tcp_congestion, std::as_writable_bytes(std::span(out)));
        REQUIRE(n.has_value());
        CHECK(*n == 16);  // TCP_CA_NAME_MAX
        return std::string(out.data());
    };
    auto set_name = [](auto& L, int fd, std::string_view n) {
        return code_of(L.setsockopt(fd, s::sol_tcp, s::tcp_congestion, std::as_bytes(std::span(n.data(), n.size()))));
    };
    {
        lone<> l;
        const int fd = *l.layer.socket(s::af_inet, s::sock_stream, 0);
        CHECK(name_of(l.layer, fd) == "reno");
        CHECK(set_name(l.layer, fd, "reno") == 0);
        CHECK(set_name(l.layer, fd, "cubic") == ENOENT);
        CHECK(set_name(l.layer, fd, "nosuch") == ENOENT);
        CHECK(name_of(l.layer, fd) == "reno");
    }
    {
        lone<cubic_policies> l;
        const int fd = *l.layer.socket(s::af_inet, s::sock_stream, 0);
        CHECK(name_of(l.layer, fd) == "cubic");
        CHECK(set_name(l.layer, fd, "cubic") == 0);
        CHECK(set_name(l.layer, fd, "reno") == ENOENT);
    }
}

TEST_CASE("socket layer: SO_RCVTIMEO and SO_SNDTIMEO read back as set, a bad tv_usec is EDOM", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    auto get_tv = [&](int name) {
        linux_timeval tv{-1, -1};
        REQUIRE(*L.getsockopt(fd, s::sol_socket, name, std::as_writable_bytes(std::span(&tv, 1))) == sizeof tv);
        return std::pair{tv.tv_sec, tv.tv_usec};
    };
    auto set_tv = [&](int name, linux_timeval tv) {
        return code_of(L.setsockopt(fd, s::sol_socket, name, std::as_bytes(std::span(&tv, 1))));
    };
    CHECK(get_tv(s::so_rcvtimeo) == std::pair<std::int64_t, std::int64_t>{0, 0});
    CHECK(set_tv(s::so_rcvtimeo, {2, 500000}) == 0);
    CHECK(get_tv(s::so_rcvtimeo) == std::pair<std::int64_t, std::int64_t>{2, 500000});
    CHECK(set_tv(s::so_sndtimeo, {0, 250000}) == 0);
    CHECK(get_tv(s::so_sndtimeo) == std::pair<std::int64_t, std::int64_t>{0, 250000});
    CHECK(set_tv(s::so_rcvtimeo, {1, 1000000}) == EDOM);
    CHECK(set_tv(s::so_rcvtimeo, {1, -1}) == EDOM);
    CHECK(get_tv(s::so_rcvtimeo) == std::pair<std::int64_t, std::int64_t>{2, 500000});
    CHECK(set_tv(s::so_rcvtimeo, {0, 0}) == 0);  // waits for ever again
    CHECK(get_tv(s::so_rcvtimeo) == std::pair<std::int64_t, std::int64_t>{0, 0});
}

TEST_CASE("socket layer: an accepted socket inherits its listener's options", "[socket]") {
    hosts<> h;
    const int l = *h.server.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(set_int(h.server, l, s::sol_tcp, s::tcp_nodelay, 1)) == 0);
    REQUIRE(code_of(set_int(h.server, l, s::sol_tcp, s::tcp_keepidle, 600)) == 0);
    REQUIRE(code_of(set_int(h.server, l, s::sol_socket, s::so_rcvlowat, 7)) == 0);
    REQUIRE(code_of(h.server.bind(l, {server_ip, 80})) == 0);
    REQUIRE(code_of(h.server.listen(l, 8)) == 0);
    const int c = *h.client.socket(s::af_inet, s::sock_stream | s::sock_nonblock, 0);
    REQUIRE(code_of(h.client.connect(c, {server_ip, 80})) == EINPROGRESS);
    REQUIRE(h.run([&] { return revents(h.server, l, s::pollin) == s::pollin; }));
    const int a = *h.server.accept(l);
    CHECK(get_int(h.server, a, s::sol_tcp, s::tcp_nodelay) == 1);
    CHECK(get_int(h.server, a, s::sol_tcp, s::tcp_keepidle) == 600);
    CHECK(get_int(h.server, a, s::sol_socket, s::so_rcvlowat) == 7);
    CHECK(get_int(h.server, a, s::sol_socket, s::so_acceptconn) == 0);
}

// ============================================================================================
// poll and epoll
// ============================================================================================

TEST_CASE("socket layer: poll's revents as Linux's tcp_poll", "[socket]") {
    hosts<> h;
    // A fresh socket: POLLOUT and POLLHUP.
    const int fresh = *h.client.socket(s::af_inet, s::sock_stream, 0);
    CHECK(revents(h.client, fresh, s::pollin | s::pollout) == (s::pollout | s::pollhup));
    // Hang-ups are reported when not asked for.
    CHECK(revents(h.client, fresh, s::pollin) == s::pollhup);
    // A listener: nothing until a connection waits, then POLLIN.
    const int l = *h.server.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(h.server.bind(l, {server_ip, 80})) == 0);
    REQUIRE(code_of(h.server.listen(l, 8)) == 0);
    CHECK(revents(h.server, l, s::pollin | s::pollout) == 0u);
    const int c = *h.client.socket(s::af_inet, s::sock_stream | s::sock_nonblock, 0);
    REQUIRE(code_of(h.client.connect(c, {server_ip, 80})) == EINPROGRESS);
    REQUIRE(h.run([&] { return revents(h.server, l, s::pollin) != 0; }));
    CHECK(revents(h.server, l, s::pollin | s::pollout) == s::pollin);
    CHECK(revents(h.server, l, s::pollin | s::pollrdnorm) == (s::pollin | s::pollrdnorm));
    const int a = *h.server.accept(l, nullptr, s::sock_nonblock);
    CHECK(revents(h.server, l, s::pollin | s::pollout) == 0u);
    // Connected: writable; with data, readable too.
    CHECK(revents(h.server, a, s::pollin | s::pollout) == s::pollout);
    CHECK(revents(h.client, c, s::pollin | s::pollout | s::pollwrnorm) == (s::pollout | s::pollwrnorm));
    REQUIRE(send_all(h.client, c, "data") == 4);
    REQUIRE(h.run([&] { return revents(h.server, a, s::pollin) != 0; }));
    CHECK(revents(h.server, a, s::pollin | s::pollout) == (s::pollin | s::pollout));
    CHECK(revents(h.server, a, s::pollin | s::pollrdnorm) == (s::pollin | s::pollrdnorm));
    // Several at once, one of them unknown (POLLNVAL) and one left out (fd < 0).
    std::array<poll_request, 4> many{{{a, s::pollin, 99}, {l, s::pollin, 99}, {999, s::pollin, 99}, {-1, s::pollin, 99}}};
    const auto n = h.server.poll(many, 0);
    REQUIRE(n.has_value());
    CHECK(*n == 2);
    CHECK(many[0].revents == s::pollin);
    CHECK(many[1].revents == 0u);
    CHECK(many[2].revents == s::pollnval);
    CHECK(many[3].revents == 0u);
}

TEST_CASE("socket layer: epoll_create and epoll_ctl errors", "[socket]") {
    lone<> l;
    auto& L = l.layer;
    CHECK(code_of(L.epoll_create(0)) == EINVAL);
    CHECK(code_of(L.epoll_create1(1)) == EINVAL);
    const int ep = *L.epoll_create(1);
    const int ep2 = *L.epoll_create1(s::sock_cloexec);
    CHECK(*L.fcntl(ep2, s::f_getfd) == s::fd_cloexec);
    const int fd = *L.socket(s::af_inet, s::sock_stream, 0);
    const int other = *L.socket(s::af_inet, s::sock_stream, 0);
    CHECK(code_of(L.epoll_ctl(ep, s::epoll_ctl_add, fd, {s::pollin, 1})) == 0);
    CHECK(code_of(L.epoll_ctl(ep, s::epoll_ctl_add, fd, {s::pollin, 1})) == EEXIST);
    CHECK(code_of(L.epoll_ctl(ep, s::epoll_ctl_mod, other, {s::pollin, 1})) == ENOENT);
    CHECK(code_of(L.epoll_ctl(ep, s::epoll_ctl_del, other)) == ENOENT);
    CHECK(code_of(L.epoll_ctl(ep, 99, fd, {s::pollin, 1})) == EINVAL);        // no such op
    CHECK(code_of(L.epoll_ctl(ep, s::epoll_ctl_add, ep, {s::pollin, 1})) == EINVAL);  // itself
    CHECK(code_of(L.epoll_ctl(fd, s::epoll_ctl_add, other, {s::pollin, 1})) == EINVAL);  // not an epoll set
    CHECK(code_of(L.epoll_ctl(ep, s::epoll_ctl_mod, fd, {s::pollout, 2})) == 0);
    CHECK(code_of(L.epoll_ctl(ep, s::epoll_ctl_del, fd)) == 0);
    CHECK(code_of(L.epoll_ctl(ep, s::epoll_ctl_del, fd)) == ENOENT);
    epoll_item out[2];
    CHECK(code_of(L.epoll_wait(fd, out, 0)) == EINVAL);  // not an epoll set
    CHECK(code_of(L.epoll_wait(ep, std::span<epoll_item>{}, 0)) == EINVAL);  // no room
    // A closed socket leaves every set.
    REQUIRE(code_of(L.epoll_ctl(ep, s::epoll_ctl_add, other, {s::pollout, 3})) == 0);
    REQUIRE(code_of(L.close(other)) == 0);
    CHECK(*L.epoll_wait(ep, out, 0) == 0);
    const int again = *L.socket(s::af_inet, s::sock_stream, 0);  // the same number
    REQUIRE(again == other);
    CHECK(code_of(L.epoll_ctl(ep, s::epoll_ctl_add, again, {s::pollout, 3})) == 0);
}

TEST_CASE("socket layer: level-triggered epoll reports while the data waits", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    const int ep = *h.server.epoll_create1(0);
    REQUIRE(code_of(h.server.epoll_ctl(ep, s::epoll_ctl_add, c.server, {s::pollin, 42})) == 0);
    epoll_item out[4];
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);
    REQUIRE(send_all(h.client, c.client, "abcdef") == 6);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 6; }));
    for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        REQUIRE(*h.server.epoll_wait(ep, out, 0) == 1);
        CHECK(out[0].events == s::pollin);
        CHECK(out[0].data == 42u);
    }
    CHECK(recv_str(h.server, c.server, 3) == "abc");
    CHECK(*h.server.epoll_wait(ep, out, 0) == 1);
    CHECK(recv_str(h.server, c.server, 3) == "def");
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);
    // Both directions asked: both reported, in one item.
    REQUIRE(code_of(h.server.epoll_ctl(ep, s::epoll_ctl_mod, c.server, {s::pollin | s::pollout, 7})) == 0);
    REQUIRE(*h.server.epoll_wait(ep, out, 0) == 1);
    CHECK(out[0].events == s::pollout);
    CHECK(out[0].data == 7u);
}

TEST_CASE("socket layer: edge-triggered epoll reports once per arrival", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    const int ep = *h.server.epoll_create1(0);
    REQUIRE(code_of(h.server.epoll_ctl(ep, s::epoll_ctl_add, c.server, {s::pollin | s::epollet, 5})) == 0);
    epoll_item out[4];
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);  // nothing to read yet
    REQUIRE(send_all(h.client, c.client, "hello") == 5);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 5; }));
    REQUIRE(*h.server.epoll_wait(ep, out, 0) == 1);
    CHECK(out[0].events == s::pollin);
    CHECK(out[0].data == 5u);
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);  // the data still waits, but no new edge
    CHECK(recv_str(h.server, c.server, 2) == "he");
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);  // reading is no edge either
    REQUIRE(send_all(h.client, c.client, "again") == 5);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 8; }));
    REQUIRE(*h.server.epoll_wait(ep, out, 0) == 1);
    CHECK(out[0].events == s::pollin);
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);
    // An ADD of a ready socket reports it once.
    const int ep2 = *h.server.epoll_create1(0);
    REQUIRE(code_of(h.server.epoll_ctl(ep2, s::epoll_ctl_add, c.server, {s::pollin | s::epollet, 6})) == 0);
    CHECK(*h.server.epoll_wait(ep2, out, 0) == 1);
    CHECK(*h.server.epoll_wait(ep2, out, 0) == 0);
}

TEST_CASE("socket layer: EPOLLONESHOT reports once, then nothing until EPOLL_CTL_MOD", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    REQUIRE(send_all(h.client, c.client, "xyz") == 3);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 3; }));
    const int ep = *h.server.epoll_create1(0);
    REQUIRE(code_of(h.server.epoll_ctl(ep, s::epoll_ctl_add, c.server, {s::pollin | s::epolloneshot, 9})) == 0);
    epoll_item out[4];
    REQUIRE(*h.server.epoll_wait(ep, out, 0) == 1);
    CHECK(out[0].events == s::pollin);
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);
    // New data does not re-arm it.
    REQUIRE(send_all(h.client, c.client, "more") == 4);
    REQUIRE(h.run([&] { return ioctl_of(h.server, c.server, s::siocinq) == 7; }));
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);
    REQUIRE(code_of(h.server.epoll_ctl(ep, s::epoll_ctl_mod, c.server, {s::pollin | s::epolloneshot, 10})) == 0);
    REQUIRE(*h.server.epoll_wait(ep, out, 0) == 1);
    CHECK(out[0].data == 10u);
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);
}

TEST_CASE("socket layer: epoll reports a listener's connection and a peer's reset", "[socket]") {
    hosts<> h;
    const int l = *h.server.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(h.server.bind(l, {server_ip, 80})) == 0);
    REQUIRE(code_of(h.server.listen(l, 8)) == 0);
    const int ep = *h.server.epoll_create1(0);
    REQUIRE(code_of(h.server.epoll_ctl(ep, s::epoll_ctl_add, l, {s::pollin | s::epollet, 1})) == 0);
    epoll_item out[4];
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);
    const int c = *h.client.socket(s::af_inet, s::sock_stream | s::sock_nonblock, 0);
    REQUIRE(code_of(h.client.connect(c, {server_ip, 80})) == EINPROGRESS);
    REQUIRE(h.run([&] { return *h.server.epoll_wait(ep, out, 0) == 1; }));
    CHECK(out[0].events == s::pollin);
    CHECK(out[0].data == 1u);
    const int a = *h.server.accept(l, nullptr, s::sock_nonblock);
    // The client aborts: the accepted socket's edge-triggered entry fires with POLLERR and POLLHUP.
    REQUIRE(code_of(h.server.epoll_ctl(ep, s::epoll_ctl_add, a, {s::pollout | s::epollet, 2})) == 0);
    REQUIRE(*h.server.epoll_wait(ep, out, 0) == 1);  // the ADD of a writable socket
    CHECK(out[0].events == s::pollout);
    CHECK(*h.server.epoll_wait(ep, out, 0) == 0);
    const linux_linger lg{1, 0};
    REQUIRE(code_of(h.client.setsockopt(c, s::sol_socket, s::so_linger, std::as_bytes(std::span(&lg, 1)))) == 0);
    REQUIRE(code_of(h.client.close(c)) == 0);
    REQUIRE(h.run([&] { return *h.server.epoll_wait(ep, out, 0) == 1; }));
    CHECK(out[0].data == 2u);
    CHECK(out[0].events == (s::pollout | s::pollerr | s::pollhup));
}

// ============================================================================================
// Blocking calls, with a Waiter that runs the network in virtual time
// ============================================================================================

TEST_CASE("socket layer: a blocking connect returns once the handshake is done, a blocking accept waits for it",
          "[socket]") {
    hosts<virtual_waiter> h;
    const int l = *h.server.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(h.server.bind(l, {server_ip, 80})) == 0);
    REQUIRE(code_of(h.server.listen(l, 8)) == 0);
    const int c = *h.client.socket(s::af_inet, s::sock_stream, 0);
    const time_point start = h.net.now();
    CHECK(code_of(h.client.connect(c, {server_ip, 80})) == 0);
    CHECK(h.net.now() - start == 2ms);  // SYN out, SYN-ACK back
    CHECK(h.client.waiter().waits > 0);
    CHECK(code_of(h.client.connect(c, {server_ip, 80})) == EISCONN);
    // The client's ACK reaches the server 1 ms later: accept waits for it.
    const auto a = h.server.accept(l);
    REQUIRE(a.has_value());
    CHECK(h.net.now() - start == 3ms);
}

TEST_CASE("socket layer: a blocking recv waits for the peer's data", "[socket]") {
    hosts<virtual_waiter> h;
    const auto c = establish(h, 80, false);
    const time_point start = h.net.now();
    // The client sends 100 ms from now; its bytes arrive 1 ms later.
    h.server.waiter().actions.push_back({start + 100ms, [&] { (void)send_all(h.client, c.client, "ping"); }});
    CHECK(recv_str(h.server, c.server, 64) == "ping");
    CHECK(h.net.now() - start == 101ms);
    // And the other way.
    const time_point t2 = h.net.now();
    h.client.waiter().actions.push_back({t2 + 40ms, [&] { (void)send_all(h.server, c.server, "pong"); }});
    CHECK(recv_str(h.client, c.client, 64) == "pong");
    CHECK(h.net.now() - t2 == 41ms);
}

TEST_CASE("socket layer: TCP_WINDOW_CLAMP is raised to 1152, cleared only while closed, and caps the window",
          "[socket]") {
    {
        lone<> l;
        const int fd = *l.layer.socket(s::af_inet, s::sock_stream, 0);
        CHECK(get_int(l.layer, fd, s::sol_tcp, s::tcp_window_clamp) == 0);
        REQUIRE(code_of(set_int(l.layer, fd, s::sol_tcp, s::tcp_window_clamp, 100)) == 0);
        CHECK(get_int(l.layer, fd, s::sol_tcp, s::tcp_window_clamp) == 1152);
        REQUIRE(code_of(set_int(l.layer, fd, s::sol_tcp, s::tcp_window_clamp, 0)) == 0);  // closed: cleared
        CHECK(get_int(l.layer, fd, s::sol_tcp, s::tcp_window_clamp) == 0);
    }
    // Set on the listener, the clamp holds from the SYN,ACK on (a window
    // offered is never taken back, so lowering it later shows only as the
    // offered edge is used up).
    hosts<> h;
    h.net.keep_trace = true;
    const int l = *h.server.socket(s::af_inet, s::sock_stream, 0);
    REQUIRE(code_of(h.server.bind(l, {server_ip, 80})) == 0);
    REQUIRE(code_of(set_int(h.server, l, s::sol_tcp, s::tcp_window_clamp, 5000)) == 0);
    REQUIRE(code_of(h.server.listen(l, 8)) == 0);
    const int cl = *h.client.socket(s::af_inet, s::sock_stream | s::sock_nonblock, 0);
    REQUIRE(code_of(h.client.connect(cl, {server_ip, 80})) == EINPROGRESS);
    REQUIRE(h.run([&] { return revents(h.server, l, s::pollin) == s::pollin; }));
    const int sv = *h.server.accept(l, nullptr, s::sock_nonblock);
    CHECK(get_int(h.server, sv, s::sol_tcp, s::tcp_window_clamp) == 5000);
    CHECK(code_of(set_int(h.server, sv, s::sol_tcp, s::tcp_window_clamp, 0)) == EINVAL);
    CHECK(send_all(h.client, cl, std::string(3000, 'x')) == 3000);
    h.run_for(100ms);
    const auto from_server = segments_from(h.net.trace, server_ip);
    REQUIRE(from_server.size() >= 2);
    const auto synack = tcp_segment_view::parse(from_server.front());
    REQUIRE(synack.has_value());
    CHECK(synack->window() == 5000);
    const unsigned ws = synack->options().window_scale.value_or(0);
    for (std::size_t i = 1; i < from_server.size(); ++i) {
        const auto seg = tcp_segment_view::parse(from_server[i]);
        REQUIRE(seg.has_value());
        CHECK((std::uint32_t{seg->window()} << ws) <= 5000u + (1u << ws));  // rounded up to the scale
    }
}

TEST_CASE("socket layer: TCP_QUICKACK reads 1 until set to 0 on a connection, and 1 again after", "[socket]") {
    hosts<> h;
    const auto c = establish(h);
    CHECK(get_int(h.server, c.server, s::sol_tcp, s::tcp_quickack) == 1);
    REQUIRE(code_of(set_int(h.server, c.server, s::sol_tcp, s::tcp_quickack, 0)) == 0);
    CHECK(get_int(h.server, c.server, s::sol_tcp, s::tcp_quickack) == 0);
    REQUIRE(code_of(set_int(h.server, c.server, s::sol_tcp, s::tcp_quickack, 1)) == 0);
    CHECK(get_int(h.server, c.server, s::sol_tcp, s::tcp_quickack) == 1);
}

TEST_CASE("socket layer: a blocking send larger than SO_SNDBUF returns once ACKs made room for all of it",
          "[socket]") {
    hosts<virtual_waiter> h;
    const auto c = establish(h, 80, false);
    REQUIRE(code_of(set_int(h.client, c.client, s::sol_socket, s::so_sndbuf, 21000)) == 0);
    std::string data(61000, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 23);
    const auto r = h.client.send(c.client, {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
    REQUIRE(r.has_value());
    CHECK(*r == data.size());
    std::string got;
    REQUIRE(h.run([&] {
        std::uint8_t buf[65536];
        if (const auto n = h.server.recv(c.server, buf, s::msg_dontwait))
            got.append(reinterpret_cast<const char*>(buf), n->bytes);
        return got.size() == data.size();
    }));
    CHECK(got == data);
}

TEST_CASE("socket layer: a blocking recv waits until SO_RCVLOWAT bytes are there", "[socket]") {
    hosts<virtual_waiter> h;
    const auto c = establish(h, 80, false);
    REQUIRE(code_of(set_int(h.server, c.server, s::sol_socket, s::so_rcvlowat, 10)) == 0);
    const time_point start = h.net.now();
    REQUIRE(send_all(h.client, c.client, "01234") == 5);
    h.server.waiter().actions.push_back({start + 100ms, [&] { (void)send_all(h.client, c.client, "56789"); }});
    CHECK(recv_str(h.server, c.server, 64) == "0123456789");
    CHECK(h.net.now() - start == 101ms);
}

TEST_CASE("socket layer: a blocking recv wakes at the peer's end of the stream", "[socket]") {
    hosts<virtual_waiter> h;
    const auto c = establish(h, 80, false);
    const time_point start = h.net.now();
    h.server.waiter().actions.push_back({start + 30ms, [&] { (void)h.client.shutdown(c.client, s::shut_wr); }});
    CHECK(recv_str(h.server, c.server, 64).empty());
    CHECK(h.net.now() - start == 31ms);
}

TEST_CASE("socket layer: SO_RCVTIMEO ends a blocking recv with EAGAIN after exactly that time", "[socket]") {
    hosts<virtual_waiter> h;
    const auto c = establish(h, 80, false);
    const linux_timeval tv{0, 250000};
    REQUIRE(code_of(h.server.setsockopt(c.server, s::sol_socket, s::so_rcvtimeo, std::as_bytes(std::span(&tv, 1)))) ==
            0);
    const time_point start = h.net.now();
    CHECK(recv_errno(h.server, c.server) == EAGAIN);
    CHECK(h.net.now() - start == 250ms);
    // Data that comes within the time is returned when it comes.
    const time_point t2 = h.net.now();
    h.server.waiter().actions.push_back({t2 + 100ms, [&] { (void)send_all(h.client, c.client, "in time"); }});
    CHECK(recv_str(h.server, c.server, 64) == "in time");
    CHECK(h.net.now() - t2 == 101ms);
    // MSG_DONTWAIT does not wait at all.
    const time_point t3 = h.net.now();
    CHECK(recv_errno(h.server, c.server, s::msg_dontwait) == EAGAIN);
    CHECK(h.net.now() == t3);
}

TEST_CASE("socket layer: poll and epoll_wait with a timeout wait that long in virtual time", "[socket]") {
    hosts<virtual_waiter> h;
    const auto c = establish(h, 80, false);
    const time_point start = h.net.now();
    poll_request p{c.server, s::pollin, 0};
    CHECK(*h.server.poll(std::span(&p, 1), 300) == 0);
    CHECK(h.net.now() - start == 300ms);
    const int ep = *h.server.epoll_create1(0);
    REQUIRE(code_of(h.server.epoll_ctl(ep, s::epoll_ctl_add, c.server, {s::pollin, 1})) == 0);
    epoll_item out[2];
    const time_point t2 = h.net.now();
    CHECK(*h.server.epoll_wait(ep, out, 120) == 0);
    CHECK(h.net.now() - t2 == 120ms);
    // And wake as soon as the data is there.
    const time_point t3 = h.net.now();
    h.server.waiter().actions.push_back({t3 + 10ms, [&] { (void)send_all(h.client, c.client, "!"); }});
    CHECK(*h.server.epoll_wait(ep, out, -1) == 1);
    CHECK(h.net.now() - t3 == 11ms);
}

TEST_CASE("socket layer: without a Waiter, a blocking socket answers as a non-blocking one", "[socket]") {
    hosts<> h;
    const auto c = establish(h, 80, false);
    CHECK(*h.server.fcntl(c.server, s::f_getfl) == s::o_rdwr);
    const time_point start = h.net.now();
    CHECK(recv_errno(h.server, c.server) == EAGAIN);
    CHECK(h.net.now() == start);
    const int fresh = *h.client.socket(s::af_inet, s::sock_stream, 0);
    CHECK(code_of(h.client.connect(fresh, {server_ip, 80})) == EINPROGRESS);
}

// ============================================================================================
// The numbers: tcpcore::sock against the system's headers. Included last:
// they define macros (POLLIN, SO_TYPE, TCP_INFO...) nothing above may see.
// ============================================================================================

#if __has_include(<sys/socket.h>) && __has_include(<linux/sockios.h>)
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace {
using u32 = std::uint32_t;

static_assert(s::af_unspec == AF_UNSPEC);
static_assert(s::af_inet == AF_INET);
static_assert(s::af_inet6 == AF_INET6);
static_assert(s::sock_stream == SOCK_STREAM);
static_assert(s::sock_dgram == SOCK_DGRAM);
static_assert(s::sock_packet == SOCK_PACKET);
static_assert(s::sock_nonblock == SOCK_NONBLOCK);
static_assert(s::sock_cloexec == SOCK_CLOEXEC);
static_assert(s::ipproto_ip == IPPROTO_IP);
static_assert(s::ipproto_tcp == IPPROTO_TCP);

static_assert(s::sol_socket == SOL_SOCKET);
static_assert(s::sol_tcp == SOL_TCP);

static_assert(s::so_reuseaddr == SO_REUSEADDR);
static_assert(s::so_type == SO_TYPE);
static_assert(s::so_error == SO_ERROR);
static_assert(s::so_sndbuf == SO_SNDBUF);
static_assert(s::so_rcvbuf == SO_RCVBUF);
static_assert(s::so_keepalive == SO_KEEPALIVE);
static_assert(s::so_linger == SO_LINGER);
static_assert(s::so_reuseport == SO_REUSEPORT);
static_assert(s::so_rcvlowat == SO_RCVLOWAT);
static_assert(s::so_sndlowat == SO_SNDLOWAT);
static_assert(s::so_rcvtimeo == SO_RCVTIMEO);
static_assert(s::so_sndtimeo == SO_SNDTIMEO);
static_assert(s::so_acceptconn == SO_ACCEPTCONN);
static_assert(s::so_protocol == SO_PROTOCOL);
static_assert(s::so_domain == SO_DOMAIN);

static_assert(s::tcp_nodelay == TCP_NODELAY);
static_assert(s::tcp_maxseg == TCP_MAXSEG);
static_assert(s::tcp_cork == TCP_CORK);
static_assert(s::tcp_keepidle == TCP_KEEPIDLE);
static_assert(s::tcp_keepintvl == TCP_KEEPINTVL);
static_assert(s::tcp_keepcnt == TCP_KEEPCNT);
static_assert(s::tcp_syncnt == TCP_SYNCNT);
static_assert(s::tcp_linger2 == TCP_LINGER2);
static_assert(s::tcp_window_clamp == TCP_WINDOW_CLAMP);
static_assert(s::tcp_info == TCP_INFO);
static_assert(s::tcp_quickack == TCP_QUICKACK);
static_assert(s::tcp_congestion == TCP_CONGESTION);
static_assert(s::tcp_user_timeout == TCP_USER_TIMEOUT);
static_assert(s::tcp_fastopen == TCP_FASTOPEN);
static_assert(s::tcp_notsent_lowat == TCP_NOTSENT_LOWAT);
static_assert(s::tcp_fastopen_connect == TCP_FASTOPEN_CONNECT);
static_assert(s::tcp_inq == TCP_INQ);

static_assert(s::msg_oob == MSG_OOB);
static_assert(s::msg_peek == MSG_PEEK);
static_assert(s::msg_trunc == MSG_TRUNC);
static_assert(s::msg_dontwait == MSG_DONTWAIT);
static_assert(s::msg_eor == MSG_EOR);
static_assert(s::msg_waitall == MSG_WAITALL);
static_assert(s::msg_errqueue == MSG_ERRQUEUE);
static_assert(s::msg_nosignal == MSG_NOSIGNAL);
static_assert(s::msg_more == MSG_MORE);
static_assert(s::msg_zerocopy == MSG_ZEROCOPY);
static_assert(s::msg_fastopen == MSG_FASTOPEN);

static_assert(s::shut_rd == SHUT_RD);
static_assert(s::shut_wr == SHUT_WR);
static_assert(s::shut_rdwr == SHUT_RDWR);

static_assert(s::pollin == u32{POLLIN});
static_assert(s::pollpri == u32{POLLPRI});
static_assert(s::pollout == u32{POLLOUT});
static_assert(s::pollerr == u32{POLLERR});
static_assert(s::pollhup == u32{POLLHUP});
static_assert(s::pollnval == u32{POLLNVAL});
static_assert(s::pollrdnorm == u32{POLLRDNORM});
static_assert(s::pollrdband == u32{POLLRDBAND});
static_assert(s::pollwrnorm == u32{POLLWRNORM});
static_assert(s::pollwrband == u32{POLLWRBAND});
static_assert(s::pollrdhup == u32{POLLRDHUP});
// epoll's bits are poll's.
static_assert(s::pollin == static_cast<u32>(EPOLLIN));
static_assert(s::pollpri == static_cast<u32>(EPOLLPRI));
static_assert(s::pollout == static_cast<u32>(EPOLLOUT));
static_assert(s::pollerr == static_cast<u32>(EPOLLERR));
static_assert(s::pollhup == static_cast<u32>(EPOLLHUP));
static_assert(s::pollrdnorm == static_cast<u32>(EPOLLRDNORM));
static_assert(s::pollrdband == static_cast<u32>(EPOLLRDBAND));
static_assert(s::pollwrnorm == static_cast<u32>(EPOLLWRNORM));
static_assert(s::pollwrband == static_cast<u32>(EPOLLWRBAND));
static_assert(s::pollrdhup == static_cast<u32>(EPOLLRDHUP));
static_assert(s::epollexclusive == static_cast<u32>(EPOLLEXCLUSIVE));
static_assert(s::epollwakeup == static_cast<u32>(EPOLLWAKEUP));
static_assert(s::epolloneshot == static_cast<u32>(EPOLLONESHOT));
static_assert(s::epollet == static_cast<u32>(EPOLLET));
static_assert(s::epoll_ctl_add == EPOLL_CTL_ADD);
static_assert(s::epoll_ctl_del == EPOLL_CTL_DEL);
static_assert(s::epoll_ctl_mod == EPOLL_CTL_MOD);

static_assert(s::f_getfd == F_GETFD);
static_assert(s::f_setfd == F_SETFD);
static_assert(s::f_getfl == F_GETFL);
static_assert(s::f_setfl == F_SETFL);
static_assert(s::o_rdwr == O_RDWR);
static_assert(s::o_nonblock == O_NONBLOCK);
static_assert(s::fd_cloexec == FD_CLOEXEC);

static_assert(s::siocinq == static_cast<unsigned long>(SIOCINQ));
static_assert(s::siocinq == static_cast<unsigned long>(FIONREAD));
static_assert(s::siocoutq == static_cast<unsigned long>(SIOCOUTQ));
static_assert(s::siocoutq == static_cast<unsigned long>(TIOCOUTQ));
static_assert(s::siocoutqnsd == static_cast<unsigned long>(SIOCOUTQNSD));

// struct linger and struct timeval as laid out here.
static_assert(sizeof(tcpcore::linux_linger) == sizeof(::linger));
static_assert(offsetof(::linger, l_onoff) == offsetof(tcpcore::linux_linger, l_onoff));
static_assert(offsetof(::linger, l_linger) == offsetof(tcpcore::linux_linger, l_linger));
static_assert(sizeof(tcpcore::linux_timeval) == sizeof(::timeval));
static_assert(offsetof(::timeval, tv_sec) == offsetof(tcpcore::linux_timeval, tv_sec));
static_assert(offsetof(::timeval, tv_usec) == offsetof(tcpcore::linux_timeval, tv_usec));
}  // namespace
#endif
