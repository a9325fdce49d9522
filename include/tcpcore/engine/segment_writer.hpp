#pragma once
// The segment writer: options for a SYN or any later segment, header and
// checksum with the payload copied and summed in one pass, and the replies
// the arrival rules ask for without a connection behind them (RST, RST,ACK)
// or with one (challenge and out-of-window ACKs, rate limited).
//
// The writing itself is stateless: what a segment carries comes in as
// parameters (segment_to_write), so the connection decides and this only
// formats. reply_state holds the few fields replies need between the
// segment that asks for one and the poll that writes it.

#include <tcpcore/detail/assert.hpp>
#include <tcpcore/detail/byte_order.hpp>
#include <tcpcore/detail/byte_ring.hpp>
#include <tcpcore/engine/buffer_block.hpp>
#include <tcpcore/engine/control.hpp>
#include <tcpcore/rules/arrival.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/wire/checksum.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>
#include <tcpcore/wire/tcp_options.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpcore::detail {

// What the options of one segment depend on.
struct option_inputs {
    const config& cfg;
    tcp_state state;
    std::uint32_t flags;
    std::uint8_t rcv_ws;
    std::uint32_t ts_value;   // our TSval now
    std::uint32_t ts_recent;  // the peer's, echoed
    const_range_set ooo;      // the reassembly map: SACK blocks, most recent first
};

inline void fill_options(tcp_options& o, bool syn, const option_inputs& in) noexcept {
    if (syn) {
        o.mss = in.cfg.mss;
        const bool synack = in.state == tcp_state::syn_received;
        if (in.cfg.window_scaling && (!synack || (in.flags & flag::ws)))
            o.window_scale = synack ? in.rcv_ws : window_scale_for(window_scale_basis(in.cfg));
        o.sack_permitted = in.cfg.sack && (!synack || (in.flags & flag::sack));
        if (in.cfg.timestamps && (!synack || (in.flags & flag::ts)))
            o.timestamps = tcp_timestamps{in.ts_value, synack ? in.ts_recent : 0u};
        return;
    }
    if (in.flags & flag::ts) o.timestamps = tcp_timestamps{in.ts_value, in.ts_recent};
    if ((in.flags & flag::sack) && !in.ooo.empty()) {
        const std::size_t fit = sack_blocks_that_fit(o);
        for (std::size_t i = 0; i < in.ooo.size() && i < fit; ++i) o.add_sack_block(in.ooo[i]);
    }
}

struct segment_to_write {
    seq32 seq, ack;
    std::uint8_t flags;
    std::uint16_t window;
    std::uint32_t payload_offset = 0, payload_len = 0;  // in the send ring
};

// Writes header, options and payload (taken from the send ring) with the
// checksum; the payload is copied and summed in one pass.
inline std::size_t write_segment(std::span<std::uint8_t> out, const four_tuple& tuple, const segment_to_write& s,
                                 const tcp_options& o, const ring_ref& send_ring) noexcept {
    tcp_header_fields f;
    f.src_port = tuple.local.port;
    f.dst_port = tuple.remote.port;
    f.seq = s.seq;
    f.ack = s.ack;
    f.flags = s.flags;
    f.window = s.window;
    const auto header = write_tcp_header(out, f, o);
    TCPCORE_ASSERT(header.has_value());
    if (!header) return 0;
    const std::size_t total = *header + s.payload_len;
    auto sum = pseudo_header_sum(tuple.local.address, tuple.remote.address, ip_protocol_tcp,
                                 static_cast<std::uint32_t>(total));
    sum.add(out.first(*header));
    if (s.payload_len != 0) send_ring.read_summing(s.payload_offset, out.subspan(*header, s.payload_len), sum);
    store_be16(&out[16], sum.value());
    return total;
}

struct reply_state {
    seq32 reply_seq{}, reply_ack{};  // the queued RST's numbers
    std::uint32_t ts_offset = 0;     // added to the millisecond clock in TSval (RFC 7323 §5.4)
    std::uint32_t oow_ack_ms = 0;    // the last answer to an out-of-window segment
    std::uint16_t challenge_count = 0, challenge_second = 0;

    void start_over(std::uint32_t offset) noexcept {
        ts_offset = offset;
        challenge_count = challenge_second = 0;
    }
    [[nodiscard]] std::uint32_t ts_value(time_point now) const noexcept { return ms32(now) + ts_offset; }

    [[nodiscard]] static std::uint8_t reply(std::uint32_t flags) noexcept {
        return static_cast<std::uint8_t>((flags & flag::reply_mask) >> flag::reply_shift);
    }
    static void set_reply(std::uint32_t& flags, std::uint8_t kind) noexcept {
        flags = (flags & ~flag::reply_mask) | (std::uint32_t{kind} << flag::reply_shift);
    }

    // A reply to one segment (RFC 9293 §3.10.7.1 forms).
    void queue_rst_for(const tcp_segment_view& seg, bool with_ack, std::uint32_t& flags) noexcept {
        if (with_ack) {
            set_reply(flags, flag::reply_rst_ack);
            reply_seq = seq32{0};
            reply_ack = seg.seq() + seg.sequence_length();
        } else {
            set_reply(flags, flag::reply_rst);
            reply_seq = seg.ack();
        }
    }
    // ABORT's reset, as Linux sends it: RST,ACK with SEQ=SND.NXT, ACK=RCV.NXT.
    void queue_active_reset(seq32 snd_nxt, seq32 rcv_nxt, std::uint32_t& flags) noexcept {
        set_reply(flags, flag::reply_rst_ack);
        reply_seq = snd_nxt;
        reply_ack = rcv_nxt;
    }
    // The reply the arrival rules ask for. (Where a RST goes before the peer
    // is bound is the connection's business.)
    void answer(reply_kind kind, drop_reason why, time_point now, const tcp_segment_view& seg,
                std::uint32_t challenge_limit, std::uint32_t& flags) noexcept {
        switch (kind) {
            case reply_kind::none: break;
            case reply_kind::rst: queue_rst_for(seg, false, flags); break;
            case reply_kind::rst_ack: queue_rst_for(seg, true, flags); break;
            case reply_kind::ack:
                if (!out_of_window_ack_limited(now, seg, why, flags)) flags |= flag::ack_now;
                break;
            case reply_kind::challenge_ack:
                if (challenge_ack_allowed(now, challenge_limit)) flags |= flag::ack_now;
                break;
            case reply_kind::syn_ack: flags |= flag::syn_due; break;
        }
    }

    // Writes the queued RST and forgets it.
    std::size_t write_reply(std::span<std::uint8_t> out, const four_tuple& tuple, std::uint32_t& flags) const noexcept {
        const std::uint8_t kind = reply(flags);
        set_reply(flags, flag::reply_none);
        tcp_header_fields f;
        f.src_port = tuple.local.port;
        f.dst_port = tuple.remote.port;
        f.seq = reply_seq;
        f.ack = kind == flag::reply_rst_ack ? reply_ack : seq32{};
        f.flags = kind == flag::reply_rst_ack ? (tcp_flags::rst | tcp_flags::ack) : tcp_flags::rst;
        const auto len = build_tcp_segment(out, f, tcp_options{}, {}, tuple.local.address, tuple.remote.address);
        return len ? *len : 0;
    }

    // Linux (tcp_oow_rate_limited, tcp_invalid_ratelimit): an out-of-window
    // or PAWS-failing segment that carries nothing (no data, SYN or FIN) is
    // answered at most once per half second. Two ends that disagree about
    // the sequence space (after damage a checksum missed, say) would
    // otherwise answer each other's ACKs for ever.
    static constexpr std::uint32_t out_of_window_ack_interval_ms = 500;
    [[nodiscard]] bool out_of_window_ack_limited(time_point now, const tcp_segment_view& seg, drop_reason why,
                                                 std::uint32_t& flags) noexcept {
        if (why != drop_reason::out_of_window && why != drop_reason::paws) return false;
        if (seg.sequence_length() != 0) return false;
        const std::uint32_t ms = ms32(now);
        if ((flags & flag::oow_acked) && ms - oow_ack_ms < out_of_window_ack_interval_ms) return true;
        oow_ack_ms = ms;
        flags |= flag::oow_acked;
        return false;
    }

    // RFC 5961 §7: at most `limit` challenge ACKs per second.
    [[nodiscard]] bool challenge_ack_allowed(time_point now, std::uint32_t limit) noexcept {
        const auto second = static_cast<std::uint16_t>(now.time_since_epoch().count() / 1000000);
        if (second != challenge_second) {
            challenge_second = second;
            challenge_count = 0;
        }
        if (challenge_count >= limit) return false;
        ++challenge_count;
        return true;
    }
};

}  // namespace tcpcore::detail
