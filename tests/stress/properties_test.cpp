// Whole-stack properties through the simulated network (issue 6): two TCP
// hosts, random impairments, random transfer sizes and random user calls.
//
// - Byte-exact delivery: what each side reads is exactly what the other
//   wrote, in order, without duplicates; both end CLOSED (through TIME-WAIT
//   or not), or, when the user calls made it impossible (an abort, a close
//   with data still to come), with a typed error. Run over two endpoints and
//   over two engine connections whose every state change is traced.
// - 100% loss: connect fails with timed_out exactly at syn_give_up_time();
//   an established connection whose data is all lost fails with timed_out
//   exactly when data_retransmission_schedule() says.
// - Corruption below the checksum: whatever the damage, no crash, the
//   invariants hold, and each side ends CLOSED or with a typed error.
//
// Invariants checked at every network event (each datagram sent, each
// delivery, each timer run) and after every user call:
//   SND.UNA <= SND.NXT; the right edge of every ACK sent (ack + window <<
//   scale) never moves left, nor RCV.ADV inside the engine; every state
//   change is a row of the transition table (traced), or reachable by rows
//   (endpoints, which see only the states between calls); no deadline lies in
//   the past; memory stays bounded (buffer block constant, queues within
//   their buffers, connection and TIME-WAIT counts, endpoint footprint); every
//   segment sent parses, checksum included.
//
// A failure prints rapidcheck's reproduce string and, through RC_LOG, the
// simulated network's seed and the whole scenario.

#include "../support/harness.hpp"
#include "../support/loopback.hpp"

#include <tcpcore/host/endpoint.hpp>
#include <tcpcore/policies/simulated_network.hpp>
#include <tcpcore/testing/network.hpp>

#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace tcpcore;
using namespace tcpcore::test;
using namespace std::chrono_literals;

namespace {

struct sim_policies : default_policies {
    using clock = manual_clock;
    using io = simulated_io;
    using isn = sequential_isn;  // a random ISN key would make runs unrepeatable
};
using sim_endpoint = endpoint<sim_policies>;

constexpr std::uint16_t server_port = 80;
constexpr std::uint16_t client_port = 40000;

struct host_addresses {
    ip_address client;
    ip_address server;
};
host_addresses addresses(bool v6) {
    if (v6) return {ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 1}), ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 2})};
    return {ip_address::v4(10, 0, 0, 1), ip_address::v4(10, 0, 0, 2)};
}

std::string us_text(time_point t) { return std::to_string(t.time_since_epoch().count()) + " us"; }

bool typed_error(std::error_code e) {
    // What a connection may legitimately end with when it cannot end cleanly.
    return e == std::errc::connection_reset || e == std::errc::connection_aborted || e == std::errc::broken_pipe ||
           e == std::errc::timed_out || e == std::errc::connection_refused;
}

// ---------------------------------------------------------------------------
// Scenarios

enum class ending : std::uint8_t {
    shutdown_first,      // shutdown() after the last write, read to the end, let go when closed
    close_after_eof,     // read to the end, then close(): the passive close
    close_when_written,  // close() after the last write, whatever is still to come
};
const char* to_string(ending e) {
    switch (e) {
        case ending::shutdown_first: return "shutdown_first";
        case ending::close_after_eof: return "close_after_eof";
        case ending::close_when_written: return "close_when_written";
    }
    return "?";
}

struct side_plan {
    std::uint32_t to_send = 0;
    std::vector<std::uint32_t> write_chunks{65536};  // cycled
    std::vector<std::uint32_t> read_chunks{65536};   // cycled
    bool slow_reader = false;                        // one chunk per read_interval
    duration read_interval = 1ms;
    ending end = ending::shutdown_first;
    duration end_delay{};                            // after the last write
};

struct scenario {
    std::uint64_t seed = 0;
    impairments imp;
    config client_cfg;
    config server_cfg;
    side_plan client;
    side_plan server;
    bool v6 = false;
    std::uint32_t client_iss = 0;
    std::uint32_t server_iss = 0;
    bool abort = false;  // the abort_client side aborts at abort_at
    bool abort_client = false;
    duration abort_at{};
};

std::string describe(const impairments& i) {
    std::ostringstream os;
    os << "delay " << i.delay.count() << "us jitter " << i.jitter.count() << "us loss " << i.loss << " dup "
       << i.duplicate << " reorder " << i.reorder << "/" << i.reorder_delay.count() << "us corrupt " << i.corrupt
       << " below-checksum " << i.corrupt_below_checksum << " bandwidth " << i.bandwidth_bps << "bps queue "
       << i.queue_limit;
    return os.str();
}
std::string describe(const config& c) {
    std::ostringstream os;
    os << "mss " << c.mss << " sndbuf " << c.send_buffer << " rcvbuf " << c.receive_buffer << " ws "
       << c.window_scaling << " sack " << c.sack << " ts " << c.timestamps << " delack " << c.delayed_ack
       << " nodelay " << c.nodelay << " iw " << unsigned{c.initial_cwnd} << " retries2 " << unsigned{c.retries2};
    return os.str();
}
std::string describe(const side_plan& p) {
    std::ostringstream os;
    os << "send " << p.to_send << " writes {";
    for (auto w : p.write_chunks) os << w << " ";
    os << "} reads {";
    for (auto r : p.read_chunks) os << r << " ";
    os << "} " << (p.slow_reader ? "slow reader " + std::to_string(p.read_interval.count()) + "us " : "")
       << to_string(p.end) << " after " << p.end_delay.count() << "us";
    return os.str();
}
std::string describe(const scenario& s) {
    std::ostringstream os;
    os << "network seed " << s.seed << (s.v6 ? " (IPv6)" : " (IPv4)") << "\n  impairments: " << describe(s.imp)
       << "\n  client config: " << describe(s.client_cfg) << "\n  server config: " << describe(s.server_cfg)
       << "\n  client: " << describe(s.client) << ", iss " << s.client_iss << "\n  server: " << describe(s.server)
       << ", iss " << s.server_iss << "\n  abort: "
       << (s.abort ? std::string(s.abort_client ? "client" : "server") + " at " + std::to_string(s.abort_at.count()) + "us"
                   : "none")
       << "\n";
    return os.str();
}

// ---- Generators (used inside properties: each pick is shown on failure) ----

int pick_int(int low, int high) { return *rc::gen::inRange(low, high + 1); }  // [low, high]
bool pick_bool() { return *rc::gen::arbitrary<bool>(); }
// Zero half the time, so shrinking can switch an impairment off.
double pick_probability(int max_per_mille) {
    return *rc::gen::oneOf(rc::gen::just(0), rc::gen::inRange(0, max_per_mille + 1)) / 1000.0;
}

impairments pick_impairments(bool below_checksum) {
    impairments imp;
    imp.delay = duration{pick_int(0, 30000)};
    imp.jitter = duration{*rc::gen::oneOf(rc::gen::just(0), rc::gen::inRange(0, 10001))};
    imp.loss = pick_probability(150);
    imp.duplicate = pick_probability(100);
    imp.reorder = pick_probability(200);
    imp.reorder_delay = duration{pick_int(1, 50000)};
    imp.corrupt = pick_probability(50);
    imp.corrupt_below_checksum = below_checksum ? pick_int(10, 300) / 1000.0 : 0.0;
    if (pick_bool()) {
        imp.bandwidth_bps = static_cast<std::uint64_t>(pick_int(1, 100)) * 1000000u;
        // Room for two full-sized datagrams at least, or nothing large could pass.
        imp.queue_limit = static_cast<std::size_t>(*rc::gen::oneOf(rc::gen::just(0), rc::gen::inRange(4000, 200001)));
    }
    return imp;
}

config pick_config() {
    config c;
    c.mss = static_cast<std::uint16_t>(pick_int(536, 1460));
    c.receive_buffer = static_cast<std::uint32_t>(
        *rc::gen::oneOf(rc::gen::inRange(int{c.mss}, 16384), rc::gen::inRange(16384, 262145)));
    c.send_buffer =
        static_cast<std::uint32_t>(*rc::gen::oneOf(rc::gen::inRange(256, 16384), rc::gen::inRange(16384, 262145)));
    c.window_scaling = pick_bool();
    c.sack = pick_bool();
    c.timestamps = pick_bool();
    c.delayed_ack = pick_bool();
    c.nodelay = pick_bool();
    c.initial_cwnd = static_cast<std::uint8_t>(pick_int(1, 10));
    // Random loss must not end a handshake: 11 tries each way make that
    // a one-in-a-million event at the worst loss generated.
    c.syn_retries = 10;
    c.synack_retries = 10;
    return c;
}

std::vector<std::uint32_t> pick_chunks() {
    const int n = pick_int(1, 5);
    const auto v = *rc::gen::container<std::vector<int>>(
        static_cast<std::size_t>(n), rc::gen::oneOf(rc::gen::inRange(1, 100), rc::gen::inRange(1, 70000)));
    return {v.begin(), v.end()};
}

side_plan pick_side(int max_bytes) {
    side_plan p;
    p.to_send = static_cast<std::uint32_t>(
        *rc::gen::oneOf(rc::gen::just(0), rc::gen::inRange(1, 2000), rc::gen::inRange(0, max_bytes + 1)));
    p.write_chunks = pick_chunks();
    p.read_chunks = pick_chunks();
    p.slow_reader = *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
    p.read_interval = duration{pick_int(1, 50000)};
    p.end = *rc::gen::weightedElement<ending>(
        {{4, ending::shutdown_first}, {3, ending::close_after_eof}, {1, ending::close_when_written}});
    p.end_delay = duration{*rc::gen::oneOf(rc::gen::just(0), rc::gen::inRange(0, 2000001))};
    return p;
}

scenario pick_scenario(bool below_checksum, int max_bytes) {
    scenario s;
    s.seed = *rc::gen::arbitrary<std::uint64_t>();
    s.imp = pick_impairments(below_checksum);
    s.client_cfg = pick_config();
    s.server_cfg = pick_config();
    s.client = pick_side(max_bytes);
    s.server = pick_side(max_bytes);
    // Someone has to close first: two passive closers would wait for each
    // other for ever, as TCP would.
    if (s.client.end == ending::close_after_eof && s.server.end == ending::close_after_eof)
        s.client.end = ending::shutdown_first;
    // An orphaned FIN-WAIT-2 gives the peer fin_timeout to close, then
    // answers a late FIN with a RST (Linux, 60 s by default). A slow reader
    // here reads for up to half an hour and then closes: the timeout outlasts
    // it, and still ends within the two hours given after abandoning.
    for (auto [reader, writer] : {std::pair{&s.client, &s.server}, std::pair{&s.server, &s.client}}) {
        if (!reader->slow_reader) continue;
        const std::uint32_t smallest = *std::min_element(reader->read_chunks.begin(), reader->read_chunks.end());
        const std::uint64_t reads = writer->to_send / std::max<std::uint32_t>(smallest, 1) + 2;
        constexpr std::int64_t longest_read_us = 30LL * 60 * 1000000;
        if (reads * static_cast<std::uint64_t>(reader->read_interval.count()) > longest_read_us)
            reader->read_interval = duration{std::max<std::int64_t>(1, longest_read_us / static_cast<std::int64_t>(reads))};
    }
    s.client_cfg.fin_timeout = s.server_cfg.fin_timeout = std::chrono::hours{1};
    s.v6 = pick_bool();
    s.client_iss = *rc::gen::arbitrary<std::uint32_t>();
    s.server_iss = *rc::gen::arbitrary<std::uint32_t>();
    s.abort = *rc::gen::weightedElement<bool>({{7, false}, {1, true}});
    s.abort_client = pick_bool();
    s.abort_at = duration{pick_int(0, 3000000)};
    if (below_checksum) {
        // Damage may break anything: give up on data sooner, so that runs stay short.
        s.client_cfg.retries2 = static_cast<std::uint8_t>(pick_int(1, 8));
        s.server_cfg.retries2 = static_cast<std::uint8_t>(pick_int(1, 8));
    }
    RC_LOG() << describe(s);
    return s;
}

// ---------------------------------------------------------------------------
// Invariant checking

// reachable[a][b]: some sequence of table rows leads from a to b.
const std::array<std::array<bool, tcp_state_count>, tcp_state_count>& reachable_states() {
    static const auto table = [] {
        std::array<std::array<bool, tcp_state_count>, tcp_state_count> r{};
        for (std::size_t s = 0; s < tcp_state_count; ++s) r[s][s] = true;
        for (const transition& t : transition_table)
            r[static_cast<std::size_t>(t.from)][static_cast<std::size_t>(t.to)] = true;
        for (std::size_t k = 0; k < tcp_state_count; ++k)
            for (std::size_t i = 0; i < tcp_state_count; ++i)
                for (std::size_t j = 0; j < tcp_state_count; ++j)
                    if (r[i][k] && r[k][j]) r[i][j] = true;
        return r;
    }();
    return table;
}

// Records state changes as the engine makes them and checks each one: it is
// the table's row for (from, event), and it starts where the last one ended
// (so no state change bypassed the table).
struct transition_record {
    tcp_state current = tcp_state::closed;
    std::vector<std::string> violations;
    std::size_t changes = 0;
};

struct checking_tracer {
    transition_record* record = nullptr;
    void on_transition(const transition& row) {
        if (record == nullptr) return;
        ++record->changes;
        if (!has_transition(row.from, row.event) || lookup_transition(row.from, row.event) != &row)
            record->violations.push_back(std::string("not a table row: ") + std::string(to_string(row.from)) + " on " +
                                         std::string(to_string(row.event)));
        if (row.from != record->current)
            record->violations.push_back(std::string("state changed outside the table: was ") +
                                         std::string(to_string(record->current)) + ", row starts at " +
                                         std::string(to_string(row.from)));
        record->current = row.to;
    }
};
static_assert(transition_tracer<checking_tracer>);

using traced_connection = basic_connection<newreno, std_allocator, checking_tracer>;

// What the checker remembers of one connection between looks.
struct connection_track {
    std::optional<std::size_t> buffer_bytes;
    std::optional<seq32> rcv_adv;
    std::optional<tcp_state> state;
};

// What it remembers of one direction of a flow, from the segments sent.
struct flow_track {
    ip_address src, dst;
    std::uint16_t sport = 0, dport = 0;
    std::optional<std::uint8_t> window_scale;  // announced in this side's SYN
    std::optional<seq32> edge;
};

struct invariant_checker {
    std::string first_violation;
    bool check_wire_edges = true;  // off when segments may be damaged below the checksum
    std::vector<flow_track> flows;
    std::uint64_t segments_checked = 0;

    [[nodiscard]] bool ok() const { return first_violation.empty(); }
    void fail(const std::string& what, time_point at) {
        if (first_violation.empty()) first_violation = what + " (at " + us_text(at) + ")";
    }

    std::size_t flow_index(const ip_address& src, std::uint16_t sport, const ip_address& dst, std::uint16_t dport) {
        for (std::size_t i = 0; i < flows.size(); ++i) {
            const flow_track& f = flows[i];
            if (f.src == src && f.sport == sport && f.dst == dst && f.dport == dport) return i;
        }
        flows.push_back({src, dst, sport, dport, std::nullopt, std::nullopt});
        return flows.size() - 1;
    }

    // Every datagram a host sends: well-formed, and its window's right edge
    // never moves left (RFC 9293 §3.8.6.2.2).
    void on_sent(time_point at, std::span<const std::uint8_t> datagram) {
        const auto ip = parse_ip_packet(datagram);
        if (!ip) return fail(std::string("a host sent a bad IP datagram: ") + to_string(ip.error()), at);
        const auto seg = tcp_segment_view::parse(ip->payload, ip->src, ip->dst);
        if (!seg) return fail(std::string("a host sent a bad TCP segment: ") + to_string(seg.error()), at);
        ++segments_checked;
        if (!check_wire_edges) return;
        const std::size_t mine = flow_index(ip->src, seg->src_port(), ip->dst, seg->dst_port());
        const std::size_t theirs = flow_index(ip->dst, seg->dst_port(), ip->src, seg->src_port());
        flow_track& me = flows[mine];
        const flow_track& peer = flows[theirs];
        if (seg->flags().syn_set()) me.window_scale = seg->options().window_scale;
        if (!seg->flags().ack_set() || seg->flags().rst_set()) return;  // a RST's window means nothing
        // Scaling is on when both SYNs offered it; a SYN's own window is never scaled.
        const bool scaled = !seg->flags().syn_set() && me.window_scale && peer.window_scale;
        const unsigned shift = scaled ? std::min<unsigned>(*me.window_scale, max_window_scale) : 0u;
        const seq32 edge = seg->ack() + (std::uint32_t{seg->window()} << shift);
        // A SYN,ACK sent again cannot offer more than 65535, even after a
        // scaled ACK offered a little more: that is no shrinking.
        if (me.edge && edge < *me.edge && !seg->flags().syn_set()) {
            std::ostringstream os;
            os << "right window edge moved left: " << me.edge->raw() << " -> " << edge.raw() << " (ack "
               << seg->ack().raw() << " window " << seg->window() << " << " << shift << ")";
            return fail(os.str(), at);
        }
        if (!me.edge || *me.edge < edge) me.edge = edge;
    }

    template <class Connection>
    void check_connection(const char* who, const Connection& c, connection_track& t, time_point now) {
        const auto s = c.sequence();
        const tcp_state state = c.state();
        const config& cfg = c.configuration();
        const std::string label = std::string(who) + " (" + std::string(to_string(state)) + "): ";
        if (!(s.snd_una <= s.snd_nxt)) fail(label + "SND.UNA > SND.NXT", now);
        if (seq_distance(s.snd_una, s.snd_nxt) > cfg.send_buffer + 2u) fail(label + "SND.NXT beyond all there is to send", now);
        const bool synchronized =
            state != tcp_state::closed && state != tcp_state::listen && state != tcp_state::syn_sent;
        if (state == tcp_state::listen || state == tcp_state::syn_sent) t.rcv_adv.reset();  // a new start
        if (synchronized) {
            if (t.rcv_adv && s.rcv_adv < *t.rcv_adv) fail(label + "RCV.ADV moved left", now);
            t.rcv_adv = s.rcv_adv;
        }
        const time_point deadline = c.next_deadline();
        if (deadline != time_point::min() && deadline < now)
            fail(label + "next_deadline() " + us_text(deadline) + " is in the past", now);
        if (!t.buffer_bytes) t.buffer_bytes = c.buffer_bytes();
        if (c.buffer_bytes() != *t.buffer_bytes) fail(label + "buffer size changed", now);
        const connection_info info = c.info();
        if (info.send_queue > cfg.send_buffer) fail(label + "send queue beyond the send buffer", now);
        const std::uint32_t slack = 1u << detail::window_scale_for(cfg.receive_buffer);
        if (info.receive_queue > cfg.receive_buffer + slack) fail(label + "receive queue beyond the buffer", now);
        if (t.state && !reachable_states()[static_cast<std::size_t>(*t.state)][static_cast<std::size_t>(state)])
            fail(label + "no rows lead from " + std::string(to_string(*t.state)), now);
        t.state = state;
    }

    void check_endpoint(const char* who, const sim_endpoint& ep, time_point now) {
        if (ep.next_deadline() < now) fail(std::string(who) + ": next_deadline() is in the past", now);
        if (ep.connection_count() > 2) fail(std::string(who) + ": more connections than the scenario makes", now);
        if (ep.time_wait_count() > 1) fail(std::string(who) + ": more TIME-WAIT entries than connections", now);
        // One slab chunk of connections, one of TIME-WAIT entries and the
        // table hold everything two connections need (about 320 KiB); more
        // would be a leak.
        if (ep.footprint() > 512 * 1024) fail(std::string(who) + ": endpoint footprint beyond 512 KiB", now);
    }

    void check_trace(const char* who, const transition_record& r, tcp_state actual, time_point now) {
        if (!r.violations.empty()) fail(std::string(who) + ": " + r.violations.front(), now);
        if (r.current != actual)
            fail(std::string(who) + ": state " + std::string(to_string(actual)) + " but the rows reached " +
                     std::string(to_string(r.current)),
                 now);
    }
};

// ---------------------------------------------------------------------------
// Hosts

// One engine connection as a simulated host (the public one): datagrams in
// and out, its state changes traced.
struct connection_host : testing::connection_host<traced_connection> {
    connection_host(const config& cfg, transition_record* record)
        : testing::connection_host<traced_connection>(cfg, std_allocator{}, newreno{}, checking_tracer{record}) {}
};
static_assert(simulated_host<connection_host>);

// ---------------------------------------------------------------------------
// The application: writes, reads and ends as its plan says, and checks
// every byte it reads against the peer's stream.

struct app_side {
    side_plan plan;
    byte_stream out;
    byte_stream in;  // what the peer writes
    std::uint64_t peer_total = 0;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    bool mismatch = false;
    std::size_t write_index = 0;
    std::size_t read_index = 0;
    std::optional<time_point> written_at;
    time_point next_read{};
    bool ended = false;     // shutdown() or close() called
    bool released = false;  // close() or abort(): the application let go
    bool aborted = false;    // abort() called
    bool premature = false;  // close() while the peer still had data to send
    std::error_code send_error;
};

// The two ways of reaching a connection: an endpoint handle, or an engine
// connection directly.
struct endpoint_socket {
    sim_endpoint* ep = nullptr;
    std::optional<connection_handle> handle{};
    bool closed_seen = false;
    bool connected = false;
    std::error_code closed_error{};
    int accepted = 0;

    void take_events() {
        while (const auto e = ep->next_event()) {
            if (e->accept_ready) {
                while (const auto a = ep->accept(e->listener)) {
                    ++accepted;
                    if (!handle) handle = *a;
                    else ep->abort(*a);  // only under damage: a SYN from a port flipped in flight
                }
                continue;
            }
            if (!handle || e->connection != *handle) continue;
            if (e->events.has(connection_events::connected)) connected = true;
            if (e->events.has(connection_events::closed)) {
                closed_seen = true;
                closed_error = e->error;
            }
        }
    }
    [[nodiscard]] const sim_endpoint::connection_type* conn() const {
        return handle ? ep->get(*handle).value_or(nullptr) : nullptr;
    }
    [[nodiscard]] bool usable() const { return handle.has_value(); }  // writes queue during the handshake
    expected<std::size_t, std::error_code> send(time_point, std::span<const std::uint8_t> b) { return ep->send(*handle, b); }
    std::size_t recv(time_point, std::span<std::uint8_t> b) { return ep->recv(*handle, b).value_or(0); }
    [[nodiscard]] std::size_t readable() const { return conn() ? conn()->readable() : 0; }
    [[nodiscard]] bool eof() const { return conn() && conn()->eof(); }
    void shutdown(time_point) { (void)ep->shutdown(*handle); }
    void close(time_point) { (void)ep->close(*handle); }
    void abort(time_point) { ep->abort(*handle); }
    [[nodiscard]] bool finished() const { return closed_seen; }
    [[nodiscard]] std::error_code error() const { return closed_error; }
};

struct connection_socket {
    connection_host* host;
    bool connected = false;  // reached a synchronized state at least once

    void take_events() {
        if (host->conn.take_events().has(connection_events::connected)) connected = true;
    }
    [[nodiscard]] const traced_connection* conn() const { return &host->conn; }
    [[nodiscard]] bool usable() const {
        const tcp_state st = host->conn.state();
        return connected || st == tcp_state::closed || st == tcp_state::syn_sent;  // writes queue during the handshake
    }
    expected<std::size_t, std::error_code> send(time_point now, std::span<const std::uint8_t> b) {
        auto r = host->conn.send(now, b);
        host->flush(now);
        return r;
    }
    std::size_t recv(time_point now, std::span<std::uint8_t> b) {
        const std::size_t n = host->conn.recv(b);
        host->flush(now);  // a window update may be due
        return n;
    }
    [[nodiscard]] std::size_t readable() const { return host->conn.readable(); }
    [[nodiscard]] bool eof() const { return host->conn.eof(); }
    void shutdown(time_point now) {
        (void)host->conn.shutdown(now);
        host->flush(now);
    }
    void close(time_point now) {
        (void)host->conn.close(now);
        host->flush(now);
    }
    void abort(time_point now) {
        host->conn.abort(now);
        host->flush(now);
    }
    // TIME-WAIT is the end as far as the user can tell.
    [[nodiscard]] bool finished() const {
        return host->conn.state() == tcp_state::closed || host->conn.state() == tcp_state::time_wait;
    }
    [[nodiscard]] std::error_code error() const { return host->conn.error(); }
};

template <class Socket>
void act(app_side& a, Socket& s, time_point now) {
    s.take_events();
    if (a.released || !s.usable()) return;
    static std::array<std::uint8_t, 70000> chunk;

    if (!a.plan.slow_reader || now >= a.next_read) {
        for (;;) {
            const std::size_t want = a.plan.read_chunks[a.read_index % a.plan.read_chunks.size()];
            const std::size_t n = s.recv(now, std::span(chunk.data(), want));
            if (n == 0) break;
            ++a.read_index;
            for (std::size_t k = 0; k < n; ++k)
                if (chunk[k] != a.in.at(a.received + k)) a.mismatch = true;
            a.received += n;
            if (a.plan.slow_reader) {
                a.next_read = now + a.plan.read_interval;
                break;
            }
        }
    }

    while (!a.ended && !a.send_error && a.sent < a.plan.to_send) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(
            a.plan.write_chunks[a.write_index % a.plan.write_chunks.size()], a.plan.to_send - a.sent));
        a.out.fill(a.sent, std::span(chunk.data(), want));
        const auto r = s.send(now, std::span<const std::uint8_t>(chunk.data(), want));
        if (!r) {
            a.send_error = r.error();
            break;
        }
        if (*r == 0) break;
        a.sent += *r;
        ++a.write_index;
    }
    if (a.sent == a.plan.to_send && !a.written_at) a.written_at = now;

    // (Ending before the handshake is over would be a different story: a
    // shutdown in SYN-SENT closes at once, as in Linux.)
    if (!a.ended && a.written_at && s.connected && now >= *a.written_at + a.plan.end_delay) {
        switch (a.plan.end) {
            case ending::shutdown_first:
                s.shutdown(now);
                a.ended = true;
                break;
            case ending::close_after_eof:
                if (s.eof()) {
                    s.close(now);
                    a.ended = a.released = true;
                }
                break;
            case ending::close_when_written:
                a.premature = a.received < a.peer_total;
                s.close(now);
                a.ended = a.released = true;
                break;
        }
    }
    // The connection is over: read what is left, then let go.
    if (!a.released && s.finished() && s.readable() == 0) {
        s.close(now);
        a.released = true;
    }
}

// When the application next wants to act without anything arriving.
// Only times still ahead count: what is due already waits for an arrival
// (a close after EOF waits for the EOF).
template <class Socket>
time_point wake_time(const app_side& a, const Socket& s, time_point now) {
    if (a.released || !s.usable()) return never;
    time_point t = never;
    if (a.written_at && !a.ended && s.connected && *a.written_at + a.plan.end_delay > now)
        t = *a.written_at + a.plan.end_delay;
    if (a.plan.slow_reader && s.readable() != 0 && a.next_read > now) t = std::min(t, a.next_read);
    return t;
}

// ---------------------------------------------------------------------------
// Two worlds with one shape: a network, two hosts, two sockets, two
// applications, a checker.

app_side make_app(const side_plan& mine, const side_plan& peers, std::uint64_t my_stream, std::uint64_t peer_stream) {
    app_side a;
    a.plan = mine;
    a.out = byte_stream{my_stream};
    a.in = byte_stream{peer_stream};
    a.peer_total = peers.to_send;
    return a;
}

// Both worlds' turn at `now`: the scenario's one abort, tried once at its
// time (on a side without a connection yet, or finished already, it does
// nothing), then each application's calls, then every check.
template <class World>
void act_in_world(World& w, time_point now) {
    if (w.sc.abort && !w.abort_tried && now >= time_point{} + w.sc.abort_at) {
        w.abort_tried = true;
        app_side& a = w.sc.abort_client ? w.client_app : w.server_app;
        auto& s = w.sc.abort_client ? w.client : w.server;
        s.take_events();
        if (s.usable() && !a.released) {
            s.abort(now);
            a.aborted = a.released = true;
        }
    }
    act(w.client_app, w.client, now);
    act(w.server_app, w.server, now);
    w.check_all(now);
}

// When either application, or the abort, next wants to act.
template <class World>
time_point wake_of_world(const World& w) {
    const time_point now = w.net.now();
    time_point t = std::min(wake_time(w.client_app, w.client, now), wake_time(w.server_app, w.server, now));
    if (w.sc.abort && !w.abort_tried && time_point{} + w.sc.abort_at > now) t = std::min(t, time_point{} + w.sc.abort_at);
    return t;
}

struct endpoint_world {
    const scenario& sc;
    host_addresses addr;
    simulated_network net;
    sim_endpoint client_ep;
    sim_endpoint server_ep;
    endpoint_socket client{&client_ep};
    endpoint_socket server{&server_ep};
    app_side client_app;
    app_side server_app;
    invariant_checker check;
    connection_track client_track, server_track;
    bool abort_tried = false;

    struct observer {
        endpoint_world* w;
        void operator()(const network_event& e) const { w->on_event(e); }
    } watch{this};

    explicit endpoint_world(const scenario& s)
        : sc(s),
          addr(addresses(s.v6)),
          net(s.seed, s.imp),
          client_ep(tcpcore::check(s.client_cfg).value(), {.isn = sequential_isn{seq32{s.client_iss}}}),
          server_ep(tcpcore::check(s.server_cfg).value(), {.isn = sequential_isn{seq32{s.server_iss}}}),
          client_app(make_app(s.client, s.server, 1, 2)),
          server_app(make_app(s.server, s.client, 2, 1)) {
        net.attach(client_ep, addr.client);
        net.attach(server_ep, addr.server);
        net.observe(&watch);
    }

    bool open() {
        if (!server_ep.listen({addr.server, server_port})) return false;
        const auto h = client_ep.connect({addr.server, server_port}, {addr.client, client_port});
        if (!h) return false;
        client.handle = *h;
        return true;
    }

    void on_event(const network_event& e) {
        if (e.kind == network_event_kind::sent) return check.on_sent(e.at, e.datagram);
        if (e.kind == network_event_kind::delivered || e.kind == network_event_kind::polled) check_all(e.at);
    }

    void check_all(time_point now) {
        check.check_endpoint("client endpoint", client_ep, now);
        check.check_endpoint("server endpoint", server_ep, now);
        if (const auto* c = client.conn()) check.check_connection("client", *c, client_track, now);
        if (const auto* c = server.conn()) check.check_connection("server", *c, server_track, now);
    }

    void act(time_point now) { act_in_world(*this, now); }
    [[nodiscard]] time_point wake() const { return wake_of_world(*this); }

    // The user gives up on what is still open.
    void abandon(time_point now) {
        for (auto [a, s] : {std::pair{&client_app, &client}, std::pair{&server_app, &server}}) {
            s->take_events();
            if (s->usable() && !a->released) {
                s->abort(now);
                a->released = true;
            }
        }
    }

    [[nodiscard]] std::uint64_t rejected(const sim_endpoint& ep) const {
        const auto& st = ep.stats();
        return std::accumulate(st.ip_errors.begin(), st.ip_errors.end(), std::uint64_t{0}) +
               std::accumulate(st.tcp_errors.begin(), st.tcp_errors.end(), std::uint64_t{0}) + st.not_tcp;
    }
    [[nodiscard]] std::uint64_t rejected_total() const { return rejected(client_ep) + rejected(server_ep); }

    [[nodiscard]] bool all_closed() const {
        return client_ep.connection_count() == 0 && server_ep.connection_count() == 0 &&
               client_ep.time_wait_count() == 0 && server_ep.time_wait_count() == 0;
    }
    [[nodiscard]] std::string final_states() const {
        return "client endpoint: " + std::to_string(client_ep.connection_count()) + " connections, " +
               std::to_string(client_ep.time_wait_count()) + " TIME-WAIT; server endpoint: " +
               std::to_string(server_ep.connection_count()) + " connections, " +
               std::to_string(server_ep.time_wait_count()) + " TIME-WAIT";
    }
    [[nodiscard]] int extra_accepts() const { return std::max(0, server.accepted - 1); }
    [[nodiscard]] std::error_code client_error() const { return client.error(); }
    [[nodiscard]] std::error_code server_error() const { return server.error(); }
};

struct connection_world {
    const scenario& sc;
    host_addresses addr;
    simulated_network net;
    transition_record client_record, server_record;
    connection_host client_host;
    connection_host server_host;
    connection_socket client{&client_host};
    connection_socket server{&server_host};
    app_side client_app;
    app_side server_app;
    invariant_checker check;
    connection_track client_track, server_track;
    bool abort_tried = false;

    struct observer {
        connection_world* w;
        void operator()(const network_event& e) const { w->on_event(e); }
    } watch{this};

    explicit connection_world(const scenario& s)
        : sc(s),
          addr(addresses(s.v6)),
          net(s.seed, s.imp),
          client_host(s.client_cfg, &client_record),
          server_host(s.server_cfg, &server_record),
          client_app(make_app(s.client, s.server, 1, 2)),
          server_app(make_app(s.server, s.client, 2, 1)) {
        net.attach_host(client_host, addr.client);
        net.attach_host(server_host, addr.server);
        client_host.io.network = &net;
        server_host.io.network = &net;
        net.observe(&watch);
    }

    bool open() {
        const time_point now = net.now();
        if (server_host.conn.open_passive(now, {addr.server, server_port}, seq32{sc.server_iss})) return false;
        if (client_host.conn.open_active(now, {{addr.client, client_port}, {addr.server, server_port}},
                                         seq32{sc.client_iss}))
            return false;
        client_host.flush(now);
        return true;
    }

    void on_event(const network_event& e) {
        if (e.kind == network_event_kind::sent) return check.on_sent(e.at, e.datagram);
        if (e.kind == network_event_kind::delivered || e.kind == network_event_kind::polled) check_all(e.at);
    }

    void check_all(time_point now) {
        check.check_connection("client", client_host.conn, client_track, now);
        check.check_connection("server", server_host.conn, server_track, now);
        check.check_trace("client", client_record, client_host.conn.state(), now);
        check.check_trace("server", server_record, server_host.conn.state(), now);
    }

    void act(time_point now) { act_in_world(*this, now); }
    [[nodiscard]] time_point wake() const { return wake_of_world(*this); }

    void abandon(time_point now) {
        for (auto [a, s] : {std::pair{&client_app, &client}, std::pair{&server_app, &server}}) {
            const tcp_state st = s->host->conn.state();
            if (st != tcp_state::closed && st != tcp_state::time_wait) s->abort(now);
            a->released = true;
        }
    }

    [[nodiscard]] std::uint64_t rejected_total() const { return client_host.rejected + server_host.rejected; }
    [[nodiscard]] bool all_closed() const {
        return client_host.conn.state() == tcp_state::closed && server_host.conn.state() == tcp_state::closed;
    }
    [[nodiscard]] std::string final_states() const {
        return std::string("client ") + std::string(to_string(client_host.conn.state())) + ", server " +
               std::string(to_string(server_host.conn.state()));
    }
    [[nodiscard]] int extra_accepts() const { return 0; }
    [[nodiscard]] std::error_code client_error() const { return client_host.conn.error(); }
    [[nodiscard]] std::error_code server_error() const { return server_host.conn.error(); }
};

// What reaching the time limit means to run_to_idle().
enum class at_limit { fail, stop };

// Runs the world until nothing is left to happen; false when it does not
// settle before `limit` (and then, unless told to stop, a message in the
// checker).

template <class World>
bool run_to_idle(World& w, time_point limit, at_limit what = at_limit::fail) {
    // Far beyond what any scenario here needs (a few thousand steps): more
    // means something never ends, such as two hosts answering each other's
    // ACKs for ever.
    constexpr std::uint64_t max_steps = 200000;
    constexpr std::size_t max_in_flight = 20000;
    w.act(w.net.now());
    for (std::uint64_t steps = 0; w.check.ok(); ++steps) {
        const time_point wake = w.wake();
        if (w.net.next_event() == never && wake == never) return true;
        if (steps == max_steps) {
            w.check.fail("no end after " + std::to_string(max_steps) + " steps", w.net.now());
            return false;
        }
        if (w.net.in_flight() > max_in_flight) {
            w.check.fail("more than " + std::to_string(max_in_flight) + " datagrams in flight: " + w.final_states(),
                         w.net.now());
            return false;
        }
        if (w.net.now() >= limit) {
            if (what == at_limit::fail) w.check.fail("still running at the time limit: " + w.final_states(), w.net.now());
            return false;
        }
        w.net.step(std::min(wake, limit));
        w.act(w.net.now());
    }
    return false;
}

// One scenario in one world, judged. Always: the invariants held at every
// event, the world settled, and every error is typed. Without damage below
// the checksum: every byte read is the right one, in order, and nothing
// damaged in flight got past a checksum; and unless the user made it
// impossible (an abort, a close with data still to come), everything
// arrived and both ends closed cleanly by themselves.
template <class World>
void run_property(bool damage_below_checksum) {
    const scenario sc = pick_scenario(damage_below_checksum, damage_below_checksum ? 64000 : 300000);
    World w(sc);
    // A damaged SYN may change what a peer believes of window scaling: the
    // wire check would then judge by the wrong scale (RCV.ADV is still checked).
    w.check.check_wire_edges = !damage_below_checksum;
    RC_ASSERT(w.open());
    // Damage that passes the checksum can keep a connection alive for ever,
    // as it would Linux's: a corrupted sequence number taken as SND.WL1 shuts
    // out every later window update, and the persist probes are answered.
    // Then the user's giving up below must end it.
    const bool settled = run_to_idle(w, at(4h), damage_below_checksum ? at_limit::stop : at_limit::fail);
    RC_LOG() << "after the run: " << w.final_states() << "; client read " << w.client_app.received << "/"
             << sc.server.to_send << ", server read " << w.server_app.received << "/" << sc.client.to_send
             << "; virtual time " << us_text(w.net.now()) << "; " << w.net.stats().sent << " datagrams\n";
    if (!w.check.ok()) RC_FAIL(w.check.first_violation);
    RC_ASSERT((settled || damage_below_checksum));
    RC_ASSERT(w.net.stats().stalls == 0u);

    if (!damage_below_checksum) {
        RC_ASSERT(!w.client_app.mismatch);
        RC_ASSERT(!w.server_app.mismatch);
        RC_ASSERT(w.client_app.received <= sc.server.to_send);
        RC_ASSERT(w.server_app.received <= sc.client.to_send);
        // Every datagram damaged under the checksums' eyes was refused. (IPv6
        // has no header checksum: a flip in its flow label passes unnoticed.)
        if (!sc.v6) RC_ASSERT(w.rejected_total() == w.net.stats().corrupted);
        else RC_ASSERT(w.rejected_total() <= w.net.stats().corrupted);
    }

    const bool clean = !damage_below_checksum && !w.client_app.aborted && !w.server_app.aborted &&
                       !w.client_app.premature && !w.server_app.premature;
    if (clean) {
        RC_ASSERT(w.client_app.received == sc.server.to_send);
        RC_ASSERT(w.server_app.received == sc.client.to_send);
        RC_ASSERT(w.client_app.sent == sc.client.to_send);
        RC_ASSERT(w.server_app.sent == sc.server.to_send);
        RC_ASSERT(!w.client_app.send_error);
        RC_ASSERT(!w.server_app.send_error);
        RC_ASSERT(!w.client_error());
        RC_ASSERT(!w.server_error());
        RC_ASSERT(w.client_app.released);
        RC_ASSERT(w.server_app.released);
        RC_ASSERT(w.extra_accepts() == 0);
        RC_ASSERT(w.all_closed());
    } else {
        // A peer that will never speak again leaves a side waiting, as TCP
        // does without keepalive: the user gives up, and then everything
        // must close.
        w.abandon(w.net.now());
        const bool closed_down = run_to_idle(w, w.net.now() + 2h);
        RC_LOG() << "after abandoning: " << w.final_states() << "\n";
        if (!w.check.ok()) RC_FAIL(w.check.first_violation);
        RC_ASSERT(closed_down);
        RC_ASSERT(w.all_closed());
    }
    for (const std::error_code e : {w.client_error(), w.server_error(), w.client_app.send_error, w.server_app.send_error})
        if (e) RC_ASSERT(typed_error(e));
}

}  // namespace

// ---------------------------------------------------------------------------
// The network itself

namespace {
// A host that only records what reaches it.
struct recording_host {
    std::vector<std::pair<time_point, std::vector<std::uint8_t>>> arrivals;
    void receive(time_point now, std::span<const std::uint8_t> d) { arrivals.push_back({now, {d.begin(), d.end()}}); }
    void poll(time_point) {}
    [[nodiscard]] time_point next_deadline() const { return never; }
};
static_assert(simulated_host<recording_host>);

std::vector<std::uint8_t> tcp_datagram(const ip_address& src, const ip_address& dst, std::size_t payload,
                                       std::uint32_t seq = 1) {
    std::vector<std::uint8_t> out(ipv6_header_length + tcp_max_header_length + payload);
    std::vector<std::uint8_t> data(payload);
    for (std::size_t i = 0; i < payload; ++i) data[i] = static_cast<std::uint8_t>(i * 7 + seq);
    tcp_header_fields f{client_port, server_port, seq32{seq}, seq32{2}, tcp_flags::ack, 1000, 0, 0};
    const std::size_t hl = ip_header_length(src.family());
    const auto tl = build_tcp_segment(std::span(out).subspan(hl), f, {}, data, src, dst);
    REQUIRE(tl.has_value());
    REQUIRE(write_ip_header(out, src, dst, ip_protocol_tcp, *tl).has_value());
    out.resize(hl + *tl);
    return out;
}

struct two_hosts {
    host_addresses addr = addresses(false);
    simulated_network net;
    recording_host a, b;
    explicit two_hosts(const impairments& imp, std::uint64_t seed = 7) : net(seed, imp) {
        net.attach_host(a, addr.client);
        net.attach_host(b, addr.server);
    }
    void send_to_b(std::size_t payload, std::uint32_t seq = 1) { net.send(tcp_datagram(addr.client, addr.server, payload, seq)); }
};

int bit_differences(const std::vector<std::uint8_t>& x, const std::vector<std::uint8_t>& y) {
    int n = 0;
    for (std::size_t i = 0; i < x.size(); ++i) n += std::popcount(static_cast<unsigned>(x[i] ^ y[i]));
    return n;
}
}  // namespace

TEST_CASE("simulation_random: repeatable, in range, and chance() takes its probability") {
    simulation_random a(42), b(42), c(43);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        const auto x = a.next();
        CHECK(x == b.next());
        differs |= x != c.next();
    }
    CHECK(differs);
    int hits = 0;
    for (int i = 0; i < 100000; ++i) {
        CHECK(a.below(7) < 7u);
        hits += a.chance(0.25);
        CHECK(!a.chance(0.0));
        CHECK(a.chance(1.0));
    }
    CHECK(hits > 24000);
    CHECK(hits < 26000);
    CHECK(a.up_to(duration::zero()) == duration::zero());
}

TEST_CASE("simulated network: delay, bandwidth and a drop-tail queue") {
    impairments imp;
    imp.delay = 5ms;
    imp.bandwidth_bps = 8000000;  // a byte a microsecond
    imp.queue_limit = 3 * 1040;
    two_hosts h(imp);
    for (int i = 0; i < 10; ++i) h.send_to_b(1000);  // 1040-byte datagrams, all at 0
    CHECK(h.net.stats().queue_drops == 7u);
    CHECK(h.net.run_until_idle());
    REQUIRE(h.b.arrivals.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(h.b.arrivals[i].first == at(5ms) + duration{1040 * (i + 1)});
    // Once the queue has drained, it takes datagrams again.
    h.send_to_b(1000);
    CHECK(h.net.run_until_idle());
    CHECK(h.b.arrivals.size() == 4);
    CHECK(h.net.stats().delivered == 4u);
}

TEST_CASE("simulated network: loss, duplication and reordering") {
    SECTION("everything lost") {
        impairments imp;
        imp.loss = 1.0;
        two_hosts h(imp);
        for (int i = 0; i < 20; ++i) h.send_to_b(10);
        CHECK(h.net.run_until_idle());
        CHECK(h.b.arrivals.empty());
        CHECK(h.net.stats().lost == 20u);
    }
    SECTION("everything twice") {
        impairments imp;
        imp.duplicate = 1.0;
        two_hosts h(imp);
        for (int i = 0; i < 20; ++i) h.send_to_b(10);
        CHECK(h.net.run_until_idle());
        CHECK(h.b.arrivals.size() == 40u);
        CHECK(h.net.stats().duplicated == 20u);
    }
    SECTION("held back packets arrive after later ones") {
        impairments imp;
        imp.reorder = 0.5;
        imp.reorder_delay = 20ms;
        two_hosts h(imp);
        for (std::uint32_t i = 0; i < 50; ++i) {
            h.send_to_b(10, i);
            h.net.step(h.net.now() + 1ms);
        }
        CHECK(h.net.run_until_idle());
        REQUIRE(h.b.arrivals.size() == 50u);
        int inversions = 0;
        for (std::size_t i = 1; i < h.b.arrivals.size(); ++i)
            inversions += tcp_segment_view::parse(std::span(h.b.arrivals[i].second).subspan(20))->seq() <
                          tcp_segment_view::parse(std::span(h.b.arrivals[i - 1].second).subspan(20))->seq();
        CHECK(inversions > 0);
        CHECK(h.net.stats().reordered > 10u);
    }
}

TEST_CASE("simulated network: corruption the checksums catch, and corruption below them") {
    const host_addresses addr = addresses(false);
    SECTION("a flipped bit anywhere: exactly one bit differs, and parsing refuses the datagram") {
        impairments imp;
        imp.corrupt = 1.0;
        two_hosts h(imp);
        std::vector<std::vector<std::uint8_t>> sent;
        for (std::uint32_t i = 0; i < 200; ++i) {
            sent.push_back(tcp_datagram(addr.client, addr.server, 100, i));
            h.net.send(sent.back());
        }
        CHECK(h.net.run_until_idle());
        REQUIRE(h.b.arrivals.size() == sent.size());
        for (std::size_t i = 0; i < sent.size(); ++i) {
            const auto& got = h.b.arrivals[i].second;
            CHECK(bit_differences(sent[i], got) == 1);
            const auto ip = parse_ip_packet(got);
            const bool refused = !ip || !tcp_segment_view::parse(ip->payload, ip->src, ip->dst);
            CHECK(refused);
        }
        CHECK(h.net.stats().corrupted == sent.size());
    }
    SECTION("below the checksum: one bit differs in the TCP segment, and the checksum still verifies") {
        impairments imp;
        imp.corrupt_below_checksum = 1.0;
        two_hosts h(imp);
        std::vector<std::vector<std::uint8_t>> sent;
        for (std::uint32_t i = 0; i < 200; ++i) {
            sent.push_back(tcp_datagram(addr.client, addr.server, 100, i));
            h.net.send(sent.back());
        }
        CHECK(h.net.run_until_idle());
        REQUIRE(h.b.arrivals.size() == sent.size());
        for (std::size_t i = 0; i < sent.size(); ++i) {
            auto got = h.b.arrivals[i].second;
            auto expected = sent[i];
            // The checksum field aside, one bit differs, and not in the IP header.
            for (auto* d : {&got, &expected}) (*d)[20 + 16] = (*d)[20 + 17] = 0;
            CHECK(bit_differences(expected, got) == 1);
            CHECK(std::equal(expected.begin(), expected.begin() + 20, got.begin()));
            const auto ip = parse_ip_packet(h.b.arrivals[i].second);
            REQUIRE(ip.has_value());
            auto sum = pseudo_header_sum(ip->src, ip->dst, ip_protocol_tcp, static_cast<std::uint32_t>(ip->payload.size()));
            CHECK(sum.add(ip->payload).verifies());
        }
        CHECK(h.net.stats().corrupted_below_checksum == sent.size());
    }
}

TEST_CASE("simulated network: a seed gives the same trace, another seed another") {
    auto run = [](std::uint64_t seed) {
        scenario sc;
        sc.seed = seed;
        sc.imp.delay = 3ms;
        sc.imp.jitter = 2ms;
        sc.imp.loss = 0.05;
        sc.imp.duplicate = 0.05;
        sc.imp.reorder = 0.1;
        sc.imp.corrupt = 0.02;
        sc.imp.bandwidth_bps = 20000000;
        sc.imp.queue_limit = 30000;
        sc.client.to_send = 200000;
        sc.server.to_send = 50000;
        sc.server.end = ending::close_after_eof;
        sc.client_iss = 1;
        sc.server_iss = 0xfffffff0u;
        endpoint_world w(sc);
        REQUIRE(w.open());
        REQUIRE(run_to_idle(w, at(1h)));
        INFO(w.check.first_violation);
        REQUIRE(w.check.ok());
        CHECK(w.client_app.received == 50000u);
        CHECK(w.server_app.received == 200000u);
        return std::pair{w.net.trace_digest(), w.net.stats().sent};
    };
    const auto first = run(1234);
    CHECK(first == run(1234));
    CHECK(first.first != run(1235).first);
}

// ---------------------------------------------------------------------------
// The properties

TEST_CASE("properties: byte-exact delivery through random impairments") {
    rc::prop("two endpoints deliver exactly the bytes written, or fail with a typed error when the user made that "
             "impossible",
             [] { run_property<endpoint_world>(false); });
    rc::prop("two engine connections, every state change traced, deliver exactly the bytes written",
             [] { run_property<connection_world>(false); });
}

TEST_CASE("properties: corruption below the checksum is survived") {
    rc::prop("endpoints: no crash, invariants hold, everything ends CLOSED with at most a typed error",
             [] { run_property<endpoint_world>(true); });
    rc::prop("traced engine connections: no crash, every state change a row, everything ends CLOSED",
             [] { run_property<connection_world>(true); });
}

TEST_CASE("properties: 100% loss fails with timed_out when the formulas say") {
    rc::prop("connect through a network that loses everything fails at syn_give_up_time()", [] {
        config cfg;
        cfg.syn_retries = static_cast<std::uint8_t>(pick_int(1, 8));
        cfg.syn_linear_timeouts = static_cast<std::uint8_t>(pick_int(0, 6));
        cfg.rto_initial = duration{pick_int(1000, 3000000)};
        cfg.rto_min = std::chrono::milliseconds{pick_int(1, 200)};
        cfg.rto_max = std::max({cfg.rto_initial, cfg.rto_min, duration{pick_int(1000, 120000000)}});
        RC_ASSERT(validate(cfg).ok());
        // A per-connection setting, when made, is the one that counts.
        const bool override_retries = pick_bool();
        const auto retries = override_retries ? static_cast<std::uint8_t>(pick_int(1, 8)) : cfg.syn_retries;
        const std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
        const time_point start = at(duration{pick_int(0, 10000000)});
        RC_LOG() << "network seed " << seed << ", syn_retries " << unsigned{retries} << ", linear "
                 << unsigned{cfg.syn_linear_timeouts} << ", rto_initial " << cfg.rto_initial.count() << "us, rto_max "
                 << cfg.rto_max.count() << "us, start " << us_text(start) << "\n";

        impairments imp;
        imp.delay = duration{pick_int(0, 100000)};
        imp.loss = 1.0;
        simulated_network net(seed, imp, start);
        const host_addresses addr = addresses(false);
        sim_endpoint client(check(cfg).value()), server(check(cfg).value());
        net.attach(client, addr.client);
        net.attach(server, addr.server);
        std::vector<time_point> syns;
        auto watch = [&](const network_event& e) {
            if (e.kind != network_event_kind::sent) return;
            const auto ip = parse_ip_packet(e.datagram);
            if (ip && ip->src == addr.client) syns.push_back(e.at);
        };
        net.observe(&watch);
        RC_ASSERT(server.listen({addr.server, server_port}).has_value());
        const auto h = client.connect({addr.server, server_port}, {addr.client, 0});
        RC_ASSERT(h.has_value());
        if (override_retries)
            RC_ASSERT(client.configure(*h, [&](auto& c) { return c.set_syn_retries(retries); }).value().ok());

        std::optional<time_point> failed_at;
        std::error_code error;
        while (!failed_at && net.step(start + 1h)) {
            while (const auto e = client.next_event())
                if (e->events.has(connection_events::closed)) {
                    failed_at = net.now();
                    error = e->error;
                }
        }
        RC_ASSERT(failed_at.has_value());
        RC_LOG() << "failed at " << us_text(*failed_at) << " with " << error.message() << "; SYNs at";
        for (const time_point t : syns) RC_LOG() << " " << t.time_since_epoch().count();
        RC_LOG() << " us\n";
        RC_ASSERT(error == std::errc::timed_out);
        RC_ASSERT((*failed_at - start).count() ==
                  syn_give_up_time(retries, cfg.rto_initial, cfg.syn_linear_timeouts, cfg.rto_max).count());
        RC_ASSERT(syns.size() == 1 + syn_retransmission_count(retries, cfg.syn_linear_timeouts));
        for (std::size_t n = 1; n < syns.size(); ++n)
            RC_ASSERT((syns[n] - start).count() == syn_retransmission_time(static_cast<unsigned>(n), cfg.rto_initial,
                                                                            cfg.syn_linear_timeouts, cfg.rto_max)
                                                        .count());
        RC_ASSERT(net.stats().lost == syns.size());
    });

    rc::prop("an established connection whose data is all lost fails when data_retransmission_schedule() says", [] {
        config cfg;
        cfg.retries2 = static_cast<std::uint8_t>(pick_int(1, 15));
        cfg.rto_min = std::chrono::milliseconds{pick_int(10, 1000)};
        cfg.rto_max = std::max(cfg.rto_min, duration{std::chrono::milliseconds{pick_int(1000, 120000)}});
        cfg.user_timeout = *rc::gen::weightedElement<bool>({{1, false}, {1, true}})
                               ? duration{std::chrono::milliseconds{pick_int(1, 60000)}}
                               : duration::zero();
        cfg.timestamps = pick_bool();
        RC_ASSERT(validate(cfg).ok());
        const std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
        // Whole milliseconds everywhere: the engine keeps the first
        // retransmission's time in milliseconds, as Linux does in jiffies.
        const auto delay = std::chrono::milliseconds{pick_int(1, 100)};
        const auto bytes = static_cast<std::size_t>(pick_int(1, 20000));
        RC_LOG() << "network seed " << seed << ", " << describe(cfg) << ", rto_min " << cfg.rto_min.count()
                 << "us, rto_max " << cfg.rto_max.count() << "us, user_timeout " << cfg.user_timeout.count()
                 << "us, delay " << delay.count() << "ms, " << bytes << " bytes\n";

        impairments imp;
        imp.delay = delay;
        simulated_network net(seed, imp);
        const host_addresses addr = addresses(pick_bool());
        sim_endpoint client(check(cfg).value()), server(check(cfg).value());
        net.attach(client, addr.client);
        net.attach(server, addr.server);
        RC_ASSERT(server.listen({addr.server, server_port}).has_value());
        const auto h = client.connect({addr.server, server_port}, {addr.client, 0});
        RC_ASSERT(h.has_value());
        bool connected = false;
        while (!connected && net.step(at(10s)))
            while (const auto e = client.next_event()) connected |= e->events.has(connection_events::connected);
        RC_ASSERT(connected);

        imp.loss = 1.0;
        net.set_impairments(imp);
        std::vector<time_point> transmissions;
        auto watch = [&](const network_event& e) {
            if (e.kind != network_event_kind::sent) return;
            const auto ip = parse_ip_packet(e.datagram);
            if (!ip || ip->src != addr.client) return;
            const auto seg = tcp_segment_view::parse(ip->payload);
            if (seg && !seg->payload().empty() &&
                (transmissions.empty() || transmissions.back() != e.at))
                transmissions.push_back(e.at);
        };
        net.observe(&watch);
        const time_point sent_at = net.now();
        const connection_info info = client.get(*h).value()->info();
        std::vector<std::uint8_t> data(bytes, 0x5a);
        RC_ASSERT(client.send(*h, data).has_value());
        const duration rto = info.rto;
        const retransmission_schedule expected = data_retransmission_schedule(rto, cfg);
        // With SACK a tail loss probe may come first (RFC 8985 §7, as Linux):
        // two SRTTs, plus 200 ms when a single segment is out, at least
        // 10 ms, when that beats the RTO. The RTO schedule starts over from it.
        // (What is in flight decides, after Nagle and the congestion window.)
        const std::uint32_t flight = client.get(*h).value()->info().bytes_in_flight;
        duration probe = info.srtt * 2;
        if (flight <= info.send_mss) probe += std::chrono::milliseconds{200};
        probe = std::max(probe, duration{std::chrono::milliseconds{10}});
        const duration shift = info.sack && probe < rto ? probe : duration::zero();
        RC_LOG() << "data at " << us_text(sent_at) << ", RTO " << rto.count() << "us, SRTT " << info.srtt.count()
                 << "us, MSS " << info.send_mss << ", loss probe after " << shift.count()
                 << "us, give up expected after " << (shift + expected.give_up).count() << "us\n";

        std::optional<time_point> failed_at;
        std::error_code error;
        while (!failed_at && net.step(sent_at + 2h)) {
            while (const auto e = client.next_event())
                if (e->events.has(connection_events::closed)) {
                    failed_at = net.now();
                    error = e->error;
                }
        }
        RC_ASSERT(failed_at.has_value());
        RC_LOG() << "failed " << (*failed_at - sent_at).count() << "us after the data, with " << error.message()
                 << "; transmissions at";
        for (const time_point t : transmissions) RC_LOG() << " " << (t - sent_at).count();
        RC_LOG() << " us; expected retransmissions at";
        for (std::size_t i = 0; i < expected.count; ++i) RC_LOG() << " " << expected.retransmissions[i].count();
        RC_LOG() << " us\n";
        RC_ASSERT(error == std::errc::timed_out);
        RC_ASSERT((*failed_at - sent_at).count() == (shift + expected.give_up).count());
        const std::size_t probes = shift != duration::zero() ? 1 : 0;
        RC_ASSERT(transmissions.size() == 1 + probes + expected.count);
        if (probes != 0) RC_ASSERT((transmissions[1] - sent_at).count() == shift.count());
        for (std::size_t i = 0; i < expected.count; ++i)
            RC_ASSERT((transmissions[1 + probes + i] - sent_at).count() ==
                      (shift + expected.retransmissions[i]).count());
    });
}
