#pragma once
// What a connection reports, defined here and declared in connection.hpp:
// info(), recovery() and sequence(), and the counting a counters_policy
// bundle asks for (each segment sent, each ACK taken), as Linux keeps the
// figures struct tcp_info shows.

#include <tcpcore/engine/connection.hpp>

namespace tcpcore {

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
connection_info basic_connection<CC, Alloc, Tracer, Counters>::info() const noexcept {
    return {state_,           duration{snd_.srtt_us},     duration{snd_.rttvar_us}, current_rto(),
            snd_.cwnd,        snd_.ssthresh,              snd_.mss,                 snd_.wnd,
            advertised_window_now(), snd_.ws,             rcv_.ws,                  (flags_ & flag::sack) != 0,
            (flags_ & flag::ts) != 0, timers_.retransmits, timers_.probes_out,      snd_.flight_size(),
            snd_.buf_len,     rcv_.buf_len,               (flags_ & flag::ws) != 0};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
recovery_info basic_connection<CC, Alloc, Tracer, Counters>::recovery() const noexcept {
    const detail::send_inputs in = send_in();
    const detail::const_range_set board = sacked();
    recovery_info r{};
    r.sacked = board.covered(snd_.una, snd_.nxt);
    const bool fast = (flags_ & flag::recovery) != 0, rto = (flags_ & flag::rto_recovery) != 0;
    r.phase = rto ? loss_phase::loss
            : fast ? loss_phase::recovery
            : (snd_.dupacks != 0 || r.sacked != 0) ? loss_phase::disorder
            : loss_phase::open;
    if (fast || rto) {
        const seq32 lost_end = snd_.lost_end(in);
        if (snd_.una < lost_end) r.lost = seq_distance(snd_.una, lost_end) - board.covered(snd_.una, lost_end);
        if (snd_.una < snd_.rtx_next)
            r.retransmitted = seq_distance(snd_.una, snd_.rtx_next) - board.covered(snd_.una, snd_.rtx_next);
    }
    const seq32 end = snd_.data_end(in);
    r.not_sent = snd_.nxt < end ? seq_distance(snd_.nxt, end) : 0;
    r.dupacks = snd_.dupacks;
    r.timeouts = (flags_ & flag::persist) ? 0 : timers_.retransmits;
    r.backoff = timers_.retransmits;
    r.persist = (flags_ & flag::persist) != 0;
    return r;
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
sequence_variables basic_connection<CC, Alloc, Tracer, Counters>::sequence() const noexcept {
    return {snd_.una,       snd_.nxt,         snd_.wl1,     snd_.wnd,        snd_.max_wnd,
            rcv_.nxt,       advertised_window_now(),        rcv_.adv,        rcv_.last_ack_sent,
            snd_.cwnd,      snd_.ssthresh,    snd_.mss,     rcv_.mss,        snd_.ws,
            rcv_.ws,        rcv_.ts_recent,   out_.ts_offset, snd_.buf_len,  rcv_.buf_len,
            (flags_ & flag::fin_received) != 0};
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
std::size_t basic_connection<CC, Alloc, Tracer, Counters>::counted_output(time_point now,
                                                                          std::span<std::uint8_t> out) {
    detail::segment_output o = output();
    const std::size_t n = o.next(now, out);
    if (n != 0) counters_.on_segment_sent(now, o.sent);
    if (!is_synchronized(state_) || state_ == tcp_state::time_wait) return n;
    const detail::send_inputs in = send_in();
    const seq32 end = snd_.data_end(in);
    const std::uint32_t unsent = snd_.nxt < end ? seq_distance(snd_.nxt, end) : 0;
    if (unsent != 0 && snd_.una + snd_.wnd < snd_.nxt + std::min<std::uint32_t>(unsent, snd_.mss)) {
        counters_.chrono_begin(now, send_chrono::rwnd_limited);
    } else {
        counters_.chrono_end(now, send_chrono::rwnd_limited, snd_.una == snd_.nxt && !has_unsent());
        if (n != 0 && o.sent.payload != 0 && !o.sent.retransmission && unsent == 0 &&
            (state_ == tcp_state::established || state_ == tcp_state::close_wait))
            counters_.on_queue_drained(now);
    }
    return n;
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
void basic_connection<CC, Alloc, Tracer, Counters>::count_ack(time_point now, const tcp_segment_view& seg,
                                                              tcp_state state_before, seq32 una_before,
                                                              seq32 una_after_syn, std::uint32_t sacked_before,
                                                              duration rtt_sample) {
    if (!seg.flags().ack_set() || seg.ack() < una_before) return;
    counters_.on_ack_received(now);
    std::uint32_t acked = seq_distance(una_before, snd_.una);
    if (state_before == tcp_state::syn_received && (flags_ & flag::passive) && una_before < una_after_syn)
        acked -= 1;
    const std::uint64_t now_covered =
        std::uint64_t{seq_distance(una_after_syn, snd_.una)} + sacked().covered(snd_.una, snd_.nxt);
    const std::uint32_t delivered =
        now_covered > sacked_before ? static_cast<std::uint32_t>(now_covered - sacked_before) : 0u;
    counters_.on_acknowledged(acked, delivered, snd_.mss);
    if ((flags_ & flag::sack) && seg.options().sack_count != 0) {
        // RFC 2883 §4: a first block below the cumulative ACK, or inside
        // the second, reports a duplicate. As Linux, one longer than the
        // largest window is not believed.
        const auto blocks = seg.options().sack_blocks();
        const sack_block& b = blocks[0];
        const bool dsack = b.left < seg.ack() ||
                           (blocks.size() > 1 && !(b.left < blocks[1].left) && !(blocks[1].right < b.right));
        const std::uint32_t len = b.left < b.right ? seq_distance(b.left, b.right) : 0;
        if (dsack && len != 0 && len <= snd_.max_wnd)
            counters_.on_dsack(len > snd_.mss && snd_.mss != 0 ? (len + snd_.mss - 1u) / snd_.mss : 1u);
    }
    counters_.on_rtt_sample(now, rtt_sample);
    if (is_synchronized(state_) && !(flags_ & flag::rto_recovery)) counters_.on_rto_recovered(now);
    const bool nothing_queued = snd_.una == snd_.nxt && !has_unsent();
    if (snd_.una == snd_.nxt) counters_.chrono_end(now, send_chrono::busy, nothing_queued);
    if (acked != 0) counters_.on_space_freed(now, send_capacity() - snd_.buf_len, snd_.buf_len, nothing_queued);
}

}  // namespace tcpcore
