#pragma once
// One TCP connection as a sans-I/O protocol engine. It reads no clock, does no
// I/O and keeps no global state: every call that needs the time takes `now`,
// outgoing segments are pulled one at a time with poll_output(), and poll_at()
// says when the engine next needs a call.
//
// Its behaviour comes from the compile-time rules: every state change is a row
// of transitions.hpp (apply()), every arriving segment is judged by
// decide_arrival() (arrival.hpp), and every timeout comes from timeouts.hpp.
// What is left here is the bookkeeping those rules need: sequence variables,
// buffers, windows, RTT estimation, loss recovery.
//
//   tcpcore::connection c(cfg);
//   c.open_active(now, {{local, 40000}, {remote, 80}}, iss);
//   for (std::size_t n; (n = c.poll_output(now, buf)) != 0;) send(buf, n);
//   c.on_segment(now, segment, src, dst);     // for each arriving segment
//   sleep_until(c.poll_at());
//
// The configuration passed to the constructor must outlive the connection
// (an endpoint shares one among all its connections).

#include <tcpcore/detail/assert.hpp>
#include <tcpcore/detail/byte_ring.hpp>
#include <tcpcore/detail/expected.hpp>
#include <tcpcore/detail/seq_ranges.hpp>
#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/policies/congestion.hpp>
#include <tcpcore/rules/arrival.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/rules/time.hpp>
#include <tcpcore/rules/timeouts.hpp>
#include <tcpcore/rules/transitions.hpp>
#include <tcpcore/wire/checksum.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>
#include <tcpcore/wire/tcp_options.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

namespace tcpcore {

// What happened to an arriving segment.
enum class segment_result : std::uint8_t {
    accepted,    // processed
    dropped,     // judged and dropped (the reason says why); a reply may be queued
    reset,       // it reset the connection
    reopen,      // TIME-WAIT: a new SYN for this 4-tuple (the endpoint may open anew)
    not_for_us,  // another 4-tuple or port; nothing changed
};

struct segment_outcome {
    segment_result result = segment_result::accepted;
    drop_reason reason = drop_reason::none;
};

// Things the application may want to know, collected until take_events().
struct connection_events {
    static constexpr std::uint8_t connected = 1u << 0;           // reached ESTABLISHED
    static constexpr std::uint8_t readable = 1u << 1;            // new data, or end of stream
    static constexpr std::uint8_t writable = 1u << 2;            // send buffer space was freed
    static constexpr std::uint8_t peer_closed = 1u << 3;         // the peer's FIN: reads end after the data
    static constexpr std::uint8_t closed = 1u << 4;              // reached CLOSED; error() says why, if it failed
    static constexpr std::uint8_t path_may_be_broken = 1u << 5;  // retries1 retransmissions without progress
    static constexpr std::uint8_t entered_time_wait = 1u << 6;

    std::uint8_t bits = 0;
    [[nodiscard]] constexpr bool has(std::uint8_t e) const noexcept { return (bits & e) != 0; }
    [[nodiscard]] constexpr bool empty() const noexcept { return bits == 0; }
};

// A snapshot of the connection's variables, in the spirit of TCP_INFO.
struct connection_info {
    tcp_state state;
    duration srtt;
    duration rttvar;
    duration rto;
    std::uint32_t cwnd;
    std::uint32_t ssthresh;
    std::uint32_t send_mss;
    std::uint32_t send_window;
    std::uint32_t receive_window;
    std::uint8_t send_window_scale;
    std::uint8_t receive_window_scale;
    bool sack;
    bool timestamps;
    std::uint8_t retransmits;
    std::uint8_t probes_out;
    std::uint32_t bytes_in_flight;
    std::uint32_t send_queue;     // bytes queued, sent or not, not yet acknowledged
    std::uint32_t receive_queue;  // bytes readable
};

// Sees every state change as it happens, with the table row that made it:
// for logs ("SYN-SENT => ESTABLISHED on rcv SYN,ACK"), or for checkers that
// prove every change is a row. The default does nothing and costs nothing.
template <class T>
concept transition_tracer = requires(T& t, const transition& row) { t.on_transition(row); };

struct no_tracer {
    constexpr void on_transition(const transition&) const noexcept {}
};
static_assert(transition_tracer<no_tracer>);

namespace detail {
struct test_access;  // tests reach internals through this, never through macros

constexpr std::uint32_t ms32(time_point t) noexcept {
    return static_cast<std::uint32_t>(t.time_since_epoch().count() / 1000);
}
constexpr std::uint32_t us32(time_point t) noexcept {
    return static_cast<std::uint32_t>(t.time_since_epoch().count());
}
constexpr duration min_of(duration a, duration b) noexcept { return a < b ? a : b; }

// The smallest window scale that lets `buffer` bytes be offered.
constexpr std::uint8_t window_scale_for(std::uint32_t buffer) noexcept {
    std::uint8_t s = 0;
    while (s < max_window_scale && (buffer >> s) > 0xffffu) ++s;
    return s;
}
}  // namespace detail

template <congestion_control CC = newreno, allocator_policy Alloc = std_allocator,
          transition_tracer Tracer = no_tracer>
class basic_connection {
public:
    explicit basic_connection(const config& cfg, Alloc alloc = {}, CC cc = {}, Tracer tracer = {}) noexcept
        : cfg_(&cfg), cc_(std::move(cc)), alloc_(std::move(alloc)), tracer_(std::move(tracer)) {
        load_defaults();
    }

    [[nodiscard]] Tracer& tracer() noexcept { return tracer_; }
    basic_connection(const basic_connection&) = delete;
    basic_connection& operator=(const basic_connection&) = delete;
    ~basic_connection() { release_buffers(); }

    // ---- User calls --------------------------------------------------------

    // Active open (RFC 9293 §3.10.1): sends a SYN from t.local to t.remote.
    // `iss` is the initial sequence number (from an ISN policy, RFC 6528);
    // `ts_offset` is added to the millisecond clock in TSval (RFC 7323 §5.4).
    std::error_code open_active(time_point now, const four_tuple& t, seq32 iss, std::uint32_t ts_offset = 0) {
        if (state_ != tcp_state::closed) return std::make_error_code(std::errc::already_connected);
        if (const auto check = validate(*cfg_); !check) return check.error();
        if (t.local.address.is_v4() != t.remote.address.is_v4() || t.remote.port == 0)
            return std::make_error_code(std::errc::invalid_argument);
        reset_variables(now, iss, ts_offset);
        tuple_ = t;
        flags_ |= f_bound_remote;
        apply(now, tcp_event::open_active);
        return {};
    }

    // Passive open: LISTEN on `local`; the first acceptable SYN binds the
    // remote side. With a remote given (port != 0), only that peer is
    // accepted, and a send() turns the open into an active one.
    std::error_code open_passive(time_point now, const socket_address& local, seq32 iss,
                                 std::uint32_t ts_offset = 0, const socket_address& remote = {}) {
        if (state_ != tcp_state::closed) return std::make_error_code(std::errc::already_connected);
        if (const auto check = validate(*cfg_); !check) return check.error();
        reset_variables(now, iss, ts_offset);
        tuple_ = {local, remote};
        flags_ |= f_passive;
        if (remote.port != 0) flags_ |= f_bound_remote | f_fixed_remote;
        apply(now, tcp_event::open_passive);
        return {};
    }

    // What a SYN cookie remembered of the peer's SYN (RFC 4987 §3.6): the
    // endpoint validated the cookie in an ACK and decoded these.
    struct cookie_syn {
        std::uint16_t mss = 536;
        std::optional<std::uint8_t> window_scale;  // only when timestamps carried it
        bool sack_permitted = false;
        std::optional<std::uint32_t> ts_recent;    // the ACK's TSval, when timestamps are on
        std::uint16_t window = 0;                  // the window in the peer's SYN (unscaled)
    };

    // Opens straight from a validated SYN cookie: the SYN and our SYN,ACK
    // happened without state; `ack` is the segment whose ACK carried the
    // cookie (SEG.ACK = iss + 1). The connection passes LISTEN and
    // SYN-RECEIVED through their table rows and then takes `ack` normally.
    segment_outcome open_from_cookie(time_point now, const four_tuple& t, seq32 iss, std::uint32_t ts_offset,
                                     const cookie_syn& syn, const tcp_segment_view& ack) {
        if (state_ != tcp_state::closed) return {segment_result::not_for_us, drop_reason::none};
        reset_variables(now, iss, ts_offset);
        tuple_ = t;
        flags_ |= f_passive | f_bound_remote;
        apply(now, tcp_event::open_passive);
        // The SYN as the cookie recalls it.
        const seq32 irs = ack.seq() - 1;
        rcv_nxt_ = last_ack_sent_ = irs + 1;
        rcv_adv_ = rcv_nxt_ + std::min<std::uint32_t>(receive_capacity(), 0xffff);
        snd_wl1_ = irs;
        snd_wnd_ = max_snd_wnd_ = syn.window;
        if (cfg_->window_scaling && syn.window_scale) {
            flags_ |= f_ws;
            snd_ws_ = *syn.window_scale;
            rcv_ws_ = detail::window_scale_for(cfg_->receive_buffer);
        }
        if (cfg_->sack && syn.sack_permitted) flags_ |= f_sack;
        if (cfg_->timestamps && syn.ts_recent) {
            flags_ |= f_ts | f_ts_recent;
            ts_recent_ = *syn.ts_recent;
        }
        std::uint32_t mss = std::min<std::uint32_t>(syn.mss, cfg_->mss);
        if (flags_ & f_ts) mss -= timestamps_option_length;
        snd_mss_ = static_cast<std::uint16_t>(mss);
        rcv_mss_ = static_cast<std::uint16_t>(std::min<std::uint32_t>(cfg_->mss, default_peer_mss));
        cwnd_ = cfg_->initial_cwnd * mss;
        apply(now, tcp_event::rcv_syn);
        // ... and our SYN,ACK, already sent by the cookie path.
        flags_ &= ~f_syn_due;
        snd_nxt_ = iss + 1;
        return on_segment(now, ack, t.remote.address, t.local.address);
    }

    // What a TIME-WAIT connection must remember, in 64 bytes, to answer
    // segments for 2 MSL: the endpoint keeps this instead of the connection.
    struct time_wait_record {
        four_tuple tuple;
        seq32 snd_nxt;
        seq32 rcv_nxt;
        std::uint32_t ts_recent = 0;
        std::uint32_t ts_offset = 0;
        std::uint16_t window = 0;  // the window field our ACKs carry
        bool timestamps = false;
    };

    // Hands a TIME-WAIT connection off: returns what answering its segments
    // takes and leaves the connection CLOSED (RFC 9293 ABORT in TIME-WAIT:
    // delete the TCB, send nothing). Data already received stays readable.
    [[nodiscard]] time_wait_record hand_off_time_wait(time_point now) {
        TCPCORE_ASSERT(state_ == tcp_state::time_wait);
        time_wait_record r;
        r.tuple = tuple_;
        r.snd_nxt = snd_nxt_;
        r.rcv_nxt = rcv_nxt_;
        r.ts_recent = ts_recent_;
        r.ts_offset = ts_offset_;
        r.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(advertised_window_now() >> rcv_ws_, 0xffff));
        r.timestamps = (flags_ & f_ts) != 0;
        if (state_ == tcp_state::time_wait) apply(now, tcp_event::abort);
        return r;
    }

    // Queues bytes for sending; returns how many it took (0 when the send
    // buffer is full). Errors: not_connected before an open, broken_pipe after
    // shutdown or close, the connection's error after it failed, and
    // not_enough_memory when the send buffer cannot be allocated.
    expected<std::size_t, std::error_code> send(time_point now, std::span<const std::uint8_t> bytes) {
        if (error_ != 0) return unexpected{error()};
        switch (state_) {
            case tcp_state::closed: return unexpected{std::make_error_code(std::errc::not_connected)};
            case tcp_state::listen:
                if (!(flags_ & f_fixed_remote)) return unexpected{std::make_error_code(std::errc::not_connected)};
                // RFC 9293 §3.10.2: the open turns active. Its SYN is retried
                // as a client's, and a RST after a simultaneous open ends it.
                flags_ &= ~f_passive;
                apply(now, tcp_event::send);  // LISTEN --SEND--> SYN-SENT
                break;
            case tcp_state::syn_sent:
            case tcp_state::syn_received:
            case tcp_state::established:
            case tcp_state::close_wait: break;
            default: return unexpected{std::make_error_code(std::errc::broken_pipe)};
        }
        if (flags_ & f_shutdown) return unexpected{std::make_error_code(std::errc::broken_pipe)};
        if (bytes.empty()) return std::size_t{0};
        if (!ensure_buffers()) return unexpected{std::make_error_code(std::errc::not_enough_memory)};
        const std::uint32_t space = send_capacity() - sbuf_len_;
        const std::uint32_t n = bytes.size() < space ? static_cast<std::uint32_t>(bytes.size()) : space;
        send_ring().write(sbuf_len_, bytes.first(n));
        sbuf_len_ += n;
        if (is_synchronized(state_)) update_persist(now);
        return std::size_t{n};
    }

    // Copies readable bytes out; returns how many (0 when none: check eof()).
    std::size_t recv(std::span<std::uint8_t> out) noexcept {
        const std::uint32_t n = out.size() < rbuf_len_ ? static_cast<std::uint32_t>(out.size()) : rbuf_len_;
        if (n == 0) return 0;
        receive_ring().read(0, out.first(n));
        consume(n);
        return n;
    }

    // Zero-copy reading: the readable bytes as up to two spans, then consume().
    [[nodiscard]] detail::ring_ref::pieces peek() const noexcept {
        if (buf_ == nullptr || rbuf_len_ == 0) return {};
        return receive_ring().at(0, rbuf_len_);
    }
    void consume(std::size_t n) noexcept {
        if (n > rbuf_len_) n = rbuf_len_;
        if (n == 0) return;
        const std::uint32_t before = advertised_window_now();
        rbuf_start_ = receive_ring().index(static_cast<std::uint32_t>(n));
        rbuf_len_ -= static_cast<std::uint32_t>(n);
        if (rbuf_len_ == 0 && (state_ == tcp_state::closed || state_ == tcp_state::time_wait)) {
            release_buffers();
            return;
        }
        maybe_announce_window(before);
    }

    [[nodiscard]] std::size_t readable() const noexcept { return rbuf_len_; }
    // All the peer's data has been read and its FIN received.
    [[nodiscard]] bool eof() const noexcept { return (flags_ & f_fin_received) && rbuf_len_ == 0; }
    [[nodiscard]] std::size_t send_space() const noexcept {
        return can_queue_data() ? send_capacity() - sbuf_len_ : 0;
    }

    // No more data from us: a FIN follows what is queued (half-close; the
    // peer may go on sending). RFC 9293's CLOSE; sockets' shutdown(SHUT_WR).
    std::error_code shutdown(time_point now) {
        if (state_ == tcp_state::closed || state_ == tcp_state::listen)
            return std::make_error_code(std::errc::not_connected);
        if (state_ == tcp_state::syn_received) {
            defer_fin_until_established();
            return {};
        }
        if (has_transition(state_, tcp_event::shutdown)) apply(now, tcp_event::shutdown);
        return {};
    }

    // The application lets go. Unread data makes this an abort (RST), as in
    // Linux and RFC 2525 §2.17; otherwise queued data and a FIN still go out,
    // and data that arrives afterwards is answered with a RST.
    std::error_code close(time_point now) {
        flags_ |= f_orphan;
        if (rbuf_len_ != 0 && state_ != tcp_state::time_wait) {
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

    // Drops the connection at once, with a RST where the table says so.
    void abort(time_point now) {
        if (state_ == tcp_state::closed) return;
        set_error(std::errc::connection_aborted);
        apply(now, tcp_event::abort);
    }

    // ---- Segments ----------------------------------------------------------

    // One arriving segment, already validated (tcp_segment_view::parse, with
    // its checksum), with the IP addresses it travelled between.
    segment_outcome on_segment(time_point now, const tcp_segment_view& seg, const ip_address& src,
                               const ip_address& dst) {
        if (!addressed_to_us(seg, src, dst)) return {segment_result::not_for_us, drop_reason::none};

        const segment_facts facts = measure(seg);
        const arrival_decision d = decide_arrival(facts);

        switch (d.reply) {
            case reply_kind::none: break;
            case reply_kind::rst: queue_reply_rst(seg, src, false); break;
            case reply_kind::rst_ack: queue_reply_rst(seg, src, true); break;
            case reply_kind::ack:
                if (!out_of_window_ack_limited(now, seg, d.reason)) flags_ |= f_ack_now;
                break;
            case reply_kind::challenge_ack: queue_challenge_ack(now); break;
            case reply_kind::syn_ack: flags_ |= f_syn_due; break;
        }
        if (d.restart_time_wait) arm_rtx(now + time_wait_duration(cfg_->msl), false);
        if (d.reason == drop_reason::time_wait_ack && (flags_ & f_ts) && seg.options().timestamps) {
            // Linux keeps TS.Recent fresh in TIME-WAIT from segments at RCV.NXT.
            ts_recent_ = seg.options().timestamps->value;
            flags_ |= f_ts_recent;
        }

        switch (d.action) {
            case verdict::drop: return {segment_result::dropped, d.reason};
            case verdict::reopen: return {segment_result::reopen, drop_reason::none};
            case verdict::reset:
                set_error(reset_error());
                apply(now, d.event);
                return {segment_result::reset, drop_reason::none};
            case verdict::accept: break;
        }
        process(now, seg, src, d);
        return {segment_result::accepted, drop_reason::none};
    }

    // ---- Output ------------------------------------------------------------

    // Runs what is due at `now`, then writes at most one TCP segment (header,
    // options, payload, checksum) into `out` and returns its length, or 0
    // when there is nothing to send. `out` should hold tcp_max_header_length
    // plus the MSS; a smaller buffer gets smaller segments.
    std::size_t poll_output(time_point now, std::span<std::uint8_t> out) {
        run_timers(now);
        if (out.size() < tcp_max_header_length) return 0;
        if (reply() != reply_none) return emit_reply(out);

        switch (state_) {
            case tcp_state::closed:
            case tcp_state::listen: return 0;
            case tcp_state::syn_sent: return (flags_ & f_syn_due) ? emit_syn(now, out) : 0;
            case tcp_state::syn_received:
                if (flags_ & f_syn_due) return emit_syn(now, out);
                return (flags_ & f_ack_now) ? emit_bare_ack(now, out, snd_nxt_) : 0;
            case tcp_state::time_wait: return (flags_ & f_ack_now) ? emit_bare_ack(now, out, snd_nxt_) : 0;
            default: break;
        }

        update_persist(now);
        const std::uint32_t payload_room = static_cast<std::uint32_t>(out.size() - tcp_max_header_length);
        if (const auto r = next_retransmission(payload_room); r.length != 0)
            return emit_data(now, out, r.start, r.length, true);
        if (const auto n = next_new_data(payload_room); n.length != 0) return emit_data(now, out, n.start, n.length, false);
        if (flags_ & f_probe_due) {
            flags_ &= ~f_probe_due;
            // Keepalive and zero-window probes alike (Linux tcp_xmit_probe_skb):
            // an ACK one below SND.UNA with no data, which any stack answers.
            return emit_bare_ack(now, out, snd_una_ - 1);
        }
        if (flags_ & f_ack_now) return emit_bare_ack(now, out, snd_nxt_);
        return 0;
    }

    // When the engine next needs poll_output(): `never` when nothing is due,
    // time_point::min() when output is waiting now.
    [[nodiscard]] time_point poll_at() const noexcept {
        if (output_pending()) return time_point::min();
        time_point t = never;
        if (flags_ & f_rtx_armed) t = rtx_deadline_;
        if (flags_ & f_delack) t = std::min(t, delack_deadline());
        t = std::min(t, keepalive_deadline());
        return t;
    }

    // ---- Queries -----------------------------------------------------------

    [[nodiscard]] tcp_state state() const noexcept { return state_; }
    [[nodiscard]] std::error_code error() const noexcept {
        return error_ == 0 ? std::error_code{} : std::make_error_code(static_cast<std::errc>(error_));
    }
    [[nodiscard]] const four_tuple& tuple() const noexcept { return tuple_; }
    [[nodiscard]] const config& configuration() const noexcept { return *cfg_; }
    connection_events take_events() noexcept { return {std::exchange(events_, std::uint8_t{0})}; }

    [[nodiscard]] connection_info info() const noexcept {
        return {state_,
                duration{srtt_us_},
                duration{rttvar_us_},
                current_rto(),
                cwnd_,
                ssthresh_,
                snd_mss_,
                snd_wnd_,
                advertised_window_now(),
                snd_ws_,
                rcv_ws_,
                (flags_ & f_sack) != 0,
                (flags_ & f_ts) != 0,
                retransmits_,
                probes_out_,
                flight_size(),
                sbuf_len_,
                rbuf_len_};
    }

    // ---- Per-connection settings (usable at any time) ----------------------

    // Switching keepalive on starts the idle period at `now` (Linux arms the
    // timer from the setsockopt call).
    config_check set_keepalive(bool on, time_point now) noexcept {
        if (on && !(flags_ & f_keepalive)) {
            flags_ |= f_keepalive;
            if (last_rcv_ < now) move_last_rcv(now);
        } else if (!on) {
            flags_ &= ~f_keepalive;
        }
        return {};
    }
    config_check set_keepalive_idle(duration d) noexcept {
        const auto check = check_setting(&config::keepalive_idle, d);
        if (check) keepalive_idle_s_ = whole_seconds(d);
        return check;
    }
    config_check set_keepalive_interval(duration d) noexcept {
        const auto check = check_setting(&config::keepalive_interval, d);
        if (check) keepalive_interval_s_ = whole_seconds(d);
        return check;
    }
    config_check set_keepalive_probes(std::uint8_t n) noexcept {
        const auto check = check_setting(&config::keepalive_probes, n);
        if (check) keepalive_probes_ = n;
        return check;
    }
    config_check set_user_timeout(duration d) noexcept {
        const auto check = check_setting(&config::user_timeout, d);
        if (check) user_timeout_ms_ = to_ms(d);
        return check;
    }
    config_check set_syn_retries(std::uint8_t n) noexcept {
        const auto check = check_setting(&config::syn_retries, n);
        if (check) syn_retries_ = n;
        return check;
    }
    config_check set_nodelay(bool on) noexcept {
        if (on) flags_ |= f_nodelay;
        else flags_ &= ~f_nodelay;
        return {};
    }

    // Frees the buffers while they are empty (an idle connection keeps only
    // the object itself); they come back on the next send or data arrival.
    void release_idle_buffers() noexcept {
        if (buf_ != nullptr && sbuf_len_ == 0 && rbuf_len_ == 0 && ooo().empty() && sacked().empty())
            release_buffers();
    }
    [[nodiscard]] bool has_buffers() const noexcept { return buf_ != nullptr; }
    // Bytes the buffers take when allocated: the send buffer, the receive
    // buffer and the receive slack (see receive_capacity_with_slack).
    [[nodiscard]] std::size_t buffer_bytes() const noexcept { return buffer_block_size(); }

private:
    friend struct detail::test_access;

    // ---- Flag bits ---------------------------------------------------------
    static constexpr std::uint32_t f_passive = 1u << 0;         // opened passively
    static constexpr std::uint32_t f_orphan = 1u << 1;          // close() was called
    static constexpr std::uint32_t f_shutdown = 1u << 2;        // our FIN is wanted after the queue
    static constexpr std::uint32_t f_fin_sent = 1u << 3;        // our FIN holds sequence number data_end()
    static constexpr std::uint32_t f_fin_received = 1u << 4;
    static constexpr std::uint32_t f_keepalive = 1u << 5;
    static constexpr std::uint32_t f_nodelay = 1u << 6;
    static constexpr std::uint32_t f_sack = 1u << 7;            // negotiated
    static constexpr std::uint32_t f_ts = 1u << 8;              // negotiated
    static constexpr std::uint32_t f_ws = 1u << 9;              // negotiated
    static constexpr std::uint32_t f_rtt_timing = 1u << 10;     // rtt_seq_/rtt_start_us_ time a segment
    static constexpr std::uint32_t f_ack_now = 1u << 11;
    static constexpr std::uint32_t f_delack = 1u << 12;         // delack_deadline_us_ is armed
    static constexpr std::uint32_t f_syn_due = 1u << 13;        // (re)send SYN or SYN,ACK
    static constexpr std::uint32_t f_rtx_armed = 1u << 14;      // rtx_deadline_ is armed
    static constexpr std::uint32_t f_persist = 1u << 15;        // ... as the zero-window persist timer
    static constexpr std::uint32_t f_probe_due = 1u << 16;      // keepalive or zero-window probe
    static constexpr std::uint32_t f_recovery = 1u << 17;       // fast recovery (RFC 6582 / 6675)
    static constexpr std::uint32_t f_rto_recovery = 1u << 18;   // retransmitting after a timeout
    static constexpr std::uint32_t f_first_rtx = 1u << 19;      // first_rtx_ms_ is set
    static constexpr std::uint32_t f_bound_remote = 1u << 20;   // tuple_.remote is the peer
    static constexpr std::uint32_t f_fixed_remote = 1u << 21;   // passive open for one peer only
    static constexpr std::uint32_t f_ts_recent = 1u << 22;      // ts_recent_ holds a value
    static constexpr std::uint32_t f_path_reported = 1u << 23;  // path_may_be_broken already raised
    static constexpr std::uint32_t f_rtx_fence = 1u << 26;      // rtx_fence_ is set (bits 24-25: reply)
    static constexpr std::uint32_t f_rtx_head = 1u << 27;       // the hole at SND.UNA is to be sent again
    static constexpr std::uint32_t f_tlp = 1u << 28;            // rtx_deadline_ is a loss-probe timeout
    static constexpr std::uint32_t f_tlp_sent = 1u << 29;       // one probe this episode already
    static constexpr std::uint32_t f_tlp_probe = 1u << 30;      // the probe is due now
    static constexpr std::uint32_t f_oow_acked = 1u << 31;      // oow_ack_ms_ holds a time

    // A queued RST reply, in two flag bits.
    static constexpr std::uint32_t reply_shift = 24;
    static constexpr std::uint32_t reply_mask = 3u << reply_shift;
    static constexpr std::uint8_t reply_none = 0, reply_rst = 1, reply_rst_ack = 2;

    // Ranges each of the SACK scoreboard and the reassembly map can hold:
    // enough for the holes a megabyte window sees at a few percent loss.
    // Beyond it, out-of-order data is dropped and the peer sends it again.
    static constexpr std::size_t range_capacity = 16;
    static constexpr std::size_t range_bytes = 2 * range_capacity * sizeof(sack_block);
    [[nodiscard]] std::uint8_t reply() const noexcept { return static_cast<std::uint8_t>((flags_ & reply_mask) >> reply_shift); }
    void set_reply(std::uint8_t kind) noexcept { flags_ = (flags_ & ~reply_mask) | (std::uint32_t{kind} << reply_shift); }

    // Linux's default MSS when the peer sends none (RFC 9293 §3.7.1: 536).
    static constexpr std::uint16_t default_peer_mss = 536;
    static constexpr std::uint32_t timestamps_option_length = 12;

    // ---- Time --------------------------------------------------------------
    // The delayed-ACK deadline is kept as the low 32 bits of its microsecond
    // count: it lies within half a second of the segment that armed it, whose
    // arrival is last_rcv_ or a little before, so the full time is recovered
    // from last_rcv_.
    [[nodiscard]] time_point delack_deadline() const noexcept {
        return last_rcv_ + duration{static_cast<std::int32_t>(delack_deadline_us_ - detail::us32(last_rcv_))};
    }
    // A delayed ACK that fell due while the clock ran on without a poll could
    // lie too far behind the new last_rcv_ to be read back: it is due, so it
    // becomes an immediate ACK before last_rcv_ moves.
    void move_last_rcv(time_point now) noexcept {
        if ((flags_ & f_delack) && delack_deadline() <= now) flags_ = (flags_ & ~f_delack) | f_ack_now;
        last_rcv_ = now;
    }

    // Time since a millisecond stamp kept in 32 bits (wraps after 49 days,
    // far beyond any timeout it measures).
    [[nodiscard]] static duration since_ms32(time_point now, std::uint32_t stamp) noexcept {
        return std::chrono::milliseconds{detail::ms32(now) - stamp};
    }

    // ---- Set-up ------------------------------------------------------------
    void load_defaults() noexcept {
        keepalive_idle_s_ = whole_seconds(cfg_->keepalive_idle);
        keepalive_interval_s_ = whole_seconds(cfg_->keepalive_interval);
        keepalive_probes_ = cfg_->keepalive_probes;
        user_timeout_ms_ = to_ms(cfg_->user_timeout);
        syn_retries_ = cfg_->syn_retries;
        if (cfg_->keepalive) flags_ |= f_keepalive;
        if (cfg_->nodelay) flags_ |= f_nodelay;
    }
    // Keepalive times are whole seconds, as in Linux (validate() insists).
    static std::uint16_t whole_seconds(duration d) noexcept {
        return static_cast<std::uint16_t>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
    }
    static std::uint32_t to_ms(duration d) noexcept {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
        return ms <= 0 ? 0u : ms > 0xffffffffLL ? 0xffffffffu : static_cast<std::uint32_t>(ms);
    }

    void reset_variables(time_point now, seq32 iss, std::uint32_t ts_offset) noexcept {
        const std::uint32_t keep = flags_ & (f_keepalive | f_nodelay);
        flags_ = keep;
        error_ = 0;
        events_ = 0;
        release_buffers();
        sbuf_start_ = sbuf_len_ = rbuf_start_ = rbuf_len_ = 0;
        snd_una_ = snd_nxt_ = snd_wl1_ = rtx_next_ = recover_ = iss;
        rcv_nxt_ = rcv_adv_ = last_ack_sent_ = rtt_seq_ = seq32{};
        ts_recent_ = 0;
        ts_offset_ = ts_offset;
        snd_wnd_ = max_snd_wnd_ = 0;
        srtt_us_ = rttvar_us_ = 0;
        snd_mss_ = static_cast<std::uint16_t>(std::min<std::uint32_t>(cfg_->mss, default_peer_mss));
        rcv_mss_ = snd_mss_;
        snd_ws_ = rcv_ws_ = 0;
        retransmits_ = dupacks_ = 0;
        restart_probing();
        challenge_count_ = challenge_second_ = 0;
        sacked_count_ = ooo_count_ = 0;
        cc_window w{cfg_->initial_cwnd * std::uint32_t{snd_mss_}, 0xffffffffu, snd_mss_};
        cwnd_ = w.cwnd;
        ssthresh_ = w.ssthresh;
        cc_ = CC{};
        last_rcv_ = now;
    }

    // RFC 9293 §3.10.4 lets CLOSE in SYN-RECEIVED send a FIN at once only
    // when nothing is queued; otherwise it waits for ESTABLISHED. Waiting
    // always keeps the SYN,ACK the only segment retransmitted before the
    // handshake ends, and puts the FIN after any queued data.
    void defer_fin_until_established() noexcept { flags_ |= f_shutdown; }

    // ---- State changes: only rows of the transition table ------------------
    void apply(time_point now, tcp_event e) {
        const transition* row = lookup_transition(state_, e);
        TCPCORE_ASSERT(row != nullptr);  // every caller checks has_transition or follows a decision
        if (row == nullptr) return;
        const tcp_state from = state_;
        state_ = row->to;
        tracer_.on_transition(*row);
        switch (row->output) {
            case transition_output::none: break;
            case transition_output::syn:
            case transition_output::syn_ack: flags_ |= f_syn_due; break;
            case transition_output::ack: flags_ |= f_ack_now; break;
            case transition_output::fin: flags_ |= f_shutdown; break;
            case transition_output::rst: queue_active_reset(); break;
        }
        enter(now, from, e);
    }

    // What entering a state sets in motion.
    void enter(time_point now, tcp_state from, tcp_event e) {
        switch (state_) {
            case tcp_state::syn_sent:
                retransmits_ = 0;
                arm_rtx(now + syn_wait(1, cfg_->rto_initial, cfg_->syn_linear_timeouts, cfg_->rto_max), false);
                break;
            case tcp_state::syn_received:
                if (from == tcp_state::listen) {
                    retransmits_ = 0;
                    arm_rtx(now + syn_wait(1, cfg_->rto_initial, 0, cfg_->rto_max), false);
                }
                break;
            case tcp_state::established:
                events_ |= connection_events::connected;
                flags_ &= ~f_syn_due;
                retransmits_ = 0;
                disarm_rtx();
                move_last_rcv(now);
                if (flags_ & f_shutdown) apply(now, (flags_ & f_orphan) ? tcp_event::close : tcp_event::shutdown);
                break;
            case tcp_state::fin_wait_2:
                if (flags_ & f_orphan) arm_fin_wait_2_timeout(now);
                else disarm_rtx();
                break;
            case tcp_state::time_wait:
                events_ |= connection_events::entered_time_wait;
                flags_ &= ~(f_delack | f_persist | f_probe_due | f_recovery | f_rto_recovery);
                arm_rtx(now + time_wait_duration(cfg_->msl), false);
                release_finished_buffers();
                break;
            case tcp_state::listen:
                // A RST sent a passive open back (RFC 9293 §3.10.7.4): forget the peer.
                if (e == tcp_event::rcv_rst_passive) {
                    const socket_address local = tuple_.local;
                    const seq32 iss = snd_una_;
                    const bool fixed = (flags_ & f_fixed_remote) != 0;
                    const four_tuple keep_tuple = tuple_;
                    // A new SYN that ended it is answered with a RST, to the
                    // peer it came from.
                    const std::uint32_t pending_reply = flags_ & reply_mask;
                    reset_variables(now, iss, ts_offset_);
                    flags_ |= f_passive | (fixed ? f_fixed_remote | f_bound_remote : 0u) | pending_reply;
                    tuple_ = fixed || pending_reply != 0 ? keep_tuple : four_tuple{local, {}};
                }
                break;
            case tcp_state::closed:
                events_ |= connection_events::closed;
                flags_ &= ~(f_rtx_armed | f_delack | f_persist | f_probe_due | f_syn_due | f_ack_now);
                release_finished_buffers();
                break;
            default: break;
        }
    }

    // ---- Arriving segments -------------------------------------------------
    [[nodiscard]] bool addressed_to_us(const tcp_segment_view& seg, const ip_address& src,
                                       const ip_address& dst) const noexcept {
        if (seg.dst_port() != tuple_.local.port) return false;
        if (tuple_.local.address != ip_address{} && dst != tuple_.local.address) return false;
        if (flags_ & f_bound_remote) return seg.src_port() == tuple_.remote.port && src == tuple_.remote.address;
        return true;
    }

    [[nodiscard]] std::uint32_t receive_window_for_acceptance() const noexcept {
        if (state_ == tcp_state::time_wait) return 0;  // Linux: only RCV.NXT itself is "in" TIME-WAIT
        return advertised_window_now();
    }

    // The facts the arrival rules decide on (RFC 9293 §3.10.7.4, RFC 5961,
    // RFC 7323).
    [[nodiscard]] segment_facts measure(const tcp_segment_view& seg) const noexcept {
        segment_facts f;
        f.state = state_;
        f.flags = seg.flags().bits();
        f.passive_open = (flags_ & f_passive) != 0;
        f.rfc1337 = cfg_->rfc1337;
        const tcp_flags fl = seg.flags();
        const seq32 seq = seg.seq();
        const bool synchronizing = state_ != tcp_state::closed && state_ != tcp_state::listen &&
                                   state_ != tcp_state::syn_sent;

        if (synchronizing) {
            const std::uint32_t len = seg.sequence_length();
            const std::uint32_t wnd = receive_window_for_acceptance();
            if (fl.syn_set() && state_ == tcp_state::syn_received && seq == rcv_nxt_ - 1) {
                f.seq = seq_check::syn_duplicate;
            } else if (fl.syn_set() && state_ == tcp_state::time_wait && syn_is_newer(seg)) {
                f.seq = seq_check::syn_newer;
            } else {
                bool ok;
                if (len == 0) ok = wnd == 0 ? seq == rcv_nxt_ : seq_in_window(seq, rcv_nxt_, wnd);
                else
                    ok = wnd != 0 && (seq_in_window(seq, rcv_nxt_, wnd) || seq_in_window(seq + (len - 1), rcv_nxt_, wnd));
                f.seq = ok ? seq_check::acceptable : seq_check::unacceptable;
            }
            if (fl.rst_set()) {
                if (seq == rcv_nxt_) f.rst = rst_check::exact;
                else if (wnd != 0 && seq_in_window(seq, rcv_nxt_, wnd)) f.rst = rst_check::in_window;
                else f.rst = rst_check::outside;
            }
            if ((flags_ & f_ts) && (flags_ & f_ts_recent) && seg.options().timestamps &&
                static_cast<std::int32_t>(seg.options().timestamps->value - ts_recent_) < 0)
                f.paws = paws_check::failed;
        }

        if (fl.ack_set()) {
            const seq32 ack = seg.ack();
            if (state_ == tcp_state::syn_sent || state_ == tcp_state::syn_received) {
                // Acceptable: it acknowledges our SYN and nothing beyond SND.NXT.
                f.ack = snd_una_ < ack && ack <= snd_nxt_ ? ack_check::acceptable
                        : ack <= snd_una_                ? ack_check::old
                                                         : ack_check::future;
            } else if (synchronizing) {
                if (snd_nxt_ < ack) f.ack = ack_check::future;
                else if (ack < snd_una_ - max_snd_wnd_) f.ack = ack_check::old;  // RFC 5961 §5.2
                else f.ack = ack_check::acceptable;
            }
        }
        return f;
    }

    // RFC 6191 / Linux tcp_timewait_state_process: a SYN may start a new
    // incarnation when it lies beyond RCV.NXT or carries a newer timestamp.
    [[nodiscard]] bool syn_is_newer(const tcp_segment_view& seg) const noexcept {
        if (rcv_nxt_ < seg.seq()) return true;
        const auto& ts = seg.options().timestamps;
        return (flags_ & f_ts_recent) && ts && static_cast<std::int32_t>(ts->value - ts_recent_) > 0;
    }

    [[nodiscard]] std::errc reset_error() const noexcept {
        // Linux tcp_reset: refused in SYN-SENT, a broken pipe in CLOSE-WAIT,
        // reset elsewhere.
        if (state_ == tcp_state::syn_sent) return std::errc::connection_refused;
        if (state_ == tcp_state::close_wait) return std::errc::broken_pipe;
        // RFC 9293 §3.10.7.4: in TIME-WAIT the application closed cleanly
        // long ago; Linux kills the timewait socket without telling anyone.
        if (state_ == tcp_state::time_wait) return std::errc{};
        return std::errc::connection_reset;
    }

    void process(time_point now, const tcp_segment_view& seg, const ip_address& src, const arrival_decision& d) {
        move_last_rcv(now);
        restart_probing();

        if (state_ == tcp_state::listen) {  // a SYN (the decision admitted nothing else)
            tuple_.remote = {src, seg.src_port()};
            flags_ |= f_bound_remote;
            take_syn(seg);
            apply(now, tcp_event::rcv_syn);
            return;
        }
        if (state_ == tcp_state::syn_sent) {
            take_syn(seg);
            if (d.event == tcp_event::rcv_syn) {  // simultaneous open
                apply(now, tcp_event::rcv_syn);
                return;
            }
            // SYN,ACK: our SYN is acknowledged; then the ACK and any data.
            syn_acknowledged(now, seg);
            apply(now, tcp_event::rcv_syn_ack);
        } else if (d.has_event) {
            syn_acknowledged(now, seg);
            apply(now, d.event);  // SYN-RECEIVED -> ESTABLISHED
        }

        // RFC 7323 §4.3: TS.Recent follows segments at or before Last.ACK.sent.
        if ((flags_ & f_ts) && seg.options().timestamps && !(last_ack_sent_ < seg.seq()) &&
            (!(flags_ & f_ts_recent) || static_cast<std::int32_t>(seg.options().timestamps->value - ts_recent_) >= 0)) {
            ts_recent_ = seg.options().timestamps->value;
            flags_ |= f_ts_recent;
        }

        const bool our_fin_acked = process_ack(now, seg);
        if (state_ == tcp_state::closed) return;
        const bool fin_taken = process_data_and_fin(now, seg);
        if (state_ == tcp_state::closed) return;

        if (our_fin_acked) {
            if (fin_taken && state_ == tcp_state::fin_wait_1) {
                apply(now, tcp_event::rcv_fin_ack_of_fin);
            } else {
                if (has_transition(state_, tcp_event::rcv_ack_of_fin)) apply(now, tcp_event::rcv_ack_of_fin);
                if (fin_taken) apply(now, tcp_event::rcv_fin);
            }
        } else if (fin_taken) {
            apply(now, tcp_event::rcv_fin);
        }
    }

    // Options and sequence variables from the peer's SYN.
    void take_syn(const tcp_segment_view& seg) noexcept {
        const tcp_options& o = seg.options();
        rcv_nxt_ = seg.seq() + 1;
        last_ack_sent_ = rcv_nxt_;
        // The window our SYN (or SYN,ACK) offers, never scaled.
        rcv_adv_ = rcv_nxt_ + std::min<std::uint32_t>(receive_capacity(), 0xffff);
        snd_wl1_ = seg.seq();
        snd_wnd_ = seg.window();  // never scaled in a SYN (RFC 7323 §2.2)
        max_snd_wnd_ = snd_wnd_;
        const bool ws = cfg_->window_scaling && o.window_scale.has_value();
        if (ws) {
            flags_ |= f_ws;
            snd_ws_ = *o.window_scale;
            rcv_ws_ = detail::window_scale_for(cfg_->receive_buffer);
        } else {
            flags_ &= ~f_ws;
            snd_ws_ = rcv_ws_ = 0;
        }
        if (cfg_->sack && o.sack_permitted) flags_ |= f_sack;
        else flags_ &= ~f_sack;
        if (cfg_->timestamps && o.timestamps) {
            flags_ |= f_ts | f_ts_recent;
            ts_recent_ = o.timestamps->value;
        } else {
            flags_ &= ~(f_ts | f_ts_recent);
        }
        const std::uint32_t peer_mss = o.mss ? (*o.mss < 64 ? 64u : *o.mss) : default_peer_mss;
        std::uint32_t mss = std::min<std::uint32_t>(peer_mss, cfg_->mss);
        if (flags_ & f_ts) mss -= timestamps_option_length;
        snd_mss_ = static_cast<std::uint16_t>(mss);
        rcv_mss_ = static_cast<std::uint16_t>(std::min<std::uint32_t>(cfg_->mss, default_peer_mss));
        cwnd_ = cfg_->initial_cwnd * mss;
    }

    // The ACK of our SYN, before the state moves on, so that SND.UNA points at
    // the first data byte when ESTABLISHED begins. The handshake gives the
    // first RTT sample (Linux takes it too).
    void syn_acknowledged(time_point now, const tcp_segment_view& seg) noexcept {
        snd_una_ = snd_una_ + 1;
        if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
        rtx_next_ = snd_una_;
        if ((flags_ & f_rtt_timing) && rtt_seq_ <= seg.ack()) {
            take_rtt_sample(duration{static_cast<std::int32_t>(detail::us32(now) - rtt_start_us_)});
        } else if ((flags_ & f_ts) && seg.options().timestamps && seg.options().timestamps->echo_reply != 0) {
            const auto ms = static_cast<std::int32_t>(detail::ms32(now) -
                                                      (seg.options().timestamps->echo_reply - ts_offset_));
            if (ms >= 0) take_rtt_sample(std::chrono::milliseconds{ms});
        }
        flags_ &= ~f_rtt_timing;
    }

    // RFC 9293 §3.10.7.4 fifth step, with RFC 5681/6582/6675 loss detection.
    // Returns whether this ACK acknowledged our FIN.
    bool process_ack(time_point now, const tcp_segment_view& seg) {
        const seq32 ack = seg.ack();
        const std::uint32_t window = seg.flags().syn_set() ? seg.window() : std::uint32_t{seg.window()} << snd_ws_;

        // (Blocks can name only data in flight, which lives in the buffer
        // block; a FIN alone in flight has no block, and no scoreboard.)
        // As Linux (tcp_is_sackblock_valid), a block must start past the
        // cumulative ACK: one at or below it is a D-SACK (RFC 2883) or
        // nonsense, and says nothing about what is missing.
        if ((flags_ & f_sack) && seg.options().sack_count != 0 && buf_ != nullptr) {
            const seq32 cumulative = seq_max(snd_una_, ack);
            for (const sack_block& b : seg.options().sack_blocks())
                if (cumulative < b.left && b.left < b.right && b.right <= snd_nxt_) sacked().add_evicting(b.left, b.right);
        }

        bool fin_acked = false;
        const bool advanced = snd_una_ < ack;
        if (advanced) {
            fin_acked = (flags_ & f_fin_sent) && ack == snd_nxt_;
            on_new_ack(now, seg, ack);
        } else if (ack == snd_una_ && is_duplicate_ack(seg, window)) {
            on_duplicate_ack(now);
        }

        // Window update (Linux tcp_may_update_window).
        const seq32 seq = seg.seq();
        if (advanced || snd_wl1_ < seq || (seq == snd_wl1_ && (window > snd_wnd_ || window == 0))) {
            snd_wnd_ = window;
            snd_wl1_ = seq;
            if (window > max_snd_wnd_) max_snd_wnd_ = window;
        }
        update_persist(now);
        maybe_enter_sack_recovery(now);
        detect_lost_retransmission();
        return fin_acked;
    }

    [[nodiscard]] bool is_duplicate_ack(const tcp_segment_view& seg, std::uint32_t window) const noexcept {
        // RFC 5681 §2 (with SACK blocks counting as news, as RFC 6675 does).
        return snd_nxt_ != snd_una_ && seg.payload().empty() && !seg.flags().has_any(tcp_flags::syn | tcp_flags::fin) &&
               (window == snd_wnd_ || seg.options().sack_count != 0);
    }

    void on_new_ack(time_point now, const tcp_segment_view& seg, seq32 ack) {
        const std::uint32_t acked = seq_distance(snd_una_, ack);
        // Data leaves the send buffer (the SYN and FIN hold no buffer bytes).
        const seq32 start = data_start();
        const seq32 end = data_end();
        if (start < ack) {
            const std::uint32_t bytes = seq_distance(start, seq_min(ack, end));
            if (bytes != 0) {
                sbuf_start_ = send_ring().index(bytes);
                sbuf_len_ -= bytes;
                events_ |= connection_events::writable;
            }
        }
        snd_una_ = ack;
        if (rtx_next_ < snd_una_) rtx_next_ = snd_una_;
        sacked().trim_below(snd_una_);
        // A new head that was retransmitted already: watch it from here (its
        // retransmission went out before anything sent from now on).
        flags_ &= ~f_rtx_head;
        if (snd_una_ < rtx_next_) {
            rtx_fence_ = snd_nxt_;
            flags_ |= f_rtx_fence;
        } else {
            flags_ &= ~f_rtx_fence;
        }

        // RTT: our own microsecond timing when the timed segment was never
        // retransmitted (Karn), else the echoed timestamp (RFC 7323 §4).
        if ((flags_ & f_rtt_timing) && rtt_seq_ <= ack) {
            flags_ &= ~f_rtt_timing;
            take_rtt_sample(duration{static_cast<std::int32_t>(detail::us32(now) - rtt_start_us_)});
        } else if ((flags_ & f_ts) && seg.options().timestamps && seg.options().timestamps->echo_reply != 0 &&
                   retransmits_ != 0) {
            const std::uint32_t sent_ms = seg.options().timestamps->echo_reply - ts_offset_;
            const auto ms = static_cast<std::int32_t>(detail::ms32(now) - sent_ms);
            // An echo older than our first retransmission is ambiguous, as in
            // Karn's rule: the peer echoes TS.Recent, which a duplicate (our
            // retransmission of data whose ACK was lost) does not update, so
            // the sample would span the whole timeout and inflate the RTO
            // for every loss after it.
            const bool echo_predates_retransmission =
                (flags_ & f_first_rtx) && static_cast<std::int32_t>(sent_ms - first_rtx_ms_) < 0;
            if (ms >= 0 && !echo_predates_retransmission) take_rtt_sample(std::chrono::milliseconds{ms});
        }

        // Congestion control and recovery.
        cc_window w{cwnd_, ssthresh_, snd_mss_};
        if (flags_ & (f_recovery | f_rto_recovery)) {
            if (!(snd_una_ < recover_)) {
                // Full ACK: recovery is over (RFC 6582 §3.2 step 3).
                if (flags_ & f_recovery) w.cwnd = std::min(w.ssthresh, std::max(flight_size(), std::uint32_t{snd_mss_}) + snd_mss_);
                flags_ &= ~(f_recovery | f_rto_recovery);
            } else if (flags_ & f_recovery) {
                if (!(flags_ & f_sack)) {
                    // Partial ACK (RFC 6582 step 4): retransmit the next hole,
                    // deflate by what was acked, add back one segment.
                    rtx_next_ = snd_una_;
                    w.cwnd = (w.cwnd > acked ? w.cwnd - acked : 0) + (acked >= snd_mss_ ? snd_mss_ : 0);
                    if (w.cwnd < snd_mss_) w.cwnd = snd_mss_;
                }
            } else {
                cc_.on_ack(w, acked, now, duration{srtt_us_});  // slow start after a timeout
            }
        } else {
            cc_.on_ack(w, acked, now, duration{srtt_us_});
        }
        cwnd_ = w.cwnd;
        ssthresh_ = w.ssthresh;
        dupacks_ = 0;

        // Progress: the retransmission state starts over (RFC 6298 5.3).
        retransmits_ = 0;
        flags_ &= ~(f_first_rtx | f_path_reported);
        flags_ &= ~(f_tlp_sent | f_tlp_probe);  // progress: a probe not yet sent is moot
        if (snd_una_ == snd_nxt_) {
            disarm_rtx();
        } else {
            arm_retransmission(now);
        }
    }

    void on_duplicate_ack(time_point now) {
        if (dupacks_ < 0xff) ++dupacks_;
        if (flags_ & f_recovery) {
            if (!(flags_ & f_sack)) cwnd_ += snd_mss_;  // RFC 6582: inflate per duplicate
            return;
        }
        if (dupacks_ >= duplicate_threshold() && recover_ < snd_una_) enter_fast_recovery(now);
    }

    // Three duplicates (RFC 5681), fewer when fewer than four segments are
    // out and nothing new can follow them (Early Retransmit, RFC 5827): a
    // tail loss would otherwise wait for the RTO.
    [[nodiscard]] std::uint32_t duplicate_threshold() const noexcept {
        const std::uint32_t segments = (flight_size() + snd_mss_ - 1) / snd_mss_;
        // One segment out: no later segment can raise a duplicate ACK for
        // it, so one that arrives says nothing about loss.
        if (segments >= 4 || segments < 2 || next_new_data(0xffff).length != 0) return 3;
        return segments - 1;
    }

    // RFC 6675 IsLost, simplified: duplicate_threshold() segments' worth
    // SACKed above SND.UNA.
    void maybe_enter_sack_recovery(time_point now) {
        if (!(flags_ & f_sack) || (flags_ & (f_recovery | f_rto_recovery)) || sacked().empty()) return;
        if (!(recover_ < snd_una_)) return;
        if (sacked().covered(snd_una_, snd_nxt_) >= duplicate_threshold() * snd_mss_) enter_fast_recovery(now);
    }

    // RACK's idea (RFC 8985), kept to one sequence number: the hole at
    // SND.UNA blocks all progress, so its retransmission is watched. When
    // SACKs cover three segments' worth of data sent after it (rtx_fence_),
    // it was lost again: it goes once more, at once, instead of waiting for
    // the RTO.
    void detect_lost_retransmission() noexcept {
        if (!(flags_ & f_rtx_fence) || !(flags_ & (f_recovery | f_rto_recovery))) return;
        if (!(rtx_fence_ + 3u * snd_mss_ < sacked().highest_right(snd_una_))) return;
        if (sacked().find(snd_una_) != detail::no_range) return;
        flags_ |= f_rtx_head;
        flags_ &= ~f_rtx_fence;
    }

    void enter_fast_recovery(time_point now) {
        cc_window w{cwnd_, ssthresh_, snd_mss_};
        cc_.on_loss(w, flight_size(), now);
        if (!(flags_ & f_sack)) w.cwnd += 3u * snd_mss_;  // RFC 6582 step 2
        cwnd_ = w.cwnd;
        ssthresh_ = w.ssthresh;
        recover_ = snd_nxt_;
        rtx_next_ = snd_una_;
        // RFC 6675 §5 (4.2), RFC 6582 step 2: the first lost segment goes at
        // once, whatever the pipe (f_rtx_head lets it past cwnd).
        flags_ |= f_recovery | f_rtx_head;
        flags_ &= ~(f_rto_recovery | f_rtt_timing);
    }

    void take_rtt_sample(duration r) noexcept {
        if (r < duration::zero()) return;
        const auto us = static_cast<std::uint32_t>(std::min<std::int64_t>(r.count(), 0x7fffffff));
        if (srtt_us_ == 0) {
            srtt_us_ = us ? us : 1;  // RFC 6298 (2.2)
            rttvar_us_ = us / 2;
        } else {
            // RFC 6298 (2.3), alpha 1/8, beta 1/4.
            const std::uint32_t diff = us > srtt_us_ ? us - srtt_us_ : srtt_us_ - us;
            rttvar_us_ = (3u * rttvar_us_ + diff) / 4u;
            srtt_us_ = (7u * srtt_us_ + us) / 8u;
            if (srtt_us_ == 0) srtt_us_ = 1;
        }
    }

    // Data and FIN (RFC 9293 §3.10.7.4, seventh and eighth steps). Returns
    // whether an in-order FIN was taken.
    bool process_data_and_fin(time_point now, const tcp_segment_view& seg) {
        const std::span<const std::uint8_t> payload = seg.payload();
        const seq32 first = seg.seq() + (seg.flags().syn_set() ? 1u : 0u);
        const bool receiving = can_receive_data(state_);

        if (!payload.empty() && receiving) {
            const seq32 end = first + static_cast<std::uint32_t>(payload.size());
            if ((flags_ & f_orphan) && rcv_nxt_ < end &&
                (state_ == tcp_state::fin_wait_1 || state_ == tcp_state::fin_wait_2)) {
                // The application is gone: new data can never be read. Linux
                // answers with a RST and drops the connection; here that is the
                // ABORT row, whose RST carries SEQ=SND.NXT, ACK=RCV.NXT.
                set_error(std::errc::connection_aborted);
                apply(now, tcp_event::abort);
                return false;
            }
            take_data(now, first, payload);
        }

        if (!seg.flags().fin_set() || !receiving) return false;
        const seq32 fin_seq = first + static_cast<std::uint32_t>(payload.size());
        if (fin_seq != rcv_nxt_) {
            // Out of order: the peer sends it again; the duplicate ACK at once
            // tells it where the hole is (RFC 5681 §4.2), as for data.
            flags_ |= f_ack_now;
            return false;
        }
        rcv_nxt_ = rcv_nxt_ + 1;
        flags_ |= f_fin_received | f_ack_now;
        flags_ &= ~f_delack;
        events_ |= connection_events::peer_closed | connection_events::readable;
        return true;
    }

    void take_data(time_point now, seq32 first, std::span<const std::uint8_t> payload) {
        seq32 s = first;
        seq32 e = first + static_cast<std::uint32_t>(payload.size());
        if (!(rcv_nxt_ < e)) {  // all seen before: a duplicate, ACK at once
            flags_ |= f_ack_now;
            return;
        }
        if (s < rcv_nxt_) s = rcv_nxt_;
        // Accept what fits the buffer: never less than what was advertised.
        const std::uint32_t room = receive_capacity_with_slack() - rbuf_len_;
        if (rcv_nxt_ + room < e) e = rcv_nxt_ + room;
        if (!(s < e)) {
            flags_ |= f_ack_now;  // nothing fits: a zero-window probe, say; answer it
            return;
        }
        if (!ensure_buffers()) {
            flags_ |= f_ack_now;  // out of memory: drop, the peer will retransmit
            return;
        }
        const std::uint32_t skip = seq_distance(first, s);
        const std::uint32_t len = seq_distance(s, e);
        const std::uint32_t offset = rbuf_len_ + seq_distance(rcv_nxt_, s);
        if (len > rcv_mss_) rcv_mss_ = static_cast<std::uint16_t>(std::min<std::uint32_t>(len, 0xffff));

        if (s == rcv_nxt_) {
            const bool filled_a_hole = !ooo().empty();
            const seq32 before = rcv_nxt_;
            receive_ring().write(offset, payload.subspan(skip, len));
            rcv_nxt_ = e;
            for (bool grew = true; grew;) {  // pull in what reassembly was holding
                grew = false;
                for (std::size_t i = 0; i < ooo().size(); ++i) {
                    if (!(rcv_nxt_ < ooo()[i].left) && rcv_nxt_ < ooo()[i].right) {
                        rcv_nxt_ = ooo()[i].right;
                        grew = true;
                    }
                }
            }
            ooo().trim_below(rcv_nxt_);
            rbuf_len_ += seq_distance(before, rcv_nxt_);
            events_ |= connection_events::readable;
            schedule_ack(now, filled_a_hole || !ooo().empty());
        } else {
            // Out of order: held in place in the ring, tracked by range;
            // beyond the range capacity it is dropped (the memory bound).
            if (ooo().add(s, e)) receive_ring().write(offset, payload.subspan(skip, len));
            flags_ |= f_ack_now;  // RFC 5681 §4.2: immediately, with SACK blocks
        }
    }

    void schedule_ack(time_point now, bool immediately) noexcept {
        if (immediately || !cfg_->delayed_ack || seq_distance(last_ack_sent_, rcv_nxt_) >= 2u * rcv_mss_) {
            flags_ |= f_ack_now;  // Linux: at least every second full-sized segment
            flags_ &= ~f_delack;
            return;
        }
        if (!(flags_ & f_delack)) {
            delack_deadline_us_ = detail::us32(now + cfg_->delayed_ack_timeout);
            flags_ |= f_delack;
        }
    }

    // ---- Timers ------------------------------------------------------------
    void arm_rtx(time_point when, bool persist) noexcept {
        rtx_deadline_ = when;
        flags_ |= f_rtx_armed;
        if (persist) flags_ |= f_persist;
        else flags_ &= ~f_persist;
    }
    void disarm_rtx() noexcept { flags_ &= ~(f_rtx_armed | f_persist); }

    void arm_fin_wait_2_timeout(time_point now) noexcept { arm_rtx(now + cfg_->fin_timeout, false); }

    // The timer for data in flight: the RTO, or first a tail loss probe
    // (RFC 8985 §7, as Linux with SACK) when that would come sooner: two
    // smoothed RTTs, plus a delayed ACK's worth when one segment is out.
    void arm_retransmission(time_point now) noexcept {
        flags_ &= ~f_tlp;
        const duration rto = current_rto();
        if (const duration pto = loss_probe_timeout(); pto < rto) {
            arm_rtx(now + pto, false);
            flags_ |= f_tlp;
            return;
        }
        arm_rtx(now + rto, false);
    }

    // When a probe may be due (duration::max() when none may): only with
    // SACK, outside recovery, once per episode, with an RTT measured.
    [[nodiscard]] duration loss_probe_timeout() const noexcept {
        if (!(flags_ & f_sack) || (flags_ & (f_recovery | f_rto_recovery | f_tlp_sent)) || srtt_us_ == 0 ||
            retransmits_ != 0)
            return duration::max();
        duration pto = 2 * duration{srtt_us_};
        if (flight_size() <= snd_mss_) pto += std::chrono::milliseconds{200};
        return pto < std::chrono::milliseconds{10} ? std::chrono::milliseconds{10} : pto;
    }

    // New data went out: the probe is due two SRTTs after the last of it
    // (Linux reschedules it after every transmission), if that comes before
    // the timer already running.
    void reschedule_loss_probe(time_point now) noexcept {
        const duration pto = loss_probe_timeout();
        if (pto == duration::max()) return;
        if ((flags_ & f_tlp) || now + pto < rtx_deadline_) {
            rtx_deadline_ = std::min(now + pto, (flags_ & f_tlp) ? now + current_rto() : rtx_deadline_);
            flags_ |= f_tlp;
        }
    }

    // The probe: new data if any may go (even past cwnd), else the last
    // segment again; its ACK (or SACK) shows what was lost. The RTO follows.
    void send_loss_probe(time_point now) noexcept {
        flags_ &= ~f_tlp;
        flags_ |= f_tlp_sent | f_tlp_probe;
        arm_rtx(now + current_rto(), false);
    }

    [[nodiscard]] duration base_rto() const noexcept {
        if (srtt_us_ == 0) return cfg_->rto_initial;
        return compute_rto(duration{srtt_us_}, duration{rttvar_us_}, cfg_->rto_style, cfg_->rto_min, cfg_->rto_max);
    }
    // The RTO after `retransmits_` expiries: doubled each time, capped.
    [[nodiscard]] duration current_rto() const noexcept {
        duration rto = base_rto();
        for (unsigned i = 0; i < retransmits_ && rto < cfg_->rto_max; ++i) rto = backed_off_rto(rto, cfg_->rto_max);
        return rto;
    }
    [[nodiscard]] duration user_timeout() const noexcept { return std::chrono::milliseconds{user_timeout_ms_}; }

    void run_timers(time_point now) {
        if ((flags_ & f_delack) && delack_deadline() <= now) {
            flags_ &= ~f_delack;
            flags_ |= f_ack_now;
        }
        if ((flags_ & f_rtx_armed) && rtx_deadline_ <= now) on_rtx_timer(now);
        if (keepalive_deadline() <= now) on_keepalive_timer(now);
    }

    void give_up(time_point now, tcp_event e) {
        set_error(std::errc::timed_out);
        apply(now, e);
    }

    void on_rtx_timer(time_point now) {
        flags_ &= ~f_rtx_armed;
        switch (state_) {
            case tcp_state::time_wait: apply(now, tcp_event::time_wait_expiry); return;
            case tcp_state::fin_wait_2: apply(now, tcp_event::fin_wait_2_timeout); return;
            case tcp_state::syn_sent:
            case tcp_state::syn_received: {
                const bool active = !(flags_ & f_passive);
                const unsigned linear = active ? cfg_->syn_linear_timeouts : 0u;
                const unsigned budget = active ? syn_retransmission_count(syn_retries_, linear) : cfg_->synack_retries;
                if (retransmits_ >= budget) return give_up(now, tcp_event::retransmission_give_up);
                ++retransmits_;
                flags_ |= f_syn_due;
                flags_ &= ~f_rtt_timing;  // Karn
                arm_rtx(now + syn_wait(retransmits_ + 1u, cfg_->rto_initial, linear, cfg_->rto_max), false);
                return;
            }
            default: break;
        }
        if (flags_ & f_persist) return on_persist_timer(now);
        if (flags_ & f_tlp) return send_loss_probe(now);

        // Data (or FIN) unacknowledged for a whole RTO.
        const duration since_first = (flags_ & f_first_rtx) ? since_ms32(now, first_rtx_ms_) : duration::zero();
        if ((flags_ & f_first_rtx) &&
            retransmission_gives_up(since_first, user_timeout(), cfg_->retries2, cfg_->rto_min, cfg_->rto_max)) {
            return give_up(now, user_timeout_ms_ != 0 ? tcp_event::user_timeout : tcp_event::retransmission_give_up);
        }
        if (!(flags_ & f_first_rtx)) {
            first_rtx_ms_ = detail::ms32(now);
            flags_ |= f_first_rtx;
        }
        if (retransmits_ < 0xff) ++retransmits_;
        if (retransmits_ >= cfg_->retries1 && !(flags_ & f_path_reported)) {
            events_ |= connection_events::path_may_be_broken;
            flags_ |= f_path_reported;
        }
        // RFC 5681 (4)-(5) through the policy; RFC 6582: no fast retransmit
        // for what was outstanding at the timeout.
        cc_window w{cwnd_, ssthresh_, snd_mss_};
        cc_.on_timeout(w, flight_size(), now);
        cwnd_ = w.cwnd;
        ssthresh_ = w.ssthresh;
        recover_ = snd_nxt_;
        rtx_next_ = snd_una_;
        dupacks_ = 0;
        flags_ |= f_rto_recovery;
        flags_ &= ~(f_recovery | f_rtt_timing);
        const duration elapsed = since_ms32(now, first_rtx_ms_);
        arm_rtx(now + clamp_rto_to_user_timeout(current_rto(), elapsed, user_timeout()), false);
    }

    // Zero-window probing (RFC 9293 §3.8.6.1, Linux tcp_probe_timer): give up
    // after retries2 unanswered probes, or the user timeout.
    void on_persist_timer(time_point now) {
        if (user_timeout_ms_ != 0 && probes_out_ != 0 && (flags_ & f_first_rtx) &&
            since_ms32(now, first_rtx_ms_) >= user_timeout())
            return give_up(now, tcp_event::user_timeout);
        if (user_timeout_ms_ == 0 && probes_out_ >= cfg_->retries2)
            return give_up(now, tcp_event::retransmission_give_up);
        if (probes_out_ == 0) {
            first_rtx_ms_ = detail::ms32(now);  // when the unanswered probing began
            flags_ |= f_first_rtx;
        }
        if (probes_out_ < 0xff) ++probes_out_;
        // The interval backs off even when probes are answered (Linux
        // icsk_backoff); retransmits_ counts it, as nothing is in flight.
        if (retransmits_ < 0xff) ++retransmits_;
        flags_ |= f_probe_due;
        arm_rtx(now + persist_interval(), true);
    }

    [[nodiscard]] duration persist_interval() const noexcept { return current_rto(); }

    // Start or stop the persist timer as the peer's window closes or opens.
    void update_persist(time_point now) noexcept {
        const bool stalled = snd_wnd_ == 0 && snd_una_ == snd_nxt_ && has_unsent();
        if (stalled && !(flags_ & f_rtx_armed)) {
            restart_probing();
            retransmits_ = 0;
            arm_rtx(now + persist_interval(), true);
        } else if (!stalled && (flags_ & f_persist)) {
            disarm_rtx();
            restart_probing();
            retransmits_ = 0;
        }
    }

    [[nodiscard]] bool keepalive_applies() const noexcept {
        if (!(flags_ & f_keepalive)) return false;
        if (state_ != tcp_state::established && state_ != tcp_state::close_wait && state_ != tcp_state::fin_wait_2)
            return false;
        if (state_ == tcp_state::fin_wait_2 && (flags_ & f_orphan)) return false;  // fin_timeout governs
        // Anything outstanding is watched by the retransmission or persist
        // timer instead (Linux tcp_keepalive_timer).
        return snd_una_ == snd_nxt_ && !has_unsent();
    }

    // Keepalive and zero-window probing count from zero again.
    void restart_probing() noexcept {
        probes_out_ = 0;
        keepalive_delay_ms_ = 0;
    }

    // Probes at idle, idle + interval, ... after the last segment received,
    // moved later by however late the clock let the timer run.
    [[nodiscard]] time_point keepalive_deadline() const noexcept {
        if (!keepalive_applies()) return never;
        return last_rcv_ + std::chrono::seconds{keepalive_idle_s_} +
               std::chrono::seconds{std::uint32_t{keepalive_interval_s_} * probes_out_} +
               std::chrono::milliseconds{keepalive_delay_ms_};
    }

    void on_keepalive_timer(time_point now) {
        const duration idle = now - last_rcv_;
        const bool ut = user_timeout_ms_ != 0;
        if ((ut && idle >= user_timeout() && probes_out_ > 0) || (!ut && probes_out_ >= keepalive_probes_))
            return give_up(now, tcp_event::keepalive_give_up);
        if (probes_out_ < 0xff) ++probes_out_;
        flags_ |= f_probe_due;
        // A clock that jumped (a suspended host, a simulator) must not turn
        // the probes it skipped into a burst: the next waits a whole interval
        // from now, as Linux re-arms its keepalive timer from the firing.
        const time_point next = keepalive_deadline();
        if (next <= now) {
            const auto behind = std::chrono::ceil<std::chrono::milliseconds>(
                                    now + std::chrono::seconds{keepalive_interval_s_} - next)
                                    .count();
            keepalive_delay_ms_ = static_cast<std::uint32_t>(
                std::min<std::int64_t>(std::int64_t{keepalive_delay_ms_} + behind, 0xffffffff));
        }
    }

    // ---- Sending -------------------------------------------------------------
    struct span_to_send {
        seq32 start{};
        std::uint32_t length = 0;  // sequence numbers, a FIN included
    };

    // The sequence number of the first byte in the send buffer: SND.UNA, past
    // an unacknowledged SYN, and before an acknowledged FIN (the FIN's number
    // then is SND.UNA - 1 = the end of the data).
    [[nodiscard]] seq32 data_start() const noexcept {
        const bool syn_unacked = state_ == tcp_state::syn_sent || state_ == tcp_state::syn_received;
        const bool fin_acked = (flags_ & f_fin_sent) && snd_una_ == snd_nxt_;
        return snd_una_ + (syn_unacked ? 1u : 0u) - (fin_acked ? 1u : 0u);
    }
    [[nodiscard]] seq32 data_end() const noexcept { return data_start() + sbuf_len_; }
    [[nodiscard]] bool fin_wanted() const noexcept { return (flags_ & f_shutdown) != 0; }
    // The sequence number just past everything we will ever send.
    [[nodiscard]] seq32 send_limit() const noexcept { return data_end() + (fin_wanted() ? 1u : 0u); }
    [[nodiscard]] bool has_unsent() const noexcept { return snd_nxt_ < send_limit(); }
    [[nodiscard]] std::uint32_t flight_size() const noexcept { return seq_distance(snd_una_, snd_nxt_); }

    // Where the bytes deemed lost end (everything unSACKed before is to be
    // sent again): after a timeout, what was outstanding then; in fast
    // recovery, the highest SACKed byte, or one segment without SACK.
    [[nodiscard]] seq32 lost_end() const noexcept {
        if (flags_ & f_rto_recovery) return recover_;
        const seq32 one = rtx_next_ == snd_una_ ? seq_min(snd_una_ + snd_mss_, snd_nxt_) : rtx_next_;
        return seq_max(sacked().highest_right(snd_una_), one);
    }

    // RFC 6675's pipe: what is believed to be in the network.
    [[nodiscard]] std::uint32_t pipe() const noexcept {
        const std::uint32_t flight = flight_size();
        const std::uint32_t sacked_bytes = sacked().covered(snd_una_, snd_nxt_);
        std::uint32_t lost = 0;
        if (flags_ & (f_recovery | f_rto_recovery)) {
            const seq32 from = seq_max(rtx_next_, snd_una_), to = lost_end();
            if (from < to) lost = seq_distance(from, to) - sacked().covered(from, to);
        }
        const std::uint32_t out = sacked_bytes + lost;
        return flight > out ? flight - out : 0;
    }

    [[nodiscard]] bool congestion_allows(std::uint32_t length) const noexcept {
        const std::uint32_t p = pipe();
        return p == 0 || std::uint64_t{p} + length <= cwnd_;
    }

    [[nodiscard]] span_to_send next_retransmission(std::uint32_t room) const noexcept {
        if ((flags_ & f_tlp_probe) && next_new_data_unlimited(room).length == 0 && snd_una_ < snd_nxt_) {
            // The loss probe: the last segment sent, again.
            const std::uint32_t len = std::min<std::uint32_t>({flight_size(), snd_mss_, room});
            return {snd_nxt_ - len, len};
        }
        if (!(flags_ & (f_recovery | f_rto_recovery))) return {};
        const seq32 limit = (flags_ & f_rtx_head) ? seq_max(lost_end(), snd_una_ + 1) : lost_end();
        seq32 s = (flags_ & f_rtx_head) ? snd_una_ : seq_max(rtx_next_, snd_una_);
        for (std::size_t idx; s < limit && (idx = sacked().find(s)) != detail::no_range;)
            s = sacked()[idx].right;
        if (!(s < limit)) return {};
        seq32 e = seq_min(limit, sacked().next_left_at_or_after(s, limit));
        e = seq_min(e, s + std::min<std::uint32_t>(snd_mss_, room));
        if (fin_wanted() && (flags_ & f_fin_sent) && e == data_end() && data_end() < limit) e = e + 1;
        const std::uint32_t len = seq_distance(s, e);
        // The head's (re)transmission is exempt from the pipe: progress stops
        // without it.
        if (len == 0 || (!(flags_ & f_rtx_head) && !congestion_allows(len))) return {};
        return {s, len};
    }

    [[nodiscard]] span_to_send next_new_data(std::uint32_t room) const noexcept {
        return next_new_data(room, (flags_ & f_tlp_probe) == 0);
    }
    // What new data the window allows, whatever cwnd says (a loss probe may
    // go beyond it).
    [[nodiscard]] span_to_send next_new_data_unlimited(std::uint32_t room) const noexcept {
        return next_new_data(room, false);
    }
    [[nodiscard]] span_to_send next_new_data(std::uint32_t room, bool limit_by_cwnd) const noexcept {
        if (!has_unsent()) return {};
        const seq32 s = snd_nxt_;
        const seq32 end = data_end();
        std::uint32_t len = s < end ? seq_distance(s, end) : 0;
        len = std::min<std::uint32_t>({len, snd_mss_, room});
        // The peer's window (a FIN needs none).
        const seq32 window_end = snd_una_ + snd_wnd_;
        const std::uint32_t usable = s < window_end ? seq_distance(s, window_end) : 0;
        if (len > usable) len = usable;
        const bool fin = fin_wanted() && s + len == end;
        if (len == 0 && !fin) return {};
        if (len != 0 && limit_by_cwnd && !congestion_allows(len)) return {};
        // Nagle (RFC 896): hold a small segment while data is unacknowledged.
        if (len < snd_mss_ && !fin && !(flags_ & f_nodelay) && snd_una_ != snd_nxt_ && s + len == end) return {};
        return {s, len + (fin ? 1u : 0u)};
    }

    [[nodiscard]] bool output_pending() const noexcept {
        if (reply() != reply_none) return true;
        switch (state_) {
            case tcp_state::closed:
            case tcp_state::listen: return false;
            case tcp_state::syn_sent: return (flags_ & f_syn_due) != 0;
            case tcp_state::syn_received: return (flags_ & (f_syn_due | f_ack_now)) != 0;
            case tcp_state::time_wait: return (flags_ & f_ack_now) != 0;
            default: break;
        }
        if (flags_ & (f_ack_now | f_probe_due)) return true;
        const std::uint32_t room = 0xffff;
        return next_retransmission(room).length != 0 || next_new_data(room).length != 0;
    }

    [[nodiscard]] std::uint32_t ts_value(time_point now) const noexcept { return detail::ms32(now) + ts_offset_; }

    // The window to offer, as the 16-bit field, moving the advertised right
    // edge; it never moves left (RFC 9293 §3.8.6.2.2), and small increases are
    // held back (receiver SWS avoidance, RFC 1122 4.2.3.3).
    std::uint16_t take_window_field() noexcept {
        const std::uint32_t free_space = receive_capacity() > rbuf_len_ ? receive_capacity() - rbuf_len_ : 0;
        const seq32 possible = rcv_nxt_ + free_space;
        seq32 edge = rcv_adv_ < rcv_nxt_ ? rcv_nxt_ : rcv_adv_;
        const std::uint32_t sws = std::min<std::uint32_t>(receive_capacity() / 2, rcv_mss_);
        if (edge < possible && seq_distance(edge, possible) >= sws) edge = possible;
        std::uint32_t window = seq_distance(rcv_nxt_, edge);
        // Scaled, rounded up so the edge stays put (the buffer has 2^scale bytes of slack).
        const std::uint32_t unit = 1u << rcv_ws_;
        std::uint32_t field = (window + unit - 1) >> rcv_ws_;
        if (field > 0xffff) field = 0xffff;
        rcv_adv_ = rcv_nxt_ + (field << rcv_ws_);
        return static_cast<std::uint16_t>(field);
    }

    [[nodiscard]] std::uint32_t advertised_window_now() const noexcept {
        return rcv_nxt_ < rcv_adv_ ? seq_distance(rcv_nxt_, rcv_adv_) : 0;
    }

    // After the application reads: announce a window that has opened enough
    // (Linux tcp_cleanup_rbuf: when it would at least double).
    void maybe_announce_window(std::uint32_t before) noexcept {
        if (!is_synchronized(state_) || (flags_ & f_fin_received)) return;
        const std::uint32_t free_space = receive_capacity() - rbuf_len_;
        if ((before == 0 && free_space >= rcv_mss_) || (free_space >= 2u * before && free_space - before >= rcv_mss_))
            flags_ |= f_ack_now;
    }

    void fill_options(tcp_options& o, time_point now, bool syn) const noexcept {
        if (syn) {
            o.mss = cfg_->mss;
            const bool synack = state_ == tcp_state::syn_received;
            if (cfg_->window_scaling && (!synack || (flags_ & f_ws)))
                o.window_scale = synack ? rcv_ws_ : detail::window_scale_for(cfg_->receive_buffer);
            o.sack_permitted = cfg_->sack && (!synack || (flags_ & f_sack));
            if (cfg_->timestamps && (!synack || (flags_ & f_ts)))
                o.timestamps = tcp_timestamps{ts_value(now), synack ? ts_recent_ : 0u};
            return;
        }
        if (flags_ & f_ts) o.timestamps = tcp_timestamps{ts_value(now), ts_recent_};
        if ((flags_ & f_sack) && !ooo().empty()) {
            const std::size_t fit = sack_blocks_that_fit(o);
            for (std::size_t i = 0; i < ooo().size() && i < fit; ++i) o.add_sack_block(ooo()[i]);
        }
    }

    // Writes header, options and payload (taken from the send buffer) with
    // the checksum; the payload is copied and summed in one pass.
    std::size_t write_segment(std::span<std::uint8_t> out, seq32 seq, std::uint8_t flags, const tcp_options& o,
                              std::uint32_t payload_offset, std::uint32_t payload_len, std::uint16_t window) {
        tcp_header_fields f;
        f.src_port = tuple_.local.port;
        f.dst_port = tuple_.remote.port;
        f.seq = seq;
        f.ack = (flags & tcp_flags::ack) ? rcv_nxt_ : seq32{};
        f.flags = flags;
        f.window = window;
        const auto header = write_tcp_header(out, f, o);
        TCPCORE_ASSERT(header.has_value());
        if (!header) return 0;
        const std::size_t total = *header + payload_len;
        auto sum = pseudo_header_sum(tuple_.local.address, tuple_.remote.address, ip_protocol_tcp,
                                     static_cast<std::uint32_t>(total));
        sum.add(out.first(*header));
        if (payload_len != 0) send_ring().read_summing(payload_offset, out.subspan(*header, payload_len), sum);
        detail::store_be16(&out[16], sum.value());
        if (flags & tcp_flags::ack) {
            last_ack_sent_ = rcv_nxt_;
            flags_ &= ~(f_ack_now | f_delack);
        }
        return total;
    }

    std::size_t emit_syn(time_point now, std::span<std::uint8_t> out) {
        const bool synack = state_ == tcp_state::syn_received;
        tcp_options o;
        fill_options(o, now, true);
        const std::uint16_t window = static_cast<std::uint16_t>(std::min<std::uint32_t>(receive_capacity(), 0xffff));
        // A SYN's window is never scaled (RFC 7323 §2.2), so a SYN,ACK sent
        // again after a scaled ACK may offer a byte or so less than that ACK
        // did; what was offered stays offered.
        if (synack) rcv_adv_ = seq_max(rcv_adv_, rcv_nxt_ + window);
        flags_ &= ~f_syn_due;
        if (retransmits_ == 0) {
            rtt_seq_ = snd_una_ + 1;
            rtt_start_us_ = detail::us32(now);
            flags_ |= f_rtt_timing;
        }
        if (snd_nxt_ == snd_una_) snd_nxt_ = snd_una_ + 1;
        const std::uint8_t fl = synack ? (tcp_flags::syn | tcp_flags::ack) : tcp_flags::syn;
        return write_segment(out, snd_una_, fl, o, 0, 0, window);
    }

    std::size_t emit_data(time_point now, std::span<std::uint8_t> out, seq32 s, std::uint32_t seq_len, bool rtx) {
        const seq32 end = data_end();
        const std::uint32_t bytes = s < end ? std::min<std::uint32_t>(seq_len, seq_distance(s, end)) : 0;
        const bool fin = seq_len > bytes;  // the extra sequence number is the FIN
        tcp_options o;
        fill_options(o, now, false);
        std::uint8_t fl = tcp_flags::ack;
        if (fin) fl |= tcp_flags::fin;
        if (bytes != 0 && s + bytes == end) fl |= tcp_flags::psh;  // the end of what was written
        const std::uint32_t offset = seq_distance(data_start(), s);
        const std::uint16_t window = take_window_field();
        const std::size_t n = write_segment(out, s, fl, o, offset, bytes, window);
        const seq32 after = s + seq_len;
        if (rtx) {
            // The head's retransmission starts at the first hole: at SND.UNA,
            // or past data a reneging peer SACKed there. Either way it is
            // sent, and the head is no longer due.
            if (s == snd_una_ || ((flags_ & f_rtx_head) && !(flags_ & f_tlp_probe))) {
                rtx_fence_ = snd_nxt_;  // what is sent from here on came after the head's retransmission
                flags_ |= f_rtx_fence;
                flags_ &= ~f_rtx_head;
            }
            if (rtx_next_ < after) rtx_next_ = after;
            flags_ &= ~f_rtt_timing;  // Karn: no sample while retransmitting
        } else {
            if (!(flags_ & f_rtt_timing) && retransmits_ == 0) {
                rtt_seq_ = after;
                rtt_start_us_ = detail::us32(now);
                flags_ |= f_rtt_timing;
            }
            snd_nxt_ = after;
        }
        if (fin) flags_ |= f_fin_sent;
        if (flags_ & f_tlp_probe) {
            flags_ &= ~f_tlp_probe;  // one probe; the RTO is already armed behind it
        } else if (!(flags_ & f_rtx_armed) || (flags_ & f_persist)) {
            arm_retransmission(now);
        } else if (!rtx) {
            reschedule_loss_probe(now);
        }
        return n;
    }

    std::size_t emit_bare_ack(time_point now, std::span<std::uint8_t> out, seq32 seq) {
        tcp_options o;
        fill_options(o, now, false);
        const std::uint16_t window = take_window_field();
        return write_segment(out, seq, tcp_flags::ack, o, 0, 0, window);
    }

    std::size_t emit_reply(std::span<std::uint8_t> out) {
        const std::uint8_t kind = reply();
        set_reply(reply_none);
        tcp_header_fields f;
        f.src_port = tuple_.local.port;
        f.dst_port = tuple_.remote.port;
        f.seq = reply_seq_;
        f.ack = kind == reply_rst_ack ? reply_ack_ : seq32{};
        f.flags = kind == reply_rst_ack ? (tcp_flags::rst | tcp_flags::ack) : tcp_flags::rst;
        const auto len = build_tcp_segment(out, f, tcp_options{}, {}, tuple_.local.address, tuple_.remote.address);
        return len ? *len : 0;
    }

    // A reply to one segment (RFC 9293 §3.10.7.1 forms). In LISTEN the peer
    // is not bound yet, so the reply's destination is kept in tuple_.remote.
    void queue_reply_rst(const tcp_segment_view& seg, const ip_address& src, bool with_ack) noexcept {
        if (!(flags_ & f_bound_remote)) tuple_.remote = {src, seg.src_port()};
        if (with_ack) {
            set_reply(reply_rst_ack);
            reply_seq_ = seq32{0};
            reply_ack_ = seg.seq() + seg.sequence_length();
        } else {
            set_reply(reply_rst);
            reply_seq_ = seg.ack();
        }
    }

    // ABORT's reset, as Linux sends it: RST,ACK with SEQ=SND.NXT, ACK=RCV.NXT.
    void queue_active_reset() noexcept {
        set_reply(reply_rst_ack);
        reply_seq_ = snd_nxt_;
        reply_ack_ = rcv_nxt_;
    }

    // Linux (tcp_oow_rate_limited, tcp_invalid_ratelimit): an out-of-window
    // or PAWS-failing segment that carries nothing (no data, SYN or FIN) is
    // answered at most once per half second. Two ends that disagree about
    // the sequence space (after damage a checksum missed, say) would
    // otherwise answer each other's ACKs for ever.
    static constexpr std::uint32_t out_of_window_ack_interval_ms = 500;
    [[nodiscard]] bool out_of_window_ack_limited(time_point now, const tcp_segment_view& seg, drop_reason why) noexcept {
        if (why != drop_reason::out_of_window && why != drop_reason::paws) return false;
        if (seg.sequence_length() != 0) return false;
        const std::uint32_t ms = detail::ms32(now);
        if ((flags_ & f_oow_acked) && ms - oow_ack_ms_ < out_of_window_ack_interval_ms) return true;
        oow_ack_ms_ = ms;
        flags_ |= f_oow_acked;
        return false;
    }

    // RFC 5961 §7: at most challenge_ack_limit per second.
    void queue_challenge_ack(time_point now) noexcept {
        const auto second = static_cast<std::uint16_t>(now.time_since_epoch().count() / 1000000);
        if (second != challenge_second_) {
            challenge_second_ = second;
            challenge_count_ = 0;
        }
        if (challenge_count_ >= cfg_->challenge_ack_limit) return;
        ++challenge_count_;
        flags_ |= f_ack_now;
    }

    // ---- Buffers -------------------------------------------------------------
    [[nodiscard]] std::uint32_t send_capacity() const noexcept { return cfg_->send_buffer; }
    [[nodiscard]] std::uint32_t receive_capacity() const noexcept { return cfg_->receive_buffer; }
    // The scaled window field is rounded up so the advertised edge never
    // moves left; the buffer holds the up to 2^scale - 1 bytes that promises
    // (at the largest scale this configuration can offer).
    [[nodiscard]] std::uint32_t receive_capacity_with_slack() const noexcept {
        return cfg_->receive_buffer + (1u << detail::window_scale_for(cfg_->receive_buffer));
    }
    [[nodiscard]] std::size_t buffer_block_size() const noexcept {
        return range_bytes + std::size_t{send_capacity()} + receive_capacity_with_slack();
    }
    // One allocation: [SACK scoreboard | reassembly map | send ring | receive ring].
    [[nodiscard]] detail::ring_ref send_ring() const noexcept {
        return {buf_ + range_bytes, send_capacity(), sbuf_start_};
    }
    [[nodiscard]] detail::ring_ref receive_ring() const noexcept {
        return {buf_ + range_bytes + send_capacity(), receive_capacity_with_slack(), rbuf_start_};
    }
    [[nodiscard]] bool can_queue_data() const noexcept {
        return !(flags_ & f_shutdown) && (state_ == tcp_state::syn_sent || state_ == tcp_state::syn_received ||
                                          state_ == tcp_state::established || state_ == tcp_state::close_wait);
    }

    // Allocated at the first send or the first data to arrive, not at open:
    // connections that never carry data cost no buffer memory.
    bool ensure_buffers() noexcept {
        if (buf_ != nullptr) return true;
        buf_ = static_cast<std::uint8_t*>(alloc_.allocate(buffer_block_size(), alignof(std::max_align_t)));
        sbuf_start_ = rbuf_start_ = 0;
        return buf_ != nullptr;
    }
    void release_buffers() noexcept {
        if (buf_ != nullptr) alloc_.deallocate(buf_, buffer_block_size(), alignof(std::max_align_t));
        buf_ = nullptr;
        sacked_count_ = ooo_count_ = 0;  // their ranges lived in the block
    }
    // Nothing more will be sent or arrive; data already received stays
    // readable until the application takes it (the block goes then).
    void release_finished_buffers() noexcept {
        sbuf_len_ = 0;
        sacked_count_ = ooo_count_ = 0;
        if (rbuf_len_ == 0) release_buffers();
    }

    // ---- Misc ----------------------------------------------------------------
    // A per-connection value is checked as the whole configuration would be
    // with it, so the same rules (and messages) apply.
    template <class T>
    [[nodiscard]] config_check check_setting(T config::*field, T value) const noexcept {
        config c = *cfg_;
        c.*field = value;
        return validate(c);
    }

    // The SACK scoreboard and the reassembly map, at the head of the buffer
    // block; without buffers both are empty.
    using ranges = std::array<sack_block, range_capacity>;
    [[nodiscard]] ranges* range_storage(std::size_t which) const noexcept {
        return buf_ == nullptr ? nullptr : reinterpret_cast<ranges*>(buf_) + which;
    }
    [[nodiscard]] detail::seq_ranges<range_capacity> sacked() noexcept { return {range_storage(0), sacked_count_}; }
    [[nodiscard]] detail::const_seq_ranges<range_capacity> sacked() const noexcept {
        return {range_storage(0), sacked_count_};
    }
    [[nodiscard]] detail::seq_ranges<range_capacity> ooo() noexcept { return {range_storage(1), ooo_count_}; }
    [[nodiscard]] detail::const_seq_ranges<range_capacity> ooo() const noexcept {
        return {range_storage(1), ooo_count_};
    }

    void set_error(std::errc e) noexcept {
        if (error_ == 0) error_ = static_cast<std::uint8_t>(e);
    }


    // ---- Members, largest first ----------------------------------------------
    const config* cfg_;
    std::uint8_t* buf_ = nullptr;  // send and receive rings, allocated together
    time_point rtx_deadline_{};    // retransmission, persist, TIME-WAIT or FIN-WAIT-2
    time_point last_rcv_{};        // last segment accepted (keepalive)
    four_tuple tuple_{};
    seq32 snd_una_{}, snd_nxt_{}, snd_wl1_{}, rtx_next_{}, recover_{}, rtx_fence_{};
    seq32 rcv_nxt_{}, rcv_adv_{}, last_ack_sent_{}, rtt_seq_{};
    seq32 reply_seq_{}, reply_ack_{};
    std::uint32_t ts_recent_ = 0, ts_offset_ = 0;
    std::uint32_t snd_wnd_ = 0, max_snd_wnd_ = 0, cwnd_ = 0, ssthresh_ = 0;
    std::uint32_t srtt_us_ = 0, rttvar_us_ = 0, rtt_start_us_ = 0;
    std::uint32_t first_rtx_ms_ = 0;
    std::uint32_t delack_deadline_us_ = 0;  // read back around last_rcv_ (delack_deadline())
    std::uint32_t user_timeout_ms_ = 0;
    std::uint32_t keepalive_delay_ms_ = 0;  // keepalive probes postponed by a late clock
    std::uint32_t oow_ack_ms_ = 0;          // the last answer to an out-of-window segment
    std::uint32_t sbuf_start_ = 0, sbuf_len_ = 0, rbuf_start_ = 0, rbuf_len_ = 0;
    std::uint32_t flags_ = 0;
    std::uint16_t snd_mss_ = 0, rcv_mss_ = 0;
    std::uint16_t keepalive_idle_s_ = 0, keepalive_interval_s_ = 0;
    std::uint8_t events_ = 0;
    std::uint16_t challenge_count_ = 0, challenge_second_ = 0;
    tcp_state state_ = tcp_state::closed;
    std::uint8_t error_ = 0;
    std::uint8_t snd_ws_ = 0, rcv_ws_ = 0;
    std::uint8_t retransmits_ = 0, dupacks_ = 0, probes_out_ = 0;
    std::uint8_t keepalive_probes_ = 0, syn_retries_ = 0;
    std::uint8_t sacked_count_ = 0, ooo_count_ = 0;
    [[no_unique_address]] CC cc_;
    [[no_unique_address]] Alloc alloc_;
    [[no_unique_address]] Tracer tracer_;
};

using connection = basic_connection<>;

}  // namespace tcpcore
