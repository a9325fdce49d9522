#pragma once
// Measuring an arriving segment against the connection's variables: the
// facts the arrival rules (rules/arrival.hpp, decide_arrival) decide on, and
// the addressing check before them. Stateless: the connection passes the few
// variables the measurement reads (arrival_inputs), and acts on the decision
// itself.

#include <tcpcore/engine/control.hpp>
#include <tcpcore/rules/arrival.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <cstdint>
#include <system_error>

namespace tcpcore::detail {

// What the measurement reads of the connection.
struct arrival_inputs {
    tcp_state state;
    std::uint32_t flags;
    bool rfc1337;
    seq32 rcv_nxt;
    std::uint32_t rcv_wnd;  // the window advertised now
    std::uint32_t ts_recent;
    seq32 snd_una, snd_nxt;
    std::uint32_t max_snd_wnd;

    [[nodiscard]] std::uint32_t acceptance_window() const noexcept {
        return state == tcp_state::time_wait ? 0 : rcv_wnd;  // Linux: only RCV.NXT itself is "in" TIME-WAIT
    }
};

// Whether a segment is for this connection: its local port and address, and
// once the peer is bound, the peer's.
[[nodiscard]] inline bool addressed_to(const four_tuple& tuple, std::uint32_t flags, const tcp_segment_view& seg,
                                       const ip_address& src, const ip_address& dst) noexcept {
    if (seg.dst_port() != tuple.local.port) return false;
    if (tuple.local.address != ip_address{} && dst != tuple.local.address) return false;
    if (flags & flag::bound_remote) return seg.src_port() == tuple.remote.port && src == tuple.remote.address;
    return true;
}

// RFC 6191 / Linux tcp_timewait_state_process: a SYN may start a new
// incarnation when it lies beyond RCV.NXT or carries a newer timestamp.
[[nodiscard]] inline bool syn_is_newer(const tcp_segment_view& seg, const arrival_inputs& in) noexcept {
    if (in.rcv_nxt < seg.seq()) return true;
    const auto& ts = seg.options().timestamps;
    return (in.flags & flag::ts_recent) && ts && static_cast<std::int32_t>(ts->value - in.ts_recent) > 0;
}

// The facts the arrival rules decide on (RFC 9293 §3.10.7.4, RFC 5961,
// RFC 7323).
[[nodiscard]] inline segment_facts measure_arrival(const tcp_segment_view& seg, const arrival_inputs& in) noexcept {
    segment_facts f;
    f.state = in.state;
    f.flags = seg.flags().bits();
    f.passive_open = (in.flags & flag::passive) != 0;
    f.rfc1337 = in.rfc1337;
    const tcp_flags fl = seg.flags();
    const seq32 seq = seg.seq();
    const bool synchronizing = in.state != tcp_state::closed && in.state != tcp_state::listen &&
                               in.state != tcp_state::syn_sent;

    if (synchronizing) {
        const std::uint32_t len = seg.sequence_length();
        const std::uint32_t wnd = in.acceptance_window();
        if (fl.syn_set() && in.state == tcp_state::syn_received && seq == in.rcv_nxt - 1) {
            f.seq = seq_check::syn_duplicate;
        } else if (fl.syn_set() && in.state == tcp_state::time_wait && syn_is_newer(seg, in)) {
            f.seq = seq_check::syn_newer;
        } else {
            bool ok;
            if (len == 0) ok = wnd == 0 ? seq == in.rcv_nxt : seq_in_window(seq, in.rcv_nxt, wnd);
            else
                ok = wnd != 0 && (seq_in_window(seq, in.rcv_nxt, wnd) || seq_in_window(seq + (len - 1), in.rcv_nxt, wnd));
            f.seq = ok ? seq_check::acceptable : seq_check::unacceptable;
        }
        if (fl.rst_set()) {
            if (seq == in.rcv_nxt) f.rst = rst_check::exact;
            else if (wnd != 0 && seq_in_window(seq, in.rcv_nxt, wnd)) f.rst = rst_check::in_window;
            else f.rst = rst_check::outside;
        }
        if ((in.flags & flag::ts) && (in.flags & flag::ts_recent) && seg.options().timestamps &&
            static_cast<std::int32_t>(seg.options().timestamps->value - in.ts_recent) < 0)
            f.paws = paws_check::failed;
    }

    if (fl.ack_set()) {
        const seq32 ack = seg.ack();
        if (in.state == tcp_state::syn_sent || in.state == tcp_state::syn_received) {
            // Acceptable: it acknowledges our SYN and nothing beyond SND.NXT.
            f.ack = in.snd_una < ack && ack <= in.snd_nxt ? ack_check::acceptable
                    : ack <= in.snd_una                ? ack_check::old
                                                     : ack_check::future;
        } else if (synchronizing) {
            if (in.snd_nxt < ack) f.ack = ack_check::future;
            else if (ack < in.snd_una - in.max_snd_wnd) f.ack = ack_check::old;  // RFC 5961 §5.2
            else f.ack = ack_check::acceptable;
        }
    }
    return f;
}

[[nodiscard]] inline std::errc reset_error(tcp_state state) noexcept {
    // Linux tcp_reset: refused in SYN-SENT, a broken pipe in CLOSE-WAIT,
    // reset elsewhere.
    if (state == tcp_state::syn_sent) return std::errc::connection_refused;
    if (state == tcp_state::close_wait) return std::errc::broken_pipe;
    // RFC 9293 §3.10.7.4: in TIME-WAIT the application closed cleanly
    // long ago; Linux kills the timewait socket without telling anyone.
    if (state == tcp_state::time_wait) return std::errc{};
    return std::errc::connection_reset;
}

}  // namespace tcpcore::detail
