#pragma once
// A BSD-socket-shaped API over an endpoint: descriptors, socket, bind,
// listen, accept, connect, send/recv with flags, shutdown, close with
// SO_LINGER, names, options (options.hpp), poll and epoll. For programs
// written against sockets, for code ported from lwIP's socket API, and for
// conformance testing against Linux (tests/conformance runs packetdrill's
// scripts through it).
//
//   tcpcore::socket_layer<my_policies, my_waiter> s(*tcpcore::check(cfg), {.io = ...}, {.source_v4 = me});
//   const int fd = *s.socket(sock::af_inet, sock::sock_stream, 0);
//   s.connect(fd, {server, 80});          // EINPROGRESS when non-blocking
//   s.endpoint().receive_datagram(pkt);   // input goes to the endpoint, as ever
//
// Errors are Linux's errno values in Linux's cases, as std::error_code
// (generic category): what each call returns is what Linux's call would
// set errno to. Descriptors number from 3, as a fresh process's would.
//
// Blocking. A call on a blocking socket that would block asks the Waiter
// policy to wait (wait_until(deadline): return once input may have reached
// the endpoint, or at the deadline, which is the endpoint's next timer or the
// call's SO_RCVTIMEO/SO_SNDTIMEO/linger limit) and tries again. With
// no_waiting (the default) nothing can block: such a call answers EAGAIN
// (EINPROGRESS for connect) as a non-blocking socket would.

#include <tcpcore/host/endpoint.hpp>
#include <tcpcore/socket/config_variants.hpp>
#include <tcpcore/socket/constants.hpp>
#include <tcpcore/socket/interest.hpp>
#include <tcpcore/socket/settings.hpp>

#include <algorithm>
#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

namespace tcpcore {

template <class W>
concept socket_waiter = requires(W& w, time_point deadline) {
    { w.wait_until(deadline) } -> std::same_as<bool>;
};

// The layer cannot wait: every socket behaves as a non-blocking one.
struct no_waiting {
    constexpr bool wait_until(time_point) const noexcept { return false; }
};
static_assert(socket_waiter<no_waiting>);

// What recv() returns: the bytes, and with TCP_INQ on, what is left to read.
struct received {
    std::size_t bytes = 0;
    std::optional<int> inq;
};

template <policy_bundle P, socket_waiter Waiter = no_waiting>
class socket_layer {
public:
    using endpoint_type = tcpcore::endpoint<P>;
    using connection_type = typename endpoint_type::connection_type;
    static constexpr int first_fd = 3;

    // `cfg` is every socket's configuration until its options change it.
    socket_layer(checked_config cfg, typename endpoint_type::parts parts = {}, socket_layer_options o = {},
                 Waiter w = {})
        : variants_(*cfg), ep_(variants_.checked(0), std::move(parts)), opts_(o), waiter_(std::move(w)) {
        table_.reserve(o.max_sockets);
    }
    socket_layer(const socket_layer&) = delete;
    socket_layer& operator=(const socket_layer&) = delete;

    [[nodiscard]] endpoint_type& endpoint() noexcept { return ep_; }
    [[nodiscard]] Waiter& waiter() noexcept { return waiter_; }
    [[nodiscard]] const socket_layer_options& options() const noexcept { return opts_; }
    [[nodiscard]] socket_layer_options& options() noexcept { return opts_; }

    // Runs the endpoint's due timers and takes its events into the sockets'
    // readiness. Every call does this first; an event loop calls it after
    // handing the endpoint input or when its deadline comes.
    void sync() {
        if (ep_.next_deadline() <= ep_.clock().now()) ep_.poll();
        std::erase_if(orphans_, [this](const orphan& o) {
            if (ep_.get(o.conn)) return false;
            variants_.release(o.variant);
            return true;
        });
        while (const auto ev = ep_.next_event()) {
            if (ev->accept_ready) {
                if (ev->listener.index < fd_of_listener_.size()) wake(fd_of_listener_[ev->listener.index], ~0u);
                continue;
            }
            if (ev->connection.index >= fd_of_conn_.size()) continue;
            const int fd = fd_of_conn_[ev->connection.index];
            const connection_events e = ev->events;
            std::uint32_t bits = 0;
            if (e.has(connection_events::readable)) bits |= sock::pollin;
            if (e.has(connection_events::writable)) bits |= sock::pollout;
            // A state change wakes every waiter, as Linux's sk_state_change.
            if (e.has(connection_events::connected | connection_events::peer_closed | connection_events::closed |
                      connection_events::entered_time_wait))
                bits = ~0u;
            if (bits) wake(fd, bits);
        }
    }

    // ---- Descriptors --------------------------------------------------------------

    expected<int, std::error_code> socket(int domain, int type, int protocol) {
        if (domain != sock::af_inet && domain != sock::af_inet6) return fail(EAFNOSUPPORT);
        const int flags = type & (sock::sock_nonblock | sock::sock_cloexec);
        const int kind = type & ~(sock::sock_nonblock | sock::sock_cloexec);
        // Linux __sys_socket: bits beyond the type and its two flags, or a
        // type past SOCK_PACKET, are invalid; a real type without TCP is not.
        if (kind < 0 || kind > sock::sock_packet) return fail(EINVAL);
        if (kind != sock::sock_stream) return fail(kind == sock::sock_dgram ? EPROTONOSUPPORT : ESOCKTNOSUPPORT);
        if (protocol != 0 && protocol != sock::ipproto_tcp) return fail(EPROTONOSUPPORT);
        const auto fd = new_fd();
        if (!fd) return fd;
        entry& e = at(*fd);
        e.kind = entry_kind::tcp;
        e.family = domain;
        e.nonblocking = (flags & sock::sock_nonblock) != 0;
        e.cloexec = (flags & sock::sock_cloexec) != 0;
        return fd;
    }

    std::error_code close(int fd) {
        sync();
        entry* e = find(fd);
        if (e == nullptr) return errno_code(EBADF);
        for (auto& other : table_)
            if (other.kind == entry_kind::epoll) other.epoll.remove(fd);
        if (e->stage == stage_kind::listening) {
            (void)ep_.close_listener(e->listener);  // its connections not yet accepted go with it
        } else if (e->stage == stage_kind::connection) {
            close_connection(*e);
            // The connection may live on (FIN-WAIT, LAST-ACK...) and reads its
            // configuration until it is gone: sync() lets go of it then.
            if (ep_.get(e->conn)) {
                orphans_.push_back({e->conn, e->variant});
                e->variant = 0;
            }
        }
        variants_.release(e->variant);
        for (const std::uint8_t r : e->retired) variants_.release(r);
        *e = entry{};
        return {};
    }

    // fcntl(2): F_GETFL/F_SETFL (O_NONBLOCK) and F_GETFD/F_SETFD (FD_CLOEXEC).
    expected<int, std::error_code> fcntl(int fd, int cmd, int arg = 0) {
        entry* e = find(fd);
        if (e == nullptr) return fail(EBADF);
        switch (cmd) {
            case sock::f_getfl: return sock::o_rdwr | (e->nonblocking ? sock::o_nonblock : 0);
            case sock::f_setfl: e->nonblocking = (arg & sock::o_nonblock) != 0; return 0;
            case sock::f_getfd: return e->cloexec ? sock::fd_cloexec : 0;
            case sock::f_setfd: e->cloexec = (arg & sock::fd_cloexec) != 0; return 0;
            default: return fail(EINVAL);
        }
    }

    // ---- Addresses --------------------------------------------------------------------

    std::error_code bind(int fd, const socket_address& local) {
        entry* e = tcp_socket(fd);
        if (e == nullptr) return last_;
        if (!family_fits(*e, local.address)) return errno_code(EAFNOSUPPORT);
        if (e->bound || e->stage != stage_kind::fresh) return errno_code(EINVAL);
        if (!address_is_ours(local.address)) return errno_code(EADDRNOTAVAIL);
        socket_address want = local;
        if (want.port == 0) {
            const auto port = free_port(*e, want.address);
            if (!port) return errno_code(EADDRINUSE);
            want.port = *port;
        } else if (port_taken(*e, want)) {
            return errno_code(EADDRINUSE);
        }
        e->local = want;
        e->bound = true;
        return {};
    }

    expected<socket_address, std::error_code> getsockname(int fd) {
        entry* e = tcp_socket(fd);
        if (e == nullptr) return unexpected{last_};
        if (e->stage == stage_kind::connection)
            if (const auto c = ep_.get(e->conn)) return (*c)->tuple().local;
        if (e->bound) return e->local;
        return socket_address{any_address(e->family), 0};
    }

    expected<socket_address, std::error_code> getpeername(int fd) {
        entry* e = tcp_socket(fd);
        if (e == nullptr) return unexpected{last_};
        if (e->stage == stage_kind::connection)
            if (const auto c = ep_.get(e->conn);
                c && (*c)->state() != tcp_state::syn_sent && (*c)->state() != tcp_state::closed)
                return (*c)->tuple().remote;
        return fail(ENOTCONN);
    }

    // ---- Passive open -------------------------------------------------------------------

    std::error_code listen(int fd, int backlog) {
        sync();
        entry* e = tcp_socket(fd);
        if (e == nullptr) return last_;
        // Linux lets backlog + 1 connections wait; a negative backlog is the cap.
        const auto capped = static_cast<std::uint32_t>(
            std::min<std::uint32_t>(static_cast<std::uint32_t>(backlog), static_cast<std::uint32_t>(opts_.somaxconn)));
        if (e->stage == stage_kind::listening) {  // Linux only adjusts the backlog of a live listener
            e->backlog = static_cast<int>(capped);
            return {};
        }
        if (e->stage != stage_kind::fresh) return errno_code(EINVAL);
        if (!e->bound) {
            if (const auto b = bind(fd, {any_address(e->family), 0})) return b;
        } else if (port_taken(*e, e->local)) {
            return errno_code(EADDRINUSE);
        }
        if (const auto v = settle_variant(*e)) return v;
        listen_options lo = opts_.listen_defaults;
        lo.backlog = capped + 1;
        e->backlog = static_cast<int>(capped);
        lo.connection_config = variants_.checked(e->variant);
        const auto l = ep_.listen(listen_address(*e), lo);
        if (!l) return l.error();
        e->listener = *l;
        e->stage = stage_kind::listening;
        map_listener(*l, fd);
        return {};
    }

    expected<int, std::error_code> accept(int fd, socket_address* peer = nullptr, int flags = 0) {
        entry* le = tcp_socket(fd);
        if (le == nullptr) return unexpected{last_};
        if (le->stage != stage_kind::listening) return fail(EINVAL);
        if ((flags & ~(sock::sock_nonblock | sock::sock_cloexec)) != 0) return fail(EINVAL);
        auto h = wait_for(*le, limit_of(le->settings.rcvtimeo), [&]() -> expected<connection_handle, std::error_code> {
            entry* l = find(fd);
            if (l == nullptr || l->stage != stage_kind::listening) return fail(EINVAL);
            return ep_.accept(l->listener);
        });
        if (!h) return unexpected{h.error()};
        const auto nfd = new_fd();
        if (!nfd) {
            (void)ep_.abort(*h);
            return nfd;
        }
        entry& l = at(fd);
        entry& n = at(*nfd);
        n.kind = entry_kind::tcp;
        n.family = l.family;
        n.nonblocking = (flags & sock::sock_nonblock) != 0;
        n.cloexec = (flags & sock::sock_cloexec) != 0;
        n.settings = l.settings;  // options are inherited from the listener, as in Linux
        // The configuration the connection was made with: the listener's,
        // or one it had before its options last changed.
        std::uint8_t used = l.variant;
        if (const auto c = ep_.get(*h)) {
            const std::uint8_t i = variants_.index_of((*c)->configuration());
            if (i != detail::config_variants::none) used = i;
        }
        n.variant = used;
        variants_.retain(used);
        n.stage = stage_kind::connection;
        n.connect_reported = true;  // connected: connect() says EISCONN
        n.conn = *h;
        n.bound = true;
        map_connection(*h, *nfd);
        apply_engine_settings(n);
        if (const auto c = ep_.get(*h)) {
            n.local = (*c)->tuple().local;
            if (peer != nullptr) *peer = (*c)->tuple().remote;
        }
        return nfd;
    }

    // ---- Active open ---------------------------------------------------------------------

    std::error_code connect(int fd, const socket_address& remote) {
        sync();
        entry* e = tcp_socket(fd);
        if (e == nullptr) return last_;
        if (!family_fits(*e, remote.address)) return errno_code(EAFNOSUPPORT);
        switch (e->stage) {
            case stage_kind::listening: return errno_code(EISCONN);
            case stage_kind::connection: return connect_progress(*e, true);
            case stage_kind::fresh: break;
        }
        socket_address local = e->bound ? e->local : socket_address{any_address(e->family), 0};
        if (local.address == any_address(e->family) || local.address == ip_address{}) {
            const ip_address src = remote.address.is_v4() ? opts_.source_v4 : opts_.source_v6;
            if (src == ip_address{} || src == ip_address::v4(0, 0, 0, 0)) return errno_code(ENETUNREACH);
            local.address = src;
        }
        if (const auto v = settle_variant(*e)) return v;
        const auto h = ep_.connect(remote, local, variants_.checked(e->variant));
        if (!h) return h.error();
        e->stage = stage_kind::connection;
        e->conn = *h;
        e->bound = true;
        map_connection(*h, fd);
        apply_engine_settings(*e);
        if (const auto c = ep_.get(*h)) e->local = (*c)->tuple().local;
        return connect_progress(*e, false);
    }

    // ---- Data ------------------------------------------------------------------------------

    expected<std::size_t, std::error_code> send(int fd, std::span<const std::uint8_t> bytes, int flags = 0) {
        const std::span<const std::uint8_t> one[1] = {bytes};
        return sendv(fd, one, flags);
    }

    // writev / sendmsg: the pieces in order, as one stream of bytes.
    expected<std::size_t, std::error_code> sendv(int fd, std::span<const std::span<const std::uint8_t>> pieces, int flags = 0);

    expected<received, std::error_code> recv(int fd, std::span<std::uint8_t> out, int flags = 0) {
        const std::span<std::uint8_t> one[1] = {out};
        return recvv(fd, one, flags);
    }

    // readv / recvmsg: fills the pieces in order.
    expected<received, std::error_code> recvv(int fd, std::span<const std::span<std::uint8_t>> pieces, int flags = 0);

    std::error_code shutdown(int fd, int how);

    // ioctl(2): SIOCINQ, SIOCOUTQ, SIOCOUTQNSD.
    expected<int, std::error_code> ioctl(int fd, unsigned long request);

    // ---- Options -------------------------------------------------------------------------------

    std::error_code setsockopt(int fd, int level, int name, std::span<const std::byte> value);
    // Fills `out` (min(its size, the option's size) bytes); the length written.
    expected<std::size_t, std::error_code> getsockopt(int fd, int level, int name, std::span<std::byte> out);

    // ---- Readiness -------------------------------------------------------------------------------

    // poll(2): fills revents; how many descriptors have any. A negative
    // timeout waits forever (when the Waiter can wait).
    expected<int, std::error_code> poll(std::span<poll_request> fds, int timeout_ms);

    expected<int, std::error_code> epoll_create(int size);
    expected<int, std::error_code> epoll_create1(int flags);

    std::error_code epoll_ctl(int epfd, int op, int fd, epoll_item event = {});

    expected<int, std::error_code> epoll_wait(int epfd, std::span<epoll_item> out, int timeout_ms);

    // The readiness bits of a socket now (poll's revents with every event asked).
    [[nodiscard]] std::uint32_t ready_of(int fd);

private:
    enum class entry_kind : std::uint8_t { free, tcp, epoll };
    enum class stage_kind : std::uint8_t { fresh, listening, connection };

    struct entry {
        entry_kind kind = entry_kind::free;
        stage_kind stage = stage_kind::fresh;
        int family = 0;
        bool nonblocking = false;
        bool cloexec = false;
        bool bound = false;
        bool shut_rd = false;
        bool shut_wr = false;
        bool connect_reported = false;  // the first connect() after success has answered 0
        bool error_taken = false;       // the connection's error was reported once
        std::uint8_t variant = 0;       // the configuration (config_variants) its connections use
        int backlog = 0;                // listen()'s, capped at somaxconn (TCP_INFO shows it)
        socket_address local{};
        listener_handle listener{};
        connection_handle conn{};
        socket_settings settings{};
        // A listener's earlier configurations, which connections it started
        // before its options changed may still use: held until it closes.
        std::vector<std::uint8_t> retired{};
        detail::epoll_set epoll{};
    };

    template <class>
    friend struct socket_options_access;

    static std::error_code errno_code(int e) noexcept { return {e, std::generic_category()}; }
    unexpected<std::error_code> fail(int e) noexcept {
        last_ = errno_code(e);
        return unexpected{last_};
    }

    expected<int, std::error_code> new_fd() {
        for (std::size_t i = 0; i < table_.size(); ++i)
            if (table_[i].kind == entry_kind::free) return static_cast<int>(i) + first_fd;
        if (table_.size() >= opts_.max_sockets) return fail(EMFILE);
        table_.emplace_back();
        return static_cast<int>(table_.size() - 1) + first_fd;
    }
    [[nodiscard]] entry* find(int fd) noexcept {
        if (fd < first_fd || static_cast<std::size_t>(fd - first_fd) >= table_.size()) return nullptr;
        entry& e = table_[static_cast<std::size_t>(fd - first_fd)];
        return e.kind == entry_kind::free ? nullptr : &e;
    }
    [[nodiscard]] entry& at(int fd) noexcept { return table_[static_cast<std::size_t>(fd - first_fd)]; }
    // A TCP socket, or null with last_ set: EBADF, or ENOTSOCK for an epoll set.
    [[nodiscard]] entry* tcp_socket(int fd) noexcept {
        entry* e = find(fd);
        if (e == nullptr) last_ = errno_code(EBADF);
        else if (e->kind != entry_kind::tcp) last_ = errno_code(ENOTSOCK), e = nullptr;
        return e;
    }
    [[nodiscard]] const connection_type& connection(const entry& e) const noexcept { return **ep_.get(e.conn); }

    void wake(int fd, std::uint32_t bits) {
        for (auto& e : table_)
            if (e.kind == entry_kind::epoll) e.epoll.wake(fd, bits);
    }
    void map_connection(connection_handle h, int fd) {
        if (fd_of_conn_.size() <= h.index) fd_of_conn_.resize(h.index + 1, -1);
        fd_of_conn_[h.index] = fd;
    }
    void map_listener(listener_handle h, int fd) {
        if (fd_of_listener_.size() <= h.index) fd_of_listener_.resize(h.index + 1, -1);
        fd_of_listener_[h.index] = fd;
    }

    // ---- Addresses -----------------------------------------------------------------------
    [[nodiscard]] static ip_address any_address(int family) noexcept {
        return family == sock::af_inet ? ip_address::v4(0, 0, 0, 0) : ip_address{};
    }
    [[nodiscard]] static bool is_any(const ip_address& a) noexcept {
        return a == ip_address{} || a == ip_address::v4(0, 0, 0, 0);
    }
    [[nodiscard]] static bool family_fits(const entry& e, const ip_address& a) noexcept {
        return (e.family == sock::af_inet) == a.is_v4();
    }
    [[nodiscard]] bool address_is_ours(const ip_address& a) const noexcept {
        if (is_any(a)) return true;
        const ip_address& mine = a.is_v4() ? opts_.source_v4 : opts_.source_v6;
        return is_any(mine) || a == mine;
    }
    [[nodiscard]] socket_address listen_address(const entry& e) const noexcept { return e.local; }
    // Linux's bind conflict rule, among this layer's sockets: the same port
    // and overlapping addresses, unless both sides allow reuse and the other
    // does not listen (so of two SO_REUSEADDR sockets on a port, the first
    // to listen() may, the second may not).
    [[nodiscard]] bool port_taken(const entry& me, const socket_address& want) const noexcept {
        for (const auto& o : table_) {
            if (&o == &me || o.kind != entry_kind::tcp || !o.bound || o.local.port != want.port) continue;
            if (!(is_any(o.local.address) || is_any(want.address) || o.local.address == want.address)) continue;
            const bool reuse = me.settings.reuseaddr && o.settings.reuseaddr && o.stage != stage_kind::listening;
            if (!reuse) return true;
        }
        return false;
    }
    [[nodiscard]] std::optional<std::uint16_t> free_port(const entry& me, const ip_address& a) const noexcept {
        for (std::uint32_t p = 32768; p <= 60999; ++p)
            if (!port_taken(me, {a, static_cast<std::uint16_t>(p)})) return static_cast<std::uint16_t>(p);
        return std::nullopt;
    }

    // ---- Connections ------------------------------------------------------------------------
    // connect() on a socket that has a connection: Linux's answers by stage.
    std::error_code connect_progress(entry& e, bool again) {
        // Once connected (reported, or accepted), always EISCONN, even after
        // a reset: Linux's SS_CONNECTED stays (SO_ERROR holds the reset).
        if (e.connect_reported) return errno_code(EISCONN);
        const tcp_state st = connection(e).state();
        if (st == tcp_state::syn_sent || st == tcp_state::syn_received) {
            if (e.nonblocking || !can_wait(limit_of(e.settings.sndtimeo))) return errno_code(again ? EALREADY : EINPROGRESS);
            const int fd = fd_of(e);
            const auto start = ep_.clock().now();
            for (;;) {
                entry& x = at(fd);
                const tcp_state s = connection(x).state();
                if (s != tcp_state::syn_sent && s != tcp_state::syn_received) break;
                if (!wait_once(start, limit_of(x.settings.sndtimeo))) return errno_code(again ? EALREADY : EINPROGRESS);
            }
            return connect_progress(at(fd), false);
        }
        if (st == tcp_state::closed) {
            // The attempt failed: report why once, and the socket may connect anew.
            const std::error_code err = take_error(e);
            forget_connection(e);
            return err ? err : errno_code(ECONNABORTED);
        }
        if (e.connect_reported) return errno_code(EISCONN);
        e.connect_reported = true;
        return {};
    }

    void forget_connection(entry& e) {
        (void)ep_.close(e.conn);
        e.conn = {};
        e.stage = stage_kind::fresh;
        e.error_taken = false;
        e.connect_reported = false;
    }

    void close_connection(entry& e) {
        const connection_handle h = e.conn;
        if (e.settings.linger && e.settings.linger_seconds == 0) {
            (void)ep_.abort(h);
            return;
        }
        (void)ep_.close(h);
        if (!e.settings.linger) return;
        // SO_LINGER with a time: close() waits (even on a non-blocking
        // socket, as Linux) until our FIN is acknowledged or the time is up.
        const auto start = ep_.clock().now();
        const duration limit = std::chrono::seconds{e.settings.linger_seconds};
        for (;;) {
            const auto c = ep_.get(h);
            if (!c) return;
            const tcp_state s = (*c)->state();
            if (s != tcp_state::fin_wait_1 && s != tcp_state::closing && s != tcp_state::last_ack) return;
            if (!wait_once(start, limit)) return;
        }
    }

    [[nodiscard]] int fd_of(const entry& e) const noexcept {
        return static_cast<int>(&e - table_.data()) + first_fd;
    }

    // The connection's error while not yet reported (SO_ERROR, or a call).
    [[nodiscard]] std::error_code pending_error(const entry& e) const noexcept {
        if (e.stage != stage_kind::connection || e.error_taken) return {};
        const std::error_code err = connection(e).error();
        // Our own close or abort is no error to report.
        if (err == std::errc::connection_aborted) return {};
        return err ? errno_code(err.value()) : std::error_code{};
    }
    std::error_code take_error(entry& e) noexcept {
        const std::error_code err = pending_error(e);
        if (err) e.error_taken = true;
        return err;
    }

    // send(): whether data may be queued now (true), must wait (false), or
    // fails (Linux's sk_stream_wait_connect / tcp_sendmsg order of checks).
    expected<bool, std::error_code> send_gate(entry& e);

    // Queues the pieces from byte `skip` on; `more` is MSG_MORE.
    std::size_t queue_from(entry& e, std::span<const std::span<const std::uint8_t>> pieces, std::size_t skip,
                           bool more);

    std::size_t take(entry& e, std::span<const std::span<std::uint8_t>> pieces, std::size_t skip, bool peek);

    [[nodiscard]] static std::uint32_t not_sent(const sequence_variables& v) noexcept;

    // ---- Waiting ------------------------------------------------------------------------------
    static constexpr duration forever = duration::max();
    [[nodiscard]] static duration limit_of(const std::optional<duration>& timeout) noexcept {
        return timeout.value_or(forever);
    }
    [[nodiscard]] bool can_wait(duration limit) const noexcept {
        return !std::is_same_v<Waiter, no_waiting> && limit > duration::zero();
    }
    // One wait for a blocking call that began at `start` and may wait for
    // `limit` in all: false when it must give up (its time is up, or
    // nothing can wait).
    bool wait_once(time_point start, duration limit) {
        if (!can_wait(limit)) return false;
        time_point deadline = ep_.next_deadline();
        if (limit != forever) {
            if (ep_.clock().now() - start >= limit) return false;
            // A limit beyond the clock's range is no limit (no overflow).
            if (limit < time_point::max() - start) deadline = std::min(deadline, start + limit);
        }
        if (!waiter_.wait_until(deadline)) return false;
        sync();
        return true;
    }
    template <class Try>
    auto wait_for(entry& e, duration limit, Try&& attempt) -> decltype(attempt()) {
        const bool nonblocking = e.nonblocking;
        const auto start = ep_.clock().now();
        for (;;) {
            sync();
            auto r = attempt();
            if (r || r.error() != std::errc::resource_unavailable_try_again || nonblocking) return r;
            if (!wait_once(start, limit)) return r;
        }
    }

    // ---- Settings into the engine ----------------------------------------------------------------
    // The configuration the socket's settings call for, shared with any
    // socket that asks the same (config_variants.hpp).
    // A connection or listener already made moves to it too; a connection
    // holding buffers of other sizes cannot (EBUSY, nothing changes).
    std::error_code settle_variant(entry& e);

    // What the connection keeps per connection: keepalive, its timers, Nagle.
    void apply_engine_settings(entry& e);

    detail::config_variants variants_;
    endpoint_type ep_;
    socket_layer_options opts_;
    Waiter waiter_;
    std::vector<entry> table_;
    std::vector<int> fd_of_conn_;
    std::vector<int> fd_of_listener_;
    struct orphan {
        connection_handle conn;
        std::uint8_t variant;
    };
    std::vector<orphan> orphans_;  // closed sockets' connections still finishing, and their configurations
    std::error_code last_{};
};

}  // namespace tcpcore

#include <tcpcore/socket/options.hpp>
#include <tcpcore/socket/data_calls.hpp>
#include <tcpcore/socket/readiness_calls.hpp>
