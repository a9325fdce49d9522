#pragma once
// What the two SYNs agree: the peer's initial sequence number and window,
// the options both sides offered (window scaling, SACK, timestamps), the
// MSS each way and the initial congestion window (RFC 9293 §3.7.1, RFC 7323,
// RFC 2018, RFC 6928). One function for the SYN itself and for a SYN cookie's
// recollection of it (RFC 4987), so both paths agree by construction.

#include <tcpcore/engine/buffer_block.hpp>
#include <tcpcore/engine/control.hpp>
#include <tcpcore/engine/receive.hpp>
#include <tcpcore/engine/send.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>
#include <tcpcore/wire/tcp_options.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>

namespace tcpcore::detail {

// Linux's default MSS when the peer sends none (RFC 9293 §3.7.1: 536).
inline constexpr std::uint16_t default_peer_mss = 536;
inline constexpr std::uint32_t timestamps_option_length = 12;

// What the peer's SYN offered.
struct peer_syn {
    seq32 irs;
    std::uint16_t window;  // never scaled in a SYN (RFC 7323 §2.2)
    std::uint32_t mss;
    std::optional<std::uint8_t> window_scale;
    bool sack_permitted;
    std::optional<std::uint32_t> tsval;

    // As the SYN carries it: an MSS below 64 is taken as 64, none as 536.
    [[nodiscard]] static peer_syn of(const tcp_segment_view& seg) noexcept {
        const tcp_options& o = seg.options();
        const std::uint32_t mss = o.mss ? (*o.mss < 64 ? 64u : *o.mss) : default_peer_mss;
        std::optional<std::uint32_t> tsval;
        if (o.timestamps) tsval = o.timestamps->value;
        return {seg.seq(), seg.window(), mss, o.window_scale, o.sack_permitted, tsval};
    }
};

inline void negotiate(const config& cfg, const peer_syn& syn, std::uint32_t& flags, send_side& snd,
                      receive_side& rcv) noexcept {
    rcv.take_syn(syn.irs, window_limit(cfg));
    snd.wl1 = syn.irs;
    snd.wnd = snd.max_wnd = syn.window;
    if (cfg.window_scaling && syn.window_scale) {
        flags |= flag::ws;
        snd.ws = *syn.window_scale;
        rcv.ws = window_scale_for(window_scale_basis(cfg));
    } else {
        flags &= ~flag::ws;
        snd.ws = rcv.ws = 0;
    }
    if (cfg.sack && syn.sack_permitted) flags |= flag::sack;
    else flags &= ~flag::sack;
    if (cfg.timestamps && syn.tsval) {
        flags |= flag::ts | flag::ts_recent;
        rcv.ts_recent = *syn.tsval;
    } else {
        flags &= ~(flag::ts | flag::ts_recent);
    }
    std::uint32_t mss = std::min<std::uint32_t>(syn.mss, cfg.mss);
    if (flags & flag::ts) mss -= timestamps_option_length;
    snd.mss = static_cast<std::uint16_t>(mss);
    rcv.mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(cfg.mss, default_peer_mss));
    snd.cwnd = cfg.initial_cwnd * mss;
}

}  // namespace tcpcore::detail
