#pragma once
// The socket layer's data calls: send/sendv, recv/recvv with their flags,
// shutdown and the queue ioctls, in the order of checks Linux's
// tcp_sendmsg, tcp_recvmsg and inet_shutdown make.

#include <tcpcore/socket/socket_layer.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpcore {

template <policy_bundle P, socket_waiter Waiter>
expected<std::size_t, std::error_code> socket_layer<P, Waiter>::sendv(int fd, std::span<const std::span<const std::uint8_t>> pieces, int flags) {
    sync();
    entry* e = tcp_socket(fd);
    if (e == nullptr) return unexpected{last_};
    if (flags & (sock::msg_oob | sock::msg_fastopen | sock::msg_zerocopy)) return fail(EOPNOTSUPP);
    std::size_t total = 0;
    for (const auto& p : pieces) total += p.size();
    const bool nonblocking = e->nonblocking || (flags & sock::msg_dontwait);
    std::size_t sent = 0;
    const auto start = ep_.clock().now();
    for (;;) {
        e = find(fd);
        const auto ready = send_gate(*e);
        if (!ready) return sent ? expected<std::size_t, std::error_code>{sent} : unexpected{ready.error()};
        if (*ready || total == 0) {
            if (total == 0) return std::size_t{0};
            sent += queue_from(*e, pieces, sent, (flags & sock::msg_more) != 0);
            if (sent == total) return sent;
        }
        if (nonblocking) break;
        if (!wait_once(start, limit_of(e->settings.sndtimeo))) break;
    }
    if (sent) return sent;
    return fail(EAGAIN);
}

template <policy_bundle P, socket_waiter Waiter>
expected<received, std::error_code> socket_layer<P, Waiter>::recvv(int fd, std::span<const std::span<std::uint8_t>> pieces, int flags) {
    sync();
    entry* e = tcp_socket(fd);
    if (e == nullptr) return unexpected{last_};
    if (flags & sock::msg_oob) return fail(EINVAL);  // no urgent data is ever kept
    if (flags & sock::msg_errqueue) return fail(EAGAIN);
    if (e->stage != stage_kind::connection) return fail(ENOTCONN);
    std::size_t want = 0;
    for (const auto& p : pieces) want += p.size();
    const bool peek = (flags & sock::msg_peek) != 0;
    const bool nonblocking = e->nonblocking || (flags & sock::msg_dontwait);
    std::size_t got = 0;
    const auto start = ep_.clock().now();
    // Linux tcp_recvmsg(): take what is there; stop at the target
    // (SO_RCVLOWAT, or all with MSG_WAITALL); with nothing taken, the
    // end of the stream, then an error, then SHUT_RD answer before EAGAIN.
    for (;;) {
        e = find(fd);
        const connection_type& c = connection(*e);
        got = peek ? take(*e, pieces, 0, true) : got + take(*e, pieces, got, false);
        if (got == want) break;
        const std::size_t lowat = static_cast<std::size_t>(std::max(e->settings.rcvlowat, 1));
        const std::size_t target = (flags & sock::msg_waitall) && !peek ? want : std::min(want, lowat);
        if (got >= target) break;
        const bool ended = c.state() == tcp_state::closed;
        if (got == 0) {
            if (c.eof()) break;
            if (const std::error_code err = take_error(*e)) return unexpected{err};
            if (e->shut_rd || ended) break;
        } else if (ended || e->shut_rd || c.eof() || pending_error(*e)) {
            break;
        }
        if (nonblocking || !wait_once(start, limit_of(e->settings.rcvtimeo))) {
            if (got == 0) return fail(EAGAIN);
            break;
        }
    }
    received r{got, {}};
    if (e->settings.inq) {
        // Linux's hint says 1 at the end of the stream, so a reader knows to read once more.
        const connection_type& c = connection(*e);
        r.inq = c.readable() == 0 && c.sequence().fin_received ? 1 : static_cast<int>(c.readable());
    }
    return r;
}

template <policy_bundle P, socket_waiter Waiter>
std::error_code socket_layer<P, Waiter>::shutdown(int fd, int how) {
    sync();
    entry* e = tcp_socket(fd);
    if (e == nullptr) return last_;
    if (how < sock::shut_rd || how > sock::shut_rdwr) return errno_code(EINVAL);
    // Linux inet_shutdown(), by state.
    if (e->stage == stage_kind::listening) {
        if (how == sock::shut_wr) return {};
        (void)ep_.close_listener(e->listener);  // stops listening
        e->stage = stage_kind::fresh;
        return {};
    }
    if (e->stage != stage_kind::connection) return errno_code(ENOTCONN);
    const tcp_state st = connection(*e).state();
    if (st == tcp_state::syn_sent) {  // the attempt is abandoned
        (void)ep_.abort(e->conn);
        forget_connection(*e);
        return {};
    }
    if (how != sock::shut_wr) e->shut_rd = true;
    if (how != sock::shut_rd) e->shut_wr = true;
    if (st == tcp_state::closed) return errno_code(ENOTCONN);
    if (how != sock::shut_rd) (void)ep_.shutdown(e->conn);
    wake(fd, ~0u);
    return {};
}

template <policy_bundle P, socket_waiter Waiter>
expected<int, std::error_code> socket_layer<P, Waiter>::ioctl(int fd, unsigned long request) {
    sync();
    entry* e = tcp_socket(fd);
    if (e == nullptr) return unexpected{last_};
    if (request != sock::siocinq && request != sock::siocoutq && request != sock::siocoutqnsd)
        return fail(ENOTTY);
    if (e->stage == stage_kind::listening) return fail(EINVAL);
    if (e->stage != stage_kind::connection) return 0;
    const connection_type& c = connection(*e);
    if (c.state() == tcp_state::syn_sent || c.state() == tcp_state::syn_received) return 0;
    const sequence_variables v = c.sequence();
    if (request == sock::siocinq) return static_cast<int>(v.receive_queue);
    if (request == sock::siocoutq) return static_cast<int>(v.send_queue);
    return static_cast<int>(not_sent(v));
}

template <policy_bundle P, socket_waiter Waiter>
expected<bool, std::error_code> socket_layer<P, Waiter>::send_gate(entry& e) {
    if (e.stage != stage_kind::connection) return fail(EPIPE);
    if (const std::error_code err = take_error(e)) return unexpected{err};
    if (e.shut_wr) return fail(EPIPE);
    const tcp_state st = connection(e).state();
    if (st == tcp_state::syn_sent || st == tcp_state::syn_received) return false;
    if (st != tcp_state::established && st != tcp_state::close_wait) return fail(EPIPE);
    return connection(e).send_space() > 0;
}

template <policy_bundle P, socket_waiter Waiter>
std::size_t socket_layer<P, Waiter>::queue_from(entry& e, std::span<const std::span<const std::uint8_t>> pieces,
                                                std::size_t skip, bool more) {
    // One write, however many pieces: only its end is pushed (Linux
    // tcp_sendmsg), so every piece but the last is queued as MSG_MORE.
    std::size_t last = pieces.size();
    while (last > 0 && pieces[last - 1].empty()) --last;
    std::size_t queued = 0;
    for (std::size_t i = 0; i < last; ++i) {
        const auto& p = pieces[i];
        if (skip >= p.size()) {
            skip -= p.size();
            continue;
        }
        const auto part = p.subspan(skip);
        skip = 0;
        const auto n = ep_.send(e.conn, part, more || i + 1 < last);
        if (!n) break;
        queued += *n;
        if (*n < part.size()) {
            // The buffer is full: what was queued goes (MSG_MORE or not) while the call waits.
            (void)ep_.send(e.conn, {}, false);
            break;
        }
    }
    return queued;
}

template <policy_bundle P, socket_waiter Waiter>
std::size_t socket_layer<P, Waiter>::take(entry& e, std::span<const std::span<std::uint8_t>> pieces, std::size_t skip, bool peek) {
    std::size_t got = 0;
    if (peek) {
        const auto have = connection(e).peek();
        std::size_t from = 0;
        for (const auto& p : pieces) {
            for (std::size_t i = 0; i < p.size(); ++i, ++from) {
                if (from < have.first.size()) p[i] = have.first[from];
                else if (from - have.first.size() < have.second.size()) p[i] = have.second[from - have.first.size()];
                else return got;
                ++got;
            }
        }
        return got;
    }
    for (const auto& p : pieces) {
        if (skip >= p.size()) {
            skip -= p.size();
            continue;
        }
        const auto part = p.subspan(skip);
        skip = 0;
        const auto n = ep_.recv(e.conn, part);
        if (!n || *n == 0) break;
        got += *n;
        if (*n < part.size()) break;
    }
    return got;
}

template <policy_bundle P, socket_waiter Waiter>
std::uint32_t socket_layer<P, Waiter>::not_sent(const sequence_variables& v) noexcept {
    const std::uint32_t in_flight = static_cast<std::uint32_t>(v.snd_nxt - v.snd_una);
    return v.send_queue > in_flight ? v.send_queue - in_flight : 0;
}

}  // namespace tcpcore
