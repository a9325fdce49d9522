#pragma once
// The socket layer's readiness calls: poll, the epoll interest sets, and
// the readiness of one socket (interest.hpp turns its facts into Linux's
// tcp_poll mask).

#include <tcpcore/socket/socket_layer.hpp>

#include <chrono>
#include <cstdint>
#include <span>

namespace tcpcore {

template <policy_bundle P, socket_waiter Waiter>
expected<int, std::error_code> socket_layer<P, Waiter>::poll(std::span<poll_request> fds, int timeout_ms) {
    const auto start = ep_.clock().now();
    const duration limit = timeout_ms < 0 ? forever : duration{std::chrono::milliseconds{timeout_ms}};
    for (;;) {
        sync();
        int n = 0;
        for (auto& p : fds) {
            p.revents = 0;
            if (p.fd < 0) continue;
            const entry* e = find(p.fd);
            p.revents = e == nullptr ? sock::pollnval : ready_of(p.fd) & (p.events | sock::pollerr | sock::pollhup);
            if (p.revents) ++n;
        }
        if (n != 0 || timeout_ms == 0 || !wait_once(start, limit)) return n;
    }
}

template <policy_bundle P, socket_waiter Waiter>
expected<int, std::error_code> socket_layer<P, Waiter>::epoll_create(int size) {
    if (size <= 0) return fail(EINVAL);
    return epoll_create1(0);
}

template <policy_bundle P, socket_waiter Waiter>
expected<int, std::error_code> socket_layer<P, Waiter>::epoll_create1(int flags) {
    if (flags & ~sock::sock_cloexec) return fail(EINVAL);
    const auto fd = new_fd();
    if (!fd) return fd;
    at(*fd).kind = entry_kind::epoll;
    at(*fd).cloexec = (flags & sock::sock_cloexec) != 0;
    return fd;
}

template <policy_bundle P, socket_waiter Waiter>
std::error_code socket_layer<P, Waiter>::epoll_ctl(int epfd, int op, int fd, epoll_item event) {
    sync();
    entry* ep = find(epfd);
    entry* target = find(fd);
    if (ep == nullptr || target == nullptr) return errno_code(EBADF);
    if (ep->kind != entry_kind::epoll || fd == epfd) return errno_code(EINVAL);
    if (target->kind != entry_kind::tcp) return errno_code(EPERM);  // nesting epoll sets is not offered
    detail::epoll_entry* have = ep->epoll.find(fd);
    switch (op) {
        case sock::epoll_ctl_add:
            if (have != nullptr) return errno_code(EEXIST);
            ep->epoll.add({fd, event.events, event.data, true, false});  // ADD polls once, as Linux
            return {};
        case sock::epoll_ctl_mod:
            if (have == nullptr) return errno_code(ENOENT);
            *have = {fd, event.events, event.data, true, false};
            return {};
        case sock::epoll_ctl_del:
            if (have == nullptr) return errno_code(ENOENT);
            ep->epoll.remove(fd);
            return {};
        default: return errno_code(EINVAL);
    }
}

template <policy_bundle P, socket_waiter Waiter>
expected<int, std::error_code> socket_layer<P, Waiter>::epoll_wait(int epfd, std::span<epoll_item> out, int timeout_ms) {
    entry* ep = find(epfd);
    if (ep == nullptr) return fail(EBADF);
    if (ep->kind != entry_kind::epoll || out.empty()) return fail(EINVAL);
    const auto start = ep_.clock().now();
    const duration limit = timeout_ms < 0 ? forever : duration{std::chrono::milliseconds{timeout_ms}};
    for (;;) {
        sync();
        const std::size_t n =
            at(epfd).epoll.collect(out, [this](int fd) { return find(fd) != nullptr ? ready_of(fd) : 0u; });
        if (n != 0 || timeout_ms == 0 || !wait_once(start, limit)) return static_cast<int>(n);
    }
}

template <policy_bundle P, socket_waiter Waiter>
std::uint32_t socket_layer<P, Waiter>::ready_of(int fd) {
    entry* e = find(fd);
    if (e == nullptr || e->kind != entry_kind::tcp) return 0;
    detail::readiness_facts f;
    f.rcvlowat = e->settings.rcvlowat;
    // 0 (never set, or set to 0) means the layer's value, as Linux's tcp_notsent_lowat().
    f.notsent_lowat = e->settings.notsent_lowat != 0 ? e->settings.notsent_lowat : opts_.notsent_lowat;
    switch (e->stage) {
        case stage_kind::fresh:
            f.send_space = 1;  // an unconnected socket polls writable (and hung up), as Linux's
            break;
        case stage_kind::listening: {
            f.listening = true;
            f.accept_ready = ep_.waiting(e->listener).value_or(0) != 0;
            break;
        }
        case stage_kind::connection: {
            const connection_type& c = connection(*e);
            const sequence_variables v = c.sequence();
            f.connection = true;
            f.state = c.state();
            const bool ended = f.state == tcp_state::closed;
            f.receive_shut = e->shut_rd || v.fin_received || ended;
            f.send_shut = e->shut_wr || ended;
            f.readable = c.readable();
            f.send_space = c.send_space();
            f.send_queue = v.send_queue;
            f.not_sent = not_sent(v);
            f.error = static_cast<bool>(pending_error(*e));
            break;
        }
    }
    return detail::readiness(f);
}

}  // namespace tcpcore
