// TCP_INFO: the opt-in counters (engine/counters.hpp) and Linux's struct
// tcp_info filled from a connection (socket/tcp_info.hpp), with exact values
// after scripted exchanges in virtual time; the struct's layout against the
// system's <linux/tcp.h>; and the default connection's size, unchanged.

#include "../support/harness.hpp"

#include <tcpcore/host/endpoint.hpp>
#include <tcpcore/socket/tcp_info.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>

using namespace tcpcore;
using namespace tcpcore::test;

namespace {
using counted_connection = basic_connection<newreno, std_allocator, no_tracer, tcp_counters>;
using counted_harness = basic_harness<counted_connection>;

constexpr seq32 us = local_iss + 1;
constexpr seq32 peer = remote_iss + 1;

seg ack_of(std::uint32_t offset, std::uint16_t window = 64000) { return {ACK, peer, us + offset, window, {}, {}}; }

// Timestamps on every segment of a connection that negotiated them.
tcp_options ts(std::uint32_t value, std::uint32_t echo) {
    tcp_options o;
    o.timestamps = tcp_timestamps{value, echo};
    return o;
}
}  // namespace

// ---- Size: counting is opt-in ----------------------------------------------------

static_assert(std::is_empty_v<no_counters>);
static_assert(std::is_same_v<connection, basic_connection<newreno, std_allocator, no_tracer, no_counters>>);
static_assert(std::is_same_v<connection::counters_type, no_counters>);
// DEVELOPERS.md's budgets, which the default connection still keeps.
static_assert(sizeof(connection) <= 224, "the default connection grew: counters must stay opt-in");
static_assert(sizeof(basic_connection<cubic>) <= 256, "the CUBIC connection grew: counters must stay opt-in");
// Counting costs exactly the counters (padding aside).
static_assert(sizeof(counted_connection) <= sizeof(connection) + sizeof(tcp_counters) + alignof(tcp_counters));
// The bundles: the default's endpoint connections do not count, with_counters' do.
static_assert(std::is_same_v<endpoint<default_policies>::connection_type, connection>);
static_assert(std::is_same_v<endpoint<counting_policies>::connection_type::counters_type, tcp_counters>);
static_assert(std::is_same_v<endpoint<with_counters<default_policies>>::connection_type, counted_connection>);

// ---- Layout: Linux's struct tcp_info ----------------------------------------------

#if __has_include(<linux/tcp.h>)
#include <linux/tcp.h>  // last: it defines macros (TCP_INFO, TCPI_OPT_*) the other headers must not see

namespace {
#define TCPCORE_SAME_OFFSET(f)                                                         \
    static_assert(offsetof(::tcp_info, f) == offsetof(tcpcore::linux_tcp_info, f), #f); \
    static_assert(sizeof(::tcp_info::f) == sizeof(tcpcore::linux_tcp_info::f), #f)
// Every field Linux 6.1 (Debian 12's headers, the oldest this is built with) has.
TCPCORE_SAME_OFFSET(tcpi_state);
TCPCORE_SAME_OFFSET(tcpi_ca_state);
TCPCORE_SAME_OFFSET(tcpi_retransmits);
TCPCORE_SAME_OFFSET(tcpi_probes);
TCPCORE_SAME_OFFSET(tcpi_backoff);
TCPCORE_SAME_OFFSET(tcpi_options);
TCPCORE_SAME_OFFSET(tcpi_rto);
TCPCORE_SAME_OFFSET(tcpi_ato);
TCPCORE_SAME_OFFSET(tcpi_snd_mss);
TCPCORE_SAME_OFFSET(tcpi_rcv_mss);
TCPCORE_SAME_OFFSET(tcpi_unacked);
TCPCORE_SAME_OFFSET(tcpi_sacked);
TCPCORE_SAME_OFFSET(tcpi_lost);
TCPCORE_SAME_OFFSET(tcpi_retrans);
TCPCORE_SAME_OFFSET(tcpi_fackets);
TCPCORE_SAME_OFFSET(tcpi_last_data_sent);
TCPCORE_SAME_OFFSET(tcpi_last_ack_sent);
TCPCORE_SAME_OFFSET(tcpi_last_data_recv);
TCPCORE_SAME_OFFSET(tcpi_last_ack_recv);
TCPCORE_SAME_OFFSET(tcpi_pmtu);
TCPCORE_SAME_OFFSET(tcpi_rcv_ssthresh);
TCPCORE_SAME_OFFSET(tcpi_rtt);
TCPCORE_SAME_OFFSET(tcpi_rttvar);
TCPCORE_SAME_OFFSET(tcpi_snd_ssthresh);
TCPCORE_SAME_OFFSET(tcpi_snd_cwnd);
TCPCORE_SAME_OFFSET(tcpi_advmss);
TCPCORE_SAME_OFFSET(tcpi_reordering);
TCPCORE_SAME_OFFSET(tcpi_rcv_rtt);
TCPCORE_SAME_OFFSET(tcpi_rcv_space);
TCPCORE_SAME_OFFSET(tcpi_total_retrans);
TCPCORE_SAME_OFFSET(tcpi_pacing_rate);
TCPCORE_SAME_OFFSET(tcpi_max_pacing_rate);
TCPCORE_SAME_OFFSET(tcpi_bytes_acked);
TCPCORE_SAME_OFFSET(tcpi_bytes_received);
TCPCORE_SAME_OFFSET(tcpi_segs_out);
TCPCORE_SAME_OFFSET(tcpi_segs_in);
TCPCORE_SAME_OFFSET(tcpi_notsent_bytes);
TCPCORE_SAME_OFFSET(tcpi_min_rtt);
TCPCORE_SAME_OFFSET(tcpi_data_segs_in);
TCPCORE_SAME_OFFSET(tcpi_data_segs_out);
TCPCORE_SAME_OFFSET(tcpi_delivery_rate);
TCPCORE_SAME_OFFSET(tcpi_busy_time);
TCPCORE_SAME_OFFSET(tcpi_rwnd_limited);
TCPCORE_SAME_OFFSET(tcpi_sndbuf_limited);
TCPCORE_SAME_OFFSET(tcpi_delivered);
TCPCORE_SAME_OFFSET(tcpi_delivered_ce);
TCPCORE_SAME_OFFSET(tcpi_bytes_sent);
TCPCORE_SAME_OFFSET(tcpi_bytes_retrans);
TCPCORE_SAME_OFFSET(tcpi_dsack_dups);
TCPCORE_SAME_OFFSET(tcpi_reord_seen);
TCPCORE_SAME_OFFSET(tcpi_rcv_ooopack);
TCPCORE_SAME_OFFSET(tcpi_snd_wnd);
#undef TCPCORE_SAME_OFFSET
static_assert(sizeof(::tcp_info) <= sizeof(linux_tcp_info), "the system's struct tcp_info is newer than ours");

// Fields newer headers have, checked where they exist.
#define TCPCORE_SAME_OFFSET_IF_PRESENT(f)                                                  \
    template <class T>                                                                   \
    constexpr bool same_offset_##f() {                                                   \
        if constexpr (requires { &T::f; }) return offsetof(T, f) == offsetof(linux_tcp_info, f); \
        else return true;                                                                \
    }                                                                                    \
    static_assert(same_offset_##f<::tcp_info>(), #f)
TCPCORE_SAME_OFFSET_IF_PRESENT(tcpi_rcv_wnd);
TCPCORE_SAME_OFFSET_IF_PRESENT(tcpi_rehash);
TCPCORE_SAME_OFFSET_IF_PRESENT(tcpi_total_rto);
TCPCORE_SAME_OFFSET_IF_PRESENT(tcpi_total_rto_recoveries);
TCPCORE_SAME_OFFSET_IF_PRESENT(tcpi_total_rto_time);
TCPCORE_SAME_OFFSET_IF_PRESENT(tcpi_received_ce);
TCPCORE_SAME_OFFSET_IF_PRESENT(tcpi_received_ce_bytes);
#undef TCPCORE_SAME_OFFSET_IF_PRESENT

// The numbers, against the header's own.
static_assert(tcpi::opt_timestamps == TCPI_OPT_TIMESTAMPS && tcpi::opt_sack == TCPI_OPT_SACK &&
              tcpi::opt_wscale == TCPI_OPT_WSCALE && tcpi::opt_ecn == TCPI_OPT_ECN &&
              tcpi::opt_ecn_seen == TCPI_OPT_ECN_SEEN && tcpi::opt_syn_data == TCPI_OPT_SYN_DATA);
static_assert(tcpi::ca_open == TCP_CA_Open && tcpi::ca_disorder == TCP_CA_Disorder && tcpi::ca_cwr == TCP_CA_CWR &&
              tcpi::ca_recovery == TCP_CA_Recovery && tcpi::ca_loss == TCP_CA_Loss);
}  // namespace

TEST_CASE("tcp_info: the bitfields sit where <linux/tcp.h> puts them") {
    ::tcp_info k;
    std::memset(&k, 0, sizeof k);
    k.tcpi_snd_wscale = 5;
    k.tcpi_rcv_wscale = 9;
    k.tcpi_delivery_rate_app_limited = 1;
    k.tcpi_fastopen_client_fail = 2;
    linux_tcp_info t{};
    std::memcpy(&t, &k, sizeof k);
    CHECK(t.tcpi_snd_wscale == 5);
    CHECK(t.tcpi_rcv_wscale == 9);
    CHECK(t.tcpi_delivery_rate_app_limited == 1);
    CHECK(t.tcpi_fastopen_client_fail == 2);
}
#endif

TEST_CASE("tcp_info: the AccECN word packs as Linux 6.18's (2, 2, 4 and 24 bits from the lowest)") {
    linux_tcp_info t{};
    t.tcpi_ecn_mode = tcpi::ecn_mode_pending;
    t.tcpi_accecn_opt_seen = 2;
    t.tcpi_accecn_fail_mode = 0xa;
    t.tcpi_options2 = 0x123456;
    std::uint32_t word = 0;
    std::memcpy(&word, reinterpret_cast<const unsigned char*>(&t) + offsetof(linux_tcp_info, tcpi_received_ce_bytes) + 4,
                sizeof word);
    CHECK(word == (3u | 2u << 2 | 0xau << 4 | 0x123456u << 8));
}

// ---- Values ------------------------------------------------------------------------

TEST_CASE("tcp_info: a passive open, data both ways, one RTO retransmission, the peer's FIN") {
    counted_harness h;
    h.reach(tcp_state::established);  // SYN at -10 ms, SYN,ACK, its ACK at 0: RTT 10 ms

    {
        const linux_tcp_info t = tcp_info_of(h.conn, at(0ms));
        CHECK(t.tcpi_state == tcpi::state_established);
        CHECK(t.tcpi_segs_in == 2);   // SYN and ACK (a Linux child's count too)
        CHECK(t.tcpi_segs_out == 1);  // our SYN,ACK (a Linux child has 0: its request socket sent it)
        CHECK(t.tcpi_delivered == 1);  // the SYN
        CHECK(t.tcpi_bytes_acked == 0);  // a passive open's SYN does not count (Linux's child is born past it)
        CHECK(t.tcpi_rtt == 10000);
        CHECK(t.tcpi_rttvar == 5000);
        CHECK(t.tcpi_min_rtt == 10000);
        CHECK(t.tcpi_rto == 210000);
    }

    h.write(at(1ms), std::string(2920, 'x'));
    REQUIRE(h.recv(at(1ms)).size() == 2);  // two full segments of 1460
    // The peer's 100 bytes acknowledge the first: an RTT sample of 4 ms.
    h.send(at(5ms), {PSH | ACK, peer, us + 1460, 64000, {}, bytes_of(std::string(100, 'y'))});
    h.expect(at(5ms), {{ACK, us + 2920, peer + 100, 63900, {}, {}}});

    // The second segment is lost: the RTO (9.25 ms + 200 ms) sends it again.
    h.expect_nothing_until(at(214250us));
    REQUIRE(h.recv(at(214250us)).size() == 1);
    {
        const linux_tcp_info t = tcp_info_of(h.conn, at(250ms));
        CHECK(t.tcpi_ca_state == tcpi::ca_loss);
        CHECK(t.tcpi_retransmits == 1);
        CHECK(t.tcpi_backoff == 1);
        CHECK(t.tcpi_unacked == 1);
        CHECK(t.tcpi_lost == 1);
        CHECK(t.tcpi_retrans == 1);
        CHECK(t.tcpi_rto == 418500);  // backed off once
        CHECK(t.tcpi_total_retrans == 1);
        CHECK(t.tcpi_total_rto == 1);
        CHECK(t.tcpi_total_rto_recoveries == 1);
        CHECK(t.tcpi_total_rto_time == 250 - 214);  // unfinished: up to now
        CHECK(t.tcpi_last_data_sent == 250 - 214);
        CHECK(t.tcpi_last_data_recv == 250 - 5);
        CHECK(t.tcpi_last_ack_recv == 250 - 5);
        CHECK(t.tcpi_busy_time == 249000);  // since the write at 1 ms
    }

    h.send(at(300ms), {ACK, peer + 100, us + 2920, 64000, {}, {}});
    h.expect_nothing(at(300ms));
    h.send(at(310ms), {FIN | ACK, peer + 100, us + 2920, 64000, {}, {}});
    h.expect(at(310ms), {{ACK, us + 2920, peer + 101, 63899, {}, {}}});

    const linux_tcp_info t = tcp_info_of(h.conn, at(320ms));
    CHECK(t.tcpi_state == tcpi::state_close_wait);
    CHECK(t.tcpi_ca_state == tcpi::ca_open);
    CHECK(t.tcpi_retransmits == 0);
    CHECK(t.tcpi_probes == 0);
    CHECK(t.tcpi_backoff == 0);
    CHECK(t.tcpi_options == 0);  // plain_config: no timestamps, SACK or window scaling
    CHECK(t.tcpi_snd_wscale == 0);
    CHECK(t.tcpi_rcv_wscale == 0);
    CHECK(t.tcpi_rto == 209250);
    CHECK(t.tcpi_ato == 0);  // delayed ACKs off
    CHECK(t.tcpi_snd_mss == 1460);
    CHECK(t.tcpi_rcv_mss == 536);  // no segment larger than that arrived
    CHECK(t.tcpi_unacked == 0);
    CHECK(t.tcpi_sacked == 0);
    CHECK(t.tcpi_lost == 0);
    CHECK(t.tcpi_retrans == 0);
    CHECK(t.tcpi_last_data_sent == 320 - 214);
    CHECK(t.tcpi_last_data_recv == 320 - 5);  // a FIN is no data
    CHECK(t.tcpi_last_ack_recv == 320 - 310);
    CHECK(t.tcpi_pmtu == 1500);
    CHECK(t.tcpi_rcv_ssthresh == 64000);
    CHECK(t.tcpi_rtt == 9250);     // 7/8 of 10 ms + 1/8 of 4 ms; no sample from the retransmitted segment (Karn)
    CHECK(t.tcpi_rttvar == 5250);  // 3/4 of 5 ms + 1/4 of 6 ms
    CHECK(t.tcpi_snd_ssthresh == 2);  // the timeout: max(FlightSize / 2, 2 MSS)
    CHECK(t.tcpi_snd_cwnd == 1);      // restarting from one segment; the full ACK ends the recovery
    CHECK(t.tcpi_advmss == 1460);
    CHECK(t.tcpi_reordering == 3);
    CHECK(t.tcpi_total_retrans == 1);
    CHECK(t.tcpi_max_pacing_rate == ~std::uint64_t{0});
    CHECK(t.tcpi_bytes_acked == 2920);
    CHECK(t.tcpi_bytes_received == 101);  // the FIN counts, as in Linux
    CHECK(t.tcpi_segs_out == 6);          // SYN,ACK, 2 data, ACK, retransmission, ACK of the FIN
    CHECK(t.tcpi_segs_in == 5);           // SYN, ACK, data, ACK, FIN
    CHECK(t.tcpi_data_segs_out == 3);
    CHECK(t.tcpi_data_segs_in == 1);
    CHECK(t.tcpi_notsent_bytes == 0);
    CHECK(t.tcpi_min_rtt == 4000);
    CHECK(t.tcpi_busy_time == 299000);  // from the write at 1 ms to the last ACK at 300 ms
    CHECK(t.tcpi_rwnd_limited == 0);
    CHECK(t.tcpi_sndbuf_limited == 0);
    CHECK(t.tcpi_delivered == 3);  // the SYN and two segments
    CHECK(t.tcpi_bytes_sent == 4380);
    CHECK(t.tcpi_bytes_retrans == 1460);
    CHECK(t.tcpi_dsack_dups == 0);
    CHECK(t.tcpi_rcv_ooopack == 0);
    CHECK(t.tcpi_snd_wnd == 64000);
    CHECK(t.tcpi_rcv_wnd == 63899);
    CHECK(t.tcpi_total_rto == 1);
    CHECK(t.tcpi_total_rto_recoveries == 1);
    CHECK(t.tcpi_total_rto_time == 300 - 214);  // ended by the full ACK
    // What tcpcore cannot know stays zero.
    CHECK(t.tcpi_fackets == 0);
    CHECK(t.tcpi_last_ack_sent == 0);
    CHECK(t.tcpi_rcv_rtt == 0);
    CHECK(t.tcpi_rcv_space == 0);
    CHECK(t.tcpi_pacing_rate == 0);
    CHECK(t.tcpi_delivery_rate == 0);
    CHECK(t.tcpi_delivered_ce == 0);
    CHECK(t.tcpi_reord_seen == 0);
    CHECK(t.tcpi_rehash == 0);
    CHECK(t.tcpi_ecn_mode == tcpi::ecn_mode_disabled);
}

TEST_CASE("tcp_info: an active open with options, its SYN retransmitted, SACK, out-of-order data, a D-SACK") {
    config cfg = plain_config();
    cfg.timestamps = cfg.sack = cfg.window_scaling = true;
    cfg.receive_buffer = 200000;  // a window scale of 2
    counted_harness h(cfg);
    REQUIRE(!h.conn.open_active(at(0ms), h.tuple(), local_iss));
    REQUIRE(h.recv(at(0ms)).size() == 1);
    {
        const linux_tcp_info t = tcp_info_of(h.conn, at(0ms));
        CHECK(t.tcpi_state == tcpi::state_syn_sent);
        CHECK(t.tcpi_unacked == 1);  // the SYN
        CHECK(t.tcpi_options == 0);  // nothing negotiated yet
        CHECK(t.tcpi_rtt == 0);
        CHECK(t.tcpi_min_rtt == ~0u);  // no sample yet, as Linux reports it
        CHECK(t.tcpi_snd_ssthresh == tcpi::infinite_ssthresh);
    }
    // The SYN is lost; it goes again after the initial RTO, 1 s.
    h.expect_nothing_until(at(1s));
    REQUIRE(h.recv(at(1s)).size() == 1);
    {
        const linux_tcp_info t = tcp_info_of(h.conn, at(1s));
        CHECK(t.tcpi_retransmits == 1);
        CHECK(t.tcpi_total_retrans == 1);
        CHECK(t.tcpi_segs_out == 2);
        CHECK(t.tcpi_data_segs_out == 0);
        CHECK(t.tcpi_total_rto == 1);
    }
    // SYN,ACK at 1.010 s, echoing the second SYN's TSval (1000): a 10 ms sample
    // from the timestamp (Karn's rule keeps the timed sample out).
    tcp_options synack;
    synack.mss = 1012;
    synack.window_scale = 7;
    synack.sack_permitted = true;
    synack.timestamps = tcp_timestamps{700, 1000};
    h.send(at(1010ms), {SYN | ACK, remote_iss, us, 65535, synack, {}});
    REQUIRE(h.recv(at(1010ms)).size() == 1);  // the ACK
    {
        const linux_tcp_info t = tcp_info_of(h.conn, at(1010ms));
        CHECK(t.tcpi_state == tcpi::state_established);
        CHECK(t.tcpi_options == (tcpi::opt_timestamps | tcpi::opt_sack | tcpi::opt_wscale));
        CHECK(t.tcpi_snd_wscale == 7);
        CHECK(t.tcpi_rcv_wscale == 2);
        CHECK(t.tcpi_snd_mss == 1000);  // 1012 less the timestamps option
        CHECK(t.tcpi_advmss == 1460);
        CHECK(t.tcpi_retransmits == 0);
        CHECK(t.tcpi_rtt == 10000);
        CHECK(t.tcpi_min_rtt == 10000);
        CHECK(t.tcpi_segs_out == 3);
        CHECK(t.tcpi_segs_in == 1);
        CHECK(t.tcpi_bytes_acked == 1);  // an active open's SYN counts, as in Linux
        CHECK(t.tcpi_delivered == 1);
        CHECK(t.tcpi_snd_cwnd == 10);
        CHECK(t.tcpi_snd_wnd == 65535);  // a SYN's window is never scaled
        CHECK(t.tcpi_total_rto == 1);
        CHECK(t.tcpi_total_rto_recoveries == 1);
        CHECK(t.tcpi_total_rto_time == 10);  // ended by the handshake
        CHECK(t.tcpi_last_ack_recv == 0);
    }

    // Out of order: [100, 200) first, then [0, 100).
    h.send(at(1020ms), {PSH | ACK, peer + 100, us, 512, ts(701, 1010), bytes_of(std::string(100, 'b'))});
    h.recv(at(1020ms));  // an ACK with a SACK block
    h.send(at(1021ms), {PSH | ACK, peer, us, 512, ts(702, 1010), bytes_of(std::string(100, 'a'))});
    h.recv(at(1021ms));
    {
        const linux_tcp_info t = tcp_info_of(h.conn, at(1030ms));
        CHECK(t.tcpi_rcv_ooopack == 1);
        CHECK(t.tcpi_bytes_received == 200);
        CHECK(t.tcpi_data_segs_in == 2);
        CHECK(t.tcpi_segs_in == 3);
        CHECK(t.tcpi_last_data_recv == 9);
        CHECK(h.read_all() == std::string(100, 'a') + std::string(100, 'b'));
    }

    // Two segments out; the peer acknowledges both, then reports the first
    // again as a duplicate (RFC 2883).
    h.write(at(1040ms), std::string(2000, 'x'));
    REQUIRE(h.recv(at(1040ms)).size() == 2);
    h.send(at(1050ms), {ACK, peer + 200, us + 2000, 512, ts(703, 1040), {}});
    tcp_options dsack = ts(704, 1040);
    dsack.add_sack_block({us, us + 1000});
    h.send(at(1051ms), {ACK, peer + 200, us + 2000, 512, dsack, {}});
    const linux_tcp_info t = tcp_info_of(h.conn, at(1060ms));
    CHECK(t.tcpi_dsack_dups == 1);
    CHECK(t.tcpi_bytes_acked == 2001);
    CHECK(t.tcpi_bytes_sent == 2000);
    CHECK(t.tcpi_data_segs_out == 2);
    CHECK(t.tcpi_delivered == 3);
    CHECK(t.tcpi_last_data_sent == 20);
    CHECK(t.tcpi_last_ack_recv == 9);
    CHECK(t.tcpi_snd_wnd == 512u << 7);
    CHECK(t.tcpi_rtt == 10000);  // a 10 ms sample at 1050 ms
    CHECK(t.tcpi_ca_state == tcpi::ca_open);
}

TEST_CASE("tcp_info: SACK recovery: sacked, lost and retransmitted segments, and without counters those stay zero") {
    harness h;  // the default connection: no counters
    h.established();
    testing::fixtures::enable_sack(h.conn);
    testing::fixtures::set_send_mss(h.conn, 1000);
    h.write(at(0ms), std::string(4000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 4);
    tcp_options sack;
    sack.add_sack_block({us + 1000, us + 4000});
    h.send(at(10ms), {ACK, peer, us, 64000, sack, {}});
    REQUIRE(h.recv(at(10ms)).size() == 1);  // the first segment again
    const linux_tcp_info t = tcp_info_of(h.conn, at(10ms));
    CHECK(t.tcpi_ca_state == tcpi::ca_recovery);
    CHECK(t.tcpi_options == tcpi::opt_sack);
    CHECK(t.tcpi_unacked == 4);
    CHECK(t.tcpi_sacked == 3);
    CHECK(t.tcpi_lost == 1);
    CHECK(t.tcpi_retrans == 1);
    CHECK(t.tcpi_snd_mss == 1000);
    CHECK(t.tcpi_rtt == 10000);
    // The counters' fields: zero without counters.
    CHECK(t.tcpi_segs_out == 0);
    CHECK(t.tcpi_total_retrans == 0);
    CHECK(t.tcpi_bytes_sent == 0);
    CHECK(t.tcpi_min_rtt == 0);
    CHECK(t.tcpi_delivered == 0);
}

TEST_CASE("tcp_info: time limited by the peer's window (Linux's tcp-info-rwnd-limited)") {
    counted_harness h;
    h.reach(tcp_state::established);
    h.send(at(1ms), ack_of(0, 0));  // the window closes
    h.write(at(2ms), std::string(1000, 'x'));
    h.expect_nothing(at(2ms));
    CHECK(tcp_info_of(h.conn, at(52ms)).tcpi_rwnd_limited == 50000);
    h.send(at(102ms), ack_of(0, 2000));  // it opens
    REQUIRE(h.recv(at(102ms)).size() == 1);
    {
        const linux_tcp_info t = tcp_info_of(h.conn, at(102ms));
        CHECK(t.tcpi_rwnd_limited == 100000);
        CHECK(t.tcpi_busy_time == 100000);
    }
    h.send(at(132ms), ack_of(1000, 2000));
    const linux_tcp_info t = tcp_info_of(h.conn, at(200ms));
    CHECK(t.tcpi_rwnd_limited == 100000);
    CHECK(t.tcpi_busy_time == 130000);
    CHECK(t.tcpi_sndbuf_limited == 0);
}

TEST_CASE("tcp_info: time limited by the send buffer") {
    config cfg = plain_config();
    cfg.send_buffer = 4000;
    cfg.nodelay = true;  // the last, short segment goes at once
    counted_harness h(cfg);
    h.reach(tcp_state::established);
    CHECK(h.write(at(1ms), std::string(10000, 'x')) == 4000);  // the application is refused the rest
    REQUIRE(h.recv(at(1ms)).size() == 3);  // all of it goes: 1460, 1460, 1080
    h.send(at(11ms), ack_of(4000));
    const linux_tcp_info t = tcp_info_of(h.conn, at(20ms));
    CHECK(t.tcpi_sndbuf_limited == 10000);
    CHECK(t.tcpi_busy_time == 10000);
    CHECK(t.tcpi_rwnd_limited == 0);
    CHECK(!h.conn.counters().send_buffer_full);
}

TEST_CASE("tcp_info: a listener counts only the SYN it takes, as Linux counts a child's") {
    counted_harness h;
    h.reach(tcp_state::listen);
    h.send(at(0ms), {ACK, peer, us, 64000, {}, {}});  // answered with a RST, on no connection's account
    REQUIRE(h.recv(at(0ms)).size() == 1);
    CHECK(h.conn.counters().segs_in == 0);
    CHECK(h.conn.counters().segs_out == 0);
    h.send(at(1ms), {SYN, remote_iss, {}, 64000, mss_option(1460), {}});
    REQUIRE(h.recv(at(1ms)).size() == 1);  // SYN,ACK
    CHECK(h.conn.counters().segs_in == 1);
    CHECK(h.conn.counters().segs_out == 1);
}
