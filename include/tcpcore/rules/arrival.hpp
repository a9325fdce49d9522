#pragma once
// What to do with an arriving segment (RFC 9293 §3.10.7 "SEGMENT ARRIVES",
// with RFC 5961's blind-attack defences and RFC 7323's PAWS), as one
// constexpr decision over facts the engine measures: the state, the flag
// byte, and where the segment's sequence number, ACK and RST fall.
//
// The decision covers the checks that come before the segment is processed:
// replies to segments for no connection, the handshake states, and the
// acceptability tests of the synchronized states. Its verdict `accept` hands
// the segment on to the engine's ACK, data and FIN processing, which changes
// state only through transitions.hpp.
//
// Where Linux and the RFCs differ, Linux is followed and the comment says so.

#include <tcpcore/rules/state.hpp>
#include <tcpcore/rules/transitions.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tcpcore {

// Where the segment's sequence number falls (RFC 9293 §3.10.7.4 first check,
// the four cases of segment length and window).
enum class seq_check : std::uint8_t {
    acceptable,
    unacceptable,
    // A SYN carrying the peer's initial sequence number again (SYN-RECEIVED):
    // a retransmitted SYN whose SYN,ACK was lost, or, with ACK, the peer's
    // SYN,ACK in a simultaneous open.
    syn_duplicate,
    // A SYN beyond RCV.NXT, or with a newer timestamp: the peer starts a new
    // incarnation of the connection (TIME-WAIT, RFC 6191 / RFC 1122 4.2.2.13).
    syn_newer,
};
inline constexpr std::size_t seq_check_count = 4;

// Where SEG.ACK falls. In SYN-SENT, acceptable means ISS < SEG.ACK =< SND.NXT;
// in SYN-RECEIVED SND.UNA < SEG.ACK =< SND.NXT; in the synchronized states
// SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT (RFC 5961 §5.2). Old and future
// are the two sides outside.
enum class ack_check : std::uint8_t { old, acceptable, future };
inline constexpr std::size_t ack_check_count = 3;

// Where a RST's sequence number falls (RFC 5961 §3.2).
enum class rst_check : std::uint8_t { exact, in_window, outside };
inline constexpr std::size_t rst_check_count = 3;

// RFC 7323 §5: whether the timestamp is older than TS.Recent.
enum class paws_check : std::uint8_t { ok, failed };
inline constexpr std::size_t paws_check_count = 2;

struct segment_facts {
    tcp_state state = tcp_state::closed;
    std::uint8_t flags = 0;
    seq_check seq = seq_check::acceptable;
    ack_check ack = ack_check::acceptable;
    rst_check rst = rst_check::exact;
    paws_check paws = paws_check::ok;
    // The connection reached SYN-RECEIVED from LISTEN (a RST returns it there).
    bool passive_open = false;
    // RFC 1337 protection: a RST does not end TIME-WAIT (Linux default: off).
    bool rfc1337 = false;
};

enum class reply_kind : std::uint8_t {
    none,
    rst,            // <SEQ=SEG.ACK><CTL=RST>
    rst_ack,        // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
    ack,            // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    challenge_ack,  // the same ACK, subject to the challenge-ACK rate limit (RFC 5961 §7)
    syn_ack,        // our SYN,ACK again
};

enum class verdict : std::uint8_t {
    drop,    // after the reply, nothing: no state or variable changes
    accept,  // apply `event` (if any), then the engine processes ACK, data and FIN
    reset,   // the connection ends by the peer's RST: apply `event`
    reopen,  // TIME-WAIT: a newer SYN may open a new connection (the endpoint's call)
};

// Why a segment was dropped; the endpoint counts each.
enum class drop_reason : std::uint8_t {
    none,
    illegal_flags,        // SYN with RST or FIN
    rst_ignored,          // a RST where nothing answers one (CLOSED, LISTEN)
    no_connection,        // CLOSED: answered with a RST
    ack_in_listen,        // LISTEN: answered with a RST
    not_a_syn,            // LISTEN: neither SYN, ACK nor RST
    unacceptable_ack,     // SYN-SENT / SYN-RECEIVED: ACK of something we did not send
    rst_unacceptable,     // SYN-SENT: RST without an acceptable ACK
    no_syn_or_rst,        // SYN-SENT: neither
    paws,                 // RFC 7323: an old timestamp
    out_of_window,        // sequence number outside the receive window
    rst_out_of_window,
    rst_not_exact,        // RFC 5961: in the window but not at RCV.NXT
    rst_in_time_wait,     // RFC 1337 protection
    syn_in_window,        // RFC 5961 §4: a SYN in a synchronized state
    duplicate_syn,        // SYN-RECEIVED: answered with the SYN,ACK again
    no_ack,               // no ACK bit in a synchronized state
    ack_too_old,          // RFC 5961 §5.2
    ack_of_unsent_data,   // SEG.ACK > SND.NXT
    time_wait_ack,        // TIME-WAIT: a bare segment at RCV.NXT restarts 2MSL, nothing else
};
inline constexpr std::size_t drop_reason_count = 20;

[[nodiscard]] constexpr std::string_view to_string(drop_reason r) noexcept {
    switch (r) {
        case drop_reason::none: return "none";
        case drop_reason::illegal_flags: return "SYN with RST or FIN";
        case drop_reason::rst_ignored: return "RST where none is answered";
        case drop_reason::no_connection: return "no connection";
        case drop_reason::ack_in_listen: return "ACK in LISTEN";
        case drop_reason::not_a_syn: return "not a SYN in LISTEN";
        case drop_reason::unacceptable_ack: return "unacceptable ACK";
        case drop_reason::rst_unacceptable: return "RST without acceptable ACK in SYN-SENT";
        case drop_reason::no_syn_or_rst: return "neither SYN nor RST in SYN-SENT";
        case drop_reason::paws: return "PAWS: old timestamp";
        case drop_reason::out_of_window: return "sequence number outside the window";
        case drop_reason::rst_out_of_window: return "RST outside the window";
        case drop_reason::rst_not_exact: return "RST in the window but not at RCV.NXT";
        case drop_reason::rst_in_time_wait: return "RST in TIME-WAIT (RFC 1337)";
        case drop_reason::syn_in_window: return "SYN in a synchronized state";
        case drop_reason::duplicate_syn: return "duplicate SYN";
        case drop_reason::no_ack: return "no ACK bit";
        case drop_reason::ack_too_old: return "ACK too old";
        case drop_reason::ack_of_unsent_data: return "ACK of unsent data";
        case drop_reason::time_wait_ack: return "bare segment in TIME-WAIT";
    }
    return "?";
}

struct arrival_decision {
    verdict action = verdict::drop;
    reply_kind reply = reply_kind::none;
    bool has_event = false;
    tcp_event event = tcp_event::rcv_syn;  // meaningful when has_event
    drop_reason reason = drop_reason::none;
    bool restart_time_wait = false;  // TIME-WAIT's 2MSL timer starts again

    friend constexpr bool operator==(const arrival_decision&, const arrival_decision&) noexcept = default;
};

namespace detail {
constexpr arrival_decision drop(reply_kind reply, drop_reason why, bool restart_tw = false) noexcept {
    return {verdict::drop, reply, false, tcp_event::rcv_syn, why, restart_tw};
}
constexpr arrival_decision accept() noexcept { return {verdict::accept, reply_kind::none, false, tcp_event::rcv_syn, drop_reason::none, false}; }
constexpr arrival_decision accept(tcp_event e) noexcept { return {verdict::accept, reply_kind::none, true, e, drop_reason::none, false}; }
constexpr arrival_decision reset(tcp_event e) noexcept { return {verdict::reset, reply_kind::none, true, e, drop_reason::none, false}; }
}  // namespace detail

// The only flag bits any rule reads; URG, PSH, ECE and CWR never change what
// happens to a segment before processing.
inline constexpr std::uint8_t arrival_relevant_flags =
    tcp_flags::syn | tcp_flags::ack | tcp_flags::rst | tcp_flags::fin;

[[nodiscard]] constexpr arrival_decision decide_arrival(const segment_facts& f) noexcept {
    using detail::drop;
    // Everything below reads flags only through `fl`, so the 16 classes of
    // these four bits stand for all 256 flag bytes (the proofs rely on it).
    const tcp_flags fl{static_cast<std::uint8_t>(f.flags & arrival_relevant_flags)};
    const bool syn = fl.syn_set(), ack = fl.ack_set(), rst = fl.rst_set();

    // No state gives SYN+RST or SYN+FIN a meaning (the parser rejects them
    // too; the rule stands on its own for segments that bypass it).
    if (is_illegal_flag_combination(fl)) return drop(reply_kind::none, drop_reason::illegal_flags);

    switch (f.state) {
        case tcp_state::closed:  // §3.10.7.1
            if (rst) return drop(reply_kind::none, drop_reason::rst_ignored);
            if (!ack) return drop(reply_kind::rst_ack, drop_reason::no_connection);
            return drop(reply_kind::rst, drop_reason::no_connection);

        case tcp_state::listen:  // §3.10.7.2
            if (rst) return drop(reply_kind::none, drop_reason::rst_ignored);
            if (ack) return drop(reply_kind::rst, drop_reason::ack_in_listen);
            if (syn) return detail::accept(tcp_event::rcv_syn);
            return drop(reply_kind::none, drop_reason::not_a_syn);

        case tcp_state::syn_sent:  // §3.10.7.3
            if (ack && f.ack != ack_check::acceptable)
                return drop(rst ? reply_kind::none : reply_kind::rst, drop_reason::unacceptable_ack);
            if (rst) {
                // RFC 5961 §3.2 in SYN-SENT: a RST is acceptable only with an
                // ACK of our SYN.
                if (ack) return detail::reset(tcp_event::rcv_rst);
                return drop(reply_kind::none, drop_reason::rst_unacceptable);
            }
            if (syn) return detail::accept(ack ? tcp_event::rcv_syn_ack : tcp_event::rcv_syn);
            return drop(reply_kind::none, drop_reason::no_syn_or_rst);

        case tcp_state::time_wait: {
            // RFC 9293 leaves the details open; these are Linux's
            // (tcp_timewait_state_process). The receive window is RCV.NXT
            // alone: a segment there that occupies no sequence space, or a
            // RST there, is "in window".
            const bool paws_ok = f.paws == paws_check::ok;
            if (rst) {
                if (paws_ok && f.rst == rst_check::exact)
                    return f.rfc1337 ? drop(reply_kind::none, drop_reason::rst_in_time_wait)
                                     : detail::reset(tcp_event::rcv_rst);
                return drop(reply_kind::none, paws_ok ? drop_reason::rst_out_of_window : drop_reason::paws);
            }
            // A bare segment at RCV.NXT restarts 2MSL, unanswered, whatever its ACK.
            if (paws_ok && f.seq == seq_check::acceptable) return drop(reply_kind::none, drop_reason::time_wait_ack, true);
            if (syn && !ack && paws_ok && f.seq == seq_check::syn_newer)
                return {verdict::reopen, reply_kind::none, false, tcp_event::rcv_syn, drop_reason::none, false};
            // Everything else is ACKed. Only segments with ACK (or a failed
            // PAWS test) restart 2MSL: an ACK-less SYN may be an old duplicate.
            if (!paws_ok) return drop(reply_kind::ack, drop_reason::paws, true);
            if (syn) return drop(reply_kind::challenge_ack, drop_reason::syn_in_window, ack);
            return drop(reply_kind::ack, drop_reason::out_of_window, ack);
        }

        default:
            break;
    }

    // SYN-RECEIVED and the synchronized states but TIME-WAIT (§3.10.7.4).

    // RFC 7323 §5.3 R1: PAWS before the window test; a RST is exempt.
    if (f.paws == paws_check::failed && !rst) return drop(reply_kind::ack, drop_reason::paws);

    // Linux answers the peer's retransmitted SYN with the SYN,ACK again
    // (tcp_check_req) rather than a bare challenge ACK the peer in SYN-SENT
    // would drop.
    if (syn && !ack && f.state == tcp_state::syn_received && f.seq == seq_check::syn_duplicate)
        return drop(reply_kind::syn_ack, drop_reason::duplicate_syn);
    // Simultaneous open: in SYN-RECEIVED the peer's SYN,ACK carries its ISN
    // again and acknowledges our SYN; it completes the handshake (Linux,
    // RFC 5961 §4.2) where the window test alone would reject it.
    if (syn && ack && f.state == tcp_state::syn_received && f.seq == seq_check::syn_duplicate &&
        f.ack == ack_check::acceptable)
        return detail::accept(tcp_event::rcv_ack_of_syn);
    // Linux (tcp_check_req): in a passive SYN-RECEIVED, a segment whose ACK
    // is not for our SYN goes to the listener, which answers <SEQ=SEG.ACK>
    // <CTL=RST> (RFC 9293's fifth check, taken first) and ignores a RST.
    if (f.state == tcp_state::syn_received && f.passive_open && ack && f.ack != ack_check::acceptable)
        return drop(rst ? reply_kind::none : reply_kind::rst, drop_reason::unacceptable_ack);

    // First: the sequence number.
    if (f.seq != seq_check::acceptable) {
        if (rst) return drop(reply_kind::none, drop_reason::rst_out_of_window);
        if (syn) return drop(reply_kind::challenge_ack, drop_reason::syn_in_window);
        return drop(reply_kind::ack, drop_reason::out_of_window);
    }

    // Second: RST (RFC 5961 §3.2).
    if (rst) {
        switch (f.rst) {
            case rst_check::exact:
                return detail::reset(f.state == tcp_state::syn_received && f.passive_open ? tcp_event::rcv_rst_passive
                                                                                          : tcp_event::rcv_rst);
            case rst_check::in_window: return drop(reply_kind::challenge_ack, drop_reason::rst_not_exact);
            case rst_check::outside: return drop(reply_kind::none, drop_reason::rst_out_of_window);
        }
    }

    // Fourth: SYN. A passive SYN-RECEIVED goes back to LISTEN (§3.10.7.4);
    // Linux (tcp_check_req) drops the request and answers with a RST.
    if (syn && f.state == tcp_state::syn_received && f.passive_open)
        return {verdict::reset, ack ? reply_kind::rst : reply_kind::rst_ack, true, tcp_event::rcv_rst_passive,
                drop_reason::none, false};
    // Elsewhere a challenge ACK (RFC 5961 §4: whatever its sequence number).
    if (syn) return drop(reply_kind::challenge_ack, drop_reason::syn_in_window);

    // Fifth: ACK.
    if (!ack) return drop(reply_kind::none, drop_reason::no_ack);
    if (f.state == tcp_state::syn_received) {
        if (f.ack == ack_check::acceptable) return detail::accept(tcp_event::rcv_ack_of_syn);
        return drop(reply_kind::rst, drop_reason::unacceptable_ack);
    }
    if (f.ack == ack_check::old) return drop(reply_kind::challenge_ack, drop_reason::ack_too_old);
    if (f.ack == ack_check::future) return drop(reply_kind::challenge_ack, drop_reason::ack_of_unsent_data);
    return detail::accept();
}

// The exhaustive proofs of these rules live in arrival_proofs.hpp: they take
// a few seconds of compile time, which tcpcore's own test build pays once so
// that every other translation unit does not. A few spot checks stay here.
static_assert(decide_arrival({tcp_state::closed, tcp_flags::syn}).reply == reply_kind::rst_ack,
              "docs/behaviour.md section 2.3: a SYN to a closed port gets RST|ACK seq=0 ack=SEG.SEQ+1");
static_assert(decide_arrival({tcp_state::listen, tcp_flags::ack}).reply == reply_kind::rst,
              "docs/behaviour.md section 2.3: an ACK in LISTEN gets RST seq=SEG.ACK");
static_assert(decide_arrival({tcp_state::established, tcp_flags::rst, seq_check::acceptable, ack_check::acceptable,
                              rst_check::in_window})
                      .reply == reply_kind::challenge_ack,
              "RFC 5961: an in-window RST not at RCV.NXT gets a challenge ACK");

}  // namespace tcpcore
