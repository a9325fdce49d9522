#pragma once
// A virtual-time test harness for one connection, in the style of smoltcp's:
//   h.send(at(1ms), seg{syn, ...})         the peer's segment arrives at 1 ms
//   h.expect(at(1ms), {seg{...}, ...})     exactly these segments go out then
//   h.expect_nothing_until(at(3s))         and nothing at all before 3 s
// Segments are compared field by field (flags, seq, ack, window, options,
// payload); a mismatch prints both sides as tcpdump would.

#include <tcpcore/engine/connection.hpp>
#include <tcpcore/wire/format.hpp>

#include "bytes.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace tcpcore::detail {
// The tests' only door into the engine's private state.
struct test_access {
    template <class C>
    static auto& flags(C& c) {
        return c.flags_;
    }
    template <class C>
    static void set_state(C& c, tcp_state s) {
        c.state_ = s;
    }
    // SACK as if both SYNs had offered it.
    template <class C>
    static void enable_sack(C& c) {
        c.flags_ |= C::f_sack;
    }
    // A peer MSS other than the fixtures' 1460 (with the initial window it implies).
    template <class C>
    static void set_send_mss(C& c, std::uint16_t mss) {
        c.snd_mss_ = mss;
        c.cwnd_ = c.cfg_->initial_cwnd * std::uint32_t{mss};
    }
    // Everything that decides the engine's future behaviour, for comparing a
    // fixture built directly with a state reached the real way.
    struct snapshot {
        tcp_state state;
        four_tuple tuple;
        seq32 snd_una, snd_nxt, snd_wl1, rtx_next, recover, rcv_nxt, rcv_adv, last_ack_sent, rtt_seq;
        std::uint32_t snd_wnd, max_snd_wnd, cwnd, ssthresh, srtt_us, rttvar_us;
        std::uint16_t snd_mss, rcv_mss;
        std::uint8_t snd_ws, rcv_ws;
        std::uint32_t flags;
        time_point rtx_deadline, last_rcv;
        std::uint32_t sbuf_len, rbuf_len;
        std::uint32_t ts_recent;
        std::uint8_t retransmits, probes_out, error;

        friend bool operator==(const snapshot&, const snapshot&) = default;
    };
    template <class C>
    static snapshot snap(const C& c) {
        const bool armed = (c.flags_ & C::f_rtx_armed) != 0;
        const bool timing = (c.flags_ & C::f_rtt_timing) != 0;
        return {c.state_,       c.tuple_,      c.snd_una_,   c.snd_nxt_,     c.snd_wl1_,   c.rtx_next_,
                c.recover_,     c.rcv_nxt_,    c.rcv_adv_,   c.last_ack_sent_, timing ? c.rtt_seq_ : seq32{},
                c.snd_wnd_, c.max_snd_wnd_,
                c.cwnd_,        c.ssthresh_,   c.srtt_us_,   c.rttvar_us_,   c.snd_mss_,   c.rcv_mss_,
                c.snd_ws_,      c.rcv_ws_,     c.flags_,     armed ? c.rtx_deadline_ : time_point{},
                c.last_rcv_,    c.sbuf_len_,   c.rbuf_len_,  c.ts_recent_,   c.retransmits_, c.probes_out_,
                c.error_};
    }

    // Direct construction, field by field. Each builds what the real way
    // leaves behind (tests/connection/fixtures_test.cpp proves it for every
    // state): a passive open whose SYN arrives at -rtt and is answered at
    // once, the SYN,ACK acked at 0 ms (the one RTT sample), no options but
    // MSS 1460, windows 64000. Later steps come 1 ms apart.
    template <class C>
    static void make_state(C& c, tcp_state s, const four_tuple& tuple, seq32 iss, seq32 irs, duration rtt) {
        using std::chrono::milliseconds;
        const time_point t0 = time_point{} - rtt;
        const time_point t1{};
        c.reset_variables(t0, iss, 0);
        c.tuple_ = tuple;
        c.flags_ |= C::f_passive | C::f_bound_remote;
        if (s == tcp_state::listen) {
            c.tuple_.remote = {};
            c.flags_ &= ~C::f_bound_remote;
            c.state_ = s;
            return;
        }
        c.snd_nxt_ = iss + 1;
        c.rcv_nxt_ = c.last_ack_sent_ = irs + 1;
        c.rcv_adv_ = irs + 1 + std::min<std::uint32_t>(c.cfg_->receive_buffer, 0xffff);
        c.snd_wl1_ = irs;
        c.snd_wnd_ = c.max_snd_wnd_ = 64000;
        c.snd_mss_ = 1460;
        c.rcv_mss_ = 536;
        c.cwnd_ = c.cfg_->initial_cwnd * 1460u;
        c.state_ = tcp_state::syn_received;
        c.flags_ |= C::f_rtt_timing;
        c.rtt_seq_ = iss + 1;
        c.rtt_start_us_ = detail::us32(t0);
        c.rtx_deadline_ = t0 + c.cfg_->rto_initial;
        c.flags_ |= C::f_rtx_armed;
        if (s == tcp_state::syn_received) return;

        // The ACK of our SYN,ACK at t1.
        c.snd_una_ = c.rtx_next_ = iss + 1;
        c.snd_wl1_ = irs + 1;
        c.take_rtt_sample(rtt);
        c.flags_ &= ~(C::f_rtt_timing | C::f_rtx_armed);
        c.last_rcv_ = t1;
        c.state_ = tcp_state::established;
        if (s == tcp_state::established) return;

        const time_point t2 = t1 + milliseconds{1};  // later steps, 1 ms apart
        const time_point t3 = t2 + milliseconds{1};
        auto our_fin = [&](time_point at) {
            c.flags_ |= C::f_shutdown | C::f_fin_sent;
            c.snd_nxt_ = c.snd_una_ + 1;
            c.rtx_deadline_ = at + c.current_rto();
            c.flags_ |= C::f_rtx_armed | C::f_rtt_timing;  // the FIN is timed like data
            c.rtt_seq_ = c.snd_nxt_;
            c.rtt_start_us_ = detail::us32(at);
        };
        // The ACK of our FIN sent at t2, arriving at t3: an RTT sample and one
        // byte of slow start.
        auto fin_acked = [&] {
            c.snd_una_ = c.rtx_next_ = c.snd_nxt_;
            c.take_rtt_sample(t3 - t2);
            c.cwnd_ += 1;
            c.flags_ &= ~(C::f_rtx_armed | C::f_rtt_timing);
        };
        auto their_fin = [&](time_point at) {
            c.rcv_nxt_ = c.rcv_nxt_ + 1;
            c.last_ack_sent_ = c.rcv_nxt_;
            c.flags_ |= C::f_fin_received;
            c.last_rcv_ = at;
        };
        switch (s) {
            case tcp_state::fin_wait_1:  // shutdown at t2
                our_fin(t2);
                break;
            case tcp_state::fin_wait_2:  // shutdown at t2, its ACK at t3
                our_fin(t2);
                fin_acked();
                c.last_rcv_ = t3;
                break;
            case tcp_state::close_wait:  // their FIN at t2
                their_fin(t2);
                c.snd_wl1_ = irs + 1;
                break;
            case tcp_state::closing:  // shutdown at t2, their FIN (not acking ours) at t3
                our_fin(t2);
                their_fin(t3);
                break;
            case tcp_state::last_ack:  // their FIN at t2, our close at t3
                their_fin(t2);
                our_fin(t3);
                c.flags_ |= C::f_orphan;
                break;
            case tcp_state::time_wait:  // shutdown at t2, their FIN acking ours at t3
                our_fin(t2);
                fin_acked();
                their_fin(t3);
                c.rtx_deadline_ = t3 + time_wait_duration(c.cfg_->msl);
                c.flags_ |= C::f_rtx_armed;
                break;
            default: break;
        }
        c.state_ = s;
    }
};
}  // namespace tcpcore::detail

namespace Catch {
template <>
struct StringMaker<tcpcore::detail::test_access::snapshot> {
    static std::string convert(const tcpcore::detail::test_access::snapshot& s) {
        std::ostringstream os;
        os << "{" << tcpcore::to_string(s.state) << " snd_una " << s.snd_una.raw() << " snd_nxt " << s.snd_nxt.raw()
           << " wl1 " << s.snd_wl1.raw() << " rtx_next " << s.rtx_next.raw() << " recover " << s.recover.raw()
           << " rcv_nxt " << s.rcv_nxt.raw() << " rcv_adv " << s.rcv_adv.raw() << " last_ack_sent "
           << s.last_ack_sent.raw() << " snd_wnd " << s.snd_wnd << " max_snd_wnd " << s.max_snd_wnd << " cwnd "
           << s.cwnd << " ssthresh " << s.ssthresh << " srtt " << s.srtt_us << " rttvar " << s.rttvar_us
           << " snd_mss " << s.snd_mss << " rcv_mss " << s.rcv_mss << " ws " << unsigned{s.snd_ws} << "/"
           << unsigned{s.rcv_ws} << " flags 0x" << std::hex << s.flags << std::dec << " rtx@"
           << s.rtx_deadline.time_since_epoch().count() << " last_rcv " << s.last_rcv.time_since_epoch().count()
           << " sbuf " << s.sbuf_len << " rbuf " << s.rbuf_len << " ts_recent " << s.ts_recent << " retransmits "
           << unsigned{s.retransmits} << " probes " << unsigned{s.probes_out} << " error " << unsigned{s.error}
           << "}";
        return os.str();
    }
};
}  // namespace Catch

namespace tcpcore::test {

using namespace std::chrono_literals;

constexpr std::uint8_t SYN = tcp_flags::syn, ACK = tcp_flags::ack, FIN = tcp_flags::fin, RST = tcp_flags::rst,
                       PSH = tcp_flags::psh;

// What a segment says, for comparison.
struct seg {
    std::uint8_t flags = ACK;
    seq32 seq{};
    seq32 ack{};
    std::uint16_t window = 0;
    tcp_options options{};
    std::vector<std::uint8_t> payload{};

    friend bool operator==(const seg& a, const seg& b) {
        return a.flags == b.flags && a.seq == b.seq && (a.ack == b.ack || !(a.flags & ACK)) && a.window == b.window &&
               a.options == b.options && a.payload == b.payload;
    }
};

inline std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

inline tcp_options mss_option(std::uint16_t mss) {
    tcp_options o;
    o.mss = mss;
    return o;
}

inline std::string describe(const seg& s) {
    std::ostringstream os;
    char flags[9];
    format_flags(tcp_flags{s.flags}, flags);
    os << "[" << flags << "] seq " << s.seq.raw();
    if (s.flags & ACK) os << " ack " << s.ack.raw();
    os << " win " << s.window;
    const auto& o = s.options;
    if (o.mss) os << " mss " << *o.mss;
    if (o.window_scale) os << " wscale " << unsigned{*o.window_scale};
    if (o.sack_permitted) os << " sackOK";
    if (o.timestamps) os << " TS " << o.timestamps->value << "/" << o.timestamps->echo_reply;
    for (const auto& b : o.sack_blocks()) os << " sack{" << b.left.raw() << ":" << b.right.raw() << "}";
    os << " len " << s.payload.size();
    return os.str();
}

inline std::string describe(const std::vector<seg>& v) {
    std::string out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + describe(v[i]);
    return out + "}";
}

// The addresses every harness test uses: we are 192.168.1.1:80 (or the
// client port for active opens), the peer 192.168.1.2:49500.
inline const ip_address local_ip = ip_address::v4(192, 168, 1, 1);
inline const ip_address remote_ip = ip_address::v4(192, 168, 1, 2);
constexpr std::uint16_t local_port = 80;
constexpr std::uint16_t remote_port = 49500;
constexpr seq32 local_iss{10000};
constexpr seq32 remote_iss{20000};

// Plain TCP by default so that tests read easily: no options beyond MSS,
// no delayed ACK; tests that need more turn it on.
inline config plain_config() {
    config c;
    c.timestamps = false;
    c.sack = false;
    c.window_scaling = false;
    c.delayed_ack = false;
    c.send_buffer = 64 * 1024;
    c.receive_buffer = 64000;
    return c;
}

template <class Connection = connection>
struct basic_harness {
    config cfg;
    Connection conn;
    std::vector<seg> log;  // everything the connection sent, in order

    explicit basic_harness(const config& c = plain_config()) : cfg(c), conn(cfg) {}

    [[nodiscard]] four_tuple tuple() const { return {{local_ip, local_port}, {remote_ip, remote_port}}; }

    // The peer's segment arrives at t.
    segment_outcome send(time_point t, const seg& s) {
        std::vector<std::uint8_t> buf(tcp_max_header_length + s.payload.size());
        tcp_header_fields f{remote_port, local_port, s.seq, s.ack, s.flags, s.window, 0, 0};
        const auto len = build_tcp_segment(buf, f, s.options, s.payload, remote_ip, local_ip);
        REQUIRE(len.has_value());
        buf.resize(*len);
        const auto view = tcp_segment_view::parse(buf, remote_ip, local_ip);
        REQUIRE(view.has_value());
        return conn.on_segment(t, *view, remote_ip, local_ip);
    }

    // Everything the connection sends at t.
    std::vector<seg> recv(time_point t) {
        std::vector<seg> out;
        std::vector<std::uint8_t> buf(tcp_max_header_length + 65536);
        for (int guard = 0; guard < 10000; ++guard) {
            const std::size_t n = conn.poll_output(t, buf);
            if (n == 0) break;
            const auto v = tcp_segment_view::parse(std::span(buf.data(), n), local_ip, remote_ip);
            REQUIRE(v.has_value());  // valid, checksum included
            seg s{v->flags().bits(), v->seq(), v->ack(), v->window(), v->options(),
                  {v->payload().begin(), v->payload().end()}};
            out.push_back(s);
            log.push_back(s);
        }
        return out;
    }

    void expect(time_point t, const std::vector<seg>& expected) {
        const auto got = recv(t);
        INFO("at " << t.time_since_epoch().count() << " us\n  expected " << describe(expected) << "\n  got      "
                   << describe(got));
        CHECK(got == expected);
    }

    void expect_nothing(time_point t) { expect(t, {}); }

    // Nothing goes out from now until (not including) t: the engine's next
    // deadline is t or later, and polling just before t yields nothing.
    void expect_nothing_until(time_point t) {
        const time_point next = conn.poll_at();
        INFO("poll_at() = " << next.time_since_epoch().count() << " us, expected >= "
                            << t.time_since_epoch().count() << " us");
        CHECK(next >= t);
        if (t.time_since_epoch() > 1us) expect_nothing(t - 1us);
    }

    // The next deadline is exactly t.
    void expect_deadline(time_point t) {
        INFO("poll_at() = " << conn.poll_at().time_since_epoch().count() << " us");
        CHECK(conn.poll_at() == t);
    }

    std::string read_all() {
        std::string s;
        std::uint8_t buf[4096];
        for (std::size_t n; (n = conn.recv(buf)) != 0;) s.append(reinterpret_cast<const char*>(buf), n);
        return s;
    }

    std::size_t write(time_point t, std::string_view data) {
        const auto r = conn.send(t, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
        REQUIRE(r.has_value());
        return *r;
    }

    // --- Fixtures ---------------------------------------------------------------
    // The handshake every fixture starts from: the peer's SYN at -10 ms, our
    // SYN,ACK at once, its ACK at 0 ms. ESTABLISHED begins at 0 with an RTT
    // of 10 ms measured, so the RTO is 210 ms (SPEC.md §4). Later steps come
    // 1 ms apart.
    static constexpr duration handshake_rtt = std::chrono::milliseconds{10};
    static constexpr time_point t_syn = time_point{} - handshake_rtt;
    static constexpr time_point t_established{};
    static constexpr time_point t_step2 = t_established + std::chrono::milliseconds{1};
    static constexpr time_point t_step3 = t_step2 + std::chrono::milliseconds{1};

    // State s, built directly from its variables.
    void fixture(tcp_state s) {
        detail::test_access::make_state(conn, s, tuple(), local_iss, remote_iss, handshake_rtt);
        conn.take_events();
    }
    void established() { fixture(tcp_state::established); }

    // State s, reached the real way: calls and segments.
    void reach(tcp_state s) {
        const seq32 us = local_iss + 1, peer = remote_iss + 1;
        REQUIRE(!conn.open_passive(t_syn, {local_ip, local_port}, local_iss));
        if (s == tcp_state::listen) return;
        send(t_syn, {SYN, remote_iss, {}, 64000, mss_option(1460), {}});
        recv(t_syn);
        if (s == tcp_state::syn_received) return;
        send(t_established, {ACK, peer, us, 64000, {}, {}});
        recv(t_established);
        switch (s) {
            case tcp_state::established: break;
            case tcp_state::fin_wait_1:
                REQUIRE(!conn.shutdown(t_step2));
                recv(t_step2);
                break;
            case tcp_state::fin_wait_2:
                REQUIRE(!conn.shutdown(t_step2));
                recv(t_step2);
                send(t_step3, {ACK, peer, us + 1, 64000, {}, {}});
                recv(t_step3);
                break;
            case tcp_state::close_wait:
                send(t_step2, {FIN | ACK, peer, us, 64000, {}, {}});
                recv(t_step2);
                break;
            case tcp_state::closing:
                REQUIRE(!conn.shutdown(t_step2));
                recv(t_step2);
                send(t_step3, {FIN | ACK, peer, us, 64000, {}, {}});
                recv(t_step3);
                break;
            case tcp_state::last_ack:
                send(t_step2, {FIN | ACK, peer, us, 64000, {}, {}});
                recv(t_step2);
                REQUIRE(!conn.close(t_step3));
                recv(t_step3);
                break;
            case tcp_state::time_wait:
                REQUIRE(!conn.shutdown(t_step2));
                recv(t_step2);
                send(t_step3, {FIN | ACK, peer, us + 1, 64000, {}, {}});
                recv(t_step3);
                break;
            default: FAIL("no real-way builder for " << to_string(s));
        }
        REQUIRE(conn.state() == s);
        conn.take_events();
    }
};

using harness = basic_harness<>;

}  // namespace tcpcore::test
