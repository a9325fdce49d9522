#pragma once
// The endpoint: many connections behind one address, assembled from the
// policies of a bundle. It reads the Clock, takes IP datagrams (or bare
// segments) in, demultiplexes them by 4-tuple, hands every outgoing segment
// to the I/O policy, gets all memory from the Allocator and keeps each
// connection's next deadline in the TimerStrategy. This header owns the
// public API and the dispatch of arriving segments; the parts are:
//   endpoint_core.hpp     the parts together, and the life of connections between calls
//   connection_table.hpp  connections, their handles and pending events
//   listeners.hpp         listeners, accept queues, SYN backlogs, SYN cookies
//   time_wait.hpp         TIME-WAIT as 56-byte entries
//   flow_table.hpp        the 4-tuple table
//   ephemeral_ports.hpp   RFC 6056 port choice
//   output.hpp            the write buffer, and the packet an I/O policy refused
//   options.hpp, parts.hpp, observers.hpp, stats.hpp, handles.hpp  what users name
//
//   const auto cfg = tcpcore::check(my_config);         // or handle cfg.error()
//   tcpcore::endpoint<my_policies> ep(*cfg, {.io = my_io{...}});
//   auto l = ep.listen({addr, 80});
//   ep.receive_datagram(packet);          // for each packet from the device
//   ep.poll();                            // when ep.next_deadline() comes
//   while (auto e = ep.next_event()) ...  // accept, read, write, learn of closes
//
// Nothing happens behind the application's back: no callbacks into it (the
// tracer and the drop hook only watch); the engine runs only inside these
// calls, and what it has to say waits in next_event().
//
// Every call that takes a handle answers a handle that names nothing (never
// issued, closed, or of a connection or listener that is gone) with
// std::errc::bad_file_descriptor, and changes nothing.

#include <tcpcore/detail/expected.hpp>
#include <tcpcore/engine/connection.hpp>
#include <tcpcore/host/connection_table.hpp>
#include <tcpcore/host/endpoint_core.hpp>
#include <tcpcore/host/ephemeral_ports.hpp>
#include <tcpcore/host/flow_table.hpp>
#include <tcpcore/host/handles.hpp>
#include <tcpcore/host/listeners.hpp>
#include <tcpcore/host/observers.hpp>
#include <tcpcore/host/options.hpp>
#include <tcpcore/host/output.hpp>
#include <tcpcore/host/parts.hpp>
#include <tcpcore/host/stats.hpp>
#include <tcpcore/host/syn_cookie.hpp>
#include <tcpcore/host/time_wait.hpp>
#include <tcpcore/policies.hpp>
#include <tcpcore/rules/arrival.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/timeouts.hpp>
#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

namespace tcpcore {

// What next_event() reports. For a connection: the events since its last
// report (several may come together). For a listener: connections wait in
// accept().
struct endpoint_event {
    connection_handle connection{};
    listener_handle listener{};
    connection_events events{};
    std::error_code error{};  // why it closed, with connection_events::closed
    bool accept_ready = false;
};

template <policy_bundle P = default_policies>
class endpoint {
    using core_type = detail::endpoint_core<P>;
    using table = typename core_type::table;

public:
    using policies = P;
    using parts = endpoint_parts<P>;
    using clock_type = typename P::clock;
    using io_type = typename P::io;
    using allocator_type = typename P::allocator;
    using timer_type = typename P::timer;
    using isn_type = typename P::isn;
    using tracer_type = typename bundle_tracer<P>::type;
    using drop_hook_type = typename bundle_drop_hook<P>::type;
    using connection_type = typename detail::endpoint_core<P>::connection_type;
    static_assert(endpoint_tracer<tracer_type>,
                  "a bundle's tracer needs on_transition(connection_handle, const transition&)");
    static_assert(drop_observer<drop_hook_type>, "a bundle's drop_hook needs operator()(const dropped_packet&)");

    // From a configuration that check() passed (options.hpp says why it is
    // done before, not here), and the policy instances (parts.hpp).
    explicit endpoint(checked_config cfg, parts p = {}) : core_(cfg, std::move(p)) {}
    // A bare configuration is refused: write endpoint(*tcpcore::check(cfg), ...)
    // after handling check()'s error.
    endpoint(const config&, parts = {}) = delete;
    endpoint(const endpoint&) = delete;
    endpoint& operator=(const endpoint&) = delete;

    // ---- Listening -----------------------------------------------------------

    expected<listener_handle, std::error_code> listen(const socket_address& local, listen_options o = {}) {
        return core_.listeners.add(local, o);
    }

    // Stops listening; connections still waiting for accept() are reset.
    std::error_code close_listener(listener_handle h) {
        listener* l = core_.listeners.find(h);
        if (l == nullptr) return bad_handle();
        const time_point now = core_.clock.now();
        for (std::uint32_t k = 0; k < l->count; ++k) core_.disown(l->at(k), now);
        // Embryonic connections lose their owner and go with their handshake.
        for (std::uint32_t s = 0; s < core_.conns.capacity(); ++s)
            if (core_.conns.live(s) && core_.conns[s].listener == h.index + 1) core_.disown(s, now);
        core_.listeners.erase(h.index);
        return {};
    }

    // The next established connection waiting on the listener; EAGAIN when none.
    expected<connection_handle, std::error_code> accept(listener_handle h) {
        listener* l = core_.listeners.find(h);
        if (l == nullptr) return unexpected{bad_handle()};
        if (l->count == 0) return unexpected{std::make_error_code(std::errc::resource_unavailable_try_again)};
        const std::uint32_t s = l->pop();
        auto& sl = core_.conns[s];
        sl.listener = 0;
        sl.flags |= table::user_owned;
        if (!sl.pending.empty()) core_.conns.mark_ready(s);  // what happened before accept() is reported now
        return core_.conns.handle_of(s);
    }

    // The configuration of the connections the listener makes from now on
    // (listen_options::connection_config).
    std::error_code set_connection_config(listener_handle h, checked_config c) noexcept {
        listener* l = core_.listeners.find(h);
        if (l == nullptr) return bad_handle();
        l->options.connection_config = c;
        return {};
    }

    // How many established connections wait in the listener's accept queue.
    [[nodiscard]] expected<std::size_t, std::error_code> waiting(listener_handle h) noexcept {
        const listener* l = core_.listeners.find(h);
        if (l == nullptr) return unexpected{bad_handle()};
        return std::size_t{l->count};
    }

    // ---- Active open ------------------------------------------------------------

    // Connects from `local` (port 0: an ephemeral port, RFC 6056) to `remote`.
    expected<connection_handle, std::error_code> connect(const socket_address& remote, socket_address local) {
        return connect(remote, local, core_.checked);
    }
    // The same with a configuration of its own for this connection (which
    // must outlive it): a socket layer's per-socket settings.
    expected<connection_handle, std::error_code> connect(const socket_address& remote, socket_address local,
                                                         checked_config own) {
        const time_point now = core_.clock.now();
        if (remote.port == 0 || remote.address.is_v4() != local.address.is_v4())
            return unexpected{std::make_error_code(std::errc::invalid_argument)};
        if (local.port == 0) {
            const auto port = core_.ports.pick(
                core_.options, core_.isn.timestamp_offset({{local.address, 0}, remote}), [&](std::uint16_t p) {
                    return core_.lookup({{local.address, p}, remote}) == core_type::flow_none &&
                           core_.listeners.find_for({local.address, p}) == listener::none;
                });
            if (!port) return unexpected{std::make_error_code(std::errc::address_not_available)};
            local.port = *port;
        } else if (core_.lookup({local, remote}) != core_type::flow_none) {
            return unexpected{std::make_error_code(std::errc::address_in_use)};
        }
        const four_tuple t{local, remote};
        const std::uint32_t s = core_.new_slot(*own);
        if (s == table::none) return unexpected{std::make_error_code(std::errc::not_enough_memory)};
        if (const auto e = core_.conns[s].conn.open_active(now, t, core_.isn.initial_sequence(t, now),
                                                           core_.isn.timestamp_offset(t));
            e) {
            core_.conns.erase(s);
            return unexpected{e};
        }
        if (!core_.flows.insert(t, s, core_.key_of())) {
            core_.conns.erase(s);
            ++core_.stats.out_of_memory;
            return unexpected{std::make_error_code(std::errc::not_enough_memory)};
        }
        core_.conns[s].flags |= table::user_owned | table::in_table;
        core_.service(s, now);
        return core_.conns.handle_of(s);
    }

    // ---- Connection calls (by handle) --------------------------------------------

    // Queues bytes; how many it took (0 when the send buffer is full).
    // `more` is MSG_MORE (the connection's send() says what it holds back).
    expected<std::size_t, std::error_code> send(connection_handle h, std::span<const std::uint8_t> bytes,
                                                bool more = false) {
        auto* s = core_.conns.owned(h);
        if (s == nullptr) return unexpected{bad_handle()};
        const time_point now = core_.clock.now();
        auto r = s->conn.send(now, bytes, more);
        core_.service(h.index, now);
        return r;
    }

    // As recv(2) on a non-blocking socket: the bytes copied, 0 at the end of
    // the stream (or for an empty `out`), EAGAIN when nothing is there yet,
    // the connection's error once it failed with nothing left to read,
    // ENOTCONN when it closed otherwise, EBADF for a bad handle.
    expected<std::size_t, std::error_code> recv(connection_handle h, std::span<std::uint8_t> out) {
        auto* s = core_.conns.owned(h);
        if (s == nullptr) return unexpected{bad_handle()};
        const std::size_t n = s->conn.recv(out);
        core_.service(h.index, core_.clock.now());  // a window update may be due
        if (n != 0 || out.empty() || s->conn.eof()) return n;
        if (const std::error_code e = s->conn.error()) return unexpected{e};
        if (s->conn.state() == tcp_state::closed) return unexpected{std::make_error_code(std::errc::not_connected)};
        return unexpected{std::make_error_code(std::errc::resource_unavailable_try_again)};
    }

    // How many bytes send() would take now (0 once shut down; the
    // connection's error once it failed).
    [[nodiscard]] expected<std::size_t, std::error_code> send_space(connection_handle h) const noexcept {
        const auto* s = core_.conns.owned(h);
        if (s == nullptr) return unexpected{bad_handle()};
        if (const std::error_code e = s->conn.error()) return unexpected{e};
        return s->conn.send_space();
    }

    // How many bytes recv() would return now.
    [[nodiscard]] expected<std::size_t, std::error_code> readable(connection_handle h) const noexcept {
        const auto* s = core_.conns.owned(h);
        if (s == nullptr) return unexpected{bad_handle()};
        return s->conn.readable();
    }

    // No more data from us: a FIN follows what is queued (shutdown(SHUT_WR)).
    std::error_code shutdown(connection_handle h) {
        return end(h, false, [](connection_type& c, time_point now) { return c.shutdown(now); });
    }

    // Lets go of the handle: the connection finishes on its own (FIN after
    // the queued data, or RST if data was left unread) and is freed when done.
    std::error_code close(connection_handle h) {
        return end(h, true, [](connection_type& c, time_point now) { return c.close(now); });
    }

    // Resets the connection (RST) and lets go of the handle.
    std::error_code abort(connection_handle h) {
        return end(h, true, [](connection_type& c, time_point now) {
            c.abort(now);
            return std::error_code{};
        });
    }

    // Read access to a connection (state, error, info, readable, eof...),
    // also while one that close() let go of finishes; never null:
    //   if (const auto c = ep.get(h)) use((*c)->state());
    [[nodiscard]] expected<const connection_type*, std::error_code> get(connection_handle h) const noexcept {
        const auto* s = core_.conns.named(h);
        if (s == nullptr) return unexpected{bad_handle()};
        return &s->conn;
    }

    // Changes per-connection settings: f(connection&) may call the set_*
    // functions; the endpoint then takes account of new deadlines. Gives f's
    // result (a std::error_code when f returns nothing), or EBADF.
    template <class F>
    auto configure(connection_handle h, F&& f) {
        using result = std::invoke_result_t<F&, connection_type&>;
        auto* s = core_.conns.owned(h);
        if constexpr (std::is_void_v<result>) {
            if (s == nullptr) return bad_handle();
            f(s->conn);
            core_.service(h.index, core_.clock.now());
            return std::error_code{};
        } else {
            using answer = expected<result, std::error_code>;
            if (s == nullptr) return answer{unexpected{bad_handle()}};
            answer r{f(s->conn)};
            core_.service(h.index, core_.clock.now());
            return r;
        }
    }

    // ---- Input -----------------------------------------------------------------------

    // One IP datagram (IPv4 or IPv6) from the device.
    void receive_datagram(std::span<const std::uint8_t> datagram) {
        resume_output();
        ++core_.stats.datagrams_in;
        core_.in_datagram = datagram;
        if (const auto ip = parse_ip_packet(datagram); !ip) core_.drop(ip.error());
        else if (ip->protocol != ip_protocol_tcp) core_.drop(drop_kind::not_tcp);
        else receive(ip->src, ip->dst, ip->payload);
        core_.in_datagram = {};
    }

    // One TCP segment and the addresses it travelled between.
    void receive_segment(const ip_address& src, const ip_address& dst, std::span<const std::uint8_t> segment) {
        resume_output();
        receive(src, dst, segment);
    }

    // ---- Time and output ----------------------------------------------------------------

    // Runs everything due now (after sending a packet the I/O policy refused, if it takes it now).
    void poll() {
        if (!resume_output()) return;
        const time_point now = core_.clock.now();
        while (!core_.out.held()) {
            const auto id = core_.timers.pop_expired(now);
            if (!id) break;
            if (*id & core_type::time_wait_tag) core_.expire_time_wait(*id & ~core_type::time_wait_tag);
            else if (core_.conns.live(*id)) core_.service(*id, now);
        }
    }

    // When poll() is next needed (never later than that; `never` when idle;
    // a time already past while a refused packet waits for the I/O policy).
    [[nodiscard]] time_point next_deadline() const noexcept {
        return core_.out.held() ? core_.held_since : core_.timers.next_deadline();
    }

    // Offers the packet the I/O policy refused again; true when nothing is
    // held any more (connections resume at the next poll()).
    bool resume_output() { return core_.resume_output(); }
    [[nodiscard]] bool output_held() const noexcept { return core_.out.held(); }

    // ---- Events ----------------------------------------------------------------------------

    std::optional<endpoint_event> next_event() {
        if (const auto l = core_.listeners.pop_ready()) return endpoint_event{{}, *l, {}, {}, true};
        for (std::uint32_t i; (i = core_.conns.pop_ready()) != table::none;) {
            auto& s = core_.conns[i];
            if (s.pending.empty() || !(s.flags & table::user_owned)) continue;
            endpoint_event e{core_.conns.handle_of(i), {}, std::exchange(s.pending, connection_events{}), {}, false};
            if (e.events.has(connection_events::closed)) e.error = s.conn.error();
            return e;
        }
        return std::nullopt;
    }

    // ---- Introspection ------------------------------------------------------------------------

    [[nodiscard]] const endpoint_stats& stats() const noexcept { return core_.stats; }
    [[nodiscard]] std::size_t connection_count() const noexcept { return core_.conns.size(); }
    [[nodiscard]] std::size_t time_wait_count() const noexcept { return core_.time_waits.size(); }
    [[nodiscard]] clock_type& clock() noexcept { return core_.clock; }
    [[nodiscard]] io_type& io() noexcept { return core_.out.io(); }
    [[nodiscard]] timer_type& timers() noexcept { return core_.timers; }
    [[nodiscard]] tracer_type& tracer() noexcept { return core_.tracer; }
    [[nodiscard]] drop_hook_type& drop_hook() noexcept { return core_.on_drop; }
    [[nodiscard]] const config& configuration() const noexcept { return *core_.cfg; }

    // Bytes one connection costs while idle with empty buffers: its slot in
    // the slab and its share of the demultiplexing table (at worst load).
    // The timer strategy's per-id storage comes on top (see its header).
    [[nodiscard]] static constexpr std::size_t idle_connection_bytes() noexcept { return table::cell_size() + 2 * 8; }
    // The same for a TIME-WAIT entry.
    [[nodiscard]] static constexpr std::size_t time_wait_entry_bytes() noexcept {
        return time_wait_table<allocator_type>::cell_size() + 2 * 8;
    }
    // Everything the endpoint holds from its allocator now, but buffers.
    [[nodiscard]] std::size_t footprint() const noexcept {
        return core_.conns.footprint() + core_.time_waits.footprint() + core_.listeners.footprint() +
               core_.flows.footprint();
    }

private:
    // shutdown, close, abort: `how` ends the connection (or its sending),
    // and with `let_go` the application no longer holds the handle.
    template <class How>
    std::error_code end(connection_handle h, bool let_go, How how) {
        auto* s = core_.conns.owned(h);
        if (s == nullptr) return bad_handle();
        const time_point now = core_.clock.now();
        if (let_go) {
            s->flags |= table::user_closed;
            s->flags &= ~table::user_owned;
        }
        const std::error_code e = how(s->conn, now);
        core_.service(h.index, now);
        return e;
    }

    // ---- Demultiplexing -----------------------------------------------------------------------
    void receive(const ip_address& src, const ip_address& dst, std::span<const std::uint8_t> segment) {
        ++core_.stats.segments_in;
        core_.in_segment = segment;
        if (const auto seg = tcp_segment_view::parse(segment, src, dst); !seg)
            core_.drop(seg.error());
        else dispatch(core_.clock.now(), src, dst, *seg);
        core_.in_segment = {};
    }

    void dispatch(time_point now, const ip_address& src, const ip_address& dst, const tcp_segment_view& seg) {
        const four_tuple t{{dst, seg.dst_port()}, {src, seg.src_port()}};
        const std::uint32_t v = core_.lookup(t);
        if (v != core_type::flow_none) {
            if (v & core_type::time_wait_tag) return time_wait_segment(now, v & ~core_type::time_wait_tag, t, seg);
            return connection_segment(now, v, seg, src, dst);
        }
        if (const std::uint32_t l = core_.listeners.find_for(t.local); l != listener::none)
            return listener_segment(now, l, t, seg);
        no_connection(t, seg);
    }

    void connection_segment(time_point now, std::uint32_t s, const tcp_segment_view& seg, const ip_address& src,
                            const ip_address& dst) {
        auto& sl = core_.conns[s];
        // A full accept queue holds the handshake back: the completing ACK is
        // dropped and the client tries again (Linux, tcp_abort_on_overflow 0).
        if (sl.listener != 0 && sl.conn.state() == tcp_state::syn_received && seg.flags().ack_set() &&
            !seg.flags().rst_set() && core_.listeners[sl.listener - 1u].queue_full())
            return core_.drop(drop_kind::accept_queue_full);
        const segment_outcome out = sl.conn.on_segment(now, seg, src, dst);
        if (out.result == segment_result::dropped) core_.drop(out.reason);
        core_.service(s, now);
    }

    void no_connection(const four_tuple& t, const tcp_segment_view& seg) {
        const arrival_decision d = decide_arrival({tcp_state::closed, seg.flags().bits()});
        core_.drop(d.reason);
        if (d.reply == reply_kind::rst || d.reply == reply_kind::rst_ack) {
            ++core_.stats.resets_for_no_connection;
            core_.send_reset(t, seg, d.reply);
        }
    }

    // ---- Listeners ------------------------------------------------------------------------------
    [[nodiscard]] const config& connection_config(const listener& l) const noexcept {
        return l.options.connection_config ? **l.options.connection_config : *core_.cfg;
    }

    void listener_segment(time_point now, std::uint32_t li, const four_tuple& t, const tcp_segment_view& seg) {
        listener& l = core_.listeners[li];
        const tcp_flags fl = seg.flags();
        // A bare ACK may complete a handshake that only a SYN cookie remembers.
        if (fl.ack_set() && !fl.syn_set() && !fl.rst_set() && l.options.syn_cookies != syn_cookie_mode::off &&
            cookie_ack(now, li, t, seg))
            return;
        const arrival_decision d = decide_arrival({tcp_state::listen, fl.bits()});
        if (d.action == verdict::drop) {
            core_.drop(d.reason);
            if (d.reply == reply_kind::rst || d.reply == reply_kind::rst_ack) core_.send_reset(t, seg, d.reply);
            return;
        }
        // A SYN. Linux drops it outright when the accept queue is full.
        if (l.queue_full()) return core_.drop(drop_kind::accept_queue_full);
        if (l.options.syn_cookies == syn_cookie_mode::always ||
            (l.backlog_full() && l.options.syn_cookies == syn_cookie_mode::when_backlog_full)) {
            if (core_.reply(t, [&](std::span<std::uint8_t> room) {
                    return write_cookie_syn_ack(room, connection_config(l), core_.cookies, t, seg, now,
                                                core_.isn.timestamp_offset(t));
                }))
                ++core_.stats.syn_cookies_sent;
            return;
        }
        if (l.backlog_full()) return core_.drop(drop_kind::syn_backlog_full);
        const std::uint32_t s = core_.new_slot(connection_config(l));
        if (s == table::none) return;
        auto& sl = core_.conns[s];
        if (sl.conn.open_passive(now, t.local, core_.isn.initial_sequence(t, now), core_.isn.timestamp_offset(t),
                                 t.remote)) {
            core_.conns.erase(s);
            return;
        }
        const segment_outcome out = sl.conn.on_segment(now, seg, t.remote.address, t.local.address);
        if (out.result != segment_result::accepted || !core_.flows.insert(t, s, core_.key_of())) {
            core_.conns.erase(s);
            return;
        }
        core_.adopt(s, li, now);
    }

    // A bare ACK to a listener: true when it was a SYN cookie's (taken, or
    // dropped for a full accept queue), false to treat it as any other.
    bool cookie_ack(time_point now, std::uint32_t li, const four_tuple& t, const tcp_segment_view& ack) {
        using cookie_syn = typename connection_type::cookie_syn;
        const std::optional<cookie_syn> syn = read_cookie_ack<cookie_syn>(connection_config(core_.listeners[li]), core_.cookies, t, ack, now);
        if (!syn) {
            ++core_.stats.syn_cookies_rejected;
            return false;
        }
        // Linux drops it; the client's data or retransmission tries again.
        if (core_.listeners[li].queue_full()) {
            core_.drop(drop_kind::accept_queue_full);
            return true;
        }
        const std::uint32_t s = core_.new_slot(connection_config(core_.listeners[li]));
        if (s == table::none) return true;
        auto& sl = core_.conns[s];
        const segment_outcome out =
            sl.conn.open_from_cookie(now, t, ack.ack() - 1, core_.isn.timestamp_offset(t), *syn, ack);
        if (out.result != segment_result::accepted || sl.conn.state() != tcp_state::established ||
            !core_.flows.insert(t, s, core_.key_of())) {
            core_.conns.erase(s);
            return true;
        }
        ++core_.stats.syn_cookies_accepted;
        core_.adopt(s, li, now);  // counted into the backlog; service() moves it on to the queue
        return true;
    }

    // ---- TIME-WAIT ------------------------------------------------------------------------------
    void time_wait_segment(time_point now, std::uint32_t w, const four_tuple& t, const tcp_segment_view& seg) {
        time_wait_entry& e = core_.time_waits[w];
        const arrival_decision d = decide_time_wait_arrival(e, seg, core_.cfg->rfc1337);
        if (d.reply == reply_kind::ack || d.reply == reply_kind::challenge_ack)
            core_.reply(e.tuple, [&](std::span<std::uint8_t> room) { return write_time_wait_ack(room, e, now); });
        const auto& ts = seg.options().timestamps;
        if (d.reason == drop_reason::time_wait_ack && e.timestamps && ts) e.ts_recent = ts->value;
        if (d.restart_time_wait && !core_.arm(w | core_type::time_wait_tag, now + time_wait_duration(core_.cfg->msl))) {
            core_.expire_time_wait(w);
            return;
        }
        switch (d.action) {
            case verdict::drop: core_.drop(d.reason); return;
            case verdict::reset: core_.expire_time_wait(w); return;
            case verdict::reopen: {
                // A new incarnation: free the 4-tuple and let the listener
                // take the SYN as any other.
                core_.expire_time_wait(w);
                if (const std::uint32_t l = core_.listeners.find_for(t.local); l != listener::none)
                    return listener_segment(now, l, t, seg);
                return no_connection(t, seg);
            }
            case verdict::accept: return;  // TIME-WAIT accepts nothing further
        }
    }

    core_type core_;
};

}  // namespace tcpcore
