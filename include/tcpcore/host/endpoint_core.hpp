#pragma once
// What an endpoint is made of, and the life of its connections between the
// application's calls: after every call that touched a connection, its
// output goes to the I/O policy, its events are queued for next_event(), its
// deadline moves in the timer strategy, and it moves on, into its listener's
// accept queue, into a TIME-WAIT entry, or out. endpoint.hpp builds the
// public API and the dispatch of arriving segments on this; nothing else
// should use it.

#include <tcpcore/engine/connection.hpp>
#include <tcpcore/host/connection_table.hpp>
#include <tcpcore/host/ephemeral_ports.hpp>
#include <tcpcore/host/flow_table.hpp>
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
#include <tcpcore/rules/timeouts.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

namespace tcpcore::detail {

template <policy_bundle P>
struct endpoint_core {
    using allocator_type = typename P::allocator;
    using tracer_type = typename bundle_tracer<P>::type;
    using connection_type = basic_connection<typename P::congestion_control, allocator_type,
                                             connection_tracer_for<tracer_type>, typename bundle_counters<P>::type>;
    using table = connection_table<connection_type, allocator_type>;

    // Flow-table values and timer ids of TIME-WAIT entries carry this bit.
    static constexpr std::uint32_t time_wait_tag = 0x80000000u;
    static constexpr std::uint32_t flow_none = flow_table<allocator_type>::empty;

    endpoint_core(checked_config c, endpoint_parts<P>&& p)
        : checked(c),
          cfg(&c.get()),
          options(p.options),
          clock(std::move(p.clock)),
          out(std::move(p.io)),
          alloc(p.allocator),
          isn(std::move(p.isn)),
          cookies(std::move(p.cookies)),
          timers(std::move(p.timer)),
          tracer(std::move(p.tracer)),
          on_drop(std::move(p.on_drop)),
          conns(p.allocator),
          time_waits(p.allocator),
          listeners(p.allocator),
          flows(p.allocator, p.options.hash_seed != 0 ? p.options.hash_seed : derive_seed()) {}

    // ---- Slots ------------------------------------------------------------------------------
    // The hash seed from the ISN policy's secret (two pure, keyed values), so
    // that a random ISN key makes the table's layout unpredictable too.
    [[nodiscard]] std::uint64_t derive_seed() const noexcept {
        const four_tuple a{}, b{{ip_address::v4(1, 2, 3, 4), 1}, {}};
        return (std::uint64_t{isn.timestamp_offset(a)} << 32 | isn.timestamp_offset(b)) ^ 0x9e3779b97f4a7c15ull;
    }
    [[nodiscard]] auto key_of() const noexcept {
        return [this](std::uint32_t v) -> const four_tuple& {
            return (v & time_wait_tag) ? time_waits[v & ~time_wait_tag].tuple : conns[v].conn.tuple();
        };
    }
    [[nodiscard]] std::uint32_t lookup(const four_tuple& t) const noexcept { return flows.find(t, key_of()); }

    // A connection slot using `c` (the endpoint's configuration, or one a
    // listener or connect() names).
    std::uint32_t new_slot(const config& c) {
        const std::uint32_t s = conns.add(c, alloc);
        if (s == table::none) ++stats.out_of_memory;
        else if constexpr (!std::is_same_v<tracer_type, no_endpoint_tracer>)
            conns[s].conn.tracer() = {&tracer, conns.handle_of(s)};
        return s;
    }

    // Resets a connection no one will accept (its listener is closing).
    void disown(std::uint32_t s, time_point now) {
        conns[s].listener = 0;
        conns[s].conn.abort(now);
        conns[s].flags |= table::user_closed;
        service(s, now);
    }

    // A connection the listener owns until accept().
    void adopt(std::uint32_t s, std::uint32_t li, time_point now) {
        conns[s].flags |= table::in_table;
        conns[s].listener = static_cast<std::uint16_t>(li + 1);
        ++listeners[li].syn_received;
        service(s, now);
    }

    // ---- After every call that touched a connection -------------------------------
    // Sends what it has to send, collects its events, moves its deadline, and
    // follows its life: into the accept queue, into TIME-WAIT, out of memory.
    void service(std::uint32_t s, time_point now) {
        auto& sl = conns[s];
        flush(sl.conn, now);
        const connection_events ev = sl.conn.take_events();
        const tcp_state st = sl.conn.state();

        if (sl.listener != 0 && ev.has(connection_events::connected)) {
            listener& l = listeners[sl.listener - 1u];
            --l.syn_received;
            l.push(s);
            listeners.mark_ready(sl.listener - 1u);
        }
        conns.report(s, ev);

        // While the I/O policy holds output back, the connection waits for
        // the next poll(): handing it to TIME-WAIT or freeing it now would
        // lose what it still has to send.
        if (out.held() && arm(s, now)) return;
        if (st == tcp_state::time_wait && !out.held()) {
            enter_time_wait(s, now);  // the slot may be gone after this
            return;
        }
        if (st == tcp_state::closed || st == tcp_state::listen) {
            // LISTEN: a RST sent an embryonic connection back; it has no
            // future without its listener's SYN.
            retire(s);
            return;
        }
        const time_point deadline = sl.conn.next_deadline();
        if (deadline == never) {
            timers.cancel(s);
        } else if (!arm(s, deadline)) {
            // Without a timer the connection could never time out: end it.
            sl.conn.abort(now);
            flush(sl.conn, now);
            conns.report(s, sl.conn.take_events());
            retire(s);
        }
    }

    // Timer strategies may refuse when their storage cannot grow.
    bool arm(std::uint32_t id, time_point deadline) {
        if constexpr (std::is_same_v<decltype(timers.schedule(id, deadline)), bool>) {
            if (timers.schedule(id, deadline)) return true;
            ++stats.out_of_memory;
            return false;
        } else {
            timers.schedule(id, deadline);
            return true;
        }
    }

    // The connection is done with its 4-tuple: it leaves the table, and the
    // slot goes once no one will ask about it.
    void retire(std::uint32_t s) {
        auto& sl = conns[s];
        timers.cancel(s);
        if (sl.flags & table::in_table) {
            flows.erase(sl.conn.tuple(), s);
            sl.flags &= ~table::in_table;
        }
        if (sl.listener != 0) {
            listener& l = listeners[sl.listener - 1u];
            if (l.syn_received != 0 && !l.holds(s)) --l.syn_received;
            if (l.holds(s)) return;  // accept() will hand it over, closed
        }
        if (!(sl.flags & table::user_owned)) conns.erase(s);
    }

    // ---- TIME-WAIT ------------------------------------------------------------------------------
    void enter_time_wait(std::uint32_t s, time_point now) {
        auto& sl = conns[s];
        const auto handed = sl.conn.hand_off_time_wait(now);
        if (!handed) return;  // only a connection in TIME-WAIT gets here
        const time_wait_record& r = *handed;
        flows.erase(r.tuple, s);
        sl.flags &= ~table::in_table;
        timers.cancel(s);
        conns.report(s, sl.conn.take_events());
        if (time_waits.size() < options.max_time_wait) {
            const std::uint32_t w = time_waits.add(r);
            if (w != time_waits.none && flows.insert(r.tuple, w | time_wait_tag, key_of())) {
                if (!arm(w | time_wait_tag, now + time_wait_duration(cfg->msl))) expire_time_wait(w);
            } else if (w != time_waits.none) {
                time_waits.erase(w);
                ++stats.out_of_memory;
            }
        } else {
            ++stats.time_wait_skipped;
        }
        if (!(sl.flags & table::user_owned)) retire(s);
    }

    void expire_time_wait(std::uint32_t w) {
        if (!time_waits.live(w)) return;
        timers.cancel(w | time_wait_tag);  // when ended early: its index may be reused
        flows.erase(time_waits[w].tuple, w | time_wait_tag);
        time_waits.erase(w);
    }

    // ---- Output ------------------------------------------------------------------------------
    // Pulls segments until the connection has none or the I/O policy refuses one.
    void flush(connection_type& c, time_point now) {
        while (!out.held()) {
            const std::size_t n = c.poll_output(now, out.segment_room());
            if (n == 0 || !transmit(c.tuple(), n)) return;
        }
    }

    bool transmit(const four_tuple& t, std::size_t tcp_length) {
        if (out.send(t, tcp_length)) {
            ++stats.segments_out;
            return true;
        }
        ++stats.io_refusals;
        held_since = clock.now();
        return false;
    }

    // A segment the endpoint writes itself (no connection keeps it): written
    // by write(room) -> optional<length> and sent; not while a packet is held.
    template <class Write>
    bool reply(const four_tuple& t, Write&& write) {
        if (out.held()) {
            ++stats.replies_not_sent;
            return false;
        }
        const std::optional<std::size_t> n = write(out.segment_room());
        if (!n) return false;
        transmit(t, *n);
        return true;
    }

    // A reply to a segment that no connection owns (RFC 9293 §3.10.7.1).
    void send_reset(const four_tuple& t, const tcp_segment_view& seg, reply_kind kind) {
        reply(t, [&](std::span<std::uint8_t> room) -> std::optional<std::size_t> {
            tcp_header_fields f;
            f.src_port = t.local.port;
            f.dst_port = t.remote.port;
            if (kind == reply_kind::rst_ack) {
                f.seq = seq32{0};
                f.ack = seg.seq() + seg.sequence_length();
                f.flags = tcp_flags::rst | tcp_flags::ack;
            } else {
                f.seq = seg.ack();
                f.flags = tcp_flags::rst;
            }
            const auto n = build_tcp_segment(room, f, {}, {}, t.local.address, t.remote.address);
            return n ? std::optional<std::size_t>{*n} : std::nullopt;
        });
    }

    // Offers the held packet again; true when nothing is held any more.
    bool resume_output() {
        if (!out.held()) return true;
        if (!out.release()) return false;
        ++stats.segments_out;
        return true;
    }

    // ---- Drops ------------------------------------------------------------------------------
    // Counts the packet being received as dropped, and shows it to the hook.
    template <class Why>
    void drop(Why why) {
        dropped_packet d;
        if constexpr (std::is_same_v<Why, drop_kind>) d.kind = why;
        else if constexpr (std::is_same_v<Why, drop_reason>) d.reason = why;  // kind: rule
        else if constexpr (std::is_same_v<Why, ip_parse_error>) d.kind = drop_kind::ip_error, d.ip_error = why;
        else d.kind = drop_kind::tcp_error, d.tcp_error = why;
        d.datagram = in_datagram;
        d.segment = in_segment;
        count_drop(stats, d);
        on_drop(std::as_const(d));
    }

    checked_config checked;
    const config* cfg;  // checked's, for brevity
    endpoint_options options;
    typename P::clock clock;
    packet_output<typename P::io> out;
    allocator_type alloc;
    typename P::isn isn;
    syn_cookie_jar cookies;
    typename P::timer timers;
    [[no_unique_address]] tracer_type tracer;
    [[no_unique_address]] typename bundle_drop_hook<P>::type on_drop;
    table conns;
    time_wait_table<allocator_type> time_waits;
    listener_table<allocator_type> listeners;
    flow_table<allocator_type> flows;
    ephemeral_ports ports;
    endpoint_stats stats{};
    time_point held_since{};
    std::span<const std::uint8_t> in_datagram{}, in_segment{};  // the packet being received, for the drop hook
};

}  // namespace tcpcore::detail
