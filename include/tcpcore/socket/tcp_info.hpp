#pragma once
// getsockopt(TCP_INFO) as Linux answers it: struct tcp_info with Linux's
// field names and exact layout (include/uapi/linux/tcp.h, through the AccECN
// word Linux 6.18 added, the newest field packetdrill's struct _tcp_info
// knows), the numbers its fields take, and tcp_info_of(), which fills it
// from a connection with Linux's units:
//
//   using policies = tcpcore::with_counters<my_policies>;   // connections count
//   const auto c = ep.get(h);                                // endpoint<policies>
//   const tcpcore::linux_tcp_info ti = tcpcore::tcp_info_of(**c, now);
//   std::memcpy(optval, &ti, std::min<std::size_t>(optlen, sizeof ti));
//
// What the engine cannot know stays zero (the list is at tcp_info_of and in
// docs/behaviour.md §9). Without counters (a bundle that does not ask for
// them) the counters' fields stay zero too; the rest is filled either way.

#include <tcpcore/engine/buffer_block.hpp>
#include <tcpcore/engine/connection.hpp>
#include <tcpcore/engine/counters.hpp>
#include <tcpcore/engine/events.hpp>
#include <tcpcore/policies.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/rules/time.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tcpcore {

// The default bundle with counting on.
using counting_policies = with_counters<default_policies>;

// Linux's struct tcp_info, field for field (64-bit and 32-bit layouts agree:
// the 64-bit fields fall on 8-byte offsets).
struct linux_tcp_info {
    std::uint8_t tcpi_state;
    std::uint8_t tcpi_ca_state;
    std::uint8_t tcpi_retransmits;
    std::uint8_t tcpi_probes;
    std::uint8_t tcpi_backoff;
    std::uint8_t tcpi_options;
    std::uint8_t tcpi_snd_wscale : 4, tcpi_rcv_wscale : 4;
    std::uint8_t tcpi_delivery_rate_app_limited : 1, tcpi_fastopen_client_fail : 2;

    std::uint32_t tcpi_rto;  // microseconds
    std::uint32_t tcpi_ato;  // microseconds
    std::uint32_t tcpi_snd_mss;
    std::uint32_t tcpi_rcv_mss;

    std::uint32_t tcpi_unacked;  // segments
    std::uint32_t tcpi_sacked;
    std::uint32_t tcpi_lost;
    std::uint32_t tcpi_retrans;
    std::uint32_t tcpi_fackets;

    std::uint32_t tcpi_last_data_sent;  // milliseconds ago
    std::uint32_t tcpi_last_ack_sent;   // always 0 in Linux too
    std::uint32_t tcpi_last_data_recv;
    std::uint32_t tcpi_last_ack_recv;

    std::uint32_t tcpi_pmtu;
    std::uint32_t tcpi_rcv_ssthresh;
    std::uint32_t tcpi_rtt;     // microseconds
    std::uint32_t tcpi_rttvar;  // microseconds
    std::uint32_t tcpi_snd_ssthresh;  // segments
    std::uint32_t tcpi_snd_cwnd;      // segments
    std::uint32_t tcpi_advmss;
    std::uint32_t tcpi_reordering;

    std::uint32_t tcpi_rcv_rtt;
    std::uint32_t tcpi_rcv_space;

    std::uint32_t tcpi_total_retrans;

    std::uint64_t tcpi_pacing_rate;  // bytes per second
    std::uint64_t tcpi_max_pacing_rate;
    std::uint64_t tcpi_bytes_acked;
    std::uint64_t tcpi_bytes_received;
    std::uint32_t tcpi_segs_out;
    std::uint32_t tcpi_segs_in;

    std::uint32_t tcpi_notsent_bytes;
    std::uint32_t tcpi_min_rtt;  // microseconds
    std::uint32_t tcpi_data_segs_in;
    std::uint32_t tcpi_data_segs_out;

    std::uint64_t tcpi_delivery_rate;

    std::uint64_t tcpi_busy_time;  // microseconds
    std::uint64_t tcpi_rwnd_limited;
    std::uint64_t tcpi_sndbuf_limited;

    std::uint32_t tcpi_delivered;
    std::uint32_t tcpi_delivered_ce;

    std::uint64_t tcpi_bytes_sent;
    std::uint64_t tcpi_bytes_retrans;
    std::uint32_t tcpi_dsack_dups;
    std::uint32_t tcpi_reord_seen;

    std::uint32_t tcpi_rcv_ooopack;

    std::uint32_t tcpi_snd_wnd;  // bytes (Linux 5.4)
    std::uint32_t tcpi_rcv_wnd;  // bytes (Linux 6.2)
    std::uint32_t tcpi_rehash;

    std::uint16_t tcpi_total_rto;  // Linux 6.7
    std::uint16_t tcpi_total_rto_recoveries;
    std::uint32_t tcpi_total_rto_time;  // milliseconds

    std::uint32_t tcpi_received_ce;  // Linux 6.18 (AccECN)
    std::uint32_t tcpi_delivered_e1_bytes;
    std::uint32_t tcpi_delivered_e0_bytes;
    std::uint32_t tcpi_delivered_ce_bytes;
    std::uint32_t tcpi_received_e1_bytes;
    std::uint32_t tcpi_received_e0_bytes;
    std::uint32_t tcpi_received_ce_bytes;
    std::uint32_t tcpi_ecn_mode : 2, tcpi_accecn_opt_seen : 2, tcpi_accecn_fail_mode : 4, tcpi_options2 : 24;
};

static_assert(std::is_standard_layout_v<linux_tcp_info> && std::is_trivially_copyable_v<linux_tcp_info>);
static_assert(sizeof(linux_tcp_info) == 280, "Linux 6.18's struct tcp_info is 280 bytes");
static_assert(offsetof(linux_tcp_info, tcpi_rto) == 8);
static_assert(offsetof(linux_tcp_info, tcpi_last_data_sent) == 44);
static_assert(offsetof(linux_tcp_info, tcpi_rtt) == 68);
static_assert(offsetof(linux_tcp_info, tcpi_total_retrans) == 100);
static_assert(offsetof(linux_tcp_info, tcpi_pacing_rate) == 104);
static_assert(offsetof(linux_tcp_info, tcpi_segs_out) == 136);
static_assert(offsetof(linux_tcp_info, tcpi_delivery_rate) == 160);
static_assert(offsetof(linux_tcp_info, tcpi_delivered) == 192);
static_assert(offsetof(linux_tcp_info, tcpi_bytes_sent) == 200);
static_assert(offsetof(linux_tcp_info, tcpi_snd_wnd) == 228);  // Linux 6.1's struct ends after it: 232 bytes
static_assert(offsetof(linux_tcp_info, tcpi_total_rto) == 240);
static_assert(offsetof(linux_tcp_info, tcpi_received_ce) == 248);
static_assert(offsetof(linux_tcp_info, tcpi_received_ce_bytes) == 272);

// The numbers tcp_info's fields take, with Linux's values (the names are
// Linux's, lower-cased, without the TCP_/TCPI_ prefix: <linux/tcp.h> makes
// macros of some of those).
namespace tcpi {
// tcpi_state (include/net/tcp_states.h).
inline constexpr std::uint8_t state_established = 1;
inline constexpr std::uint8_t state_syn_sent = 2;
inline constexpr std::uint8_t state_syn_recv = 3;
inline constexpr std::uint8_t state_fin_wait1 = 4;
inline constexpr std::uint8_t state_fin_wait2 = 5;
inline constexpr std::uint8_t state_time_wait = 6;
inline constexpr std::uint8_t state_close = 7;
inline constexpr std::uint8_t state_close_wait = 8;
inline constexpr std::uint8_t state_last_ack = 9;
inline constexpr std::uint8_t state_listen = 10;
inline constexpr std::uint8_t state_closing = 11;
inline constexpr std::uint8_t state_new_syn_recv = 12;
inline constexpr std::uint8_t state_bound_inactive = 13;
// tcpi_ca_state (enum tcp_ca_state).
inline constexpr std::uint8_t ca_open = 0;
inline constexpr std::uint8_t ca_disorder = 1;
inline constexpr std::uint8_t ca_cwr = 2;
inline constexpr std::uint8_t ca_recovery = 3;
inline constexpr std::uint8_t ca_loss = 4;
// tcpi_options bits (TCPI_OPT_*).
inline constexpr std::uint8_t opt_timestamps = 1;
inline constexpr std::uint8_t opt_sack = 2;
inline constexpr std::uint8_t opt_wscale = 4;
inline constexpr std::uint8_t opt_ecn = 8;         // ECN negotiated
inline constexpr std::uint8_t opt_ecn_seen = 16;   // a segment with ECT arrived
inline constexpr std::uint8_t opt_syn_data = 32;   // data in the SYN was acknowledged
inline constexpr std::uint8_t opt_usec_ts = 64;    // microsecond timestamps
inline constexpr std::uint8_t opt_tfo_child = 128; // made by a Fast Open SYN
// tcpi_ecn_mode (TCPI_ECN_MODE_*).
inline constexpr std::uint8_t ecn_mode_disabled = 0;
inline constexpr std::uint8_t ecn_mode_rfc3168 = 1;
inline constexpr std::uint8_t ecn_mode_accecn = 2;
inline constexpr std::uint8_t ecn_mode_pending = 3;
// Linux's default tcp_reordering; tcpcore's duplicate threshold is fixed at it.
inline constexpr std::uint32_t default_reordering = 3;
// TCP_INFINITE_SSTHRESH: tcpi_snd_ssthresh before any loss.
inline constexpr std::uint32_t infinite_ssthresh = 0x7fffffff;
}  // namespace tcpi

[[nodiscard]] constexpr std::uint8_t linux_state_of(tcp_state s) noexcept {
    switch (s) {
        case tcp_state::closed: return tcpi::state_close;
        case tcp_state::listen: return tcpi::state_listen;
        case tcp_state::syn_sent: return tcpi::state_syn_sent;
        case tcp_state::syn_received: return tcpi::state_syn_recv;
        case tcp_state::established: return tcpi::state_established;
        case tcp_state::fin_wait_1: return tcpi::state_fin_wait1;
        case tcp_state::fin_wait_2: return tcpi::state_fin_wait2;
        case tcp_state::close_wait: return tcpi::state_close_wait;
        case tcp_state::closing: return tcpi::state_closing;
        case tcp_state::last_ack: return tcpi::state_last_ack;
        case tcp_state::time_wait: return tcpi::state_time_wait;
    }
    return tcpi::state_close;
}

[[nodiscard]] constexpr std::uint8_t linux_ca_state_of(loss_phase p) noexcept {
    switch (p) {
        case loss_phase::open: return tcpi::ca_open;
        case loss_phase::disorder: return tcpi::ca_disorder;
        case loss_phase::recovery: return tcpi::ca_recovery;
        case loss_phase::loss: return tcpi::ca_loss;
    }
    return tcpi::ca_open;
}

// TCP_INFO for connection `c` at `now` (the caller's clock, as every engine
// call takes it). Units as Linux: times in microseconds, the last_* fields in
// milliseconds ago, windows and thresholds of the congestion controller in
// segments of tcpi_snd_mss bytes, queues and windows of the peer in bytes.
//
// Filled from the connection itself: state, ca_state, retransmits, probes,
// backoff, options (timestamps, SACK, window scaling), snd_wscale,
// rcv_wscale, rto, ato (the configured delayed-ACK timeout; 0 with delayed
// ACKs off), snd_mss, rcv_mss (the largest segment received, from 536),
// unacked, sacked, lost, retrans (segments' worth of the bytes, rounded up),
// pmtu (the MTU the configured MSS implies: tcpcore does no path MTU
// discovery), rcv_ssthresh (the receive buffer: tcpcore offers it all, with
// no receive-window slow start), rtt, rttvar (0 before the first sample),
// snd_ssthresh (infinite_ssthresh before any loss), snd_cwnd, advmss (the
// MSS our SYN offers), reordering (3, fixed), max_pacing_rate (~0: no limit),
// notsent_bytes, snd_wnd, rcv_wnd (the window the last segment offered).
//
// Filled from the counters, when the connection has them (tcp_counters):
// last_data_sent, last_data_recv, last_ack_recv, total_retrans, bytes_acked,
// bytes_received, segs_out, segs_in, data_segs_out, data_segs_in, min_rtt
// (~0 before the first sample), busy_time, rwnd_limited, sndbuf_limited,
// delivered, bytes_sent, bytes_retrans, dsack_dups, rcv_ooopack, total_rto,
// total_rto_recoveries, total_rto_time.
//
// Always zero, as tcpcore keeps no such state: fastopen_client_fail (no
// Fast Open), delivery_rate_app_limited and delivery_rate (no delivery-rate
// sampling), fackets and last_ack_sent (zero in Linux too), rcv_rtt and
// rcv_space (no receive-buffer autotuning), pacing_rate (no pacing),
// delivered_ce, received_ce and the AccECN byte counters, ecn_mode,
// accecn_opt_seen, accecn_fail_mode and options2 (no ECN), reord_seen (no
// reordering detection), rehash (no PLB). In LISTEN Linux reports the accept
// queue's length and limit in unacked and sacked; a connection does not
// know them, so the socket layer fills those.
template <class Connection>
[[nodiscard]] linux_tcp_info tcp_info_of(const Connection& c, time_point now) noexcept {
    linux_tcp_info t{};
    const connection_info i = c.info();
    const sequence_variables v = c.sequence();
    const recovery_info r = c.recovery();
    const config& cfg = c.configuration();
    const std::uint32_t mss = i.send_mss != 0 ? i.send_mss : 1u;
    const auto segments = [mss](std::uint32_t bytes) {
        return static_cast<std::uint32_t>((std::uint64_t{bytes} + mss - 1u) / mss);
    };
    const auto us = [](duration d) {
        const auto n = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
        return n <= 0 ? 0u : n >= 0xffffffffLL ? 0xffffffffu : static_cast<std::uint32_t>(n);
    };

    t.tcpi_state = linux_state_of(i.state);
    t.tcpi_ca_state = linux_ca_state_of(r.phase);
    t.tcpi_retransmits = r.timeouts;
    t.tcpi_probes = i.probes_out;
    t.tcpi_backoff = r.backoff;
    if (i.timestamps) t.tcpi_options |= tcpi::opt_timestamps;
    if (i.sack) t.tcpi_options |= tcpi::opt_sack;
    if (i.window_scaling) {
        t.tcpi_options |= tcpi::opt_wscale;
        t.tcpi_snd_wscale = i.send_window_scale & 0xfu;
        t.tcpi_rcv_wscale = i.receive_window_scale & 0xfu;
    }

    t.tcpi_rto = us(i.rto);
    t.tcpi_ato = cfg.delayed_ack ? us(cfg.delayed_ack_timeout) : 0u;
    t.tcpi_snd_mss = i.send_mss;
    t.tcpi_rcv_mss = v.rcv_mss;

    t.tcpi_unacked = segments(i.bytes_in_flight);
    t.tcpi_sacked = segments(r.sacked);
    t.tcpi_lost = segments(r.lost);
    t.tcpi_retrans = segments(r.retransmitted);

    t.tcpi_pmtu = std::uint32_t{cfg.mss} + 20u + (c.tuple().local.address.is_v4() ? 20u : 40u);
    t.tcpi_rcv_ssthresh = detail::receive_capacity(cfg);
    t.tcpi_rtt = us(i.srtt);
    t.tcpi_rttvar = us(i.rttvar);
    t.tcpi_snd_ssthresh = i.ssthresh >= tcpi::infinite_ssthresh ? tcpi::infinite_ssthresh : i.ssthresh / mss;
    t.tcpi_snd_cwnd = i.cwnd / mss;
    t.tcpi_advmss = cfg.mss;
    t.tcpi_reordering = tcpi::default_reordering;

    t.tcpi_max_pacing_rate = ~std::uint64_t{0};
    t.tcpi_notsent_bytes = r.not_sent;
    t.tcpi_snd_wnd = i.send_window;
    t.tcpi_rcv_wnd = v.last_ack_sent < v.rcv_adv ? seq_distance(v.last_ack_sent, v.rcv_adv) : 0u;

    using counters = typename Connection::counters_type;
    if constexpr (std::is_base_of_v<tcp_counters, counters>) {
        const tcp_counters& n = c.counters();
        const std::uint32_t ms = detail::ms32(now);
        t.tcpi_last_data_sent = ms - n.last_data_sent_ms;
        t.tcpi_last_data_recv = ms - n.last_data_recv_ms;
        t.tcpi_last_ack_recv = ms - n.last_ack_recv_ms;
        t.tcpi_total_retrans = n.total_retrans;
        t.tcpi_bytes_acked = n.bytes_acked;
        t.tcpi_bytes_received = n.bytes_received;
        t.tcpi_segs_out = n.segs_out;
        t.tcpi_segs_in = n.segs_in;
        t.tcpi_min_rtt = n.min_rtt_us;
        t.tcpi_data_segs_in = n.data_segs_in;
        t.tcpi_data_segs_out = n.data_segs_out;
        t.tcpi_rwnd_limited = n.chrono_time_us(send_chrono::rwnd_limited, now);
        t.tcpi_sndbuf_limited = n.chrono_time_us(send_chrono::sndbuf_limited, now);
        t.tcpi_busy_time = n.chrono_time_us(send_chrono::busy, now) + t.tcpi_rwnd_limited + t.tcpi_sndbuf_limited;
        t.tcpi_delivered = n.delivered;
        t.tcpi_bytes_sent = n.bytes_sent;
        t.tcpi_bytes_retrans = n.bytes_retrans;
        t.tcpi_dsack_dups = n.dsack_dups;
        t.tcpi_rcv_ooopack = n.rcv_ooopack;
        t.tcpi_total_rto = n.total_rto;
        t.tcpi_total_rto_recoveries = n.total_rto_recoveries;
        t.tcpi_total_rto_time = n.rto_time_ms(now);
    }
    return t;
}

}  // namespace tcpcore
