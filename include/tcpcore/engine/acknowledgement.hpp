#pragma once
// An arriving ACK (RFC 9293 §3.10.7.4, fifth step): the SACK scoreboard,
// new data acknowledged (the send buffer, RTT, congestion control, the
// retransmission timer), duplicates and loss detection (RFC 5681, 6582,
// 6675, 8985), the send window, and the persist timer.
//
// It spans the send side and the timers, so it is neither's member: a
// stateless function over ack_parts, a bundle of references made for one
// segment and never stored (no pointer back to the connection is kept).

#include <tcpcore/detail/byte_ring.hpp>
#include <tcpcore/engine/buffer_block.hpp>
#include <tcpcore/engine/control.hpp>
#include <tcpcore/engine/events.hpp>
#include <tcpcore/engine/send.hpp>
#include <tcpcore/engine/timers.hpp>
#include <tcpcore/policies/congestion.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <cstdint>

namespace tcpcore::detail {

struct ack_parts {
    const config& cfg;
    tcp_state state;
    std::uint32_t& flags;
    connection_events& events;
    send_side& snd;
    timer_state& timers;
    std::uint32_t ts_offset;
    bool have_block;  // SACK blocks can name only data in flight, which lives there
    ring_ref send_ring;
    range_set sacked;
    std::uint8_t hold;

    [[nodiscard]] send_inputs send_in() const noexcept { return {flags, state, sacked, hold}; }
};

// The ACK of our SYN, before the state moves on, so that SND.UNA points at
// the first data byte when ESTABLISHED begins. Returns the RTT sample taken
// (negative: none).
inline duration take_syn_ack(time_point now, const tcp_segment_view& seg, send_side& snd, std::uint32_t& flags,
                             std::uint32_t ts_offset) noexcept {
    snd.una = snd.una + 1;
    if (snd.nxt < snd.una) snd.nxt = snd.una;
    snd.rtx_next = snd.una;
    return snd.sample_syn_rtt(now, seg, flags, ts_offset);
}

// What an ACK did that the connection's counters may want.
struct ack_outcome {
    bool fin_acked = false;               // it acknowledged our FIN
    duration rtt_sample = no_rtt_sample;  // negative: none
};

template <congestion_control CC>
duration take_new_ack(time_point now, const tcp_segment_view& seg, seq32 ack, ack_parts& p, CC& cc) {
    const std::uint32_t acked = seq_distance(p.snd.una, ack);
    if (p.snd.release_acked(ack, p.send_in(), p.send_ring)) p.events |= connection_events::writable;
    p.snd.advance_una(ack, p.flags, p.sacked);
    const duration sample =
        p.snd.sample_rtt(now, seg, ack, p.flags, p.timers.retransmits, p.ts_offset, p.timers.first_rtx_ms);
    p.snd.on_ack_congestion(cc, acked, now, p.flags);
    // Progress: the retransmission state starts over (RFC 6298 5.3), and a
    // loss probe not yet sent is moot.
    p.timers.retransmits = 0;
    p.flags &= ~(flag::first_rtx | flag::path_reported | flag::tlp_sent | flag::tlp_probe);
    if (p.snd.una == p.snd.nxt) timer_state::disarm(p.flags);
    else p.timers.arm_retransmission(now, p.cfg, p.snd, p.flags);
    return sample;
}

template <congestion_control CC>
ack_outcome take_ack(time_point now, const tcp_segment_view& seg, ack_parts p, CC& cc) {
    send_side& snd = p.snd;
    const seq32 ack = seg.ack();
    const std::uint32_t window = seg.flags().syn_set() ? seg.window() : std::uint32_t{seg.window()} << snd.ws;
    if ((p.flags & flag::sack) && seg.options().sack_count != 0 && p.have_block) snd.take_sack_blocks(seg, ack, p.sacked);

    ack_outcome out;
    const bool advanced = snd.una < ack;
    if (advanced) {
        out.fin_acked = (p.flags & flag::fin_sent) && ack == snd.nxt;
        out.rtt_sample = take_new_ack(now, seg, ack, p, cc);
    } else if (ack == snd.una && snd.is_duplicate_ack(seg, window)) {
        snd.on_duplicate_ack(cc, now, p.send_in(), p.flags);
    }
    snd.update_window(seg.seq(), window, advanced);
    update_persist(now, p.cfg, snd, p.send_in(), p.timers, p.flags);
    snd.maybe_enter_sack_recovery(cc, now, p.send_in(), p.flags);
    snd.detect_lost_retransmission(p.send_in(), p.flags);
    return out;
}

}  // namespace tcpcore::detail
