// Loss recovery: fast retransmit and NewReno partial ACKs (RFC 5681, RFC 6582),
// the retransmission timeout's go-back-N, and the congestion-control policy.

#include "../support/harness.hpp"

using namespace tcpcore;
using namespace tcpcore::test;

namespace {
constexpr seq32 us = local_iss + 1;
constexpr seq32 peer = remote_iss + 1;

// ESTABLISHED at 0 (RTO 210 ms) with a peer MSS of 1000, for round numbers.
template <class H>
void established_with_mss_1000(H& h) {
    h.fixture(tcp_state::established);
    testing::fixtures::set_send_mss(h.conn, 1000);
}

seg data_at(std::uint32_t offset, std::size_t len = 1000, std::uint8_t flags = ACK) {
    return {flags, us + offset, peer, 64000, {}, bytes_of(std::string(len, 'x'))};
}
seg ack_of(std::uint32_t offset, std::uint16_t window = 64000) { return {ACK, peer, us + offset, window, {}, {}}; }
}  // namespace

TEST_CASE("recovery: three duplicate ACKs -> fast retransmit, ssthresh = flight / 2 (RFC 5681)") {
    harness h;
    established_with_mss_1000(h);
    h.write(at(0ms), std::string(6000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 6);
    h.send(at(10ms), ack_of(0));  // duplicates: SND.UNA, no data, window unchanged
    h.send(at(11ms), ack_of(0));
    h.expect_nothing(at(11ms));
    h.send(at(12ms), ack_of(0));
    h.expect(at(12ms), {data_at(0)});
    const auto info = h.conn.info();
    CHECK(info.ssthresh == 3000);         // 6000 in flight / 2
    CHECK(info.cwnd == 3000 + 3 * 1000);  // RFC 6582: inflated by the three duplicates
}

// Found by the model test: with one segment out, a duplicate ACK cannot have
// been caused by a later segment of ours, so it is no sign of loss (Early
// Retransmit needs two segments out, RFC 5827). Only the RTO resends it.
TEST_CASE("recovery: one segment out: duplicate ACKs do not retransmit it, the RTO does") {
    harness h;
    established_with_mss_1000(h);
    h.write(at(0ms), std::string(1000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 1);
    h.send(at(10ms), ack_of(0));
    h.send(at(11ms), ack_of(0));
    h.expect_nothing_until(at(210ms));
    h.expect(at(210ms), {data_at(0, 1000, PSH | ACK)});
}

TEST_CASE("recovery: two segments out, nothing more to send: one duplicate ACK retransmits (RFC 5827)") {
    harness h;
    established_with_mss_1000(h);
    h.write(at(0ms), std::string(2000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 2);
    h.send(at(10ms), ack_of(0));
    h.expect(at(10ms), {data_at(0)});
}

TEST_CASE("recovery: a partial ACK retransmits the next hole at once, the full ACK ends recovery (RFC 6582)") {
    harness h;
    established_with_mss_1000(h);
    h.write(at(0ms), std::string(6000, 'x'));
    h.recv(at(0ms));
    for (int i = 0; i < 3; ++i) h.send(at(10ms), ack_of(0));
    h.expect(at(10ms), {data_at(0)});
    // Segments 0 and 2 were lost: the ACK for the retransmission stops at 1000.
    h.send(at(20ms), ack_of(1000));
    h.expect(at(20ms), {data_at(1000)});
    h.send(at(30ms), ack_of(6000, 64000));
    const auto info = h.conn.info();
    // RFC 6582 §3.2 step 3 (1): cwnd = min(ssthresh, max(FlightSize, SMSS) +
    // SMSS), no burst after recovery: min(3000, 0 + 1000 + 1000).
    CHECK(info.cwnd == 2000);
    CHECK(info.ssthresh == 3000);
    CHECK(info.bytes_in_flight == 0);
}

TEST_CASE("recovery: the RTO retransmits from SND.UNA with cwnd one segment, then slow start") {
    harness h;
    established_with_mss_1000(h);
    h.write(at(0ms), std::string(4000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 4);
    h.expect_nothing_until(at(210ms));
    h.expect(at(210ms), {data_at(0)});  // one segment: cwnd = 1 MSS
    CHECK(h.conn.info().cwnd == 1000);
    CHECK(h.conn.info().ssthresh == 2000);  // 4000 / 2
    h.send(at(300ms), ack_of(1000));
    // cwnd 2000: the next two go again (the peer did not get them either).
    h.expect(at(300ms), {data_at(1000), data_at(2000)});
    h.send(at(400ms), ack_of(4000));
    CHECK(h.conn.info().bytes_in_flight == 0);
}

TEST_CASE("congestion control: CUBIC keeps 70% of the window on a loss, NewReno half") {
    basic_harness<basic_connection<cubic>> c;
    established_with_mss_1000(c);
    c.write(at(0ms), std::string(10000, 'x'));
    REQUIRE(c.recv(at(0ms)).size() == 10);
    for (int i = 0; i < 3; ++i) c.send(at(10ms), ack_of(0));
    CHECK(c.conn.info().ssthresh == 7000);  // beta 0.7 of cwnd 10000

    harness n;
    established_with_mss_1000(n);
    n.write(at(0ms), std::string(10000, 'x'));
    n.recv(at(0ms));
    for (int i = 0; i < 3; ++i) n.send(at(10ms), ack_of(0));
    CHECK(n.conn.info().ssthresh == 5000);
}

TEST_CASE("congestion control: slow start doubles per round trip, then congestion avoidance adds a segment") {
    harness h;
    established_with_mss_1000(h);
    h.write(at(0ms), std::string(60000, 'x'));
    CHECK(h.recv(at(0ms)).size() == 10);
    // Each ACK of a segment grows cwnd by one MSS.
    for (std::uint32_t i = 1; i <= 10; ++i) h.send(at(10ms), ack_of(i * 1000));
    CHECK(h.conn.info().cwnd == 20000);
}

// ---- With SACK: RFC 6675, and what Linux adds (TLP, early retransmit, RACK) ----

namespace {
template <class H>
void established_with_sack(H& h) {
    established_with_mss_1000(h);
    testing::fixtures::enable_sack(h.conn);
}

seg sack_of(std::uint32_t ack, std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> blocks) {
    tcp_options o;
    for (auto [l, r] : blocks) o.add_sack_block({us + l, us + r});
    return {ACK, peer, us + ack, 64000, o, {}};
}
}  // namespace

TEST_CASE("recovery (SACK): the first lost segment goes at once even when the pipe exceeds the halved cwnd") {
    harness h;
    established_with_sack(h);
    h.write(at(0ms), std::string(10000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 10);
    // Segment 0 lost; 1, 2, 3 SACKed: pipe = 10 - 3 - 1 = 6 segments, cwnd
    // after the loss 5: the retransmission must not wait for the pipe.
    h.send(at(10ms), sack_of(0, {{1000, 2000}}));
    h.send(at(10ms), sack_of(0, {{1000, 3000}}));
    h.expect_nothing(at(10ms));
    h.send(at(10ms), sack_of(0, {{1000, 4000}}));
    h.expect(at(10ms), {data_at(0)});
    CHECK(h.conn.info().cwnd == 5000);
}

TEST_CASE("recovery (SACK): a lost retransmission of the head is sent again once later data is SACKed (RACK)") {
    harness h;
    established_with_sack(h);
    h.write(at(0ms), std::string(20000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 10);
    h.send(at(10ms), sack_of(0, {{1000, 4000}}));
    h.expect(at(10ms), {data_at(0)});  // the head, retransmitted
    // As the SACKs move on, the pipe shrinks and new data goes out...
    h.send(at(11ms), sack_of(0, {{1000, 10000}}));
    const auto more = h.recv(at(11ms));
    REQUIRE(!more.empty());
    CHECK(more.front().seq == us + 10000);
    // ... and when data sent after the head's retransmission is SACKed three
    // segments deep while the head is still missing, the retransmission was
    // lost too: the head goes once more, long before the RTO.
    h.send(at(21ms), sack_of(0, {{1000, 14000}}));
    const auto again = h.recv(at(21ms));
    REQUIRE(!again.empty());
    CHECK(again.front().seq == us);
    CHECK(again.front().payload.size() == 1000);
}

TEST_CASE("recovery (SACK): a tail loss is probed at two SRTTs (TLP), before the RTO") {
    harness h;
    established_with_sack(h);  // SRTT 10 ms from the handshake: RTO 210 ms
    h.write(at(0ms), std::string(3000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 3);
    // No ACK at all: the probe is the last segment again, at 2 x 10 ms.
    h.expect_nothing_until(at(20ms));
    h.expect(at(20ms), {data_at(2000, 1000, PSH | ACK)});
    // Then the RTO, counted from the probe.
    h.expect_nothing_until(at(230ms));
    h.expect(at(230ms), {data_at(0)});
}

TEST_CASE("recovery (SACK): with one segment out the probe would not beat the RTO, so there is none") {
    harness h;
    established_with_sack(h);
    h.write(at(0ms), std::string(1000, 'x'));
    h.recv(at(0ms));
    // 2 x 10 ms + 200 ms (a delayed ACK's worth) > 210 ms: the plain RTO,
    // as the single-segment schedules of docs/behaviour.md §4 are measured.
    h.expect_nothing_until(at(210ms));
    h.expect(at(210ms), {data_at(0, 1000, PSH | ACK)});
}

TEST_CASE("recovery (SACK): two segments out, the second SACKed: the first goes at once (early retransmit)") {
    harness h;
    established_with_sack(h);
    h.write(at(0ms), std::string(2000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 2);
    h.send(at(10ms), sack_of(0, {{1000, 2000}}));
    h.expect(at(10ms), {data_at(0)});
}

// Found by the connection fuzzer: a SACK block starting at SND.UNA marked the
// head as received; the retransmission of "the head" then began past it, was
// never taken for the head's, and went out again on every poll, forever.
TEST_CASE("recovery (SACK): a block at SND.UNA is not taken (Linux: D-SACK or invalid), the head goes once") {
    harness h;
    established_with_sack(h);
    h.write(at(0ms), std::string(2000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 2);
    h.send(at(10ms), sack_of(0, {{0, 256}}));
    h.expect(at(10ms), {data_at(0)});  // a duplicate ACK with two out: early retransmit of all of it
    h.send(at(11ms), sack_of(0, {{0, 256}}));
    h.expect_nothing(at(11ms));
}

TEST_CASE("recovery (SACK): a reneging peer whose SACKed data reaches SND.UNA: the first hole goes once") {
    harness h;
    established_with_sack(h);
    h.write(at(0ms), std::string(4000, 'x'));
    REQUIRE(h.recv(at(0ms)).size() == 4);
    h.send(at(10ms), sack_of(0, {{1000, 2000}}));
    h.expect_nothing(at(10ms));
    // A cumulative ACK into the SACKed range (the peer took back what lay
    // below it): [1500, 2000) stays marked, at SND.UNA.
    h.send(at(20ms), sack_of(1500, {}));
    h.expect_nothing(at(20ms));
    // Three segments out, nothing new: two duplicates start recovery. The
    // first hole, [2000, 2500), goes once, past the pipe.
    h.send(at(30ms), sack_of(1500, {}));
    h.send(at(30ms), sack_of(1500, {}));
    h.expect(at(30ms), {data_at(2000, 500)});
    h.send(at(31ms), sack_of(1500, {}));
    h.expect_nothing(at(31ms));
}
