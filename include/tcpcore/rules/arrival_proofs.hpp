#pragma once
// Exhaustive compile-time proofs of the segment-arrival rules (arrival.hpp).
// Including this header re-runs them: about 2 s with g++ 12 and 6 s with
// clang 14, which is why arrival.hpp does not include it. tcpcore's test
// build includes it (tests/rules/rules_proofs.cpp).

#include <tcpcore/rules/arrival.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace tcpcore {

// ---------------------------------------------------------------------------
// Proofs over the whole domain the decision reads: 11 states x the 16 classes
// of SYN/ACK/RST/FIN (which stand for all 256 flag bytes, since
// decide_arrival masks the byte first; a check below confirms it byte by
// byte) x every sequence, ACK, RST and PAWS position x both context flags.
// One static_assert per state keeps each constant expression well inside the
// compilers' step limits. A failed proof names the first failing facts:
//   "incomplete type 'arrival_problem::rule_broken_for<{tcp_state::..., ...}>'".
// tests/rules/arrival_test.cpp also walks the full 256-byte domain at run time.

namespace arrival_proof {

inline constexpr std::size_t flag_class_count = 16;

constexpr std::uint8_t flag_class(std::size_t c) noexcept {
    constexpr std::uint8_t bits[4] = {tcp_flags::fin, tcp_flags::syn, tcp_flags::rst, tcp_flags::ack};
    std::uint8_t f = 0;
    for (std::size_t i = 0; i < 4; ++i)
        if (c & (std::size_t{1} << i)) f = static_cast<std::uint8_t>(f | bits[i]);
    return f;
}

// Calls pred(facts, decision) over the domain for state s with the given
// flag bytes; returns the first facts for which pred is false.
template <class Flags, class Pred>
constexpr std::optional<segment_facts> first_counterexample(tcp_state s, Flags flag_values, Pred pred) {
    for (std::uint8_t flags : flag_values)
        for (std::size_t q = 0; q < seq_check_count; ++q)
            for (std::size_t a = 0; a < ack_check_count; ++a)
                for (std::size_t r = 0; r < rst_check_count; ++r)
                    for (std::size_t p = 0; p < paws_check_count; ++p)
                        for (unsigned ctx = 0; ctx < 4; ++ctx) {
                            const segment_facts f{s,
                                                  flags,
                                                  static_cast<seq_check>(q),
                                                  static_cast<ack_check>(a),
                                                  static_cast<rst_check>(r),
                                                  static_cast<paws_check>(p),
                                                  (ctx & 1u) != 0,
                                                  (ctx & 2u) != 0};
                            if (!pred(f, decide_arrival(f))) return f;
                        }
    return std::nullopt;
}

constexpr std::array<std::uint8_t, flag_class_count> flag_classes = [] {
    std::array<std::uint8_t, flag_class_count> a{};
    for (std::size_t c = 0; c < flag_class_count; ++c) a[c] = flag_class(c);
    return a;
}();

constexpr std::array<std::uint8_t, 256> all_flag_bytes = [] {
    std::array<std::uint8_t, 256> a{};
    for (std::size_t i = 0; i < 256; ++i) a[i] = static_cast<std::uint8_t>(i);
    return a;
}();

constexpr bool is_synchronized_or_syn_received(tcp_state s) {
    return is_synchronized(s) || s == tcp_state::syn_received;
}

// The properties every decision has, whatever the state.
constexpr bool well_formed(const segment_facts& f, const arrival_decision& d) {
    const tcp_flags fl{f.flags};
    // A RST is never answered with a RST (RFC 9293 §3.5.2); the only reply a
    // RST ever gets is RFC 5961's rate-limited challenge ACK.
    if (fl.rst_set() && d.reply != reply_kind::none && d.reply != reply_kind::challenge_ack) return false;
    // SYN+RST and SYN+FIN: dropped, unanswered.
    if (is_illegal_flag_combination(fl) &&
        (d.action != verdict::drop || d.reply != reply_kind::none || d.reason != drop_reason::illegal_flags))
        return false;
    // A drop always says why; nothing else claims a drop reason.
    if ((d.action == verdict::drop) != (d.reason != drop_reason::none)) return false;
    // A reset ends the connection through a RST row of the table.
    if (d.action == verdict::reset) {
        if (!d.has_event || (d.event != tcp_event::rcv_rst && d.event != tcp_event::rcv_rst_passive)) return false;
    }
    // Every event the decision names is a row of the transition table.
    if (d.has_event && !has_transition(f.state, d.event)) return false;
    // Only TIME-WAIT has a 2MSL timer to restart or a new incarnation to open.
    if ((d.restart_time_wait || d.action == verdict::reopen) && f.state != tcp_state::time_wait) return false;
    // The PAWS reply is an ACK and the segment goes no further (non-RST).
    if (f.paws == paws_check::failed && is_synchronized_or_syn_received(f.state) && !fl.rst_set() &&
        !is_illegal_flag_combination(fl) && (d.action != verdict::drop || d.reply != reply_kind::ack))
        return false;
    return true;
}

// The replies of docs/behaviour.md §2.3 (those it marks measured on Linux 6.18), and RFC 9293 / 5961 rules.
constexpr bool spec_replies(const segment_facts& f, const arrival_decision& d) {
    const tcp_flags fl{f.flags};
    if (is_illegal_flag_combination(fl)) return true;
    const bool syn = fl.syn_set(), ack = fl.ack_set(), rst = fl.rst_set();
    switch (f.state) {
        case tcp_state::closed:
            // SYN to a closed port: RST|ACK seq=0 ack=SEG.SEQ+1; with ACK: RST
            // seq=SEG.ACK; a RST: nothing.
            if (rst) return d.reply == reply_kind::none && d.action == verdict::drop;
            if (!ack) return d.reply == reply_kind::rst_ack && d.action == verdict::drop;
            return d.reply == reply_kind::rst && d.action == verdict::drop;
        case tcp_state::listen:
            if (rst) return d.reply == reply_kind::none && d.action == verdict::drop;  // RST ignored
            if (ack) return d.reply == reply_kind::rst && d.action == verdict::drop;   // RST seq=SEG.ACK
            if (syn) return d.action == verdict::accept && d.event == tcp_event::rcv_syn;
            return d.action == verdict::drop;
        case tcp_state::syn_sent:
            // An ACK that does not acknowledge our SYN: RST seq=SEG.ACK (old
            // duplicate SYN defence, docs/behaviour.md §2.2).
            if (ack && !rst && f.ack != ack_check::acceptable) return d.reply == reply_kind::rst;
            if (syn && ack && f.ack != ack_check::acceptable) return d.action == verdict::drop;
            if (syn && !ack) return d.action == verdict::accept && d.event == tcp_event::rcv_syn;
            return true;
        default:
            break;
    }
    if (f.state == tcp_state::time_wait) {
        // Linux's TIME-WAIT (tcp_timewait_state_process; the re-ACK of a
        // retransmitted FIN measured on 6.18). A RST at RCV.NXT ends it
        // unless RFC 1337 protection is on; any other RST is dropped.
        const bool paws_ok = f.paws == paws_check::ok;
        if (rst) {
            if (paws_ok && f.rst == rst_check::exact && !f.rfc1337) return d.action == verdict::reset;
            return d.action == verdict::drop && d.reply == reply_kind::none && !d.restart_time_wait;
        }
        // A bare segment at RCV.NXT: 2MSL again, in silence.
        if (paws_ok && f.seq == seq_check::acceptable)
            return d.action == verdict::drop && d.reply == reply_kind::none && d.restart_time_wait;
        // A newer SYN may open a new incarnation.
        if (syn && !ack && paws_ok && f.seq == seq_check::syn_newer) return d.action == verdict::reopen;
        // The rest (a retransmitted FIN among them) is ACKed; 2MSL starts
        // again for segments with ACK or an old timestamp.
        return d.action == verdict::drop && (d.reply == reply_kind::ack || d.reply == reply_kind::challenge_ack) &&
               d.restart_time_wait == (ack || !paws_ok);
    }
    if (f.paws == paws_check::failed) return true;  // covered by well_formed
    // A passive SYN-RECEIVED answers an ACK of anything but its SYN as
    // Linux's listener does: RST seq=SEG.ACK, and nothing to a RST.
    if (f.state == tcp_state::syn_received && f.passive_open && ack && f.ack != ack_check::acceptable)
        return d.action == verdict::drop && d.reply == (rst ? reply_kind::none : reply_kind::rst);
    if (rst && f.seq == seq_check::acceptable) {
        // RFC 5961 §3.2, measured: exact resets, in-window challenges,
        // outside is silently dropped.
        if (f.rst == rst_check::exact) return d.action == verdict::reset;
        if (f.rst == rst_check::in_window) return d.reply == reply_kind::challenge_ack && d.action == verdict::drop;
        return d.reply == reply_kind::none && d.action == verdict::drop;
    }
    if (rst && f.seq != seq_check::acceptable) return d.reply == reply_kind::none && d.action == verdict::drop;
    // A SYN in a synchronized state: challenge ACK, nothing changes.
    if (syn && is_synchronized(f.state)) return d.reply == reply_kind::challenge_ack && d.action == verdict::drop;
    // A SYN in the window of a passive SYN-RECEIVED sends it back to LISTEN
    // (§3.10.7.4 fourth) with Linux's RST.
    if (syn && f.state == tcp_state::syn_received && f.passive_open && f.seq == seq_check::acceptable)
        return d.action == verdict::reset && d.event == tcp_event::rcv_rst_passive &&
               d.reply == (ack ? reply_kind::rst : reply_kind::rst_ack);
    // An unacceptable non-RST segment is answered with an ACK (§3.10.7.4).
    if (!syn && f.seq == seq_check::unacceptable) return d.reply == reply_kind::ack && d.action == verdict::drop;
    return true;
}

constexpr bool rules_hold(const segment_facts& f, const arrival_decision& d) {
    return well_formed(f, d) && spec_replies(f, d);
}

}  // namespace arrival_proof

namespace arrival_problem {
template <segment_facts F>
struct rule_broken_for;  // never defined: instantiated only to name failing facts
}  // namespace arrival_problem

namespace detail {
template <tcp_state S>
consteval bool arrival_rules_hold_in() {
    constexpr auto bad = arrival_proof::first_counterexample(S, arrival_proof::flag_classes, arrival_proof::rules_hold);
    if constexpr (bad.has_value()) {
        return arrival_problem::rule_broken_for<*bad>::value;
    } else {
        return true;
    }
}

// The masking claim, byte by byte: every one of the 256 flag bytes decides
// as its class does (in every state, with the default positions).
consteval bool flag_bytes_decide_as_their_class() {
    for (tcp_state s : all_tcp_states)
        for (unsigned b = 0; b < 256; ++b) {
            segment_facts f{};
            f.state = s;
            f.flags = static_cast<std::uint8_t>(b);
            segment_facts g = f;
            g.flags = static_cast<std::uint8_t>(b & arrival_relevant_flags);
            if (!(decide_arrival(f) == decide_arrival(g))) return false;
        }
    return true;
}
}  // namespace detail

static_assert(detail::arrival_rules_hold_in<tcp_state::closed>());
static_assert(detail::arrival_rules_hold_in<tcp_state::listen>());
static_assert(detail::arrival_rules_hold_in<tcp_state::syn_sent>());
static_assert(detail::arrival_rules_hold_in<tcp_state::syn_received>());
static_assert(detail::arrival_rules_hold_in<tcp_state::established>());
static_assert(detail::arrival_rules_hold_in<tcp_state::fin_wait_1>());
static_assert(detail::arrival_rules_hold_in<tcp_state::fin_wait_2>());
static_assert(detail::arrival_rules_hold_in<tcp_state::close_wait>());
static_assert(detail::arrival_rules_hold_in<tcp_state::closing>());
static_assert(detail::arrival_rules_hold_in<tcp_state::last_ack>());
static_assert(detail::arrival_rules_hold_in<tcp_state::time_wait>());
static_assert(detail::flag_bytes_decide_as_their_class());

}  // namespace tcpcore
