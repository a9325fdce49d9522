#pragma once
// The output path: turning what the send and receive sides decided into a
// SYN, a data segment or a bare ACK, and the bookkeeping sending it implies
// (RTT timing, SND.NXT, the ACK no longer owed, the retransmission timer or
// loss probe behind new data).
//
// segment_output is a short-lived bundle of references to the parts of the
// connection one segment touches, made for one poll_output() call and never
// stored: the components keep no pointer back to the connection, and the
// connection keeps none to this.

#include <tcpcore/engine/buffer_block.hpp>
#include <tcpcore/engine/control.hpp>
#include <tcpcore/engine/counters.hpp>
#include <tcpcore/engine/receive.hpp>
#include <tcpcore/engine/segment_writer.hpp>
#include <tcpcore/engine/send.hpp>
#include <tcpcore/engine/timers.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpcore::detail {

// Whether poll_output() has something to write now.
[[nodiscard]] inline bool output_pending(const send_side& snd, const send_inputs& in) noexcept {
    if (reply_state::reply(in.flags) != flag::reply_none) return true;
    switch (in.state) {
        case tcp_state::closed:
        case tcp_state::listen: return false;
        case tcp_state::syn_sent: return (in.flags & flag::syn_due) != 0;
        case tcp_state::syn_received: return (in.flags & (flag::syn_due | flag::ack_now)) != 0;
        case tcp_state::time_wait: return (in.flags & flag::ack_now) != 0;
        default: break;
    }
    if (in.flags & (flag::ack_now | flag::probe_due)) return true;
    const std::uint32_t room = 0xffff;
    return snd.next_retransmission(room, in).length != 0 || snd.next_new_data(room, in).length != 0;
}

struct segment_output {
    const config& cfg;
    const four_tuple& tuple;
    tcp_state state;
    std::uint32_t& flags;
    send_side& snd;
    receive_side& rcv;
    timer_state& timers;
    const reply_state& replies;
    ring_ref send_ring;
    const_range_set sacked, ooo;
    sent_segment sent;  // what next() wrote, for the connection's counters
    std::uint8_t hold;
    ack_pacing& pacing;

    [[nodiscard]] send_inputs send_in() const noexcept { return {flags, state, sacked, hold}; }

    // The next segment, if any: the SYN or SYN,ACK and ACKs while the
    // handshake runs and in TIME-WAIT; then retransmissions first, new data,
    // a probe, a bare ACK. (poll_output() has run the timers and written any
    // queued RST.)
    std::size_t next(time_point now, std::span<std::uint8_t> out) noexcept {
        switch (state) {
            case tcp_state::closed:
            case tcp_state::listen: return 0;
            case tcp_state::syn_sent: return (flags & flag::syn_due) ? syn(now, out) : 0;
            case tcp_state::syn_received:
                if (flags & flag::syn_due) return syn(now, out);
                return (flags & flag::ack_now) ? bare_ack(now, out, snd.nxt) : 0;
            case tcp_state::time_wait: return (flags & flag::ack_now) ? bare_ack(now, out, snd.nxt) : 0;
            default: break;
        }
        update_persist(now, cfg, snd, send_in(), timers, flags);
        const std::uint32_t payload_room = static_cast<std::uint32_t>(out.size() - tcp_max_header_length);
        if (const auto r = snd.next_retransmission(payload_room, send_in()); r.length != 0)
            return data(now, out, r.start, r.length, true);
        if (const auto n = snd.next_new_data(payload_room, send_in()); n.length != 0)
            return data(now, out, n.start, n.length, false);
        if (flags & flag::probe_due) {
            flags &= ~flag::probe_due;
            // Linux tcp_write_wakeup: new data the window allows goes, held
            // back or not (a cork's probe timer); else keepalive and
            // zero-window probes alike are an ACK one below SND.UNA with no
            // data, which any stack answers.
            send_inputs pushed = send_in();
            pushed.hold = hold::push;
            if (const auto n = snd.next_new_data(payload_room, pushed); n.length != 0)
                return data(now, out, n.start, n.length, false);
            return bare_ack(now, out, snd.una - 1);
        }
        if (flags & flag::ack_now) return bare_ack(now, out, snd.nxt);
        return 0;
    }

    [[nodiscard]] tcp_options options(time_point now, bool syn) const noexcept {
        tcp_options o;
        fill_options(o, syn, {cfg, state, flags, rcv.ws, replies.ts_value(now), rcv.ts_recent, ooo});
        return o;
    }

    // One segment out; an ACK in it is the one owed.
    std::size_t write(std::span<std::uint8_t> out, seq32 seq, std::uint8_t fl, const tcp_options& o,
                      std::uint32_t payload_offset, std::uint32_t payload_len, std::uint16_t window) noexcept {
        const bool ack = (fl & tcp_flags::ack) != 0;
        const std::size_t n = write_segment(
            out, tuple, {seq, ack ? rcv.nxt : seq32{}, fl, window, payload_offset, payload_len}, o, send_ring);
        if (n != 0 && ack) {
            if (flags & (flag::ack_now | flag::delack)) pacing.ack_sent();
            rcv.last_ack_sent = rcv.nxt;
            flags &= ~(flag::ack_now | flag::delack);
        }
        return n;
    }

    std::size_t syn(time_point now, std::span<std::uint8_t> out) noexcept {
        const bool synack = state == tcp_state::syn_received;
        const tcp_options o = options(now, true);
        const std::uint16_t window = static_cast<std::uint16_t>(std::min<std::uint32_t>(window_limit(cfg), 0xffff));
        // A SYN's window is never scaled (RFC 7323 §2.2), so a SYN,ACK sent
        // again after a scaled ACK may offer a byte or so less than that ACK
        // did; what was offered stays offered.
        if (synack) rcv.adv = seq_max(rcv.adv, rcv.nxt + window);
        flags &= ~flag::syn_due;
        if (timers.retransmits == 0) snd.start_rtt_timing(snd.una + 1, now, flags);
        sent = {0, true, false, false, snd.nxt != snd.una};  // sent before: SND.NXT counts it
        if (snd.nxt == snd.una) snd.nxt = snd.una + 1;
        const std::uint8_t fl = synack ? (tcp_flags::syn | tcp_flags::ack) : tcp_flags::syn;
        return write(out, snd.una, fl, o, 0, 0, window);
    }

    // [s, s + seq_len) from the send buffer, a FIN as its last number when
    // the buffer ends before it.
    std::size_t data(time_point now, std::span<std::uint8_t> out, seq32 s, std::uint32_t seq_len, bool rtx) noexcept {
        const seq32 end = snd.data_end(send_in());
        const std::uint32_t bytes = s < end ? std::min<std::uint32_t>(seq_len, seq_distance(s, end)) : 0;
        const bool fin = seq_len > bytes;  // the extra sequence number is the FIN
        const tcp_options o = options(now, false);
        std::uint8_t fl = tcp_flags::ack;
        if (fin) fl |= tcp_flags::fin;
        if (bytes != 0 && s + bytes == end) fl |= tcp_flags::psh;  // the end of what was written
        const std::uint32_t offset = seq_distance(snd.data_start(send_in()), s);
        const std::uint16_t window = rcv.take_window_field(receive_capacity(cfg), window_limit(cfg));
        const std::size_t n = write(out, s, fl, o, offset, bytes, window);
        // Data sent soon after data arrived: an interactive exchange, whose
        // ACKs wait to ride on the answers (Linux tcp_event_data_sent).
        if (bytes != 0 && cfg.quick_ack && (pacing.bits & ack_pacing::started) &&
            pacing.since_data(now) < cfg.delayed_ack_timeout)
            pacing.set_interactive(true);
        sent = {bytes, false, fin, false, rtx};
        snd.on_sent(now, s, seq_len, rtx, timers.retransmits, flags);
        if (fin) flags |= flag::fin_sent;
        if (flags & flag::tlp_probe) {
            flags &= ~flag::tlp_probe;  // one probe; the RTO is already armed behind it
        } else if (!(flags & flag::rtx_armed) || (flags & flag::persist)) {
            timers.arm_retransmission(now, cfg, snd, flags);
        } else if (!rtx) {
            timers.reschedule_loss_probe(now, cfg, snd, flags);
        }
        return n;
    }

    std::size_t bare_ack(time_point now, std::span<std::uint8_t> out, seq32 seq) noexcept {
        const tcp_options o = options(now, false);
        const std::uint16_t window = rcv.take_window_field(receive_capacity(cfg), window_limit(cfg));
        sent = {};
        return write(out, seq, tcp_flags::ack, o, 0, 0, window);
    }
};

}  // namespace tcpcore::detail
