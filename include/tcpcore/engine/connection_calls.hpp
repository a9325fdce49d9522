#pragma once
// The connection's user calls and per-connection settings, defined here and
// declared in connection.hpp: active and passive opens (and from a SYN
// cookie), send and recv, shutdown, close and abort, the hand-off to a
// TIME-WAIT table, and the setters behind socket options (keepalive, Nagle,
// TCP_CORK, TCP_QUICKACK, a configuration of its own).

#include <tcpcore/engine/connection.hpp>

namespace tcpcore {

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
std::error_code basic_connection<CC, Alloc, Tracer, Counters>::open_active(time_point now, const four_tuple& t,
                                                                           seq32 iss, std::uint32_t ts_offset) {
    if (state_ != tcp_state::closed) return std::make_error_code(std::errc::already_connected);
    if (const auto check = validate(*cfg_); !check) return check.error();
    if (t.local.address.is_v4() != t.remote.address.is_v4() || t.remote.port == 0)
        return std::make_error_code(std::errc::invalid_argument);
    start(now, t, iss, ts_offset, flag::bound_remote, tcp_event::open_active);
    return {};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
std::error_code basic_connection<CC, Alloc, Tracer, Counters>::open_passive(time_point now,
                                                                            const socket_address& local, seq32 iss,
                                                                            std::uint32_t ts_offset,
                                                                            const socket_address& remote) {
    if (state_ != tcp_state::closed) return std::make_error_code(std::errc::already_connected);
    if (const auto check = validate(*cfg_); !check) return check.error();
    const std::uint32_t fixed = remote.port != 0 ? flag::bound_remote | flag::fixed_remote : 0u;
    start(now, {local, remote}, iss, ts_offset, flag::passive | fixed, tcp_event::open_passive);
    return {};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
segment_outcome basic_connection<CC, Alloc, Tracer, Counters>::open_from_cookie(time_point now, const four_tuple& t,
                                                                                seq32 iss, std::uint32_t ts_offset,
                                                                                const cookie_syn& syn,
                                                                                const tcp_segment_view& ack) {
    if (state_ != tcp_state::closed) return {segment_result::not_for_us, drop_reason::none};
    start(now, t, iss, ts_offset, flag::passive | flag::bound_remote, tcp_event::open_passive);
    // The SYN as the cookie recalls it.
    const detail::peer_syn recalled{ack.seq() - 1,     syn.window,         syn.mss,
                                    syn.window_scale, syn.sack_permitted, syn.ts_recent};
    detail::negotiate(*cfg_, recalled, flags_, snd_, rcv_);
    apply(now, tcp_event::rcv_syn);
    // ... and our SYN,ACK, already sent by the cookie path.
    flags_ &= ~flag::syn_due;
    snd_.nxt = iss + 1;
    return on_segment(now, ack, t.remote.address, t.local.address);
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
std::optional<time_wait_record> basic_connection<CC, Alloc, Tracer, Counters>::hand_off_time_wait(time_point now) {
    if (state_ != tcp_state::time_wait) return std::nullopt;
    const auto window = static_cast<std::uint16_t>(std::min<std::uint32_t>(advertised_window_now() >> rcv_.ws, 0xffff));
    const time_wait_record r{tuple_,         snd_.nxt, rcv_.nxt, rcv_.ts_recent,
                             out_.ts_offset, window,   (flags_ & flag::ts) != 0};
    apply(now, tcp_event::abort);
    return r;
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
expected<std::size_t, std::error_code> basic_connection<CC, Alloc, Tracer, Counters>::send(
    time_point now, std::span<const std::uint8_t> bytes, bool more) {
    if (error_ != 0) return unexpected{error()};
    switch (state_) {
        case tcp_state::closed: return unexpected{std::make_error_code(std::errc::not_connected)};
        case tcp_state::listen:
            if (!(flags_ & flag::fixed_remote)) return unexpected{std::make_error_code(std::errc::not_connected)};
            // RFC 9293 §3.10.2: the open turns active. Its SYN is retried
            // as a client's, and a RST after a simultaneous open ends it.
            flags_ &= ~flag::passive;
            apply(now, tcp_event::send);  // LISTEN --SEND--> SYN-SENT
            break;
        case tcp_state::syn_sent:
        case tcp_state::syn_received:
        case tcp_state::established:
        case tcp_state::close_wait: break;
        default: return unexpected{std::make_error_code(std::errc::broken_pipe)};
    }
    if (flags_ & flag::shutdown) return unexpected{std::make_error_code(std::errc::broken_pipe)};
    if (more) hold_ |= detail::hold::more;
    else hold_ &= static_cast<std::uint8_t>(~detail::hold::more);
    if (bytes.empty()) return std::size_t{0};
    if (!ensure_buffers()) return unexpected{std::make_error_code(std::errc::not_enough_memory)};
    const std::uint32_t n = snd_.queue(bytes, send_ring());
    if constexpr (Counters::enabled) counters_.on_queued(now, n, bytes.size());
    if (is_synchronized(state_)) update_persist(now);
    return std::size_t{n};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
std::size_t basic_connection<CC, Alloc, Tracer, Counters>::recv(std::span<std::uint8_t> out) noexcept {
    const std::uint32_t n = out.size() < rcv_.buf_len ? static_cast<std::uint32_t>(out.size()) : rcv_.buf_len;
    if (n == 0) return 0;
    receive_ring().read(0, out.first(n));
    consume(n);
    return n;
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
void basic_connection<CC, Alloc, Tracer, Counters>::consume(std::size_t n) noexcept {
    if (n > rcv_.buf_len) n = rcv_.buf_len;
    if (n == 0) return;
    const std::uint32_t before = advertised_window_now();
    rcv_.consume(static_cast<std::uint32_t>(n), receive_ring());
    if (rcv_.buf_len == 0 && (state_ == tcp_state::closed || state_ == tcp_state::time_wait)) {
        release_buffers();
        return;
    }
    maybe_announce_window(before);
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
std::error_code basic_connection<CC, Alloc, Tracer, Counters>::shutdown(time_point now) {
    if (state_ == tcp_state::closed || state_ == tcp_state::listen)
        return std::make_error_code(std::errc::not_connected);
    if (state_ == tcp_state::syn_received) {
        defer_fin_until_established();
        return {};
    }
    if (has_transition(state_, tcp_event::shutdown)) apply(now, tcp_event::shutdown);
    return {};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
std::error_code basic_connection<CC, Alloc, Tracer, Counters>::close(time_point now) {
    flags_ |= flag::orphan;
    if (rcv_.buf_len != 0 && state_ != tcp_state::time_wait) {
        abort(now);
        return {};
    }
    if (state_ == tcp_state::syn_received) {
        defer_fin_until_established();
    } else if (has_transition(state_, tcp_event::close)) {
        apply(now, tcp_event::close);
    } else if (state_ == tcp_state::fin_wait_2) {
        arm_fin_wait_2_timeout(now);
    }
    return {};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
void basic_connection<CC, Alloc, Tracer, Counters>::abort(time_point now) {
    if (state_ == tcp_state::closed) return;
    set_error(std::errc::connection_aborted);
    apply(now, tcp_event::abort);
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
void basic_connection<CC, Alloc, Tracer, Counters>::release_finished_buffers() noexcept {
    snd_.buf_len = 0;
    snd_.sacked_count = rcv_.ooo_count = 0;
    if (rcv_.buf_len == 0) release_buffers();
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
config_check basic_connection<CC, Alloc, Tracer, Counters>::set_keepalive(bool on, time_point now) noexcept {
    if (on && !(flags_ & flag::keepalive)) {
        flags_ |= flag::keepalive;
        if (timers_.last_rcv < now) move_last_rcv(now);
    } else if (!on) {
        flags_ &= ~flag::keepalive;
    }
    return {};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
config_check basic_connection<CC, Alloc, Tracer, Counters>::set_nodelay(bool on) noexcept {
    if (on) {
        flags_ |= flag::nodelay;
        hold_ |= detail::hold::push;
    } else {
        flags_ &= ~flag::nodelay;
    }
    return {};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
config_check basic_connection<CC, Alloc, Tracer, Counters>::set_cork(bool on) noexcept {
    if (on) {
        hold_ |= detail::hold::cork;
    } else {
        hold_ &= static_cast<std::uint8_t>(~detail::hold::cork);
        if (flags_ & flag::nodelay) hold_ |= detail::hold::push;
    }
    return {};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
config_check basic_connection<CC, Alloc, Tracer, Counters>::set_quick_ack(bool on) noexcept {
    pacing_.set_interactive(!on);
    if (on && (flags_ & flag::delack)) {
        flags_ &= ~flag::delack;
        flags_ |= flag::ack_now;
    }
    return {};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
bool basic_connection<CC, Alloc, Tracer, Counters>::use_configuration(const config& c) noexcept {
    if (block_.allocated() &&
        (detail::send_capacity(c) != send_capacity() || detail::receive_capacity(c) != receive_capacity()))
        return false;
    cfg_ = &c;
    return true;
}

}  // namespace tcpcore
