#pragma once
// The receive side (gVisor's rcv.go): the receive sequence variables, the
// receive ring's position, reassembly of out-of-order data, when an ACK is
// owed, and the window to offer (never moving its right edge left, holding
// back small increases).
//
// Like the send side, a plain member without a pointer back: the ring, the
// reassembly map's storage and the configuration come in as parameters, and
// what a segment's data means for the connection (events, the ACK flags) is
// returned for the connection to act on.

#include <tcpcore/detail/byte_ring.hpp>
#include <tcpcore/engine/buffer_block.hpp>
#include <tcpcore/engine/control.hpp>
#include <tcpcore/engine/events.hpp>
#include <tcpcore/engine/timers.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>

namespace tcpcore::detail {

struct receive_side {
    seq32 nxt{}, adv{}, last_ack_sent{};
    std::uint32_t ts_recent = 0;
    std::uint32_t buf_start = 0, buf_len = 0;  // the receive ring's first byte and fill
    std::uint16_t mss = 0;
    std::uint8_t ws = 0;
    std::uint8_t ooo_count = 0;  // the reassembly map's ranges (they live in the buffer block)

    [[nodiscard]] std::uint32_t advertised_window() const noexcept {
        return nxt < adv ? seq_distance(nxt, adv) : 0;
    }

    // The application took `n` readable bytes.
    void consume(std::uint32_t n, const ring_ref& ring) noexcept {
        buf_start = ring.index(n);
        buf_len -= n;
    }

    // RFC 7323 §4.3: TS.Recent follows segments at or before Last.ACK.sent.
    void take_timestamp(const tcp_segment_view& seg, std::uint32_t& flags) noexcept {
        const auto& ts = seg.options().timestamps;
        if (!(flags & flag::ts) || !ts || last_ack_sent < seg.seq()) return;
        if ((flags & flag::ts_recent) && static_cast<std::int32_t>(ts->value - ts_recent) < 0) return;
        ts_recent = ts->value;
        flags |= flag::ts_recent;
    }

    // The window our SYN or SYN,ACK offers, never scaled: from a SYN whose
    // sequence number is `irs`.
    void take_syn(seq32 irs, std::uint32_t capacity) noexcept {
        nxt = irs + 1;
        last_ack_sent = nxt;
        adv = nxt + std::min<std::uint32_t>(capacity, 0xffff);
    }

    // The window to offer, as the 16-bit field, moving the advertised right
    // edge; it never moves left (RFC 9293 §3.8.6.2.2), and small increases are
    // held back (receiver SWS avoidance, RFC 1122 4.2.3.3).
    // `limit` is the largest window offered (a window clamp), at most `capacity`.
    std::uint16_t take_window_field(std::uint32_t capacity, std::uint32_t limit) noexcept {
        const std::uint32_t free_space = std::min(capacity > buf_len ? capacity - buf_len : 0, limit);
        const seq32 possible = nxt + free_space;
        seq32 edge = adv < nxt ? nxt : adv;
        const std::uint32_t sws = std::min<std::uint32_t>(capacity / 2, mss);
        if (edge < possible && seq_distance(edge, possible) >= sws) edge = possible;
        const std::uint32_t window = seq_distance(nxt, edge);
        // Scaled, rounded up so the edge stays put (the buffer has 2^scale bytes of slack).
        const std::uint32_t unit = 1u << ws;
        std::uint32_t field = (window + unit - 1) >> ws;
        if (field > 0xffff) field = 0xffff;
        adv = nxt + (field << ws);
        return static_cast<std::uint16_t>(field);
    }

    // After the application reads: whether the window has opened enough to
    // announce (Linux tcp_cleanup_rbuf: when it would at least double).
    [[nodiscard]] bool window_worth_announcing(std::uint32_t before, std::uint32_t capacity,
                                               std::uint32_t limit) const noexcept {
        // What the window field can say: a buffer larger than 64 KiB without
        // window scaling opens no wider window (Linux compares against its
        // window clamp), so a read that frees it is no news.
        const std::uint32_t largest = std::min(std::uint32_t{0xffff} << ws, limit);
        const std::uint32_t free_space = std::min(capacity - buf_len, largest);
        return (before == 0 && free_space >= mss) || (free_space >= 2u * before && free_space - before >= mss);
    }

    // Whether an ACK for in-order data goes now rather than delayed: Linux
    // ACKs at least every second full-sized segment.
    [[nodiscard]] bool ack_due_now(bool immediately, const config& cfg) const noexcept {
        return immediately || !cfg.delayed_ack || seq_distance(last_ack_sent, nxt) >= 2u * mss;
    }

    // The part of [first, first + length) that is new and fits the buffer
    // (never less than what was advertised), or an empty range.
    struct range {
        seq32 start, end;
        [[nodiscard]] bool empty() const noexcept { return !(start < end); }
    };
    [[nodiscard]] range fitting(seq32 first, std::uint32_t length, std::uint32_t capacity_with_slack) const noexcept {
        seq32 s = first;
        seq32 e = first + length;
        if (!(nxt < e)) return {e, e};  // all seen before
        if (s < nxt) s = nxt;
        const std::uint32_t room = capacity_with_slack - buf_len;
        if (nxt + room < e) e = nxt + room;
        return {s, e};
    }

    // Stores the part `r` of a payload that starts at `first`. In order, it
    // moves RCV.NXT over it and whatever reassembly held beyond; out of order
    // it is held in place in the ring, tracked by range (beyond the range
    // capacity it is dropped: the memory bound). Returns whether the ACK is
    // owed at once (RFC 5681 §4.2: out of order, or a hole filled), and sets
    // `in_order`.
    bool store(seq32 first, std::span<const std::uint8_t> payload, range r, const ring_ref& ring, range_set ooo,
               bool& in_order) noexcept {
        const std::uint32_t skip = seq_distance(first, r.start);
        const std::uint32_t len = seq_distance(r.start, r.end);
        const std::uint32_t offset = buf_len + seq_distance(nxt, r.start);
        if (len > mss) mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(len, 0xffff));
        in_order = r.start == nxt;
        if (!in_order) {
            if (ooo.add(r.start, r.end)) ring.write(offset, payload.subspan(skip, len));
            return true;
        }
        const bool filled_a_hole = !ooo.empty();
        const seq32 before = nxt;
        ring.write(offset, payload.subspan(skip, len));
        nxt = r.end;
        for (bool grew = true; grew;) {  // pull in what reassembly was holding
            grew = false;
            for (std::size_t i = 0; i < ooo.size(); ++i) {
                if (!(nxt < ooo[i].left) && nxt < ooo[i].right) {
                    nxt = ooo[i].right;
                    grew = true;
                }
            }
        }
        ooo.trim_below(nxt);
        buf_len += seq_distance(before, nxt);
        return filled_a_hole || !ooo.empty();
    }
};

// When data is ACKed at once rather than after the delayed-ACK time, as
// Linux decides it (tcp_event_data_recv, __tcp_ack_snd_check): quick-ACK
// mode gives up to 16 immediate ACKs at the start of the data, after a
// silence longer than the RTO, and after a hole or a duplicate; an
// interactive ("ping-pong") connection, one that sent data within the
// delayed-ACK time of receiving some, delays its ACKs to carry them on its
// answers, until a delayed ACK has to go alone. Linux also adapts the
// delayed-ACK time (its ATO) to the arrival rhythm; here it stays the
// configuration's. Four bytes, in the connection's padding.
struct ack_pacing {
    static constexpr std::uint8_t max_quick = 16;       // TCP_MAX_QUICKACKS
    static constexpr std::uint8_t quick_mask = 0x1f;    // bits 0-4: quick ACKs left
    static constexpr std::uint8_t started = 1u << 5;    // data has arrived (Linux: ATO set)
    static constexpr std::uint8_t pingpong = 1u << 6;   // interactive: ACKs wait for data to ride on
    std::uint8_t bits = 0;
    std::uint16_t last_data_ms = 0;  // when data last arrived, in ms modulo 2^16

    [[nodiscard]] std::uint8_t quick() const noexcept { return bits & quick_mask; }
    [[nodiscard]] bool in_quick_mode() const noexcept { return quick() != 0 && !(bits & pingpong); }
    [[nodiscard]] bool interactive() const noexcept { return (bits & pingpong) != 0; }
    void set_interactive(bool on) noexcept {
        if (on) bits |= pingpong;
        else bits &= static_cast<std::uint8_t>(~pingpong);
    }
    // Linux tcp_incr_quickack: half the window in segments, at least 2, at
    // most 16; never fewer than are left.
    void add_quick(std::uint32_t window, std::uint32_t rcv_mss) noexcept {
        std::uint32_t q = rcv_mss != 0 ? window / (2u * rcv_mss) : 0;
        if (q == 0) q = 2;
        q = std::min<std::uint32_t>(q, max_quick);
        if (q > quick()) bits = static_cast<std::uint8_t>((bits & ~quick_mask) | q);
    }
    // Linux tcp_enter_quickack_mode: out-of-order or duplicate data.
    void enter_quick(std::uint32_t window, std::uint32_t rcv_mss) noexcept {
        add_quick(window, rcv_mss);
        set_interactive(false);
    }
    // An ACK went while one was owed (Linux tcp_dec_quickack_mode).
    void ack_sent() noexcept {
        if (quick() != 0) bits = static_cast<std::uint8_t>(bits - 1);
    }
    [[nodiscard]] duration since_data(time_point now) const noexcept {
        return std::chrono::milliseconds{static_cast<std::uint16_t>(ms32(now) - last_data_ms)};
    }
    // In-order data arrived at `now`; `rto` measures a silence. A silence
    // longer than 65 s reads modulo 2^16 ms: `quiet` (nothing at all arrived
    // for longer than that) settles it.
    void data_arrived(time_point now, duration rto, bool quiet, std::uint32_t window, std::uint32_t rcv_mss) noexcept {
        if (!(bits & started)) {
            add_quick(window, rcv_mss);
            bits |= started;
        } else if (quiet || since_data(now) > rto) {
            add_quick(window, rcv_mss);
        }
        last_data_ms = static_cast<std::uint16_t>(ms32(now));
    }
};

// What data and a FIN arriving touch besides the receive side: made for one
// segment, never stored.
struct data_parts {
    const config& cfg;
    tcp_state state;
    std::uint32_t& flags;
    connection_events& events;
    receive_side& rcv;
    timer_state& timers;
    ack_pacing& pacing;
    duration rto;  // what counts as a silence for quick-ACK mode
    bool quiet;    // nothing arrived for longer than ack_pacing's clock can tell
};

// Where arriving data goes: the receive ring and the reassembly map, both in
// the buffer block (which may have to be allocated first).
struct receive_storage {
    ring_ref ring;
    range_set ooo;
};

enum class data_outcome : std::uint8_t { taken, fin_taken, orphan_data };

// The payload: stored, reassembled, and the ACK it is owed scheduled.
// `storage()` allocates the buffer block if need be and gives its views
// (nullopt when memory is short).
template <class Storage>
void take_data(time_point now, seq32 first, std::span<const std::uint8_t> payload, data_parts& p, Storage storage) {
    receive_side& rcv = p.rcv;
    const auto fits =
        rcv.fitting(first, static_cast<std::uint32_t>(payload.size()), receive_capacity_with_slack(p.cfg));
    // Nothing new, or nothing fits (a zero-window probe, say), or out of
    // memory (the peer will retransmit): answer at once.
    const std::optional<receive_storage> r = fits.empty() ? std::nullopt : storage();
    const std::uint32_t window = rcv.advertised_window();
    if (!r) {
        if (p.cfg.quick_ack && fits.empty()) p.pacing.enter_quick(window, rcv.mss);  // a duplicate
        p.flags |= flag::ack_now;
        return;
    }
    bool in_order = false;
    const bool immediately = rcv.store(first, payload, fits, r->ring, r->ooo, in_order);
    if (!in_order) {
        if (p.cfg.quick_ack) p.pacing.enter_quick(window, rcv.mss);
        p.flags |= flag::ack_now;  // RFC 5681 §4.2: immediately, with SACK blocks
        return;
    }
    p.events |= connection_events::readable;
    if (p.cfg.quick_ack) p.pacing.data_arrived(now, p.rto, p.quiet, window, rcv.mss);
    if (rcv.ack_due_now(immediately, p.cfg) || (p.cfg.quick_ack && p.pacing.in_quick_mode())) {
        p.flags |= flag::ack_now;
        p.flags &= ~flag::delack;
    } else {
        p.timers.arm_delayed_ack(now, p.cfg, p.flags);
    }
}

// Data and FIN (RFC 9293 §3.10.7.4, seventh and eighth steps). New data for
// an application that is gone stops short: the connection aborts.
template <class Storage>
data_outcome take_data_and_fin(time_point now, const tcp_segment_view& seg, data_parts p, Storage storage) {
    const std::span<const std::uint8_t> payload = seg.payload();
    const seq32 first = seg.seq() + (seg.flags().syn_set() ? 1u : 0u);
    const bool receiving = can_receive_data(p.state);

    if (!payload.empty() && receiving) {
        const seq32 end = first + static_cast<std::uint32_t>(payload.size());
        if ((p.flags & flag::orphan) && p.rcv.nxt < end &&
            (p.state == tcp_state::fin_wait_1 || p.state == tcp_state::fin_wait_2))
            return data_outcome::orphan_data;
        take_data(now, first, payload, p, storage);
    }

    if (!seg.flags().fin_set() || !receiving) return data_outcome::taken;
    const seq32 fin_seq = first + static_cast<std::uint32_t>(payload.size());
    if (fin_seq != p.rcv.nxt) {
        // Out of order: the peer sends it again; the duplicate ACK at once
        // tells it where the hole is (RFC 5681 §4.2), as for data.
        p.flags |= flag::ack_now;
        return data_outcome::taken;
    }
    p.rcv.nxt = p.rcv.nxt + 1;
    // Linux's tcp_fin: the peer closing makes the connection interactive.
    if (p.state == tcp_state::established) p.pacing.set_interactive(true);
    p.flags |= flag::fin_received | flag::ack_now;
    p.flags &= ~flag::delack;
    p.events |= connection_events::peer_closed | connection_events::readable;
    return data_outcome::fin_taken;
}

}  // namespace tcpcore::detail
