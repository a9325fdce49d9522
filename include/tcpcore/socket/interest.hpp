#pragma once
// Readiness: what poll(2) and epoll(7) report for a TCP socket, computed as
// Linux's tcp_poll() does, and an epoll interest set with level- and
// edge-triggered entries. Edge-triggered entries follow Linux's wake-ups:
// an entry becomes due when the socket is woken with an event it watches
// (new data, freed send space, a state change), and epoll_wait() then
// reports what the socket is ready for now, once.

#include <tcpcore/rules/state.hpp>
#include <tcpcore/socket/constants.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tcpcore {

// poll(2)'s struct pollfd, with the socket layer's descriptors.
struct poll_request {
    int fd = -1;
    std::uint32_t events = 0;
    std::uint32_t revents = 0;
};

// epoll's struct epoll_event: what is ready, and the user's data.
struct epoll_item {
    std::uint32_t events = 0;
    std::uint64_t data = 0;
};

namespace detail {

// The facts of one TCP socket that decide its readiness.
struct readiness_facts {
    bool listening = false;
    bool accept_ready = false;   // listening: a connection waits
    bool connection = false;     // it has (had) a connection
    tcp_state state = tcp_state::closed;
    bool receive_shut = false;   // SHUT_RD, or the peer's FIN, or the end
    bool send_shut = false;      // SHUT_WR or close, or the end
    std::size_t readable = 0;
    int rcvlowat = 1;
    std::size_t send_space = 0;  // what send() would take
    std::size_t send_queue = 0;  // queued, not yet acknowledged
    std::size_t not_sent = 0;    // queued, not yet sent
    std::uint32_t notsent_lowat = 0xffffffffu;
    bool error = false;          // an error waits in SO_ERROR
};

// Linux tcp_poll(): the event bits a socket is ready for.
[[nodiscard]] inline std::uint32_t readiness(const readiness_facts& f) noexcept {
    using namespace sock;
    if (f.listening) return f.accept_ready ? (pollin | pollrdnorm) : 0u;
    std::uint32_t mask = 0;
    const bool closed = f.state == tcp_state::closed;
    if ((f.receive_shut && f.send_shut) || closed) mask |= pollhup;
    if (f.receive_shut) mask |= pollin | pollrdnorm | pollrdhup;
    // A socket still in its handshake is ready for nothing yet.
    if (f.state != tcp_state::syn_sent && f.state != tcp_state::syn_received) {
        const std::size_t target = f.rcvlowat > 0 ? static_cast<std::size_t>(f.rcvlowat) : 1u;
        if (f.readable >= target) mask |= pollin | pollrdnorm;
        // Writable when free space is at least half of what is queued
        // (sk_stream_is_writeable), and the unsent bytes, doubled, are
        // under TCP_NOTSENT_LOWAT (poll's wake-up test).
        const bool space = f.send_space >= f.send_queue / 2;
        const bool notsent_ok = std::uint64_t{f.not_sent} * 2 < f.notsent_lowat;
        if (f.send_shut || (space && notsent_ok)) mask |= pollout | pollwrnorm;
    }
    if (f.error) mask |= pollerr;
    return mask;
}

// One epoll set: the sockets it watches.
struct epoll_entry {
    int fd = -1;
    std::uint32_t events = 0;  // the interest, with EPOLLET / EPOLLONESHOT
    std::uint64_t data = 0;
    bool due = false;          // edge-triggered: woken since the last report
    bool disabled = false;     // one-shot: reported, waiting for EPOLL_CTL_MOD
};

class epoll_set {
public:
    static constexpr std::uint32_t always_reported = sock::pollerr | sock::pollhup;

    [[nodiscard]] epoll_entry* find(int fd) noexcept {
        for (auto& e : entries_)
            if (e.fd == fd) return &e;
        return nullptr;
    }
    void add(const epoll_entry& e) { entries_.push_back(e); }
    void remove(int fd) noexcept {
        for (std::size_t i = 0; i < entries_.size(); ++i)
            if (entries_[i].fd == fd) {
                entries_[i] = entries_.back();
                entries_.pop_back();
                return;
            }
    }
    [[nodiscard]] std::vector<epoll_entry>& entries() noexcept { return entries_; }

    // A wake-up of `fd` with `bits` (all bits for a state change).
    void wake(int fd, std::uint32_t bits) noexcept {
        for (auto& e : entries_)
            if (e.fd == fd && (bits & (e.events | always_reported))) e.due = true;
    }

    // Fills `out` with what is ready; `ready_of(fd)` is the socket's
    // readiness now. The number of items written.
    template <class ReadyOf>
    std::size_t collect(std::span<epoll_item> out, ReadyOf&& ready_of) {
        std::size_t n = 0;
        for (auto& e : entries_) {
            if (n == out.size()) break;
            if (e.disabled) continue;
            const bool edge = (e.events & sock::epollet) != 0;
            if (edge && !e.due) continue;
            const std::uint32_t r = ready_of(e.fd) & (e.events | always_reported);
            e.due = false;
            if (r == 0) continue;
            out[n++] = {r, e.data};
            if (e.events & sock::epolloneshot) e.disabled = true;
        }
        return n;
    }

private:
    std::vector<epoll_entry> entries_;
};

}  // namespace detail
}  // namespace tcpcore
