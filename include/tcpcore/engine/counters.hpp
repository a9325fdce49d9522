#pragma once
// Per-connection counters, opt-in: what Linux's TCP_INFO reports beyond the
// sequence variables (RFC 4898's segment and byte counts, the times of the
// last data sent and received and of the last ACK, the minimum RTT, RTO
// statistics, and the "chrono" times a sender spends busy, limited by the
// peer's window or by its own send buffer).
//
// The connection carries its counters as a [[no_unique_address]] member of
// the type its fourth template parameter names. The default, no_counters, is
// empty and its `enabled` is false: every hook the engine has is compiled
// out (`if constexpr`), so a connection without counters has the size and
// the code it had before. tcp_counters counts; a bundle asks for it with
//
//   using my_policies = tcpcore::with_counters<tcpcore::default_policies>;
//
// and the endpoint's connections then carry it (endpoint_core.hpp reads
// bundle_counters). Read them with connection.counters(), or as Linux's
// struct tcp_info with tcpcore::tcp_info_of (socket/tcp_info.hpp).
//
// A counters type other than these two models counters_policy: `enabled`
// and the hooks below, which the engine calls (when `enabled`) at the
// moments their comments give.

#include <tcpcore/engine/control.hpp>
#include <tcpcore/rules/time.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tcpcore {

// One segment poll_output() wrote.
struct sent_segment {
    std::uint32_t payload = 0;    // data bytes
    bool syn = false;             // SYN or SYN,ACK
    bool fin = false;
    bool rst = false;
    bool retransmission = false;  // its sequence numbers went out before (a SYN, data or a FIN)
};

// Why a sender with something queued is not idle (Linux's tcp_chrono): the
// states are ordered as Linux orders them, and a later one overrides an
// earlier one while it lasts.
enum class send_chrono : std::uint8_t {
    idle,            // nothing queued and nothing in flight
    busy,            // sending, or waiting for ACKs
    rwnd_limited,    // the peer's window stops the next segment
    sndbuf_limited,  // everything queued is sent and the application found the send buffer full
};

// Counts nothing and takes no room. Its hooks do nothing; the engine does
// not even call them (nor compute their arguments) when `enabled` is false.
struct no_counters {
    static constexpr bool enabled = false;
    constexpr void start(time_point) const noexcept {}
    constexpr void on_established(time_point) const noexcept {}
    constexpr void on_segment_sent(time_point, const sent_segment&) const noexcept {}
    constexpr void on_segment_received(std::size_t) const noexcept {}
    constexpr void on_received(time_point, std::uint32_t, bool, bool) const noexcept {}
    constexpr void on_ack_received(time_point) const noexcept {}
    constexpr void on_acknowledged(std::uint32_t, std::uint32_t, std::uint16_t) const noexcept {}
    constexpr void on_dsack(std::uint32_t) const noexcept {}
    constexpr void on_rtt_sample(time_point, duration) const noexcept {}
    constexpr void on_rto(time_point, bool) const noexcept {}
    constexpr void on_rto_recovered(time_point) const noexcept {}
    constexpr void on_queued(time_point, std::size_t, std::size_t) const noexcept {}
    constexpr void on_queue_drained(time_point) const noexcept {}
    constexpr void on_space_freed(time_point, std::uint32_t, std::uint32_t, bool) const noexcept {}
    constexpr void chrono_begin(time_point, send_chrono) const noexcept {}
    constexpr void chrono_end(time_point, send_chrono, bool) const noexcept {}
};

struct tcp_counters {
    static constexpr bool enabled = true;
    // Linux's tcp_min_rtt_wlen: a minimum older than this gives way to the next sample.
    static constexpr std::uint32_t min_rtt_window_ms = 300000;

    // ---- RFC 4898 counts ------------------------------------------------------
    std::uint64_t bytes_sent = 0;      // data bytes written, retransmissions included
    std::uint64_t bytes_retrans = 0;   // data bytes written again
    std::uint64_t bytes_acked = 0;     // SND.UNA's advance (an active open's SYN counts, as in Linux)
    std::uint64_t bytes_received = 0;  // RCV.NXT's advance after the SYN (the peer's FIN counts, as in Linux)
    std::uint32_t segs_out = 0;        // every segment written, RSTs included
    std::uint32_t segs_in = 0;         // every segment addressed to the connection (in LISTEN: the SYN taken)
    std::uint32_t data_segs_out = 0;   // ... of them with data
    std::uint32_t data_segs_in = 0;
    std::uint32_t total_retrans = 0;   // segments written again: SYN, SYN,ACK, data, FIN
    std::uint32_t delivered = 0;       // segments acknowledged or SACKed (the SYN is one), see on_acknowledged
    std::uint32_t dsack_dups = 0;      // segments the peer reported as duplicates (D-SACK, RFC 2883)
    std::uint32_t rcv_ooopack = 0;     // data segments that arrived beyond RCV.NXT

    // ---- Times (32-bit millisecond stamps, as Linux's jiffies) ----------------
    std::uint32_t last_data_sent_ms = 0;
    std::uint32_t last_data_recv_ms = 0;
    std::uint32_t last_ack_recv_ms = 0;
    std::uint32_t min_rtt_us = ~0u;  // ~0: no sample yet (Linux reports it so)
    std::uint32_t min_rtt_stamp_ms = 0;

    // ---- Retransmission timeouts ------------------------------------------------
    std::uint32_t total_rto_time_ms = 0;  // in finished RTO recoveries
    std::uint32_t rto_start_ms = 0;       // when the running one began
    std::uint16_t total_rto = 0;          // timeouts, SYN's included
    std::uint16_t total_rto_recoveries = 0;
    bool in_rto_recovery = false;

    // ---- Chrono ---------------------------------------------------------------------
    // The application was refused send-buffer space (Linux's SOCK_NOSPACE),
    // until ACKs free half of what is queued again.
    bool send_buffer_full = false;
    send_chrono chrono = send_chrono::idle;
    time_point chrono_start{};
    std::uint64_t chrono_us[3] = {0, 0, 0};  // busy, rwnd_limited, sndbuf_limited: finished periods

    // ---- Hooks (the engine calls these; `now` is the caller's time) ---------------
    // A new open (or a passive open sent back to LISTEN): everything from zero.
    void start(time_point now) noexcept {
        *this = tcp_counters{};
        last_data_sent_ms = last_data_recv_ms = last_ack_recv_ms = detail::ms32(now);
        chrono_start = now;
    }
    // Our SYN is acknowledged: it is delivered, and the idle times start
    // (Linux stamps them when the connection is established).
    void on_established(time_point now) noexcept {
        ++delivered;
        last_data_sent_ms = last_data_recv_ms = detail::ms32(now);
    }
    void on_segment_sent(time_point now, const sent_segment& s) noexcept {
        ++segs_out;
        if (s.payload != 0) {
            ++data_segs_out;
            bytes_sent += s.payload;
            last_data_sent_ms = detail::ms32(now);
        }
        if (s.retransmission) {
            ++total_retrans;
            bytes_retrans += s.payload;
        }
    }
    void on_segment_received(std::size_t payload) noexcept {
        ++segs_in;
        if (payload != 0) ++data_segs_in;
    }
    // An accepted segment's data and FIN: `advance` is RCV.NXT's move,
    // `new_data` whether its payload held bytes not received before, and
    // `out_of_order` whether they lie beyond RCV.NXT.
    void on_received(time_point now, std::uint32_t advance, bool new_data, bool out_of_order) noexcept {
        bytes_received += advance;
        if (new_data) last_data_recv_ms = detail::ms32(now);
        if (out_of_order) ++rcv_ooopack;
    }
    // An acceptable ACK (SEG.ACK at or above SND.UNA).
    void on_ack_received(time_point now) noexcept { last_ack_recv_ms = detail::ms32(now); }
    // `acked`: SND.UNA's advance; `delivered_bytes`: sequence space newly
    // acknowledged or SACKed (the SYN excluded: on_established counts it).
    // Linux counts the segments themselves; without per-segment records the
    // engine counts segments' worth, rounded up, for each ACK: the same when
    // each ACK covers whole segments of SND.MSS bytes, or single segments.
    void on_acknowledged(std::uint32_t acked, std::uint32_t delivered_bytes, std::uint16_t mss) noexcept {
        bytes_acked += acked;
        if (delivered_bytes != 0 && mss != 0) delivered += (delivered_bytes + mss - 1u) / mss;
    }
    void on_dsack(std::uint32_t segments) noexcept { dsack_dups += segments; }
    // Linux's windowed minimum, kept to one sample: it gives way to a larger
    // one only when older than min_rtt_window_ms.
    void on_rtt_sample(time_point now, duration sample) noexcept {
        if (sample < duration::zero()) return;
        const auto us = static_cast<std::uint32_t>(std::min<std::int64_t>(sample.count(), 0xfffffffe));
        const std::uint32_t ms = detail::ms32(now);
        if (us <= min_rtt_us || ms - min_rtt_stamp_ms > min_rtt_window_ms) {
            min_rtt_us = us;
            min_rtt_stamp_ms = ms;
        }
    }
    // A retransmission timeout (SYN or data) that sends again; `first`: the
    // first of its episode (nothing timed out since the last progress).
    void on_rto(time_point now, bool first) noexcept {
        if (total_rto < 0xffff) ++total_rto;
        if (first && !in_rto_recovery) {
            if (total_rto_recoveries < 0xffff) ++total_rto_recoveries;
            in_rto_recovery = true;
            rto_start_ms = detail::ms32(now);
        }
    }
    // The RTO recovery is over (the connection is established and the data
    // outstanding at the timeout is acknowledged).
    void on_rto_recovered(time_point now) noexcept {
        if (!in_rto_recovery) return;
        total_rto_time_ms += detail::ms32(now) - rto_start_ms;
        in_rto_recovery = false;
    }
    [[nodiscard]] std::uint32_t rto_time_ms(time_point now) const noexcept {
        return total_rto_time_ms + (in_rto_recovery ? detail::ms32(now) - rto_start_ms : 0u);
    }
    // The application queued `taken` of the `offered` bytes.
    void on_queued(time_point now, std::size_t taken, std::size_t offered) noexcept {
        if (taken != 0) chrono_begin(now, send_chrono::busy);
        if (taken < offered) send_buffer_full = true;
    }

    // New data went out and nothing queued is left unsent (Linux's
    // tcp_cwnd_validate): a sender the send buffer held back is limited by it.
    void on_queue_drained(time_point now) noexcept {
        if (send_buffer_full) chrono_begin(now, send_chrono::sndbuf_limited);
    }
    // ACKs freed send-buffer space: `space` bytes are free, `queued` still
    // held. As Linux (sk_stream_is_writeable), the application may write
    // again once the free space is half what is queued.
    void on_space_freed(time_point now, std::uint32_t space, std::uint32_t queued, bool nothing_queued) noexcept {
        if (!send_buffer_full || space < queued / 2) return;
        send_buffer_full = false;
        chrono_end(now, send_chrono::sndbuf_limited, nothing_queued);
    }

    // Linux's tcp_chrono_start: a later state overrides an earlier one.
    void chrono_begin(time_point now, send_chrono c) noexcept {
        if (c > chrono) chrono_set(now, c);
    }
    // Linux's tcp_chrono_stop: with nothing queued or in flight the sender
    // is idle; otherwise ending the current state leaves it busy.
    void chrono_end(time_point now, send_chrono c, bool nothing_queued) noexcept {
        if (nothing_queued) chrono_set(now, send_chrono::idle);
        else if (c == chrono) chrono_set(now, send_chrono::busy);
    }
    void chrono_set(time_point now, send_chrono c) noexcept {
        if (chrono != send_chrono::idle && now > chrono_start)
            chrono_us[static_cast<int>(chrono) - 1] += static_cast<std::uint64_t>((now - chrono_start).count());
        chrono_start = now;
        chrono = c;
    }
    // Microseconds spent in state `c` up to `now`, the running period included.
    [[nodiscard]] std::uint64_t chrono_time_us(send_chrono c, time_point now) const noexcept {
        if (c == send_chrono::idle) return 0;
        std::uint64_t t = chrono_us[static_cast<int>(c) - 1];
        if (c == chrono && now > chrono_start) t += static_cast<std::uint64_t>((now - chrono_start).count());
        return t;
    }
};

template <class T>
concept counters_policy =
    std::default_initializable<T> && std::is_copy_assignable_v<T> &&
    std::same_as<std::remove_cv_t<decltype(T::enabled)>, bool> &&
    requires(T& t, time_point now, const sent_segment& s, duration d, std::size_t n,
                             std::uint32_t u, std::uint16_t mss, send_chrono c, bool b) {
        t.start(now);
        t.on_established(now);
        t.on_segment_sent(now, s);
        t.on_segment_received(n);
        t.on_received(now, u, b, b);
        t.on_ack_received(now);
        t.on_acknowledged(u, u, mss);
        t.on_dsack(u);
        t.on_rtt_sample(now, d);
        t.on_rto(now, b);
        t.on_rto_recovered(now);
        t.on_queued(now, n, n);
        t.on_queue_drained(now);
        t.on_space_freed(now, u, u, b);
        t.chrono_begin(now, c);
        t.chrono_end(now, c, b);
    };
static_assert(counters_policy<no_counters>);
static_assert(counters_policy<tcp_counters>);
static_assert(std::is_empty_v<no_counters>);

// A bundle's counters: its `counters` member, or none.
template <class P> struct bundle_counters : std::type_identity<no_counters> {};
template <class P> requires requires { typename P::counters; }
struct bundle_counters<P> : std::type_identity<typename P::counters> {};

// The bundle P with counting on: its connections carry tcp_counters.
template <class P>
struct with_counters : P {
    using counters = tcp_counters;
};

}  // namespace tcpcore
