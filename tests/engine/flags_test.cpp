// Every state answers every flag combination as the rules say: each of the 11
// states, reached the real way, gets all 256 flag bytes at several sequence
// and acknowledgment positions. The facts are worked out here from RFC 9293's
// definitions (independently of the engine's own measurement), judged by
// decide_arrival, and the engine's verdict and reply must match exactly.

#include "../support/harness.hpp"

#include <functional>

using namespace tcpcore;
using namespace tcpcore::test;

namespace {
struct known {
    seq32 snd_una, snd_nxt, rcv_nxt;
    std::uint32_t window;  // advertised (for acceptance)
    std::uint32_t max_snd_wnd;
    bool passive;
};

// The variables each harness fixture leaves (see harness.hpp; the fixtures
// are proved equal to the states reached the real way in fixtures_test.cpp).
known build(harness& h, tcp_state s) {
    const seq32 us = local_iss + 1, peer = remote_iss + 1;
    if (s == tcp_state::closed) {  // reset, with its 4-tuple still bound
        h.fixture(tcp_state::established);
        h.send(at(2ms), {RST, peer, {}, 0, {}, {}});
        return {us, us, peer, 0, 64000, true};
    }
    if (s == tcp_state::syn_sent) {
        REQUIRE(!h.conn.open_active(at(0ms), h.tuple(), local_iss));
        h.recv(at(0ms));
        return {local_iss, us, {}, 0, 0, false};
    }
    h.fixture(s);
    switch (s) {
        case tcp_state::listen: return {};
        case tcp_state::syn_received: return {local_iss, us, peer, 64000, 64000, true};
        case tcp_state::established: return {us, us, peer, 64000, 64000, true};
        case tcp_state::fin_wait_1: return {us, us + 1, peer, 64000, 64000, true};
        case tcp_state::fin_wait_2: return {us + 1, us + 1, peer, 64000, 64000, true};
        case tcp_state::close_wait: return {us, us, peer + 1, 63999, 64000, true};
        case tcp_state::closing: return {us, us + 1, peer + 1, 63999, 64000, true};
        case tcp_state::last_ack: return {us, us + 1, peer + 1, 63999, 64000, true};
        case tcp_state::time_wait: return {us + 1, us + 1, peer + 1, 0, 64000, true};
        default: return {};
    }
}

segment_facts facts_for(tcp_state s, const known& k, std::uint8_t flags, seq32 seq, seq32 ack) {
    const tcp_flags f{flags};
    segment_facts out;
    out.state = s;
    out.flags = flags;
    out.passive_open = k.passive;
    if (s != tcp_state::closed && s != tcp_state::listen && s != tcp_state::syn_sent) {
        const std::uint32_t len = (f.syn_set() ? 1u : 0u) + (f.fin_set() ? 1u : 0u);
        const std::uint32_t wnd = k.window;
        auto in_window = [&](seq32 x) { return !(x < k.rcv_nxt) && x < k.rcv_nxt + wnd; };
        if (s == tcp_state::syn_received && f.syn_set() && seq == k.rcv_nxt - 1) out.seq = seq_check::syn_duplicate;
        else if (s == tcp_state::time_wait && f.syn_set() && k.rcv_nxt < seq) out.seq = seq_check::syn_newer;
        else {
            bool ok;
            if (len == 0) ok = wnd == 0 ? seq == k.rcv_nxt : in_window(seq);
            else ok = wnd != 0 && (in_window(seq) || in_window(seq + (len - 1)));
            out.seq = ok ? seq_check::acceptable : seq_check::unacceptable;
        }
        out.rst = seq == k.rcv_nxt ? rst_check::exact : (wnd != 0 && in_window(seq)) ? rst_check::in_window
                                                                                    : rst_check::outside;
    }
    if (f.ack_set()) {
        if (s == tcp_state::syn_sent || s == tcp_state::syn_received)
            out.ack = k.snd_una < ack && ack <= k.snd_nxt ? ack_check::acceptable
                      : ack <= k.snd_una                  ? ack_check::old
                                                          : ack_check::future;
        else if (s != tcp_state::closed && s != tcp_state::listen)
            out.ack = k.snd_nxt < ack ? ack_check::future : ack < k.snd_una - k.max_snd_wnd ? ack_check::old
                                                                                               : ack_check::acceptable;
    }
    return out;
}

// The reply the engine must send for a reply kind (before any other output).
std::optional<seg> expected_reply(reply_kind r, const known& k, tcp_state s, std::uint8_t flags, seq32 seq,
                                  seq32 ack) {
    const tcp_flags f{flags};
    const std::uint32_t len = (f.syn_set() ? 1u : 0u) + (f.fin_set() ? 1u : 0u);
    switch (r) {
        case reply_kind::none: return std::nullopt;
        case reply_kind::rst: return seg{RST, ack, {}, 0, {}, {}};
        case reply_kind::rst_ack: return seg{RST | ACK, seq32{0}, seq + len, 0, {}, {}};
        case reply_kind::ack:
        case reply_kind::challenge_ack: {
            const std::uint16_t w = s == tcp_state::time_wait ? 63999 : static_cast<std::uint16_t>(k.window);
            return seg{ACK, k.snd_nxt, k.rcv_nxt, w, {}, {}};
        }
        case reply_kind::syn_ack: return seg{SYN | ACK, local_iss, k.rcv_nxt, 64000, mss_option(1460), {}};
    }
    return std::nullopt;
}
}  // namespace

TEST_CASE("every state answers every flag combination as the rules say") {
    std::size_t cases = 0;
    for (tcp_state s : all_tcp_states) {
        harness probe;
        const known k = build(probe, s);
        REQUIRE(probe.conn.state() == s);
        const seq32 seqs[] = {k.rcv_nxt, k.rcv_nxt + 10, k.rcv_nxt + 100000, k.rcv_nxt - 1};
        const seq32 acks[] = {k.snd_nxt, k.snd_una - 100000, k.snd_nxt + 1000};
        for (unsigned flags = 0; flags < 256; ++flags) {
            for (seq32 seq : seqs) {
                for (seq32 ack : acks) {
                    harness h;
                    build(h, s);
                    const auto facts = facts_for(s, k, static_cast<std::uint8_t>(flags), seq, ack);
                    const auto d = decide_arrival(facts);
                    // The parser refuses SYN+RST and SYN+FIN before any state
                    // sees them; the rules drop them too (proved elsewhere).
                    if (is_illegal_flag_combination(tcp_flags{static_cast<std::uint8_t>(flags)})) continue;
                    const auto outcome =
                        h.send(at(10ms), {static_cast<std::uint8_t>(flags), seq, ack, 1000, {}, {}});
                    ++cases;
                    INFO(to_string(s) << " flags 0x" << std::hex << flags << std::dec << " seq " << seq.raw()
                                      << " ack " << ack.raw() << ": decision action "
                                      << static_cast<int>(d.action) << " reply " << static_cast<int>(d.reply)
                                      << " reason " << to_string(d.reason));
                    switch (d.action) {
                        case verdict::drop:
                            REQUIRE(outcome.result == segment_result::dropped);
                            REQUIRE(outcome.reason == d.reason);
                            REQUIRE(h.conn.state() == s);
                            break;
                        case verdict::reset: REQUIRE(outcome.result == segment_result::reset); break;
                        case verdict::reopen: REQUIRE(outcome.result == segment_result::reopen); break;
                        case verdict::accept: REQUIRE(outcome.result == segment_result::accepted); break;
                    }
                    if (d.has_event) {
                        const transition* row = lookup_transition(s, d.event);
                        REQUIRE(row != nullptr);
                        // The row's state, or one step beyond it when the
                        // segment also carried an in-order FIN.
                        const bool fin_step = has_transition(row->to, tcp_event::rcv_fin) &&
                                              lookup_transition(row->to, tcp_event::rcv_fin)->to == h.conn.state();
                        REQUIRE((h.conn.state() == row->to || fin_step));
                    }
                    const auto reply = expected_reply(d.reply, k, s, static_cast<std::uint8_t>(flags), seq, ack);
                    const auto out = h.recv(at(10ms));
                    if (reply) {
                        REQUIRE(!out.empty());
                        INFO("expected " << describe(*reply) << ", got " << describe(out));
                        REQUIRE(out.front() == *reply);
                    } else if (d.action == verdict::drop) {
                        INFO("expected no reply, got " << describe(out));
                        REQUIRE(out.empty());
                    }
                }
            }
        }
    }
    CHECK(cases > 10000);
}
