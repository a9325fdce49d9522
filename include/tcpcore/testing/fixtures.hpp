#pragma once
// A fixture for each state: builds a connection directly in any state of
// the diagram (make_state), field by field, instead of driving a handshake
// and a close through it; and a snapshot of everything that decides the
// engine's future, so tests/engine/fixtures_test.cpp can prove each fixture
// equal to the state reached the real way. This is the connection's one
// friend: tests, fuzzers and property checks outside the project use it (and
// the public sequence() view) instead of reaching into the engine. No
// Catch2, no iostreams: it must build wherever the engine builds.

#include <tcpcore/engine/connection.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace tcpcore::testing {
// The tests' only door into the engine's private state.
struct fixtures {
    using flag = detail::flag;

    // The timers the public face does not show, read only: for fuzzers that
    // check them against the configuration.
    struct timer_view {
        bool delack_armed;
        time_point delack_deadline;  // when armed
        time_point last_rcv;         // the last segment accepted
    };
    template <class C>
    static timer_view timers(const C& c) {
        const bool armed = (c.flags_ & flag::delack) != 0;
        return {armed, armed ? c.timers_.delack_deadline() : time_point{}, c.timers_.last_rcv};
    }

    template <class C>
    static void set_state(C& c, tcp_state s) {
        c.state_ = s;
    }
    // SACK as if both SYNs had offered it.
    template <class C>
    static void enable_sack(C& c) {
        c.flags_ |= flag::sack;
    }
    // A peer MSS other than the fixtures' 1460 (with the initial window it implies).
    template <class C>
    static void set_send_mss(C& c, std::uint16_t mss) {
        c.snd_.mss = mss;
        c.snd_.cwnd = c.cfg_->initial_cwnd * std::uint32_t{mss};
    }
    // Everything that decides the engine's future behaviour, for comparing a
    // fixture built directly with a state reached the real way.
    struct snapshot {
        tcp_state state;
        four_tuple tuple;
        seq32 snd_una, snd_nxt, snd_wl1, rtx_next, recover, rcv_nxt, rcv_adv, last_ack_sent, rtt_seq;
        std::uint32_t snd_wnd, max_snd_wnd, cwnd, ssthresh, srtt_us, rttvar_us;
        std::uint16_t snd_mss, rcv_mss;
        std::uint8_t snd_ws, rcv_ws;
        std::uint32_t flags;
        time_point rtx_deadline, last_rcv;
        std::uint32_t sbuf_len, rbuf_len;
        std::uint32_t ts_recent;
        std::uint8_t retransmits, probes_out, error;

        friend bool operator==(const snapshot&, const snapshot&) = default;
    };
    template <class C>
    static snapshot snap(const C& c) {
        const bool armed = (c.flags_ & flag::rtx_armed) != 0;
        const bool timing = (c.flags_ & flag::rtt_timing) != 0;
        return {c.state_,
                c.tuple_,
                c.snd_.una,
                c.snd_.nxt,
                c.snd_.wl1,
                c.snd_.rtx_next,
                c.snd_.recover,
                c.rcv_.nxt,
                c.rcv_.adv,
                c.rcv_.last_ack_sent,
                timing ? c.snd_.rtt_seq : seq32{},
                c.snd_.wnd,
                c.snd_.max_wnd,
                c.snd_.cwnd,
                c.snd_.ssthresh,
                c.snd_.srtt_us,
                c.snd_.rttvar_us,
                c.snd_.mss,
                c.rcv_.mss,
                c.snd_.ws,
                c.rcv_.ws,
                c.flags_,
                armed ? c.timers_.rtx_deadline : time_point{},
                c.timers_.last_rcv,
                c.snd_.buf_len,
                c.rcv_.buf_len,
                c.rcv_.ts_recent,
                c.timers_.retransmits,
                c.timers_.probes_out,
                c.error_};
    }

    // Direct construction, field by field. Each builds what the real way
    // leaves behind (tests/engine/fixtures_test.cpp proves it for every
    // state): a passive open whose SYN arrives at -rtt and is answered at
    // once, the SYN,ACK acked at 0 ms (the one RTT sample), no options but
    // MSS 1460, windows 64000. Later steps come 1 ms apart.
    template <class C>
    static void make_state(C& c, tcp_state s, const four_tuple& tuple, seq32 iss, seq32 irs, duration rtt) {
        using std::chrono::milliseconds;
        const time_point t0 = time_point{} - rtt;
        const time_point t1{};
        c.reset_variables(t0, iss, 0);
        c.tuple_ = tuple;
        c.flags_ |= flag::passive | flag::bound_remote;
        if (s == tcp_state::listen) {
            c.tuple_.remote = {};
            c.flags_ &= ~flag::bound_remote;
            c.state_ = s;
            return;
        }
        c.snd_.nxt = iss + 1;
        c.rcv_.nxt = c.rcv_.last_ack_sent = irs + 1;
        c.rcv_.adv = irs + 1 + std::min<std::uint32_t>(detail::window_limit(*c.cfg_), 0xffff);
        c.snd_.wl1 = irs;
        c.snd_.wnd = c.snd_.max_wnd = 64000;
        c.snd_.mss = 1460;
        c.rcv_.mss = 536;
        c.snd_.cwnd = c.cfg_->initial_cwnd * 1460u;
        c.state_ = tcp_state::syn_received;
        c.flags_ |= flag::rtt_timing;
        c.snd_.rtt_seq = iss + 1;
        c.snd_.rtt_start_us = detail::us32(t0);
        c.timers_.rtx_deadline = t0 + c.cfg_->rto_initial;
        c.flags_ |= flag::rtx_armed;
        if (s == tcp_state::syn_received) return;

        // The ACK of our SYN,ACK at t1.
        c.snd_.una = c.snd_.rtx_next = iss + 1;
        c.snd_.wl1 = irs + 1;
        c.snd_.take_rtt_sample(rtt);
        c.flags_ &= ~(flag::rtt_timing | flag::rtx_armed);
        c.timers_.last_rcv = t1;
        c.state_ = tcp_state::established;
        if (s == tcp_state::established) return;

        const time_point t2 = t1 + milliseconds{1};  // later steps, 1 ms apart
        const time_point t3 = t2 + milliseconds{1};
        auto our_fin = [&](time_point at) {
            c.flags_ |= flag::shutdown | flag::fin_sent;
            c.snd_.nxt = c.snd_.una + 1;
            c.timers_.rtx_deadline = at + c.current_rto();
            c.flags_ |= flag::rtx_armed | flag::rtt_timing;  // the FIN is timed like data
            c.snd_.rtt_seq = c.snd_.nxt;
            c.snd_.rtt_start_us = detail::us32(at);
        };
        // The ACK of our FIN sent at t2, arriving at t3: an RTT sample and one
        // byte of slow start.
        auto fin_acked = [&] {
            c.snd_.una = c.snd_.rtx_next = c.snd_.nxt;
            c.snd_.take_rtt_sample(t3 - t2);
            c.snd_.cwnd += 1;
            c.flags_ &= ~(flag::rtx_armed | flag::rtt_timing);
        };
        auto their_fin = [&](time_point at) {
            c.rcv_.nxt = c.rcv_.nxt + 1;
            c.rcv_.last_ack_sent = c.rcv_.nxt;
            c.flags_ |= flag::fin_received;
            c.timers_.last_rcv = at;
        };
        switch (s) {
            case tcp_state::fin_wait_1:  // shutdown at t2
                our_fin(t2);
                break;
            case tcp_state::fin_wait_2:  // shutdown at t2, its ACK at t3
                our_fin(t2);
                fin_acked();
                c.timers_.last_rcv = t3;
                break;
            case tcp_state::close_wait:  // their FIN at t2
                their_fin(t2);
                c.snd_.wl1 = irs + 1;
                break;
            case tcp_state::closing:  // shutdown at t2, their FIN (not acking ours) at t3
                our_fin(t2);
                their_fin(t3);
                break;
            case tcp_state::last_ack:  // their FIN at t2, our close at t3
                their_fin(t2);
                our_fin(t3);
                c.flags_ |= flag::orphan;
                break;
            case tcp_state::time_wait:  // shutdown at t2, their FIN acking ours at t3
                our_fin(t2);
                fin_acked();
                their_fin(t3);
                c.timers_.rtx_deadline = t3 + time_wait_duration(c.cfg_->msl);
                c.flags_ |= flag::rtx_armed;
                break;
            default: break;
        }
        c.state_ = s;
    }
};
}  // namespace tcpcore::testing
