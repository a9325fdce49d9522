#include <tcpcore/rules/arrival.hpp>

#include <catch2/catch.hpp>

using namespace tcpcore;

namespace {
constexpr std::uint8_t S = tcp_flags::syn, A = tcp_flags::ack, R = tcp_flags::rst, F = tcp_flags::fin,
                       P = tcp_flags::psh;

arrival_decision in(tcp_state s, std::uint8_t flags, seq_check q = seq_check::acceptable,
                    ack_check a = ack_check::acceptable, rst_check r = rst_check::exact,
                    paws_check p = paws_check::ok, bool passive = false, bool rfc1337 = false) {
    return decide_arrival({s, flags, q, a, r, p, passive, rfc1337});
}
}  // namespace

TEST_CASE("arrival: the decision is defined for every fact, all 256 flag bytes included") {
    // The compile-time proofs (arrival_proofs.hpp) walk the 16 flag classes;
    // this walks every byte, and checks each against its class.
    std::size_t facts = 0;
    for (tcp_state s : all_tcp_states)
        for (unsigned flags = 0; flags < 256; ++flags)
            for (std::size_t q = 0; q < seq_check_count; ++q)
                for (std::size_t a = 0; a < ack_check_count; ++a)
                    for (std::size_t r = 0; r < rst_check_count; ++r)
                        for (std::size_t p = 0; p < paws_check_count; ++p)
                            for (unsigned ctx = 0; ctx < 4; ++ctx) {
                                segment_facts f{s, static_cast<std::uint8_t>(flags), static_cast<seq_check>(q),
                                                static_cast<ack_check>(a), static_cast<rst_check>(r),
                                                static_cast<paws_check>(p), (ctx & 1u) != 0, (ctx & 2u) != 0};
                                const auto d = decide_arrival(f);
                                segment_facts g = f;
                                g.flags = static_cast<std::uint8_t>(flags & arrival_relevant_flags);
                                if (!(d == decide_arrival(g))) FAIL("flag byte decides unlike its class");
                                // Never a RST for a RST; a drop always has a reason.
                                if ((flags & R) && (d.reply == reply_kind::rst || d.reply == reply_kind::rst_ack))
                                    FAIL("RST answered with RST");
                                if ((d.action == verdict::drop) != (d.reason != drop_reason::none))
                                    FAIL("drop without reason, or reason without drop");
                                if (d.has_event && lookup_transition(s, d.event) == nullptr)
                                    FAIL("decision names an event with no row");
                                ++facts;
                            }
    CHECK(facts == 11u * 256 * 4 * 3 * 3 * 2 * 4);
}

TEST_CASE("CLOSED: replies as Linux 6.18 measured") {
    CHECK(in(tcp_state::closed, S).reply == reply_kind::rst_ack);       // RST|ACK seq=0 ack=SEG.SEQ+1
    CHECK(in(tcp_state::closed, A).reply == reply_kind::rst);           // RST seq=SEG.ACK
    CHECK(in(tcp_state::closed, F | A).reply == reply_kind::rst);
    CHECK(in(tcp_state::closed, P | A).reply == reply_kind::rst);
    CHECK(in(tcp_state::closed, R).reply == reply_kind::none);          // a RST gets nothing
    CHECK(in(tcp_state::closed, R | A).reply == reply_kind::none);
    CHECK(in(tcp_state::closed, F).reply == reply_kind::rst_ack);       // no ACK: RST|ACK
    CHECK(in(tcp_state::closed, S).action == verdict::drop);
}

TEST_CASE("LISTEN: RST ignored, ACK answered with RST seq=SEG.ACK, SYN accepted") {
    CHECK(in(tcp_state::listen, R).reply == reply_kind::none);
    CHECK(in(tcp_state::listen, R).reason == drop_reason::rst_ignored);
    CHECK(in(tcp_state::listen, A).reply == reply_kind::rst);
    CHECK(in(tcp_state::listen, S | A).reply == reply_kind::rst);
    const auto d = in(tcp_state::listen, S);
    CHECK(d.action == verdict::accept);
    CHECK(d.has_event);
    CHECK(d.event == tcp_event::rcv_syn);
    CHECK(in(tcp_state::listen, F).reason == drop_reason::not_a_syn);
    CHECK(in(tcp_state::listen, S | R).reason == drop_reason::illegal_flags);
    CHECK(in(tcp_state::listen, S | F).reason == drop_reason::illegal_flags);
}

TEST_CASE("SYN-SENT: old duplicate defence and simultaneous open") {
    // An ACK for an older attempt: RST seq=SEG.ACK, and the handshake does
    // not complete (docs/behaviour.md §2.2, old duplicate SYNs).
    CHECK(in(tcp_state::syn_sent, S | A, seq_check::acceptable, ack_check::old).reply == reply_kind::rst);
    CHECK(in(tcp_state::syn_sent, S | A, seq_check::acceptable, ack_check::old).action == verdict::drop);
    CHECK(in(tcp_state::syn_sent, A, seq_check::acceptable, ack_check::future).reply == reply_kind::rst);
    // ... but a RST with that bad ACK is dropped quietly.
    CHECK(in(tcp_state::syn_sent, R | A, seq_check::acceptable, ack_check::old).reply == reply_kind::none);
    // RST with an acceptable ACK: refused; without ACK: ignored (RFC 5961 §3.2).
    CHECK(in(tcp_state::syn_sent, R | A).action == verdict::reset);
    CHECK(in(tcp_state::syn_sent, R).action == verdict::drop);
    CHECK(in(tcp_state::syn_sent, S | A).event == tcp_event::rcv_syn_ack);
    CHECK(in(tcp_state::syn_sent, S).event == tcp_event::rcv_syn);
    CHECK(in(tcp_state::syn_sent, A).reason == drop_reason::no_syn_or_rst);
}

TEST_CASE("ESTABLISHED: RFC 5961 for RST and SYN, as Linux 6.18 measured") {
    const auto exact = in(tcp_state::established, R, seq_check::acceptable, ack_check::acceptable, rst_check::exact);
    CHECK(exact.action == verdict::reset);
    CHECK(exact.event == tcp_event::rcv_rst);
    const auto in_window =
        in(tcp_state::established, R, seq_check::acceptable, ack_check::acceptable, rst_check::in_window);
    CHECK(in_window.action == verdict::drop);
    CHECK(in_window.reply == reply_kind::challenge_ack);
    const auto outside = in(tcp_state::established, R, seq_check::unacceptable);
    CHECK(outside.action == verdict::drop);
    CHECK(outside.reply == reply_kind::none);
    for (auto q : {seq_check::acceptable, seq_check::unacceptable}) {
        const auto syn = in(tcp_state::established, S, q);
        CHECK(syn.reply == reply_kind::challenge_ack);
        CHECK(syn.action == verdict::drop);
    }
    CHECK(in(tcp_state::established, A).action == verdict::accept);
    CHECK(in(tcp_state::established, P | A, seq_check::unacceptable).reply == reply_kind::ack);
    CHECK(in(tcp_state::established, P).reason == drop_reason::no_ack);
    CHECK(in(tcp_state::established, A, seq_check::acceptable, ack_check::future).reply == reply_kind::challenge_ack);
    CHECK(in(tcp_state::established, A, seq_check::acceptable, ack_check::old).reply == reply_kind::challenge_ack);
    // PAWS: ACK and drop, but a RST is exempt.
    CHECK(in(tcp_state::established, A, seq_check::acceptable, ack_check::acceptable, rst_check::exact,
             paws_check::failed)
              .reply == reply_kind::ack);
    CHECK(in(tcp_state::established, R, seq_check::acceptable, ack_check::acceptable, rst_check::exact,
             paws_check::failed)
              .action == verdict::reset);
}

TEST_CASE("SYN-RECEIVED: RST returns a passive open to LISTEN, duplicate SYN gets the SYN,ACK again") {
    CHECK(in(tcp_state::syn_received, R, seq_check::acceptable, ack_check::acceptable, rst_check::exact,
             paws_check::ok, true)
              .event == tcp_event::rcv_rst_passive);
    CHECK(in(tcp_state::syn_received, R).event == tcp_event::rcv_rst);
    CHECK(in(tcp_state::syn_received, S, seq_check::syn_duplicate).reply == reply_kind::syn_ack);
    CHECK(in(tcp_state::syn_received, A).event == tcp_event::rcv_ack_of_syn);
    CHECK(in(tcp_state::syn_received, A, seq_check::acceptable, ack_check::future).reply == reply_kind::rst);
}

TEST_CASE("TIME-WAIT: FIN re-ACKed with 2MSL restart, RST per RFC 1337 setting, newer SYN reopens") {
    const auto fin = in(tcp_state::time_wait, F | A, seq_check::unacceptable);
    CHECK(fin.reply == reply_kind::ack);
    CHECK(fin.restart_time_wait);
    CHECK(in(tcp_state::time_wait, R).action == verdict::reset);  // Linux default: RST ends TIME-WAIT
    const auto protected_tw = in(tcp_state::time_wait, R, seq_check::acceptable, ack_check::acceptable,
                                 rst_check::exact, paws_check::ok, false, true);
    CHECK(protected_tw.action == verdict::drop);
    CHECK(protected_tw.reason == drop_reason::rst_in_time_wait);
    CHECK(in(tcp_state::time_wait, S, seq_check::syn_newer).action == verdict::reopen);
    CHECK(in(tcp_state::time_wait, S, seq_check::unacceptable).reply == reply_kind::challenge_ack);
    const auto bare_ack = in(tcp_state::time_wait, A);
    CHECK(bare_ack.action == verdict::drop);
    CHECK(bare_ack.reply == reply_kind::none);
    CHECK(bare_ack.restart_time_wait);
}
