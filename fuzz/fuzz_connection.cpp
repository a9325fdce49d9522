// One connection engine, driven by a command language decoded from the fuzz
// input (fuzz_support.hpp lists the opcodes): segments aimed at its windows
// or anywhere, time moving by microseconds or hours, output and timers run on
// coin flips, every user call and setter, and an allocator that fails when the
// input says so. After every step the engine must still make sense: a valid
// state, deadlines that are not in the past once it has run, every segment it
// writes well-formed and carrying exactly the bytes the application sent, a
// receive window whose right edge never moves left, and no memory left behind.

#include "fuzz_support.hpp"

#include <tcpcore/engine/connection.hpp>
#include <tcpcore/wire/format.hpp>
#include <tcpcore/host/syn_cookie.hpp>
#include <tcpcore/testing/fixtures.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

using namespace tcpcore;
using tcpcore::fuzz::byte_reader;

namespace {

// The engine's variables, read but never written: to aim segments at its
// windows and to check what its public face does not show (the sequence
// variables are public; the delayed ACK's timer comes from the fixtures).
struct internals {
    seq32 snd_una, snd_nxt, rcv_nxt, rcv_adv;
    std::uint32_t ts_recent, ts_offset, rbuf_len, sbuf_len;
    bool fin_received, delack_armed;
    time_point delack_deadline, last_rcv;
};
template <class C>
internals read_internals(const C& c) {
    const sequence_variables v = c.sequence();
    const auto t = testing::fixtures::timers(c);
    return {v.snd_una,      v.snd_nxt,       v.rcv_nxt,         v.rcv_adv,
            v.ts_recent,    v.ts_offset,     v.receive_queue,   v.send_queue,
            v.fin_received, t.delack_armed,  t.delack_deadline, t.last_rcv};
}

constexpr std::uint16_t local_port_active = 40000, peer_port = 80;
constexpr std::size_t full_room = tcp_max_header_length + 65535;
// More segments than any window and send buffer here allow in one go: past
// it, poll_output() is looping.
constexpr std::size_t max_segments_per_drain = 20000;

config make_config(std::uint8_t s0, std::uint8_t s1, std::uint8_t s2) {
    config c;
    c.timestamps = !(s0 & fuzz::conn_no_timestamps);
    c.sack = !(s0 & fuzz::conn_no_sack);
    c.window_scaling = !(s0 & fuzz::conn_no_window_scaling);
    c.delayed_ack = !(s0 & fuzz::conn_no_delayed_ack);
    c.nodelay = (s0 & fuzz::conn_nodelay) != 0;
    switch (s1 & 3u) {
        case 0: break;  // 256 KiB each way
        case 1: c.send_buffer = c.receive_buffer = 8192; break;
        case 2: c.send_buffer = 3000; c.receive_buffer = 1200; break;  // windows of a segment or two
        case 3: c.send_buffer = 64 * 1024; c.receive_buffer = 1024 * 1024; break;  // window scale 5
    }
    constexpr std::uint16_t mss_choices[4] = {1460, 536, 88, 9000};
    c.mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(mss_choices[(s1 >> 2) & 3u], c.receive_buffer));
    if (s1 & 0x10) c.rto_style = rto_formula::rfc6298;
    if (s1 & 0x20) {
        c.keepalive = true;
        c.keepalive_idle = std::chrono::seconds{1};
        c.keepalive_interval = std::chrono::seconds{1};
        c.keepalive_probes = 3;
    }
    if (s1 & 0x40) c.user_timeout = std::chrono::seconds{3};
    c.rfc1337 = (s1 & 0x80) != 0;
    if (s2 & 0x01) c.syn_linear_timeouts = 4;
    if (s2 & 0x02) c.syn_retries = c.synack_retries = 2;
    if (s2 & 0x04) {
        c.msl = std::chrono::seconds{1};
        c.fin_timeout = std::chrono::seconds{2};
    }
    if (s2 & 0x08) c.challenge_ack_limit = 2;
    if (s2 & 0x10) c.initial_cwnd = 1;
    if (s2 & 0x20) {
        c.retries1 = 1;
        c.retries2 = 3;
    }
    if (s2 & 0x40) c.delayed_ack_timeout = std::chrono::milliseconds{200};
    if (s2 & 0x80) {
        c.rto_min = std::chrono::milliseconds{1};
        c.rto_initial = std::chrono::milliseconds{50};
        c.rto_max = std::chrono::seconds{1};
    }
    FUZZ_CHECK(validate(c).ok());
    return c;
}

template <class CC>
class driver {
public:
    using conn_type = basic_connection<CC, fuzz::fuzz_allocator>;

    driver(byte_reader& in, const config& cfg, bool ipv6, std::uint32_t fail_mask)
        : in_(in), cfg_(cfg), out_(full_room) {
        alloc_.fail_mask = fail_mask;
        local_ = ipv6 ? ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 1}) : ip_address::v4(10, 0, 0, 1);
        peer_ = ipv6 ? ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 2}) : ip_address::v4(10, 0, 0, 2);
        conn_.emplace(cfg_, fuzz::fuzz_allocator{&alloc_});
    }

    ~driver() {
        conn_.reset();
        // Whatever the input did, the engine gives back all it took.
        FUZZ_CHECK(alloc_.live.empty());
    }

    void start(std::uint8_t s0, seq32 iss, time_point t0) {
        now_ = t0;
        open((s0 & fuzz::conn_active) ? 1 : (s0 & fuzz::conn_fixed_remote) ? 2 : 0, iss);
    }

    void run() {
        while (!in_.empty()) {
            const std::uint8_t op = in_.u8();
            step(static_cast<std::uint8_t>((op & 0x7f) % fuzz::conn_op::count));
            check_invariants();
            if (op & 0x80) drain(full_room);
            FUZZ_TRACE("  -> %s, readable %zu, next_deadline %lld\n", std::string(to_string(conn().state())).c_str(),
                       conn().readable(), static_cast<long long>(conn().next_deadline().time_since_epoch().count()));
        }
        // Run what is due one last time, so every input ends with its output.
        drain(full_room);
    }

private:
    conn_type& conn() { return *conn_; }
    internals peek_internals() const { return read_internals(*conn_); }

    four_tuple active_tuple() const { return {{local_, local_port_active}, {peer_, peer_port}}; }
    // The peer as segments name it: for a passive open, the peer's port is
    // the active side's.
    socket_address peer_endpoint() const { return passive_ ? socket_address{peer_, local_port_active} : socket_address{peer_, peer_port}; }
    socket_address local_endpoint() const { return passive_ ? socket_address{local_, peer_port} : socket_address{local_, local_port_active}; }

    void open(unsigned mode, seq32 iss) {
        std::error_code e;
        const bool was_closed = conn().state() == tcp_state::closed;
        if (mode == 1) {
            passive_ = false;
            e = conn().open_active(now_, active_tuple(), iss);
        } else {
            passive_ = true;
            e = conn().open_passive(now_, local_endpoint(), iss, 0,
                                    mode == 2 ? peer_endpoint() : socket_address{});
        }
        FUZZ_TRACE("open %s iss %u: %s\n", mode == 1 ? "active" : mode == 2 ? "passive (fixed)" : "passive",
                   iss.raw(), e ? e.message().c_str() : "ok");
        FUZZ_CHECK(!e == was_closed);
        if (!e) new_incarnation(iss);
    }

    void new_incarnation(seq32 iss) {
        iss_ = iss;
        queued_ = 0;
        edge_known_ = false;
    }

    void step(std::uint8_t op) {
        namespace o = fuzz::conn_op;
        switch (op) {
            case o::segment: return feed_segment();
            case o::advance: {
                const std::uint8_t unit = in_.u8();
                const duration d = fuzz::time_step(unit, in_.u8());
                now_ += d;
                FUZZ_TRACE("advance %lld us\n", static_cast<long long>(d.count()));
                return;
            }
            case o::poll: {
                const std::uint8_t r = in_.u8();
                return drain(r == 0 ? full_room : tcp_max_header_length + 8u * r - 8u);
            }
            case o::send: return user_send(in_.u16());
            case o::recv: return user_recv(in_.u16());
            case o::peek: return user_peek(in_.u16());
            case o::shutdown: {
                const tcp_state s = conn().state();
                const auto e = conn().shutdown(now_);
                FUZZ_TRACE("shutdown: %s\n", e ? e.message().c_str() : "ok");
                FUZZ_CHECK(!e == (s != tcp_state::closed && s != tcp_state::listen));
                return;
            }
            case o::close: {
                FUZZ_TRACE("close\n");
                FUZZ_CHECK(!conn().close(now_));
                return;
            }
            case o::abort: {
                FUZZ_TRACE("abort\n");
                conn().abort(now_);
                FUZZ_CHECK(conn().state() == tcp_state::closed);
                return;
            }
            case o::setter: return setter();
            case o::open: {
                const std::uint8_t mode = in_.u8();
                return open(mode % 3u, seq32{in_.u32()});
            }
            case o::release: {
                conn().release_idle_buffers();
                return;
            }
            case o::events: {
                const connection_events ev = conn().take_events();
                FUZZ_TRACE("events %02x\n", ev.bits());
                // Nothing leaves CLOSED but an open, which clears the events.
                if (ev.has(connection_events::closed)) FUZZ_CHECK(conn().state() == tcp_state::closed);
                FUZZ_CHECK(conn().take_events().empty());
                return;
            }
            case o::fail_alloc: {
                alloc_.fail_next = in_.u8() % 4u;
                return;
            }
            case o::hand_off: return hand_off();
            case o::cookie: return cookie_open();
            case o::ack_all: return ack_all();
            default: return;
        }
    }

    // ---- Segments to the engine --------------------------------------------

    std::uint32_t our_tsval() const { return detail::ms32(now_) + peek_internals().ts_offset; }

    fuzz::segment_context context() const {
        const internals v = peek_internals();
        return {v.rcv_nxt, v.rcv_adv, v.snd_una, v.snd_nxt, iss_, v.ts_recent, our_tsval()};
    }

    void feed_segment() {
        fuzz::segment_recipe r = fuzz::decode_segment(in_, context());
        socket_address src = peer_endpoint(), dst = local_endpoint();
        if (r.misaddress) {
            switch (*r.misaddress & 3u) {
                case 0: dst.port = static_cast<std::uint16_t>(dst.port + 1); break;
                case 1: src.port = static_cast<std::uint16_t>(src.port + 1); break;
                case 2: src.address = local_; break;
                default: dst.address = peer_; break;
            }
        }
        r.fields.src_port = src.port;
        r.fields.dst_port = dst.port;
        // Bytes from the input no longer follow the peer's stream: reads
        // cannot be checked from here on.
        if (r.payload_from_input) tainted_ = true;
        deliver(r.fields, r.options, r.payload, src.address, dst.address);
    }

    void deliver(const tcp_header_fields& f, const tcp_options& o, std::span<const std::uint8_t> payload,
                 const ip_address& src, const ip_address& dst) {
        std::vector<std::uint8_t> buf(tcp_max_header_length + payload.size());
        const auto n = build_tcp_segment(buf, f, o, payload, src, dst);
        if (!n) return;  // options beyond 40 bytes: not a segment
        const auto seg = tcp_segment_view::parse(std::span(buf).first(*n), src, dst);
        if (!seg) return;  // SYN with RST or FIN: the parser refuses it before any engine sees it
        const tcp_state before = conn().state();
        const auto r = conn().on_segment(now_, *seg, src, dst);
        FUZZ_TRACE("segment %s -> %s: result %d\n", describe(*seg).c_str(),
                   std::string(to_string(conn().state())).c_str(), static_cast<int>(r.result));
        if (r.result == segment_result::not_for_us) FUZZ_CHECK(conn().state() == before);
        if (r.result == segment_result::reopen) FUZZ_CHECK(before == tcp_state::time_wait);
        if (r.result == segment_result::reset) FUZZ_CHECK(conn().state() != before || before == tcp_state::listen);
        after_state_change(before);
    }

    static std::string describe(const tcp_segment_view& s) {
        char text[200];
        (void)format_segment(s, text);
        return text;
    }

    void after_state_change(tcp_state before) {
        const tcp_state s = conn().state();
        // A return to LISTEN or CLOSED starts the receive window afresh.
        if (s != before && (s == tcp_state::listen || s == tcp_state::closed)) edge_known_ = false;
    }

    void ack_all() {
        const internals v = peek_internals();
        tcp_header_fields f;
        f.flags = tcp_flags::ack;
        f.seq = v.rcv_nxt;
        f.ack = v.snd_nxt;
        f.window = in_.u16();
        f.src_port = peer_endpoint().port;
        f.dst_port = local_endpoint().port;
        tcp_options o;
        if (conn().info().timestamps) o.timestamps = tcp_timestamps{v.ts_recent, our_tsval()};
        deliver(f, o, {}, peer_, local_);
    }

    // ---- Output from the engine ----------------------------------------------

    void drain(std::size_t room) {
        FUZZ_CHECK(room <= out_.size());
        for (std::size_t count = 0;; ++count) {
            FUZZ_CHECK(count <= max_segments_per_drain);
            const tcp_state before = conn().state();
            const std::size_t n = conn().poll_output(now_, std::span(out_).first(room));
            after_state_change(before);
            if (n == 0) break;
            FUZZ_CHECK(n <= room);
            check_emitted(std::span(out_).first(n), room);
        }
        check_invariants();
        if (room < full_room) return;  // a small buffer may leave data waiting
        // It has run everything due: nothing is waiting and no deadline has passed.
        const time_point at = conn().next_deadline();
        FUZZ_CHECK(at != time_point::min());
        FUZZ_CHECK(at > now_);
    }

    void check_emitted(std::span<const std::uint8_t> bytes, std::size_t room) {
        const four_tuple& t = conn().tuple();
        const auto seg = tcp_segment_view::parse(bytes, t.local.address, t.remote.address);
        FUZZ_CHECK(seg.has_value());
        FUZZ_CHECK(seg->src_port() == t.local.port && seg->dst_port() == t.remote.port);
        FUZZ_TRACE("  emitted %s\n", describe(*seg).c_str());
        const tcp_flags fl = seg->flags();
        const auto payload = seg->payload();
        if (fl.rst_set()) {
            FUZZ_CHECK(payload.empty());
            return;
        }
        const internals v = peek_internals();
        const connection_info info = conn().info();
        FUZZ_CHECK(payload.size() <= info.send_mss);
        FUZZ_CHECK(payload.size() + tcp_max_header_length <= room);
        if (fl.syn_set()) FUZZ_CHECK(payload.empty() && seg->options().mss.has_value());
        if (fl.ack_set()) FUZZ_CHECK(seg->ack() == v.rcv_nxt);
        if (!payload.empty()) {
            // Data lies in what was sent and not acknowledged, and is what the
            // application wrote there.
            FUZZ_CHECK(v.snd_una <= seg->seq());
            FUZZ_CHECK(seg->seq() + static_cast<std::uint32_t>(payload.size()) <= v.snd_nxt);
            const std::uint32_t offset = seq_distance(iss_ + 1, seg->seq());
            for (std::size_t i = 0; i < payload.size(); ++i)
                FUZZ_CHECK(payload[i] == fuzz::stream_byte(offset + static_cast<std::uint32_t>(i)));
        }
        // The FIN takes the sequence number after the last byte ever queued.
        if (fl.fin_set())
            FUZZ_CHECK(seg->seq() + static_cast<std::uint32_t>(payload.size()) == iss_ + 1 + queued_);
        if (fl.ack_set() && !fl.syn_set()) {
            // RFC 9293 §3.8.6.2.2: the right edge of the offered window never moves left.
            const seq32 edge = seg->ack() + (std::uint32_t{seg->window()} << info.receive_window_scale);
            if (edge_known_) FUZZ_CHECK(!(edge < right_edge_));
            right_edge_ = edge;
            edge_known_ = true;
        }
    }

    void check_invariants() {
        const tcp_state s = conn().state();
        FUZZ_CHECK(static_cast<std::size_t>(s) < tcp_state_count);
        const connection_info info = conn().info();
        const internals v = peek_internals();
        FUZZ_CHECK(info.state == s);
        FUZZ_CHECK(!(v.snd_nxt < v.snd_una));
        FUZZ_CHECK(info.bytes_in_flight == seq_distance(v.snd_una, v.snd_nxt));
        FUZZ_CHECK(info.send_queue == v.sbuf_len && info.receive_queue == v.rbuf_len);
        FUZZ_CHECK(info.receive_queue == conn().readable());
        FUZZ_CHECK(info.send_queue <= cfg_.send_buffer);
        FUZZ_CHECK(info.send_mss > 0);
        if (s != tcp_state::closed && s != tcp_state::listen && s != tcp_state::time_wait) {
            // In flight: queued bytes, plus one each for SYN and FIN.
            FUZZ_CHECK(info.bytes_in_flight <= info.send_queue + 2);
        }
        if (conn().has_buffers()) {
            FUZZ_CHECK(alloc_.live.size() == 1 && alloc_.live[0].bytes == conn().buffer_bytes());
            FUZZ_CHECK(info.receive_queue <= conn().buffer_bytes() - cfg_.send_buffer);
        } else {
            FUZZ_CHECK(alloc_.live.empty());
            FUZZ_CHECK(info.receive_queue == 0 && info.send_queue == 0);
        }
        // Kept as 32 bits around the last arrival, the delayed-ACK deadline
        // must read back as at most one timeout ahead.
        if (v.delack_armed) FUZZ_CHECK(v.delack_deadline <= now_ + cfg_.delayed_ack_timeout);
        if (s == tcp_state::closed) {
            const time_point at = conn().next_deadline();
            FUZZ_CHECK(at == never || at == time_point::min());
        }
    }

    // ---- User calls ----------------------------------------------------------

    void user_send(std::uint16_t length) {
        std::vector<std::uint8_t> data(length);
        const std::uint32_t start = stream_offset_of_queue_end(peek_internals());
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = fuzz::stream_byte(start + static_cast<std::uint32_t>(i));
        const std::size_t space = conn().send_space();
        const auto r = conn().send(now_, data);
        FUZZ_TRACE("send %u: %s\n", unsigned{length}, r ? std::to_string(*r).c_str() : r.error().message().c_str());
        if (r) {
            FUZZ_CHECK(*r <= data.size());
            queued_ += static_cast<std::uint32_t>(*r);
            // LISTEN reports no space, then takes the bytes as it turns active.
            if (space != 0) FUZZ_CHECK(*r == std::min(data.size(), space));
        }
    }

    // Where the end of the send queue lies in our stream (bytes from ISS + 1):
    // SND.UNA counts the SYN and, once acknowledged, the FIN.
    std::uint32_t stream_offset_of_queue_end(const internals& v) {
        const tcp_state s = conn().state();
        const bool syn_unacked = s == tcp_state::syn_sent || s == tcp_state::syn_received || s == tcp_state::listen;
        const std::uint32_t una = seq_distance(iss_ + 1, v.snd_una) + (syn_unacked ? 1u : 0u);
        return una + v.sbuf_len;
    }

    void user_recv(std::uint16_t length) {
        std::vector<std::uint8_t> buf(length);
        const internals v = peek_internals();
        const seq32 first = first_unread(v);
        const std::size_t readable = conn().readable();
        const std::size_t n = conn().recv(buf);
        FUZZ_TRACE("recv %u: %zu\n", unsigned{length}, n);
        FUZZ_CHECK(n <= length && n <= readable);
        FUZZ_CHECK(n == std::min<std::size_t>(length, readable));
        check_received(std::span(buf).first(n), first);
    }

    void user_peek(std::uint16_t length) {
        const internals v = peek_internals();
        const seq32 first = first_unread(v);
        const auto pieces = conn().peek();
        FUZZ_CHECK(pieces.first.size() + pieces.second.size() == conn().readable());
        FUZZ_CHECK(!pieces.first.empty() || pieces.second.empty());
        check_received(pieces.first, first);
        check_received(pieces.second, first + static_cast<std::uint32_t>(pieces.first.size()));
        const std::size_t before = conn().readable();
        conn().consume(length);
        FUZZ_TRACE("consume %u of %zu\n", unsigned{length}, before);
        FUZZ_CHECK(conn().readable() == before - std::min<std::size_t>(length, before));
    }

    // The sequence number of the first unread byte: what is readable ends
    // at RCV.NXT, before the peer's FIN when that came.
    static seq32 first_unread(const internals& v) {
        return v.rcv_nxt - v.rbuf_len - (v.fin_received ? 1u : 0u);
    }

    void check_received(std::span<const std::uint8_t> bytes, seq32 first) const {
        if (tainted_) return;
        for (std::size_t i = 0; i < bytes.size(); ++i)
            FUZZ_CHECK(bytes[i] == fuzz::stream_byte((first + static_cast<std::uint32_t>(i)).raw()));
    }

    void setter() {
        const std::uint8_t which = in_.u8();
        const std::uint16_t value = in_.u16();
        config_check c;
        switch (which % 8u) {
            case 0: c = conn().set_keepalive((value & 1) != 0, now_); break;
            case 1: c = conn().set_keepalive_idle(std::chrono::seconds{value}); break;
            case 2: c = conn().set_keepalive_interval(std::chrono::seconds{value}); break;
            case 3: c = conn().set_keepalive_probes(static_cast<std::uint8_t>(value)); break;
            case 4:
                c = conn().set_user_timeout(std::chrono::milliseconds{value & 0x7fff} * ((value & 0x8000) ? 1000 : 1));
                break;
            case 5: c = conn().set_syn_retries(static_cast<std::uint8_t>(value)); break;
            case 6: c = conn().set_nodelay((value & 1) != 0); break;
            default:
                // Not whole seconds: must be refused unless it is.
                c = conn().set_keepalive_idle(std::chrono::milliseconds{value});
                FUZZ_CHECK(c.ok() == (value % 1000 == 0 && value != 0));
                break;
        }
        FUZZ_TRACE("setter %u = %u: %s\n", which % 8u, unsigned{value}, c.ok() ? "ok" : "refused");
    }

    void hand_off() {
        if (conn().state() != tcp_state::time_wait) {
            // Nothing to hand off: refused, and nothing changes.
            const tcp_state before = conn().state();
            FUZZ_CHECK(!conn().hand_off_time_wait(now_));
            FUZZ_CHECK(conn().state() == before);
            return;
        }
        const internals v = peek_internals();
        const auto r = conn().hand_off_time_wait(now_);
        FUZZ_TRACE("hand off TIME-WAIT\n");
        FUZZ_CHECK(r.has_value() && conn().state() == tcp_state::closed);
        FUZZ_CHECK(r->tuple == conn().tuple() && r->snd_nxt == v.snd_nxt && r->rcv_nxt == v.rcv_nxt);
        edge_known_ = false;
    }

    // What the endpoint does with an ACK that carries a valid SYN cookie:
    // the values are those a cookie can carry.
    void cookie_open() {
        const std::uint8_t ctl = in_.u8();
        typename conn_type::cookie_syn syn;
        syn.mss = syn_cookie_mss_table[ctl & 3u];
        if (ctl & 0x04) syn.window_scale = static_cast<std::uint8_t>(std::min((ctl >> 4) & 0xfu, 14u));
        syn.sack_permitted = (ctl & 0x08) != 0;
        syn.window = in_.u16();
        const seq32 irs{in_.u32()};
        const seq32 iss{in_.u32()};
        if (conn().state() != tcp_state::closed) return;
        tcp_header_fields f;
        f.flags = tcp_flags::ack;
        f.seq = irs + 1;
        f.ack = iss + 1;
        f.window = syn.window;
        f.src_port = local_port_active;
        f.dst_port = peer_port;
        tcp_options o;
        if (cfg_.timestamps && (ctl & 0x80)) {
            o.timestamps = tcp_timestamps{in_.u32(), in_.u32()};
            syn.ts_recent = o.timestamps->value;
        }
        bool from_input = false;
        const std::vector<std::uint8_t> payload = fuzz::decode_payload(in_, f.seq, from_input);
        if (from_input) tainted_ = true;
        std::vector<std::uint8_t> buf(tcp_max_header_length + payload.size());
        const auto n = build_tcp_segment(buf, f, o, payload, peer_, local_);
        FUZZ_CHECK(n.has_value());
        const auto seg = tcp_segment_view::parse(std::span(buf).first(*n), peer_, local_);
        FUZZ_CHECK(seg.has_value());
        passive_ = true;
        new_incarnation(iss);
        const four_tuple t{{local_, peer_port}, {peer_, local_port_active}};
        const auto r = conn().open_from_cookie(now_, t, iss, 0, syn, *seg);
        FUZZ_TRACE("open from cookie: %d, %s\n", static_cast<int>(r.result),
                   std::string(to_string(conn().state())).c_str());
        FUZZ_CHECK(r.result != segment_result::not_for_us);
    }

    byte_reader& in_;
    const config& cfg_;
    fuzz::alloc_control alloc_;
    std::optional<conn_type> conn_;
    std::vector<std::uint8_t> out_;
    ip_address local_, peer_;
    time_point now_{};
    seq32 iss_{};
    std::uint32_t queued_ = 0;  // bytes send() took in this incarnation
    seq32 right_edge_{};
    bool edge_known_ = false;
    bool passive_ = false;
    bool tainted_ = false;  // bytes from the input were offered as data
};

template <class CC>
void run(byte_reader& in, std::uint8_t s0, const config& cfg, seq32 iss, time_point t0, std::uint32_t fail_mask) {
    driver<CC> d(in, cfg, (s0 & fuzz::conn_ipv6) != 0, fail_mask);
    d.start(s0, iss, t0);
    d.run();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    byte_reader in(data, size);
    const std::uint8_t s0 = in.u8(), s1 = in.u8(), s2 = in.u8(), s3 = in.u8();
    const config cfg = make_config(s0, s1, s2);
    const seq32 iss{in.u32()};
    const std::uint32_t start_ms = in.u32();
    const std::uint16_t start_us = in.u16();
    const time_point t0{std::chrono::milliseconds{start_ms} + std::chrono::microseconds{start_us}};
    const std::uint32_t fail_mask = in.u32();
    if (s3 & fuzz::conn_cubic) run<cubic>(in, s0, cfg, iss, t0, fail_mask);
    else run<newreno>(in, s0, cfg, iss, t0, fail_mask);
    return 0;
}
