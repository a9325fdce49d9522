#pragma once
// The send side (gVisor's snd.go, sack_recovery.go and rack.go together):
// the send buffer's position, the send sequence variables, the windows and
// RTT estimate, fast recovery (RFC 5681 / 6582 / 6675) with its SACK
// scoreboard and pipe, and what may go out next.
//
// It is a plain member of the connection, not a base and not an object with a
// pointer back: what it reads of the rest of the connection (the control
// word, the state, the scoreboard's storage in the buffer block) comes in as
// parameters (send_inputs), so it costs exactly its fields. Timers,
// events and state changes an ACK causes are left to the connection, which
// calls these in the order RFC 9293 §3.10.7.4 gives.

#include <tcpcore/detail/byte_ring.hpp>
#include <tcpcore/engine/buffer_block.hpp>
#include <tcpcore/engine/control.hpp>
#include <tcpcore/policies/congestion.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/rules/time.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <algorithm>
#include <cstdint>
#include <span>

namespace tcpcore::detail {

// What the send side reads of the rest of the connection.
struct send_inputs {
    std::uint32_t flags;
    tcp_state state;
    const_range_set sacked;
    std::uint8_t hold = 0;  // hold:: bits
};

// A run of sequence numbers to send.
struct span_to_send {
    seq32 start{};
    std::uint32_t length = 0;  // sequence numbers, a FIN included
};

// What the RTT sampling functions return when they took no sample.
inline constexpr duration no_rtt_sample{-1};

struct send_side {
    seq32 una{}, nxt{}, wl1{}, rtx_next{}, recover{}, rtx_fence{}, rtt_seq{};
    std::uint32_t wnd = 0, max_wnd = 0, cwnd = 0, ssthresh = 0;
    std::uint32_t srtt_us = 0, rttvar_us = 0, rtt_start_us = 0;
    std::uint32_t buf_start = 0, buf_len = 0;  // the send ring's first byte and fill
    std::uint16_t mss = 0;
    std::uint8_t ws = 0, dupacks = 0;
    std::uint8_t sacked_count = 0;  // the scoreboard's ranges (they live in the buffer block)

    // A new open: everything from the ISS, one MSS (until the SYNs agree
    // another) and the initial window (RFC 6928), no RTT yet. rtx_fence and
    // rtt_start_us are read only under their flags, which start cleared.
    void start_over(seq32 iss, std::uint16_t initial_mss, std::uint32_t initial_cwnd_segments) noexcept {
        una = nxt = wl1 = rtx_next = recover = iss;
        rtt_seq = seq32{};
        buf_start = buf_len = 0;
        wnd = max_wnd = 0;
        srtt_us = rttvar_us = 0;
        mss = initial_mss;
        cwnd = initial_cwnd_segments * std::uint32_t{mss};
        ssthresh = 0xffffffffu;
        ws = 0;
        dupacks = 0;
        sacked_count = 0;
    }

    // The application's bytes into the send buffer, as many as fit; returns
    // how many.
    std::uint32_t queue(std::span<const std::uint8_t> bytes, const ring_ref& ring) noexcept {
        const std::uint32_t space = ring.capacity - buf_len;
        const std::uint32_t n = bytes.size() < space ? static_cast<std::uint32_t>(bytes.size()) : space;
        ring.write(buf_len, bytes.first(n));
        buf_len += n;
        return n;
    }

    // ---- RTT estimation (RFC 6298) ------------------------------------------
    void take_rtt_sample(duration r) noexcept {
        if (r < duration::zero()) return;
        const auto us = static_cast<std::uint32_t>(std::min<std::int64_t>(r.count(), 0x7fffffff));
        if (srtt_us == 0) {
            srtt_us = us ? us : 1;  // RFC 6298 (2.2)
            rttvar_us = us / 2;
        } else {
            // RFC 6298 (2.3), alpha 1/8, beta 1/4.
            const std::uint32_t diff = us > srtt_us ? us - srtt_us : srtt_us - us;
            rttvar_us = (3u * rttvar_us + diff) / 4u;
            srtt_us = (7u * srtt_us + us) / 8u;
            if (srtt_us == 0) srtt_us = 1;
        }
    }
    void start_rtt_timing(seq32 ends_at, time_point now, std::uint32_t& flags) noexcept {
        rtt_seq = ends_at;
        rtt_start_us = us32(now);
        flags |= flag::rtt_timing;
    }
    [[nodiscard]] duration timed_rtt(time_point now) const noexcept {
        return duration{static_cast<std::int32_t>(us32(now) - rtt_start_us)};
    }

    // The ACK of our SYN: the handshake gives the first RTT sample (Linux
    // takes it too), from our own timing or else the echoed timestamp.
    // Returns the sample taken (negative: none).
    duration sample_syn_rtt(time_point now, const tcp_segment_view& seg, std::uint32_t& flags,
                            std::uint32_t ts_offset) noexcept {
        duration sample = no_rtt_sample;
        if ((flags & flag::rtt_timing) && rtt_seq <= seg.ack()) {
            sample = timed_rtt(now);
        } else if ((flags & flag::ts) && seg.options().timestamps && seg.options().timestamps->echo_reply != 0) {
            const auto ms = static_cast<std::int32_t>(ms32(now) - (seg.options().timestamps->echo_reply - ts_offset));
            if (ms >= 0) sample = std::chrono::milliseconds{ms};
        }
        take_rtt_sample(sample);
        flags &= ~flag::rtt_timing;
        return sample;
    }

    // RTT from a new ACK: our own microsecond timing when the timed segment
    // was never retransmitted (Karn), else the echoed timestamp (RFC 7323 §4).
    // Returns the sample taken (negative: none).
    duration sample_rtt(time_point now, const tcp_segment_view& seg, seq32 ack, std::uint32_t& flags,
                        std::uint8_t retransmits, std::uint32_t ts_offset, std::uint32_t first_rtx_ms) noexcept {
        if ((flags & flag::rtt_timing) && rtt_seq <= ack) {
            flags &= ~flag::rtt_timing;
            const duration sample = timed_rtt(now);
            take_rtt_sample(sample);
            return sample;
        } else if ((flags & flag::ts) && seg.options().timestamps && seg.options().timestamps->echo_reply != 0 &&
                   retransmits != 0) {
            const std::uint32_t sent_ms = seg.options().timestamps->echo_reply - ts_offset;
            const auto ms = static_cast<std::int32_t>(ms32(now) - sent_ms);
            // An echo older than our first retransmission is ambiguous, as in
            // Karn's rule: the peer echoes TS.Recent, which a duplicate (our
            // retransmission of data whose ACK was lost) does not update, so
            // the sample would span the whole timeout and inflate the RTO
            // for every loss after it.
            const bool echo_predates_retransmission =
                (flags & flag::first_rtx) && static_cast<std::int32_t>(sent_ms - first_rtx_ms) < 0;
            if (ms >= 0 && !echo_predates_retransmission) {
                take_rtt_sample(std::chrono::milliseconds{ms});
                return std::chrono::milliseconds{ms};
            }
        }
        return no_rtt_sample;
    }

    // ---- The send buffer in sequence space -----------------------------------
    // The sequence number of the first byte in the send buffer: SND.UNA, past
    // an unacknowledged SYN, and before an acknowledged FIN (the FIN's number
    // then is SND.UNA - 1 = the end of the data).
    [[nodiscard]] seq32 data_start(const send_inputs& in) const noexcept {
        const bool syn_unacked = in.state == tcp_state::syn_sent || in.state == tcp_state::syn_received;
        const bool fin_acked = (in.flags & flag::fin_sent) && una == nxt;
        return una + (syn_unacked ? 1u : 0u) - (fin_acked ? 1u : 0u);
    }
    [[nodiscard]] seq32 data_end(const send_inputs& in) const noexcept { return data_start(in) + buf_len; }
    [[nodiscard]] static bool fin_wanted(std::uint32_t flags) noexcept { return (flags & flag::shutdown) != 0; }
    // The sequence number just past everything we will ever send.
    [[nodiscard]] seq32 send_limit(const send_inputs& in) const noexcept {
        return data_end(in) + (fin_wanted(in.flags) ? 1u : 0u);
    }
    [[nodiscard]] bool has_unsent(const send_inputs& in) const noexcept { return nxt < send_limit(in); }
    [[nodiscard]] std::uint32_t flight_size() const noexcept { return seq_distance(una, nxt); }

    // ---- Loss recovery -------------------------------------------------------
    // Where the bytes deemed lost end (everything unSACKed before is to be
    // sent again): after a timeout, what was outstanding then; in fast
    // recovery, the highest SACKed byte, or one segment without SACK.
    [[nodiscard]] seq32 lost_end(const send_inputs& in) const noexcept {
        if (in.flags & flag::rto_recovery) return recover;
        const seq32 one = rtx_next == una ? seq_min(una + mss, nxt) : rtx_next;
        return seq_max(in.sacked.highest_right(una), one);
    }

    // RFC 6675's pipe: what is believed to be in the network.
    [[nodiscard]] std::uint32_t pipe(const send_inputs& in) const noexcept {
        const std::uint32_t flight = flight_size();
        const std::uint32_t sacked_bytes = in.sacked.covered(una, nxt);
        std::uint32_t lost = 0;
        if (in.flags & (flag::recovery | flag::rto_recovery)) {
            const seq32 from = seq_max(rtx_next, una), to = lost_end(in);
            if (from < to) lost = seq_distance(from, to) - in.sacked.covered(from, to);
        }
        const std::uint32_t out = sacked_bytes + lost;
        return flight > out ? flight - out : 0;
    }

    [[nodiscard]] bool congestion_allows(std::uint32_t length, const send_inputs& in) const noexcept {
        const std::uint32_t p = pipe(in);
        return p == 0 || std::uint64_t{p} + length <= cwnd;
    }

    // Three duplicates (RFC 5681), fewer when fewer than four segments are
    // out and nothing new can follow them (Early Retransmit, RFC 5827): a
    // tail loss would otherwise wait for the RTO.
    [[nodiscard]] std::uint32_t duplicate_threshold(const send_inputs& in) const noexcept {
        const std::uint32_t segments = (flight_size() + mss - 1) / mss;
        // One segment out: no later segment can raise a duplicate ACK for
        // it, so one that arrives says nothing about loss.
        if (segments >= 4 || segments < 2 || next_new_data(0xffff, in).length != 0) return 3;
        return segments - 1;
    }

    [[nodiscard]] bool is_duplicate_ack(const tcp_segment_view& seg, std::uint32_t window) const noexcept {
        // RFC 5681 §2 (with SACK blocks counting as news, as RFC 6675 does).
        return nxt != una && seg.payload().empty() && !seg.flags().has_any(tcp_flags::syn | tcp_flags::fin) &&
               (window == wnd || seg.options().sack_count != 0);
    }

    // The SACK blocks of an ACK onto the scoreboard. (Blocks can name only
    // data in flight, which lives in the buffer block; a FIN alone in flight
    // has no block, and no scoreboard.) As Linux (tcp_is_sackblock_valid), a
    // block must start past the cumulative ACK: one at or below it is a
    // D-SACK (RFC 2883) or nonsense, and says nothing about what is missing.
    void take_sack_blocks(const tcp_segment_view& seg, seq32 ack, range_set scoreboard) const noexcept {
        const seq32 cumulative = seq_max(una, ack);
        for (const sack_block& b : seg.options().sack_blocks())
            if (cumulative < b.left && b.left < b.right && b.right <= nxt) scoreboard.add_evicting(b.left, b.right);
    }

    // Window update (Linux tcp_may_update_window).
    void update_window(seq32 seq, std::uint32_t window, bool advanced) noexcept {
        if (advanced || wl1 < seq || (seq == wl1 && (window > wnd || window == 0))) {
            wnd = window;
            wl1 = seq;
            if (window > max_wnd) max_wnd = window;
        }
    }

    // Acknowledged data leaves the send buffer (the SYN and FIN hold no
    // buffer bytes). Returns whether any did.
    bool release_acked(seq32 ack, const send_inputs& in, const ring_ref& ring) noexcept {
        const seq32 start = data_start(in);
        const seq32 end = data_end(in);
        if (!(start < ack)) return false;
        const std::uint32_t bytes = seq_distance(start, seq_min(ack, end));
        if (bytes == 0) return false;
        buf_start = ring.index(bytes);
        buf_len -= bytes;
        return true;
    }

    // SND.UNA moves to `ack`. A new head that was retransmitted already is
    // watched from here (its retransmission went out before anything sent
    // from now on).
    void advance_una(seq32 ack, std::uint32_t& flags, range_set scoreboard) noexcept {
        una = ack;
        if (rtx_next < una) rtx_next = una;
        scoreboard.trim_below(una);
        flags &= ~flag::rtx_head;
        if (una < rtx_next) {
            rtx_fence = nxt;
            flags |= flag::rtx_fence;
        } else {
            flags &= ~flag::rtx_fence;
        }
    }

    // Congestion control and recovery for `acked` new bytes.
    template <congestion_control CC>
    void on_ack_congestion(CC& cc, std::uint32_t acked, time_point now, std::uint32_t& flags) {
        cc_window w{cwnd, ssthresh, mss};
        if (flags & (flag::recovery | flag::rto_recovery)) {
            if (!(una < recover)) {
                // Full ACK: recovery is over (RFC 6582 §3.2 step 3).
                if (flags & flag::recovery) w.cwnd = std::min(w.ssthresh, std::max(flight_size(), std::uint32_t{mss}) + mss);
                flags &= ~(flag::recovery | flag::rto_recovery);
            } else if (flags & flag::recovery) {
                if (!(flags & flag::sack)) {
                    // Partial ACK (RFC 6582 step 4): retransmit the next hole,
                    // deflate by what was acked, add back one segment.
                    rtx_next = una;
                    w.cwnd = (w.cwnd > acked ? w.cwnd - acked : 0) + (acked >= mss ? mss : 0);
                    if (w.cwnd < mss) w.cwnd = mss;
                }
            } else {
                cc.on_ack(w, acked, now, duration{srtt_us});  // slow start after a timeout
            }
        } else {
            cc.on_ack(w, acked, now, duration{srtt_us});
        }
        cwnd = w.cwnd;
        ssthresh = w.ssthresh;
        dupacks = 0;
    }

    template <congestion_control CC>
    void on_duplicate_ack(CC& cc, time_point now, const send_inputs& in, std::uint32_t& flags) {
        if (dupacks < 0xff) ++dupacks;
        if (flags & flag::recovery) {
            if (!(flags & flag::sack)) cwnd += mss;  // RFC 6582: inflate per duplicate
            return;
        }
        if (dupacks >= duplicate_threshold(in) && recover < una) enter_fast_recovery(cc, now, flags);
    }

    // RFC 6675 IsLost, simplified: duplicate_threshold() segments' worth
    // SACKed above SND.UNA.
    template <congestion_control CC>
    void maybe_enter_sack_recovery(CC& cc, time_point now, const send_inputs& in, std::uint32_t& flags) {
        if (!(flags & flag::sack) || (flags & (flag::recovery | flag::rto_recovery)) || in.sacked.empty()) return;
        if (!(recover < una)) return;
        if (in.sacked.covered(una, nxt) >= duplicate_threshold(in) * mss) enter_fast_recovery(cc, now, flags);
    }

    template <congestion_control CC>
    void enter_fast_recovery(CC& cc, time_point now, std::uint32_t& flags) {
        cc_window w{cwnd, ssthresh, mss};
        cc.on_loss(w, flight_size(), now);
        if (!(flags & flag::sack)) w.cwnd += 3u * mss;  // RFC 6582 step 2
        cwnd = w.cwnd;
        ssthresh = w.ssthresh;
        recover = nxt;
        rtx_next = una;
        // RFC 6675 §5 (4.2), RFC 6582 step 2: the first lost segment goes at
        // once, whatever the pipe (flag::rtx_head lets it past cwnd).
        flags |= flag::recovery | flag::rtx_head;
        flags &= ~(flag::rto_recovery | flag::rtt_timing);
    }

    // RFC 5681 (4)-(5) through the policy; RFC 6582: no fast retransmit for
    // what was outstanding at the timeout.
    template <congestion_control CC>
    void on_retransmission_timeout(CC& cc, time_point now, std::uint32_t& flags) {
        cc_window w{cwnd, ssthresh, mss};
        cc.on_timeout(w, flight_size(), now);
        cwnd = w.cwnd;
        ssthresh = w.ssthresh;
        recover = nxt;
        rtx_next = una;
        dupacks = 0;
        flags |= flag::rto_recovery;
        flags &= ~(flag::recovery | flag::rtt_timing);
    }

    // RACK's idea (RFC 8985), kept to one sequence number: the hole at
    // SND.UNA blocks all progress, so its retransmission is watched. When
    // SACKs cover three segments' worth of data sent after it (rtx_fence),
    // it was lost again: it goes once more, at once, instead of waiting for
    // the RTO.
    void detect_lost_retransmission(const send_inputs& in, std::uint32_t& flags) const noexcept {
        if (!(flags & flag::rtx_fence) || !(flags & (flag::recovery | flag::rto_recovery))) return;
        if (!(rtx_fence + 3u * mss < in.sacked.highest_right(una))) return;
        if (in.sacked.find(una) != no_range) return;
        flags |= flag::rtx_head;
        flags &= ~flag::rtx_fence;
    }

    // ---- What may go next ------------------------------------------------------
    [[nodiscard]] span_to_send next_retransmission(std::uint32_t room, const send_inputs& in) const noexcept {
        if ((in.flags & flag::tlp_probe) && next_new_data(room, false, in).length == 0 && una < nxt) {
            // The loss probe: the last segment sent, again.
            const std::uint32_t len = std::min<std::uint32_t>({flight_size(), mss, room});
            return {nxt - len, len};
        }
        if (!(in.flags & (flag::recovery | flag::rto_recovery))) return {};
        const bool head = (in.flags & flag::rtx_head) != 0;
        const seq32 limit = head ? seq_max(lost_end(in), una + 1) : lost_end(in);
        seq32 s = head ? una : seq_max(rtx_next, una);
        for (std::size_t idx; s < limit && (idx = in.sacked.find(s)) != no_range;) s = in.sacked[idx].right;
        if (!(s < limit)) return {};
        seq32 e = seq_min(limit, in.sacked.next_left_at_or_after(s, limit));
        e = seq_min(e, s + std::min<std::uint32_t>(mss, room));
        const seq32 end = data_end(in);
        if (fin_wanted(in.flags) && (in.flags & flag::fin_sent) && e == end && end < limit) e = e + 1;
        const std::uint32_t len = seq_distance(s, e);
        // The head's (re)transmission is exempt from the pipe: progress stops
        // without it.
        if (len == 0 || (!head && !congestion_allows(len, in))) return {};
        return {s, len};
    }

    // New data the windows allow; a loss probe may go beyond cwnd.
    [[nodiscard]] span_to_send next_new_data(std::uint32_t room, const send_inputs& in) const noexcept {
        return next_new_data(room, (in.flags & flag::tlp_probe) == 0, in);
    }
    [[nodiscard]] span_to_send next_new_data(std::uint32_t room, bool limit_by_cwnd,
                                             const send_inputs& in) const noexcept {
        if (!has_unsent(in)) return {};
        const seq32 s = nxt;
        const seq32 end = data_end(in);
        std::uint32_t len = s < end ? seq_distance(s, end) : 0;
        len = std::min<std::uint32_t>({len, mss, room});
        // The peer's window (a FIN needs none).
        const seq32 window_end = una + wnd;
        const std::uint32_t usable = s < window_end ? seq_distance(s, window_end) : 0;
        if (len > usable) len = usable;
        const bool fin = fin_wanted(in.flags) && s + len == end;
        if (len == 0 && !fin) return {};
        if (len != 0 && limit_by_cwnd && !congestion_allows(len, in)) return {};
        if (len < mss && !fin && s + len == end && holds_tail(in)) return {};
        return {s, len + (fin ? 1u : 0u)};
    }

    // Whether a sub-MSS segment at the end of the queue waits (Linux
    // tcp_nagle_test): MSG_MORE holds it; a push sends it; TCP_CORK holds
    // it; else Nagle (RFC 896) holds it while data is unacknowledged.
    [[nodiscard]] bool holds_tail(const send_inputs& in) const noexcept {
        if (in.hold & hold::more) return true;
        if (in.hold & hold::push) return false;
        if (in.hold & hold::cork) return true;
        return !(in.flags & flag::nodelay) && una != nxt;
    }
    // New data is waiting only because TCP_CORK or MSG_MORE holds it while
    // nothing is in flight: Linux sends it when its probe timer fires.
    [[nodiscard]] bool corked_idle(std::uint32_t room, const send_inputs& in) const noexcept {
        if (una != nxt || !(in.hold & (hold::cork | hold::more))) return false;
        send_inputs pushed = in;
        pushed.hold = hold::push;
        return next_new_data(room, in).length == 0 && next_new_data(room, pushed).length != 0;
    }

    // After a data segment [s, s + seq_len) went out.
    void on_sent(time_point now, seq32 s, std::uint32_t seq_len, bool rtx, std::uint8_t retransmits,
                 std::uint32_t& flags) noexcept {
        const seq32 after = s + seq_len;
        if (rtx) {
            // The head's retransmission starts at the first hole: at SND.UNA,
            // or past data a reneging peer SACKed there. Either way it is
            // sent, and the head is no longer due.
            if (s == una || ((flags & flag::rtx_head) && !(flags & flag::tlp_probe))) {
                rtx_fence = nxt;  // what is sent from here on came after the head's retransmission
                flags |= flag::rtx_fence;
                flags &= ~flag::rtx_head;
            }
            if (rtx_next < after) rtx_next = after;
            flags &= ~flag::rtt_timing;  // Karn: no sample while retransmitting
        } else {
            if (!(flags & flag::rtt_timing) && retransmits == 0) start_rtt_timing(after, now, flags);
            nxt = after;
        }
    }
};

}  // namespace tcpcore::detail
