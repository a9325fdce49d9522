#pragma once
// The vocabulary every part of the engine shares: the connection's control
// word (one bit per condition) and its compact time stamps.
//
// The flags stay one 32-bit word, not a word per component: each component
// reads bits the others set (the send side asks whether SACK was negotiated,
// the timers whether recovery runs), and 32 bits in one place cost 4 bytes
// where four per-component words would cost 4 bytes plus padding each. Time
// is kept in 32-bit milliseconds or microseconds where a value lives within
// seconds of the present, which keeps the connection within its budget.

#include <tcpcore/rules/time.hpp>
#include <tcpcore/wire/tcp_options.hpp>

#include <chrono>
#include <cstdint>

namespace tcpcore::detail {

// How a sub-MSS tail of the send queue is held back, beyond Nagle (Linux
// keeps these in tp->nonagle): TCP_CORK holds it until uncorked; MSG_MORE
// holds it until the next event that would send (an ACK, a send without
// MSG_MORE, a timer); push lets one output pass send it whatever Nagle or
// the cork say (setting TCP_NODELAY, uncorking a socket with TCP_NODELAY).
struct hold {
    static constexpr std::uint8_t cork = 1u << 0;
    static constexpr std::uint8_t more = 1u << 1;
    static constexpr std::uint8_t push = 1u << 2;
};

struct flag {
    static constexpr std::uint32_t passive = 1u << 0;         // opened passively
    static constexpr std::uint32_t orphan = 1u << 1;          // close() was called
    static constexpr std::uint32_t shutdown = 1u << 2;        // our FIN is wanted after the queue
    static constexpr std::uint32_t fin_sent = 1u << 3;        // our FIN holds sequence number data_end()
    static constexpr std::uint32_t fin_received = 1u << 4;
    static constexpr std::uint32_t keepalive = 1u << 5;
    static constexpr std::uint32_t nodelay = 1u << 6;
    static constexpr std::uint32_t sack = 1u << 7;            // negotiated
    static constexpr std::uint32_t ts = 1u << 8;              // negotiated
    static constexpr std::uint32_t ws = 1u << 9;              // negotiated
    static constexpr std::uint32_t rtt_timing = 1u << 10;     // send_side::rtt_seq/rtt_start_us time a segment
    static constexpr std::uint32_t ack_now = 1u << 11;
    static constexpr std::uint32_t delack = 1u << 12;         // timer_state::delack_deadline_us is armed
    static constexpr std::uint32_t syn_due = 1u << 13;        // (re)send SYN or SYN,ACK
    static constexpr std::uint32_t rtx_armed = 1u << 14;      // timer_state::rtx_deadline is armed
    static constexpr std::uint32_t persist = 1u << 15;        // ... as the zero-window persist timer
    static constexpr std::uint32_t probe_due = 1u << 16;      // keepalive or zero-window probe
    static constexpr std::uint32_t recovery = 1u << 17;       // fast recovery (RFC 6582 / 6675)
    static constexpr std::uint32_t rto_recovery = 1u << 18;   // retransmitting after a timeout
    static constexpr std::uint32_t first_rtx = 1u << 19;      // timer_state::first_rtx_ms is set
    static constexpr std::uint32_t bound_remote = 1u << 20;   // the tuple's remote is the peer
    static constexpr std::uint32_t fixed_remote = 1u << 21;   // passive open for one peer only
    static constexpr std::uint32_t ts_recent = 1u << 22;      // receive_side::ts_recent holds a value
    static constexpr std::uint32_t path_reported = 1u << 23;  // path_may_be_broken already raised
    static constexpr std::uint32_t rtx_fence = 1u << 26;      // send_side::rtx_fence is set (bits 24-25: reply)
    static constexpr std::uint32_t rtx_head = 1u << 27;       // the hole at SND.UNA is to be sent again
    static constexpr std::uint32_t tlp = 1u << 28;            // the rtx deadline is a loss-probe timeout
    static constexpr std::uint32_t tlp_sent = 1u << 29;       // one probe this episode already
    static constexpr std::uint32_t tlp_probe = 1u << 30;      // the probe is due now
    static constexpr std::uint32_t oow_acked = 1u << 31;      // reply_state::oow_ack_ms holds a time

    // A queued RST reply, in two bits (24-25).
    static constexpr std::uint32_t reply_shift = 24;
    static constexpr std::uint32_t reply_mask = 3u << reply_shift;
    static constexpr std::uint8_t reply_none = 0, reply_rst = 1, reply_rst_ack = 2;
};

constexpr std::uint32_t ms32(time_point t) noexcept {
    return static_cast<std::uint32_t>(t.time_since_epoch().count() / 1000);
}
constexpr std::uint32_t us32(time_point t) noexcept {
    return static_cast<std::uint32_t>(t.time_since_epoch().count());
}
constexpr duration min_of(duration a, duration b) noexcept { return a < b ? a : b; }

// Time since a millisecond stamp kept in 32 bits (wraps after 49 days, far
// beyond any timeout it measures).
constexpr duration since_ms32(time_point now, std::uint32_t stamp) noexcept {
    return std::chrono::milliseconds{ms32(now) - stamp};
}

// The smallest window scale that lets `buffer` bytes be offered.
constexpr std::uint8_t window_scale_for(std::uint32_t buffer) noexcept {
    std::uint8_t s = 0;
    while (s < max_window_scale && (buffer >> s) > 0xffffu) ++s;
    return s;
}

}  // namespace tcpcore::detail
