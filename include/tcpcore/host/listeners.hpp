#pragma once
// Listeners: each with its bounded accept queue (a ring of connection slot
// indices, allocated once at listen()), its count of connections still in
// SYN-RECEIVED (the SYN backlog), and a place in the list of listeners with
// connections to accept. Also the stateless half of SYN cookies (RFC 4987
// §3.6): the SYN,ACK that carries all the state, and reading that state back
// from the ACK that returns it. The endpoint decides when to use them.

#include <tcpcore/detail/expected.hpp>
#include <tcpcore/detail/slab.hpp>
#include <tcpcore/engine/connection.hpp>
#include <tcpcore/host/handles.hpp>
#include <tcpcore/host/options.hpp>
#include <tcpcore/host/syn_cookie.hpp>
#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>

namespace tcpcore {

struct listener {
    static constexpr std::uint32_t none = 0xffffffffu;

    socket_address local;
    listen_options options;
    std::uint32_t* queue;  // accept queue: slot indices, a ring of options.backlog
    std::uint32_t head = 0;
    std::uint32_t count = 0;
    std::uint32_t syn_received = 0;
    std::uint32_t ready_next = none;
    bool in_ready = false;

    [[nodiscard]] bool queue_full() const noexcept { return count >= options.backlog; }
    [[nodiscard]] bool backlog_full() const noexcept { return syn_received >= options.syn_backlog; }
    void push(std::uint32_t s) noexcept {
        queue[(head + count) % options.backlog] = s;
        ++count;
    }
    std::uint32_t pop() noexcept {
        const std::uint32_t s = queue[head];
        head = (head + 1) % options.backlog;
        --count;
        return s;
    }
    [[nodiscard]] std::uint32_t at(std::uint32_t k) const noexcept { return queue[(head + k) % options.backlog]; }
    [[nodiscard]] bool holds(std::uint32_t s) const noexcept {
        for (std::uint32_t k = 0; k < count; ++k)
            if (at(k) == s) return true;
        return false;
    }
};

template <allocator_policy Alloc>
class listener_table {
public:
    static constexpr std::uint32_t none = listener::none;

    explicit listener_table(Alloc alloc) noexcept : alloc_(alloc), listeners_(std::move(alloc)) {}
    listener_table(const listener_table&) = delete;
    listener_table& operator=(const listener_table&) = delete;
    ~listener_table() {
        for (std::uint32_t i = 0; i < listeners_.capacity(); ++i)
            if (listeners_.live(i)) free_queue(listeners_[i]);
    }

    expected<listener_handle, std::error_code> add(const socket_address& local, const listen_options& o) {
        if (local.port == 0 || o.backlog == 0) return unexpected{std::make_error_code(std::errc::invalid_argument)};
        for (std::uint32_t i = 0; i < listeners_.capacity(); ++i)
            if (listeners_.live(i) && listeners_[i].local == local)
                return unexpected{std::make_error_code(std::errc::address_in_use)};
        auto* queue = static_cast<std::uint32_t*>(alloc_.allocate(queue_bytes(o), alignof(std::uint32_t)));
        if (queue == nullptr) return unexpected{std::make_error_code(std::errc::not_enough_memory)};
        const std::uint32_t i = listeners_.emplace(listener{local, o, queue});
        if (i == listeners_.none) {
            alloc_.deallocate(queue, queue_bytes(o), alignof(std::uint32_t));
            return unexpected{std::make_error_code(std::errc::not_enough_memory)};
        }
        return handle_of(i);
    }

    void erase(std::uint32_t i) noexcept {
        free_queue(listeners_[i]);
        listeners_.erase(i);
    }

    [[nodiscard]] listener* find(listener_handle h) noexcept {
        if (!listeners_.live(h.index) || listeners_.generation(h.index) != h.generation) return nullptr;
        return &listeners_[h.index];
    }
    [[nodiscard]] listener_handle handle_of(std::uint32_t i) const noexcept { return {i, listeners_.generation(i)}; }

    // The listener for a local socket: the exact address first, else the
    // wildcard (:: for both families, 0.0.0.0 for IPv4); `none` without one.
    [[nodiscard]] std::uint32_t find_for(const socket_address& local) const noexcept {
        std::uint32_t wildcard = none;
        for (std::uint32_t i = 0; i < listeners_.capacity(); ++i) {
            if (!listeners_.live(i) || listeners_[i].local.port != local.port) continue;
            const ip_address& a = listeners_[i].local.address;
            if (a == local.address) return i;
            if (a == ip_address{} || (a == ip_address::v4(0, 0, 0, 0) && local.address.is_v4())) wildcard = i;
        }
        return wildcard;
    }

    [[nodiscard]] listener& operator[](std::uint32_t i) noexcept { return listeners_[i]; }
    [[nodiscard]] std::size_t footprint() const noexcept { return listeners_.footprint(); }

    // Listeners with connections waiting, for next_event(): most recent first.
    void mark_ready(std::uint32_t i) noexcept {
        listener& l = listeners_[i];
        if (l.in_ready) return;
        l.in_ready = true;
        l.ready_next = ready_;
        ready_ = i;
    }
    // The next listener that still has connections to accept.
    std::optional<listener_handle> pop_ready() noexcept {
        while (ready_ != none) {
            const std::uint32_t i = ready_;
            listener& l = listeners_[i];
            ready_ = l.ready_next;
            l.in_ready = false;
            if (l.count != 0) return handle_of(i);
        }
        return std::nullopt;
    }

private:
    [[nodiscard]] static std::size_t queue_bytes(const listen_options& o) noexcept {
        return sizeof(std::uint32_t) * o.backlog;
    }
    void free_queue(listener& l) noexcept {
        alloc_.deallocate(l.queue, queue_bytes(l.options), alignof(std::uint32_t));
    }

    Alloc alloc_;
    detail::slab<listener, Alloc, 4> listeners_;
    std::uint32_t ready_ = none;
};

// RFC 4987 §3.6: the SYN,ACK for a SYN that leaves no state, carrying it all
// in its sequence number (and, with timestamps, in TSval's low bits).
// Written into `room`; its length, or nothing when it does not fit.
[[nodiscard]] inline std::optional<std::size_t> write_cookie_syn_ack(std::span<std::uint8_t> room, const config& cfg,
                                                                    const syn_cookie_jar& cookies, const four_tuple& t,
                                                                    const tcp_segment_view& syn, time_point now,
                                                                    std::uint32_t ts_offset) noexcept {
    const tcp_options& in = syn.options();
    const std::uint16_t peer_mss = in.mss.value_or(536);
    tcp_header_fields f;
    f.src_port = t.local.port;
    f.dst_port = t.remote.port;
    f.seq = cookies.make(t, syn.seq(), peer_mss, now);
    f.ack = syn.seq() + 1;
    f.flags = tcp_flags::syn | tcp_flags::ack;
    f.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(detail::window_limit(cfg), 0xffff));
    tcp_options o;
    o.mss = std::min<std::uint16_t>(cfg.mss, peer_mss);
    // Window scale and SACK can be remembered only inside a timestamp.
    if (cfg.timestamps && in.timestamps) {
        std::optional<std::uint8_t> ws;
        if (cfg.window_scaling && in.window_scale) {
            ws = *in.window_scale;
            o.window_scale = detail::window_scale_for(window_scale_basis(cfg));
        }
        const bool sack = cfg.sack && in.sack_permitted;
        o.sack_permitted = sack;
        const std::uint32_t tsval = detail::ms32(now) + ts_offset;
        o.timestamps = tcp_timestamps{cookies.encode_tsval(tsval, ws, sack), in.timestamps->value};
    }
    const auto n = build_tcp_segment(room, f, o, {}, t.local.address, t.remote.address);
    if (!n) return std::nullopt;
    return *n;
}

// What the SYN remembered by a cookie said, read back from the ACK that
// returns the cookie; nothing when the cookie is not one of ours (forged,
// stale, or for another 4-tuple). CookieSyn is the connection's cookie_syn.
template <class CookieSyn>
[[nodiscard]] std::optional<CookieSyn> read_cookie_ack(const config& cfg, const syn_cookie_jar& cookies,
                                                       const four_tuple& t, const tcp_segment_view& ack,
                                                       time_point now) noexcept {
    const auto mss = cookies.check(t, ack.seq() - 1, ack.ack() - 1, now);
    if (!mss) return std::nullopt;
    CookieSyn syn;
    syn.mss = *mss;
    syn.window = ack.window();  // the SYN's own window is gone; the ACK's is the best there is
    if (const auto& ts = ack.options().timestamps; ts && cfg.timestamps) {
        const auto opts = cookies.decode_tsecr(ts->echo_reply);
        syn.window_scale = opts.wscale;
        syn.sack_permitted = opts.sack;
        syn.ts_recent = ts->value;
    }
    return syn;
}

}  // namespace tcpcore
