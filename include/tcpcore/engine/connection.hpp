#pragma once
// One TCP connection as a sans-I/O protocol engine. It reads no clock, does no
// I/O and keeps no global state: every call that needs the time takes `now`,
// outgoing segments are pulled one at a time with poll_output(), and next_deadline()
// says when the engine next needs a call.
//
// Its behaviour comes from the compile-time rules: every state change is a row
// of transitions.hpp (apply()), every arriving segment is judged by
// decide_arrival() (arrival.hpp), and every timeout comes from timeouts.hpp.
// This header keeps the public API and that one path, from a segment through
// the rules to a table row; the bookkeeping the rules need lives in the
// components beside it (as gVisor's netstack splits it): send.hpp,
// acknowledgement.hpp, receive.hpp, timers.hpp, output.hpp and
// segment_writer.hpp, handshake.hpp, arrival_facts.hpp, buffer_block.hpp.
// The bodies of the user calls and setters (connection_calls.hpp), of the
// reports and counting (connection_reports.hpp) and of the timers firing
// (connection_timers.hpp) live beside it too.
// They are members or stateless functions, never bases, and hold no pointer
// back: the connection passes each what it needs.
//
//   tcpcore::connection c(cfg);
//   c.open_active(now, {{local, 40000}, {remote, 80}}, iss);
//   for (std::size_t n; (n = c.poll_output(now, buf)) != 0;) send(buf, n);
//   c.on_segment(now, segment, src, dst);     // for each arriving segment
//   sleep_until(c.next_deadline());
//
// The configuration passed to the constructor must outlive the connection
// (an endpoint shares one among all its connections).

#include <tcpcore/detail/assert.hpp>
#include <tcpcore/detail/byte_ring.hpp>
#include <tcpcore/detail/expected.hpp>
#include <tcpcore/engine/buffer_block.hpp>
#include <tcpcore/engine/acknowledgement.hpp>
#include <tcpcore/engine/arrival_facts.hpp>
#include <tcpcore/engine/control.hpp>
#include <tcpcore/engine/counters.hpp>
#include <tcpcore/engine/events.hpp>
#include <tcpcore/engine/handshake.hpp>
#include <tcpcore/engine/output.hpp>
#include <tcpcore/engine/receive.hpp>
#include <tcpcore/engine/segment_writer.hpp>
#include <tcpcore/engine/send.hpp>
#include <tcpcore/engine/timers.hpp>
#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/policies/congestion.hpp>
#include <tcpcore/rules/arrival.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/rules/time.hpp>
#include <tcpcore/rules/timeouts.hpp>
#include <tcpcore/rules/transitions.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>
#include <tcpcore/wire/tcp_options.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <optional>
#include <system_error>
#include <utility>

namespace tcpcore {

namespace testing {
struct fixtures;  // the one door for tests (tcpcore/testing/fixtures.hpp), never macros
}

template <congestion_control CC = newreno, allocator_policy Alloc = std_allocator,
          transition_tracer Tracer = no_tracer, counters_policy Counters = no_counters>
class basic_connection {
public:
    using counters_type = Counters;

    explicit basic_connection(const config& cfg, Alloc alloc = {}, CC cc = {}, Tracer tracer = {}) noexcept
        : cfg_(&cfg), block_(std::move(alloc)), cc_(std::move(cc)), tracer_(std::move(tracer)) {
        load_defaults();
    }
    // The connection keeps a pointer to its configuration, which must outlive
    // it: a temporary would dangle as soon as the constructor returned.
    basic_connection(const config&& config_must_outlive_the_connection, Alloc = {}, CC = {}, Tracer = {}) = delete;

    [[nodiscard]] Tracer& tracer() noexcept { return tracer_; }
    basic_connection(const basic_connection&) = delete;
    basic_connection& operator=(const basic_connection&) = delete;
    ~basic_connection() { release_buffers(); }

    // ---- User calls --------------------------------------------------------

    // Active open (RFC 9293 §3.10.1): sends a SYN from t.local to t.remote.
    // `iss` is the initial sequence number (from an ISN policy, RFC 6528);
    // `ts_offset` is added to the millisecond clock in TSval (RFC 7323 §5.4).
    std::error_code open_active(time_point now, const four_tuple& t, seq32 iss, std::uint32_t ts_offset = 0);

    // Passive open: LISTEN on `local`; the first acceptable SYN binds the
    // remote side. With a remote given (port != 0), only that peer is
    // accepted, and a send() turns the open into an active one.
    std::error_code open_passive(time_point now, const socket_address& local, seq32 iss, std::uint32_t ts_offset = 0,
                                 const socket_address& remote = {});

    using cookie_syn = tcpcore::cookie_syn;

    // Opens straight from a validated SYN cookie: the SYN and our SYN,ACK
    // happened without state; `ack` is the segment whose ACK carried the
    // cookie (SEG.ACK = iss + 1). The connection passes LISTEN and
    // SYN-RECEIVED through their table rows and then takes `ack` normally.
    segment_outcome open_from_cookie(time_point now, const four_tuple& t, seq32 iss, std::uint32_t ts_offset,
                                     const cookie_syn& syn, const tcp_segment_view& ack);

    using time_wait_record = tcpcore::time_wait_record;

    // Hands a TIME-WAIT connection off: returns what answering its segments
    // takes and leaves the connection CLOSED (RFC 9293 ABORT in TIME-WAIT:
    // delete the TCB, send nothing). Data already received stays readable.
    // Outside TIME-WAIT there is nothing to hand off: nullopt, nothing changes.
    [[nodiscard]] std::optional<time_wait_record> hand_off_time_wait(time_point now);

    // Queues bytes for sending; returns how many it took (0 when the send
    // buffer is full). Errors: not_connected before an open, broken_pipe after
    // shutdown or close, the connection's error after it failed, and
    // not_enough_memory when the send buffer cannot be allocated.
    //
    // `more` is MSG_MORE: more data follows at once, so a sub-MSS tail waits
    // for it (or for an ACK or the probe timer) even with TCP_NODELAY.
    expected<std::size_t, std::error_code> send(time_point now, std::span<const std::uint8_t> bytes, bool more = false);

    // Copies readable bytes out; returns how many (0 when none: check eof()).
    std::size_t recv(std::span<std::uint8_t> out) noexcept;

    // Zero-copy reading: the readable bytes as up to two spans, then consume().
    [[nodiscard]] detail::ring_ref::pieces peek() const noexcept {
        if (!block_.allocated() || rcv_.buf_len == 0) return {};
        return receive_ring().at(0, rcv_.buf_len);
    }
    void consume(std::size_t n) noexcept;

    [[nodiscard]] std::size_t readable() const noexcept { return rcv_.buf_len; }
    // All the peer's data has been read and its FIN received.
    [[nodiscard]] bool eof() const noexcept { return (flags_ & flag::fin_received) && rcv_.buf_len == 0; }
    [[nodiscard]] std::size_t send_space() const noexcept {
        return can_queue_data() ? send_capacity() - snd_.buf_len : 0;
    }

    // No more data from us: a FIN follows what is queued (half-close; the
    // peer may go on sending). RFC 9293's CLOSE; sockets' shutdown(SHUT_WR).
    std::error_code shutdown(time_point now);

    // The application lets go. Unread data makes this an abort (RST), as in
    // Linux and RFC 2525 §2.17; otherwise queued data and a FIN still go out,
    // and data that arrives afterwards is answered with a RST.
    std::error_code close(time_point now);

    // Drops the connection at once, with a RST where the table says so.
    void abort(time_point now);

    // ---- Segments ----------------------------------------------------------

    // One arriving segment, already validated (tcp_segment_view::parse, with
    // its checksum), with the IP addresses it travelled between.
    segment_outcome on_segment(time_point now, const tcp_segment_view& seg, const ip_address& src,
                               const ip_address& dst) {
        if (!detail::addressed_to(tuple_, flags_, seg, src, dst)) return {segment_result::not_for_us,
            drop_reason::none};
        // What MSG_MORE held goes as Nagle allows once the peer is heard from
        // (Linux pushes with the socket's own setting on every ACK).
        hold_ &= static_cast<std::uint8_t>(~detail::hold::more);

        const segment_facts facts = detail::measure_arrival(seg, arrival_in());
        const arrival_decision d = decide_arrival(facts);

        // In LISTEN the peer is not bound yet: a RST's destination is kept in tuple_.remote.
        const bool rst = d.reply == reply_kind::rst || d.reply == reply_kind::rst_ack;
        if (rst && !(flags_ & flag::bound_remote)) tuple_.remote = {src, seg.src_port()};
        out_.answer(d.reply, d.reason, now, seg, cfg_->challenge_ack_limit, flags_);
        if (d.restart_time_wait) arm_rtx(now + time_wait_duration(cfg_->msl), false);
        if (d.reason == drop_reason::time_wait_ack && (flags_ & flag::ts) && seg.options().timestamps) {
            // Linux keeps TS.Recent fresh in TIME-WAIT from segments at RCV.NXT.
            rcv_.ts_recent = seg.options().timestamps->value;
            flags_ |= flag::ts_recent;
        }

        if constexpr (Counters::enabled) {
            // Linux counts a listener's segments on no connection, except the
            // SYN that makes one.
            if (state_ != tcp_state::listen || d.action == verdict::accept)
                counters_.on_segment_received(seg.payload().size());
        }

        switch (d.action) {
            case verdict::drop: return {segment_result::dropped, d.reason};
            case verdict::reopen: return {segment_result::reopen, drop_reason::none};
            case verdict::reset:
                set_error(detail::reset_error(state_));
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
        if (detail::reply_state::reply(flags_) != flag::reply_none) {
            const std::size_t n = out_.write_reply(out, tuple_, flags_);
            // A listener's RSTs are on no connection's account (as in Linux).
            if constexpr (Counters::enabled)
                if (n != 0 && state_ != tcp_state::listen) counters_.on_segment_sent(now, {0, false, false, true,
                    false});
            return n;
        }
        std::size_t n;
        if constexpr (Counters::enabled) n = counted_output(now, out);
        else n = output().next(now, out);
        if (n == 0) hold_ &= static_cast<std::uint8_t>(~detail::hold::push);  // the push is done
        return n;
    }

    // When the engine next needs poll_output(): `never` when nothing is due,
    // time_point::min() when output is waiting now.
    [[nodiscard]] time_point next_deadline() const noexcept {
        if (detail::output_pending(snd_, send_in())) return time_point::min();
        time_point t = never;
        if (flags_ & flag::rtx_armed) t = timers_.rtx_deadline;
        if (flags_ & flag::delack) t = std::min(t, delack_deadline());
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
    connection_events take_events() noexcept { return std::exchange(events_, connection_events{}); }

    [[nodiscard]] connection_info info() const noexcept;

    // Loss recovery, as TCP_INFO reports it (see recovery_info).
    [[nodiscard]] recovery_info recovery() const noexcept;

    // The counters a bundle asked for (counters.hpp); no_counters otherwise.
    [[nodiscard]] const Counters& counters() const noexcept { return counters_; }

    // The sequence variables, read-only (see sequence_variables).
    [[nodiscard]] sequence_variables sequence() const noexcept;

    // ---- Per-connection settings (usable at any time) ----------------------

    // Switching keepalive on starts the idle period at `now` (Linux arms the
    // timer from the setsockopt call).
    config_check set_keepalive(bool on, time_point now) noexcept;
    config_check set_keepalive_idle(duration d) noexcept { return timers_.set_keepalive_idle(*cfg_, d); }
    config_check set_keepalive_interval(duration d) noexcept { return timers_.set_keepalive_interval(*cfg_, d); }
    config_check set_keepalive_probes(std::uint8_t n) noexcept { return timers_.set_keepalive_probes(*cfg_, n); }
    config_check set_user_timeout(duration d) noexcept { return timers_.set_user_timeout(*cfg_, d); }
    config_check set_syn_retries(std::uint8_t n) noexcept { return timers_.set_syn_retries(*cfg_, n); }
    // TCP_NODELAY. Turning it on also sends what Nagle or a cork holds now
    // (Linux pushes once, even while corked).
    config_check set_nodelay(bool on) noexcept;
    // TCP_CORK: while on, a sub-MSS tail waits (up to the probe timer's RTO
    // when nothing is in flight); off, it goes as Nagle allows, at once with
    // TCP_NODELAY.
    config_check set_cork(bool on) noexcept;
    [[nodiscard]] bool corked() const noexcept { return (hold_ & detail::hold::cork) != 0; }
    // TCP_QUICKACK. On: ACKs go at once while quick-ACK mode lasts, and one
    // now owed goes now; off: ACKs wait to ride on data (Linux's ping-pong
    // mode), until a delayed ACK has to go alone.
    config_check set_quick_ack(bool on) noexcept;
    [[nodiscard]] bool quick_ack_mode() const noexcept { return !pacing_.interactive(); }
    // Moves the connection to another configuration, which must outlive it
    // and have passed validate() (a socket layer's per-socket buffer sizes
    // or MSS clamp). Buffers are allocated at the sizes of the configuration
    // that held them, so the sizes can change only while none are held:
    // false then, and nothing changes.
    bool use_configuration(const config& c) noexcept;

    // Frees the buffers while they are empty (an idle connection keeps only
    // the object itself); they come back on the next send or data arrival.
    void release_idle_buffers() noexcept {
        if (block_.allocated() && snd_.buf_len == 0 && rcv_.buf_len == 0 && ooo().empty() && sacked().empty())
            release_buffers();
    }
    [[nodiscard]] bool has_buffers() const noexcept { return block_.allocated(); }
    // Bytes the buffers take when allocated: the send buffer, the receive
    // buffer and the receive slack (see receive_capacity_with_slack).
    [[nodiscard]] std::size_t buffer_bytes() const noexcept { return buffer_block_size(); }

private:
    friend struct testing::fixtures;
    using flag = detail::flag;

    // ---- Set-up ------------------------------------------------------------
    void load_defaults() noexcept {
        timers_.load_settings(*cfg_);
        if (cfg_->keepalive) flags_ |= flag::keepalive;
        if (cfg_->nodelay) flags_ |= flag::nodelay;
    }

    void reset_variables(time_point now, seq32 iss, std::uint32_t ts_offset) noexcept {
        const std::uint32_t keep = flags_ & (flag::keepalive | flag::nodelay);
        flags_ = keep;
        error_ = 0;
        events_ = {};
        release_buffers();
        const auto mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(cfg_->mss, detail::default_peer_mss));
        snd_.start_over(iss, mss, cfg_->initial_cwnd);
        rcv_ = {};
        rcv_.mss = mss;
        pacing_ = {};
        out_.start_over(ts_offset);
        timers_.start_over(now);
        cc_ = CC{};
        if constexpr (Counters::enabled) counters_.start(now);
    }
    void start(time_point now, const four_tuple& t, seq32 iss, std::uint32_t ts_offset, std::uint32_t open_flags,
               tcp_event open) {
        reset_variables(now, iss, ts_offset);
        tuple_ = t;
        flags_ |= open_flags;
        apply(now, open);
    }

    // RFC 9293 §3.10.4 lets CLOSE in SYN-RECEIVED send a FIN at once only
    // when nothing is queued; otherwise it waits for ESTABLISHED. Waiting
    // always keeps the SYN,ACK the only segment retransmitted before the
    // handshake ends, and puts the FIN after any queued data.
    void defer_fin_until_established() noexcept { flags_ |= flag::shutdown; }

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
            case transition_output::syn_ack: flags_ |= flag::syn_due; break;
            case transition_output::ack: flags_ |= flag::ack_now; break;
            case transition_output::fin: flags_ |= flag::shutdown; break;
            case transition_output::rst: queue_active_reset(); break;
        }
        enter(now, from, e);
    }

    // What entering a state sets in motion.
    void enter(time_point now, tcp_state from, tcp_event e) {
        switch (state_) {
            case tcp_state::syn_sent:
                timers_.retransmits = 0;
                arm_rtx(now + syn_wait(1, cfg_->rto_initial, cfg_->syn_linear_timeouts, cfg_->rto_max), false);
                break;
            case tcp_state::syn_received:
                if (from == tcp_state::listen) {
                    timers_.retransmits = 0;
                    arm_rtx(now + syn_wait(1, cfg_->rto_initial, 0, cfg_->rto_max), false);
                }
                break;
            case tcp_state::established:
                events_ |= connection_events::connected;
                flags_ &= ~flag::syn_due;
                timers_.retransmits = 0;
                disarm_rtx();
                move_last_rcv(now);
                if constexpr (Counters::enabled) counters_.on_established(now);
                if (flags_ & flag::shutdown) apply(now,
                    (flags_ & flag::orphan) ? tcp_event::close : tcp_event::shutdown);
                break;
            case tcp_state::fin_wait_2:
                if (flags_ & flag::orphan) arm_fin_wait_2_timeout(now);
                else disarm_rtx();
                break;
            case tcp_state::time_wait:
                events_ |= connection_events::entered_time_wait;
                flags_ &= ~(flag::delack | flag::persist | flag::probe_due | flag::recovery | flag::rto_recovery);
                arm_rtx(now + time_wait_duration(cfg_->msl), false);
                release_finished_buffers();
                if constexpr (Counters::enabled) counters_.chrono_end(now, send_chrono::busy, true);
                break;
            case tcp_state::listen:
                // A RST sent a passive open back (RFC 9293 §3.10.7.4): forget the peer.
                if (e == tcp_event::rcv_rst_passive) {
                    const socket_address local = tuple_.local;
                    const seq32 iss = snd_.una;
                    const bool fixed = (flags_ & flag::fixed_remote) != 0;
                    const four_tuple keep_tuple = tuple_;
                    // A new SYN that ended it is answered with a RST, to the
                    // peer it came from.
                    const std::uint32_t pending_reply = flags_ & flag::reply_mask;
                    reset_variables(now, iss, out_.ts_offset);
                    flags_ |= flag::passive | (fixed ? flag::fixed_remote | flag::bound_remote : 0u) | pending_reply;
                    tuple_ = fixed || pending_reply != 0 ? keep_tuple : four_tuple{local, {}};
                }
                break;
            case tcp_state::closed:
                events_ |= connection_events::closed;
                flags_ &= ~(flag::rtx_armed | flag::delack | flag::persist | flag::probe_due | flag::syn_due | flag::ack_now);
                release_finished_buffers();
                if constexpr (Counters::enabled) counters_.chrono_end(now, send_chrono::busy, true);
                break;
            default: break;
        }
    }

    // ---- Arriving segments -------------------------------------------------
    [[nodiscard]] detail::arrival_inputs arrival_in() const noexcept {
        return {state_,    flags_,         cfg_->rfc1337, rcv_.nxt,    advertised_window_now(),
                rcv_.ts_recent, snd_.una, snd_.nxt,      snd_.max_wnd};
    }

    void process(time_point now, const tcp_segment_view& seg, const ip_address& src, const arrival_decision& d) {
        const bool quiet = now - timers_.last_rcv > std::chrono::seconds{65};  // beyond ack_pacing's clock
        move_last_rcv(now);
        timers_.restart_probing();
        [[maybe_unused]] const tcp_state state_before = state_;
        [[maybe_unused]] const seq32 una_before = snd_.una;
        [[maybe_unused]] duration rtt_sample = detail::no_rtt_sample;

        if (state_ == tcp_state::listen) {  // a SYN (the decision admitted nothing else)
            tuple_.remote = {src, seg.src_port()};
            flags_ |= flag::bound_remote;
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
            rtt_sample = detail::take_syn_ack(now, seg, snd_, flags_, out_.ts_offset);
            apply(now, tcp_event::rcv_syn_ack);
        } else if (d.has_event) {
            rtt_sample = detail::take_syn_ack(now, seg, snd_, flags_, out_.ts_offset);
            apply(now, d.event);  // SYN-RECEIVED -> ESTABLISHED
        }

        rcv_.take_timestamp(seg, flags_);

        // Past our SYN: what the counters see of this ACK is measured from here.
        [[maybe_unused]] const seq32 una_after_syn = snd_.una;
        [[maybe_unused]] std::uint32_t sacked_before = 0;
        if constexpr (Counters::enabled) sacked_before = sacked().covered(snd_.una, snd_.nxt);
        const detail::ack_outcome acked = detail::take_ack(now, seg,
                                                           {*cfg_, state_, flags_, events_, snd_, timers_,
                                                            out_.ts_offset, block_.allocated(), send_ring(), sacked(),
                                                            hold_},
                                                           cc_);
        if constexpr (Counters::enabled) {
            if (acked.rtt_sample >= duration::zero()) rtt_sample = acked.rtt_sample;
            count_ack(now, seg, state_before, una_before, una_after_syn, sacked_before, rtt_sample);
        }
        const bool our_fin_acked = acked.fin_acked;
        if (state_ == tcp_state::closed) return;
        [[maybe_unused]] const seq32 rcv_before = rcv_.nxt;
        [[maybe_unused]] const bool receiving = can_receive_data(state_);
        const auto data = detail::take_data_and_fin(now, seg,
                                                    {*cfg_, state_, flags_, events_, rcv_, timers_, pacing_,
                                                     current_rto(), quiet},
                                                    [this]() -> std::optional<detail::receive_storage> {
                                                        if (!ensure_buffers()) return std::nullopt;
                                                        return detail::receive_storage{receive_ring(), ooo()};
                                                    });
        if (data == detail::data_outcome::orphan_data) {
            // The application is gone: new data can never be read. Linux
            // answers with a RST and drops the connection; here that is the
            // ABORT row, whose RST carries SEQ=SND.NXT, ACK=RCV.NXT.
            set_error(std::errc::connection_aborted);
            apply(now, tcp_event::abort);
        }
        if constexpr (Counters::enabled) {
            const std::size_t payload = seg.payload().size();
            const seq32 first = seg.seq() + (seg.flags().syn_set() ? 1u : 0u);
            const bool beyond = payload != 0 && receiving && rcv_before < first &&
                                data != detail::data_outcome::orphan_data;
            const bool news = payload != 0 && (rcv_before != rcv_.nxt || beyond);
            counters_.on_received(now, seq_distance(rcv_before, rcv_.nxt), news, beyond);
        }
        const bool fin_taken = data == detail::data_outcome::fin_taken;
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

    void take_syn(const tcp_segment_view& seg) noexcept {
        detail::negotiate(*cfg_, detail::peer_syn::of(seg), flags_, snd_, rcv_);
    }

    // ---- Timers ------------------------------------------------------------
    void arm_rtx(time_point when, bool persist) noexcept { timers_.arm(when, persist, flags_); }
    void disarm_rtx() noexcept { detail::timer_state::disarm(flags_); }
    void arm_fin_wait_2_timeout(time_point now) noexcept { arm_rtx(now + cfg_->fin_timeout, false); }
    [[nodiscard]] duration current_rto() const noexcept { return timers_.rto(*cfg_, snd_); }
    [[nodiscard]] time_point delack_deadline() const noexcept { return timers_.delack_deadline(); }
    void move_last_rcv(time_point now) noexcept { timers_.move_last_rcv(now, flags_); }

    void update_persist(time_point now) noexcept {
        detail::update_persist(now, *cfg_, snd_, send_in(), timers_, flags_);
    }

    [[nodiscard]] time_point keepalive_deadline() const noexcept {
        const bool idle = snd_.una == snd_.nxt && !has_unsent();
        return timers_.keepalive_deadline(detail::timer_state::keepalive_applies(state_, flags_, idle));
    }

    void run_timers(time_point now);

    void give_up(time_point now, tcp_event e);

    // ---- Sending -------------------------------------------------------------
    [[nodiscard]] detail::send_inputs send_in() const noexcept { return {flags_, state_, sacked(), hold_}; }
    [[nodiscard]] bool has_unsent() const noexcept { return snd_.has_unsent(send_in()); }
    [[nodiscard]] std::uint32_t advertised_window_now() const noexcept { return rcv_.advertised_window(); }

    // After the application reads: announce a window that has opened enough.
    void maybe_announce_window(std::uint32_t before) noexcept {
        if (!is_synchronized(state_) || (flags_ & flag::fin_received)) return;
        if (rcv_.window_worth_announcing(before, receive_capacity(),
            detail::window_limit(*cfg_))) flags_ |= flag::ack_now;
    }

    [[nodiscard]] detail::segment_output output() noexcept {
        return {*cfg_,     tuple_,  state_, flags_, snd_,  rcv_,  timers_, out_, send_ring(),
                sacked(), ooo(), {},      hold_,  pacing_};
    }

    // ---- Counting (only with counters) ---------------------------------------
    // poll_output()'s segment, counted, and the sender's chrono moved on as
    // Linux moves it at the end of tcp_write_xmit: limited by the peer's
    // window while the next segment does not fit in it, by the send buffer
    // when new data emptied the queue the application could not fill.
    std::size_t counted_output(time_point now, std::span<std::uint8_t> out);

    // An accepted segment's ACK, counted: SND.UNA's advance (the SYN's as
    // Linux counts it: on the active side only, since a Linux child is born
    // with it acknowledged), what it delivered, D-SACKs, the RTT sample, the
    // end of an RTO recovery, and the chrono and send space as the send
    // queue drains.
    void count_ack(time_point now, const tcp_segment_view& seg, tcp_state state_before, seq32 una_before,
                   seq32 una_after_syn, std::uint32_t sacked_before, duration rtt_sample);

    void queue_active_reset() noexcept { out_.queue_active_reset(snd_.nxt, rcv_.nxt, flags_); }

    // ---- Buffers -------------------------------------------------------------
    using block = detail::buffer_block<Alloc>;
    [[nodiscard]] std::uint32_t send_capacity() const noexcept { return detail::send_capacity(*cfg_); }
    [[nodiscard]] std::uint32_t receive_capacity() const noexcept { return detail::receive_capacity(*cfg_); }
    [[nodiscard]] std::size_t buffer_block_size() const noexcept { return detail::buffer_block_size(*cfg_); }
    [[nodiscard]] detail::ring_ref send_ring() const noexcept { return block_.send_ring(*cfg_, snd_.buf_start); }
    [[nodiscard]] detail::ring_ref receive_ring() const noexcept { return block_.receive_ring(*cfg_, rcv_.buf_start); }
    [[nodiscard]] detail::range_set sacked() noexcept { return block_.scoreboard(snd_.sacked_count); }
    [[nodiscard]] detail::const_range_set sacked() const noexcept { return block_.scoreboard(snd_.sacked_count); }
    [[nodiscard]] detail::range_set ooo() noexcept { return block_.reassembly(rcv_.ooo_count); }
    [[nodiscard]] detail::const_range_set ooo() const noexcept { return block_.reassembly(rcv_.ooo_count); }
    [[nodiscard]] bool can_queue_data() const noexcept {
        return !(flags_ & flag::shutdown) && (state_ == tcp_state::syn_sent || state_ == tcp_state::syn_received ||
                                              state_ == tcp_state::established || state_ == tcp_state::close_wait);
    }
    bool ensure_buffers() noexcept {
        if (block_.allocated()) return true;
        snd_.buf_start = rcv_.buf_start = 0;
        return block_.allocate(*cfg_);
    }
    void release_buffers() noexcept {
        block_.release(*cfg_);
        snd_.sacked_count = rcv_.ooo_count = 0;  // their ranges lived in the block
    }
    // Nothing more will be sent or arrive; data already received stays
    // readable until the application takes it (the block goes then).
    void release_finished_buffers() noexcept;

    void set_error(std::errc e) noexcept {
        if (error_ == 0) error_ = static_cast<std::uint8_t>(e);
    }

    // ---- Members ---------------------------------------------------------------
    // Components are members marked [[no_unique_address]], so the compiler
    // may place the next one in a component's tail padding; the order keeps
    // the 8-byte fields first and the byte fields last.
    const config* cfg_;
    [[no_unique_address]] block block_;
    [[no_unique_address]] detail::timer_state timers_;
    [[no_unique_address]] detail::send_side snd_;
    [[no_unique_address]] detail::receive_side rcv_;
    [[no_unique_address]] detail::reply_state out_;
    four_tuple tuple_{};
    std::uint32_t flags_ = 0;
    connection_events events_{};
    tcp_state state_ = tcp_state::closed;
    std::uint8_t error_ = 0;
    std::uint8_t hold_ = 0;  // detail::hold bits: TCP_CORK, MSG_MORE, a pending push
    detail::ack_pacing pacing_{};
    [[no_unique_address]] CC cc_;
    [[no_unique_address]] Tracer tracer_;
    [[no_unique_address]] Counters counters_;  // empty unless a bundle asks for counting
};

using connection = basic_connection<>;

}  // namespace tcpcore

#include <tcpcore/engine/connection_calls.hpp>
#include <tcpcore/engine/connection_reports.hpp>
#include <tcpcore/engine/connection_timers.hpp>
