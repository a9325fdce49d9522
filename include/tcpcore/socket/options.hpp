#pragma once
// setsockopt / getsockopt of the socket layer: Linux's SOL_SOCKET and
// SOL_TCP options, their value sizes, ranges and errors (settings.hpp has
// the encoding rules), and what each one changes: the socket's own state,
// the connection's per-connection settings, or the configuration its
// connections are made with (config_variants.hpp).

#include <tcpcore/socket/socket_layer.hpp>
#include <tcpcore/socket/tcp_info.hpp>

#include <climits>
#include <cstring>
#include <string_view>

namespace tcpcore {

template <policy_bundle P, socket_waiter Waiter>
std::error_code socket_layer<P, Waiter>::setsockopt(int fd, int level, int name, std::span<const std::byte> value) {
    sync();
    entry* e = tcp_socket(fd);
    if (e == nullptr) return last_;
    socket_settings& s = e->settings;
    const bool live = e->stage == stage_kind::connection;
    const time_point now = ep_.clock().now();
    // Options whose value is a struct read it themselves; the rest are ints.
    const bool struct_value = level == sock::sol_socket &&
                              (name == sock::so_linger || name == sock::so_rcvtimeo || name == sock::so_sndtimeo);
    const bool string_value = level == sock::sol_tcp && name == sock::tcp_congestion;
    int v = 0;
    if (!struct_value && !string_value) {
        const auto x = detail::option_int(value);
        if (!x) return x.error();
        v = *x;
    }
    // Changes the live connection too, if there is one; f returns its error.
    auto engine = [&](auto&& f) -> std::error_code {
        if (!live) return {};
        std::error_code r;
        const std::error_code h = ep_.configure(e->conn, [&](connection_type& c) { r = f(c); });
        return h ? h : r;
    };
    auto checked = [](config_check c) { return c ? std::error_code{} : c.error(); };

    if (level == sock::sol_socket) {
        switch (name) {
            case sock::so_reuseaddr: s.reuseaddr = v != 0; return {};
            case sock::so_reuseport: s.reuseport = v != 0; return {};
            case sock::so_keepalive:
                s.keepalive = v != 0;
                return engine([&](connection_type& c) { return checked(c.set_keepalive(v != 0, now)); });
            case sock::so_linger: {
                if (value.size() < sizeof(linux_linger)) return detail::bad_value();
                linux_linger l;
                std::memcpy(&l, value.data(), sizeof l);
                s.linger = l.l_onoff != 0;
                s.linger_seconds = l.l_linger < 0 ? 0xffffffffu : static_cast<std::uint32_t>(l.l_linger);
                return {};
            }
            case sock::so_sndbuf:
            case sock::so_rcvbuf: {
                const bool snd = name == sock::so_sndbuf;
                const socket_settings before = s;
                (snd ? s.sndbuf : s.rcvbuf) = snd ? detail::doubled_buffer(v, opts_.wmem_max, sock::min_sndbuf)
                                                  : detail::doubled_buffer(v, opts_.rmem_max, sock::min_rcvbuf);
                if (const auto r = settle_variant(*e)) {
                    s = before;
                    return r;
                }
                return {};
            }
            case sock::so_rcvlowat: s.rcvlowat = v < 0 ? INT_MAX : (v == 0 ? 1 : v); return {};
            case sock::so_rcvtimeo:
            case sock::so_sndtimeo: {
                const auto t = detail::option_timeout(value);
                if (!t) return t.error();
                (name == sock::so_rcvtimeo ? s.rcvtimeo : s.sndtimeo) = *t;
                return {};
            }
            default: return detail::no_option();  // read-only (SO_TYPE, SO_ERROR...) or unknown
        }
    }
    if (level != sock::sol_tcp) return detail::no_option();
    switch (name) {
        case sock::tcp_nodelay:
            s.nodelay = v != 0;
            return engine([&](connection_type& c) { return checked(c.set_nodelay(v != 0)); });
        case sock::tcp_maxseg:
            // Linux: 0 clears the clamp; otherwise TCP_MIN_MSS..MAX_TCP_WINDOW.
            if (v != 0 && (v < min_mss || v > 32767)) return detail::bad_value();
        {
            const std::uint16_t before = s.user_mss;
            s.user_mss = static_cast<std::uint16_t>(v);
            if (const auto r = settle_variant(*e)) {
                s.user_mss = before;
                return r;
            }
            return {};
        }
        case sock::tcp_keepidle:
        case sock::tcp_keepintvl: {
            // Linux's MAX_TCP_KEEPIDLE / MAX_TCP_KEEPINTVL: 32767 seconds.
            if (v < 1 || v > std::chrono::duration_cast<std::chrono::seconds>(max_keepalive_time).count())
                return detail::bad_value();
            const duration d = std::chrono::seconds{v};
            const bool idle = name == sock::tcp_keepidle;
            // The socket keeps the value only once the connection took it.
            const std::error_code r = engine([&](connection_type& c) {
                return checked(idle ? c.set_keepalive_idle(d) : c.set_keepalive_interval(d));
            });
            if (!r) (idle ? s.keepidle : s.keepintvl) = d;
            return r;
        }
        case sock::tcp_keepcnt:
            if (v < 1 || v > max_keepalive_probes) return detail::bad_value();
            s.keepcnt = static_cast<std::uint8_t>(v);
            return engine([&](connection_type& c) { return checked(c.set_keepalive_probes(static_cast<std::uint8_t>(v))); });
        case sock::tcp_syncnt:
            if (v < 1 || v > max_syn_retries) return detail::bad_value();
            s.syncnt = static_cast<std::uint8_t>(v);
            return engine([&](connection_type& c) { return checked(c.set_syn_retries(static_cast<std::uint8_t>(v))); });
        case sock::tcp_user_timeout: {
            if (v < 0) return detail::bad_value();
            const duration d = std::chrono::milliseconds{v};
            s.user_timeout = d;
            return engine([&](connection_type& c) { return checked(c.set_user_timeout(d)); });
        }
        case sock::tcp_notsent_lowat: s.notsent_lowat = static_cast<std::uint32_t>(v); return {};
        case sock::tcp_window_clamp: {
            // Linux tcp_set_window_clamp: 0 clears it, only on a closed
            // socket; anything else is raised to SOCK_MIN_RCVBUF / 2.
            const bool closed = !live || connection(*e).state() == tcp_state::closed;
            if (v == 0 && !closed) return detail::bad_value();
            const std::uint32_t before = s.window_clamp;
            s.window_clamp = v == 0 ? 0u : std::max<std::uint32_t>(v < 0 ? 0u : static_cast<std::uint32_t>(v), min_window_clamp);
            if (const auto r = settle_variant(*e)) {
                s.window_clamp = before;
                return r;
            }
            return {};
        }
        case sock::tcp_quickack:
            // Linux: bit 0 on leaves interactive (ping-pong) mode and sends an
            // owed ACK; off enters it. A socket without a connection keeps nothing.
            return engine([&](connection_type& c) { return checked(c.set_quick_ack((v & 1) != 0)); });
        case sock::tcp_cork:
            s.cork = v != 0;
            return engine([&](connection_type& c) { return checked(c.set_cork(v != 0)); });
        case sock::tcp_inq:
            if (v < 0 || v > 1) return detail::bad_value();
            s.inq = v != 0;
            return {};
        case sock::tcp_congestion: {
            // The congestion control is the bundle's: naming it is fine,
            // naming another is Linux's "no such algorithm".
            const std::string_view want(reinterpret_cast<const char*>(value.data()),
                                        ::strnlen(reinterpret_cast<const char*>(value.data()), value.size()));
            return want == congestion_name<typename P::congestion_control>() ? std::error_code{} : errno_code(ENOENT);
        }
        default: return detail::no_option();
    }
}

template <policy_bundle P, socket_waiter Waiter>
expected<std::size_t, std::error_code> socket_layer<P, Waiter>::getsockopt(int fd, int level, int name,
                                                                           std::span<std::byte> out) {
    sync();
    entry* e = tcp_socket(fd);
    if (e == nullptr) return unexpected{last_};
    const socket_settings& s = e->settings;
    const bool live = e->stage == stage_kind::connection;
    const config& cfg = variants_[e->variant];
    auto give = [&](const auto& x) -> expected<std::size_t, std::error_code> { return detail::option_out(out, x); };
    auto seconds = [](duration d) { return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(d).count()); };

    if (level == sock::sol_socket) {
        switch (name) {
            case sock::so_reuseaddr: return give(int{s.reuseaddr});
            case sock::so_reuseport: return give(int{s.reuseport});
            case sock::so_keepalive: return give(int{s.keepalive});
            case sock::so_type: return give(sock::sock_stream);
            case sock::so_protocol: return give(sock::ipproto_tcp);
            case sock::so_domain: return give(e->family);
            case sock::so_acceptconn: return give(int{e->stage == stage_kind::listening});
            case sock::so_error: return give(take_error(*e).value());
            case sock::so_sndbuf: return give(s.sndbuf ? s.sndbuf : static_cast<int>(cfg.send_buffer));
            case sock::so_rcvbuf: return give(s.rcvbuf ? s.rcvbuf : static_cast<int>(cfg.receive_buffer));
            case sock::so_rcvlowat: return give(s.rcvlowat);
            case sock::so_sndlowat: return give(1);
            case sock::so_linger:
                return give(linux_linger{s.linger ? 1 : 0, static_cast<std::int32_t>(std::min<std::uint32_t>(
                                                                s.linger_seconds, INT_MAX))});
            case sock::so_meminfo: {
                // Linux's sk_meminfo in bytes of data (the kernel counts
                // buffer memory, a little more): receive queue, SO_RCVBUF,
                // -, SO_SNDBUF, -, send queue; the rest is kernel memory
                // accounting, zero here.
                std::uint32_t m[9] = {};
                m[1] = static_cast<std::uint32_t>(s.rcvbuf ? s.rcvbuf : static_cast<int>(cfg.receive_buffer));
                m[3] = static_cast<std::uint32_t>(s.sndbuf ? s.sndbuf : static_cast<int>(cfg.send_buffer));
                if (live) {
                    const sequence_variables sv = connection(*e).sequence();
                    m[0] = sv.receive_queue;
                    m[5] = sv.send_queue;
                }
                return give(m);
            }
            case sock::so_rcvtimeo: return give(detail::timeval_of(s.rcvtimeo));
            case sock::so_sndtimeo: return give(detail::timeval_of(s.sndtimeo));
            default: return unexpected{detail::no_option()};
        }
    }
    if (level != sock::sol_tcp) return unexpected{detail::no_option()};
    switch (name) {
        case sock::tcp_nodelay: return give(int{s.nodelay});
        case sock::tcp_maxseg: {
            // Linux: the current send MSS once connected; before, the clamp
            // when one is set, else the default 536.
            if (live && connection(*e).state() != tcp_state::closed) return give(static_cast<int>(connection(*e).info().send_mss));
            return give(s.user_mss ? int{s.user_mss} : 536);
        }
        case sock::tcp_keepidle: return give(seconds(s.keepidle.value_or(cfg.keepalive_idle)));
        case sock::tcp_keepintvl: return give(seconds(s.keepintvl.value_or(cfg.keepalive_interval)));
        case sock::tcp_keepcnt: return give(int{s.keepcnt.value_or(cfg.keepalive_probes)});
        case sock::tcp_syncnt: return give(int{s.syncnt.value_or(cfg.syn_retries)});
        case sock::tcp_user_timeout:
            return give(static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(s.user_timeout.value_or(cfg.user_timeout)).count()));
        // The socket's own value: 0 until set, as Linux (the layer-wide default applies then).
        case sock::tcp_notsent_lowat: return give(static_cast<int>(s.notsent_lowat));
        case sock::tcp_cork: return give(int{s.cork});
        // The clamp set, else (once connected) the largest window the buffer allows.
        case sock::tcp_window_clamp:
            return give(static_cast<int>(s.window_clamp != 0 ? s.window_clamp : live ? detail::window_limit(cfg) : 0u));
        case sock::tcp_quickack: return give(int{!live || connection(*e).quick_ack_mode()});
        // Reno and CUBIC have nothing to say here: Linux answers with 0 bytes.
        case sock::tcp_cc_info: return std::size_t{0};
        case sock::tcp_inq: return give(int{s.inq});
        case sock::tcp_info: {
            // Linux answers for every socket: a connection's figures; for a
            // listener, its accept queue and backlog in unacked and sacked;
            // otherwise the state alone (CLOSE).
            linux_tcp_info t{};
            if (live) {
                t = tcp_info_of(connection(*e), ep_.clock().now());
            } else if (e->stage == stage_kind::listening) {
                t.tcpi_state = tcpi::state_listen;
                t.tcpi_unacked = static_cast<std::uint32_t>(ep_.waiting(e->listener).value_or(0));
                t.tcpi_sacked = static_cast<std::uint32_t>(e->backlog);
            } else {
                t.tcpi_state = tcpi::state_close;
            }
            return give(t);
        }
        case sock::tcp_congestion: {
            char name_out[16] = {};  // TCP_CA_NAME_MAX
            const std::string_view n = congestion_name<typename P::congestion_control>();
            std::memcpy(name_out, n.data(), std::min<std::size_t>(n.size(), sizeof name_out - 1));
            return give(name_out);
        }
        default: return unexpected{detail::no_option()};
    }
}

// The configuration the socket's settings call for, shared with any
// socket that asks the same (config_variants.hpp). A connection or listener
// already made moves to it too; a connection holding buffers of other sizes
// cannot (EBUSY, nothing changes).
template <policy_bundle P, socket_waiter Waiter>
std::error_code socket_layer<P, Waiter>::settle_variant(entry& e) {
    config c = variants_.base();
    const socket_settings& s = e.settings;
    if (s.sndbuf) c.send_buffer = static_cast<std::uint32_t>(s.sndbuf);
    if (s.rcvbuf) c.receive_buffer = static_cast<std::uint32_t>(s.rcvbuf);
    if (s.user_mss) c.mss = std::min(c.mss, s.user_mss);
    if (s.window_clamp) c.window_clamp = std::min<std::uint32_t>(s.window_clamp, max_window_bytes);
    const auto v = variants_.acquire(c);
    if (!v) return v.error();
    if (e.stage == stage_kind::connection) {
        bool moved = false;
        (void)ep_.configure(e.conn, [&](connection_type& conn) { moved = conn.use_configuration(variants_[*v]); });
        if (!moved) {
            variants_.release(*v);
            return errno_code(EBUSY);
        }
    } else if (e.stage == stage_kind::listening) {
        // Connections it already started keep the old configuration, so
        // the listener holds on to it until it closes (one slot per
        // distinct configuration it had).
        (void)ep_.set_connection_config(e.listener, variants_.checked(*v));
        if (*v == e.variant) {
            variants_.release(*v);  // the same one: no second hold
        } else if (std::find(e.retired.begin(), e.retired.end(), e.variant) == e.retired.end()) {
            e.retired.push_back(e.variant);
        } else {
            variants_.release(e.variant);  // already held as a retired one
        }
        e.variant = *v;
        return {};
    }
    variants_.release(e.variant);
    e.variant = *v;
    return {};
}

template <policy_bundle P, socket_waiter Waiter>
void socket_layer<P, Waiter>::apply_engine_settings(entry& e) {
    const socket_settings s = e.settings;
    const time_point now = ep_.clock().now();
    (void)ep_.configure(e.conn, [&](connection_type& c) {
        if (s.keepidle) (void)c.set_keepalive_idle(*s.keepidle);
        if (s.keepintvl) (void)c.set_keepalive_interval(*s.keepintvl);
        if (s.keepcnt) (void)c.set_keepalive_probes(*s.keepcnt);
        if (s.user_timeout) (void)c.set_user_timeout(*s.user_timeout);
        if (s.syncnt) (void)c.set_syn_retries(*s.syncnt);
        if (s.nodelay) (void)c.set_nodelay(true);
        if (s.cork) (void)c.set_cork(true);
        if (s.keepalive) (void)c.set_keepalive(true, now);
    });
}

}  // namespace tcpcore
