// Writes the seed corpora: real segments and datagrams for the parser, and
// scenarios in the three command languages (a handshake, a transfer, a close,
// timeouts, loss...) for the connection, endpoint and socket targets, so that
// fuzzing starts from inputs that reach deep states instead of from noise.
//
//   fuzz_make_seeds fuzz/corpus     # writes fuzz/corpus/<target>/seed-*
//
// Run TCPCORE_FUZZ_TRACE=1 fuzz_replay_<target> <seed> to watch one play.

#include "fuzz_support.hpp"

#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace tcpcore;
using tcpcore::fuzz::byte_writer;

namespace {

std::filesystem::path out_root;
std::size_t written = 0;

void save(const std::string& target, const std::string& name, const std::vector<std::uint8_t>& bytes) {
    const auto dir = out_root / target;
    std::filesystem::create_directories(dir);
    std::ofstream f(dir / ("seed-" + name), std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
        std::fprintf(stderr, "cannot write %s/%s\n", target.c_str(), name.c_str());
        std::exit(1);
    }
    ++written;
}

// ---- The parser: segments and datagrams as Linux sends them --------------

const ip_address client4 = ip_address::v4(10, 0, 0, 1), server4 = ip_address::v4(10, 0, 0, 2);
const ip_address client6 = ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 1});
const ip_address server6 = ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 2});

std::vector<std::uint8_t> segment(const tcp_header_fields& f, const tcp_options& o, std::size_t payload,
                                  const ip_address& src, const ip_address& dst) {
    std::vector<std::uint8_t> data(payload);
    for (std::size_t i = 0; i < payload; ++i) data[i] = static_cast<std::uint8_t>('a' + i % 26);
    std::vector<std::uint8_t> out(tcp_max_header_length + payload);
    const auto n = build_tcp_segment(out, f, o, data, src, dst);
    if (!n) std::abort();
    out.resize(*n);
    return out;
}

std::vector<std::uint8_t> datagram(const std::vector<std::uint8_t>& tcp, const ip_address& src,
                                   const ip_address& dst) {
    std::vector<std::uint8_t> out(ipv6_header_length);
    const auto hl = write_ip_header(out, src, dst, ip_protocol_tcp, tcp.size());
    if (!hl) std::abort();
    out.resize(*hl);
    out.insert(out.end(), tcp.begin(), tcp.end());
    return out;
}

void parser_seeds() {
    const std::string t = "fuzz_parser";
    tcp_options syn_opts;
    syn_opts.mss = 1460;
    syn_opts.sack_permitted = true;
    syn_opts.timestamps = tcp_timestamps{2914957004u, 0};
    syn_opts.window_scale = 7;
    const tcp_header_fields syn{40000, 80, seq32{0x8a5b1c2du}, seq32{}, tcp_flags::syn, 64240, 0, 0};
    save(t, "syn-v4", datagram(segment(syn, syn_opts, 0, client4, server4), client4, server4));
    save(t, "syn-v6", datagram(segment(syn, syn_opts, 0, client6, server6), client6, server6));
    save(t, "syn-bare", segment(syn, syn_opts, 0, client4, server4));

    tcp_options synack_opts = syn_opts;
    synack_opts.timestamps = tcp_timestamps{77, 2914957004u};
    const tcp_header_fields synack{80, 40000, seq32{1000}, seq32{0x8a5b1c2eu}, tcp_flags::syn | tcp_flags::ack,
                                   65160, 0, 0};
    save(t, "synack-v4", datagram(segment(synack, synack_opts, 0, server4, client4), server4, client4));

    tcp_options data_opts;
    data_opts.timestamps = tcp_timestamps{2914957100u, 77};
    data_opts.add_sack_block({seq32{5000}, seq32{6000}});
    data_opts.add_sack_block({seq32{7000}, seq32{9000}});
    data_opts.add_sack_block({seq32{12000}, seq32{12500}});
    const tcp_header_fields data{40000, 80, seq32{0x8a5b1c2eu}, seq32{1001}, tcp_flags::psh | tcp_flags::ack, 502,
                                 0, 0};
    save(t, "data-sack-v4", datagram(segment(data, data_opts, 100, client4, server4), client4, server4));
    save(t, "data-sack-v6-bare", segment(data, data_opts, 33, client6, server6));

    const tcp_header_fields rst{40000, 80, seq32{1}, seq32{0}, tcp_flags::rst, 0, 0, 0};
    save(t, "rst-v4", datagram(segment(rst, {}, 0, client4, server4), client4, server4));
    const tcp_header_fields finack{40000, 80, seq32{9}, seq32{9}, tcp_flags::fin | tcp_flags::ack, 500, 0, 0x1};
    save(t, "finack-reserved-bit", datagram(segment(finack, {}, 0, client4, server4), client4, server4));

    // Raw options a builder never writes: unknown kinds, EOL padding, NOPs.
    std::vector<std::uint8_t> odd = segment(data, {}, 0, client4, server4);
    const std::uint8_t raw_opts[] = {0x01, 0xfe, 0x06, 0x11, 0x22, 0x33, 0x44, 0x03, 0x03, 0x0f, 0x00, 0x00};
    odd.insert(odd.begin() + 20, std::begin(raw_opts), std::end(raw_opts));
    odd[12] = static_cast<std::uint8_t>((odd[12] & 0x0f) | ((32 / 4) << 4));
    write_tcp_checksum(odd, client4, server4);
    save(t, "unknown-options", datagram(odd, client4, server4));
    // Malformed: an option running past the header, a zero option length.
    std::vector<std::uint8_t> bad = odd;
    bad[22] = 0x2a;
    save(t, "option-past-header", bad);
    bad[22] = 0x00;
    save(t, "option-length-zero", datagram(bad, client4, server4));

    // IPv6 with a hop-by-hop and a routing header before TCP, and a fragment.
    std::vector<std::uint8_t> v6 = datagram(segment(syn, syn_opts, 0, client6, server6), client6, server6);
    const std::uint8_t ext[16] = {43, 0, 1, 4, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
    v6.insert(v6.begin() + 40, std::begin(ext), std::end(ext));
    v6[6] = 0;
    const std::size_t plen = v6.size() - 40;
    v6[4] = static_cast<std::uint8_t>(plen >> 8);
    v6[5] = static_cast<std::uint8_t>(plen);
    save(t, "v6-extension-headers", v6);
    std::vector<std::uint8_t> frag = datagram(segment(syn, syn_opts, 0, client4, server4), client4, server4);
    frag[6] = 0x20;  // MF, which also breaks the header checksum: both rejections are reachable
    save(t, "v4-fragment", frag);
}

// ---- The connection command language --------------------------------------

namespace co = tcpcore::fuzz::conn_op;

// A signed delta in the narrowest width the reader takes.
unsigned delta_kind(std::int64_t d) {
    if (d == 0) return 0;
    if (d >= -128 && d <= 127) return 1;
    if (d >= -32768 && d <= 32767) return 2;
    return 3;
}
void put_delta(byte_writer& w, std::int64_t d) {
    switch (delta_kind(d)) {
        case 1: w.u8(static_cast<std::uint8_t>(d)); break;
        case 2: w.u16(static_cast<std::uint16_t>(d)); break;
        case 3: w.u32(static_cast<std::uint32_t>(d)); break;
        default: break;
    }
}

struct ts_spec {
    std::optional<std::uint32_t> value;  // absolute; else TS.Recent + value_delta
    std::int32_t value_delta = 0;
    std::optional<std::uint32_t> echo;   // absolute; else our clock + echo_delta
    std::int32_t echo_delta = 0;
};

struct seg_spec {
    std::uint8_t flags = tcp_flags::ack;
    std::uint8_t seq_base = fuzz::seq_base::rcv_nxt;
    std::uint32_t seq_abs = 0;
    std::int64_t seq_delta = 0;
    std::uint8_t ack_base = fuzz::ack_base::snd_nxt;
    std::uint32_t ack_abs = 0;
    std::int64_t ack_delta = 0;
    std::uint16_t window = 65535;
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> ws;
    bool sack_ok = false;
    std::optional<ts_spec> ts;
    std::vector<std::pair<std::uint16_t, std::uint16_t>> sack;  // (offset from SND.UNA, length)
    std::uint8_t payload = 0;  // length code
};

class conn_seed {
public:
    conn_seed(std::uint8_t s0, std::uint8_t s1 = 0, std::uint8_t s2 = 0, std::uint8_t s3 = 0, std::uint32_t iss = 1000,
              std::uint32_t start_ms = 5000, std::uint32_t fail_mask = 0) {
        w_.u8(s0).u8(s1).u8(s2).u8(s3).u32(iss).u32(start_ms).u16(0).u32(fail_mask);
    }
    conn_seed& op(std::uint8_t code, bool drain = true) {
        w_.u8(static_cast<std::uint8_t>(code | (drain ? 0x80 : 0)));
        return *this;
    }
    conn_seed& seg(const seg_spec& s, bool drain = true) {
        op(co::segment, drain);
        w_.u8(s.flags);
        const unsigned sk = delta_kind(s.seq_delta);
        const unsigned ak = delta_kind(s.ack_delta);
        w_.u8(static_cast<std::uint8_t>(s.seq_base | sk << 2 | s.ack_base << 4 | ak << 6));
        if (s.seq_base == fuzz::seq_base::absolute) w_.u32(s.seq_abs);
        put_delta(w_, s.seq_delta);
        if (s.ack_base == fuzz::ack_base::absolute) w_.u32(s.ack_abs);
        put_delta(w_, s.ack_delta);
        w_.u16(s.window);
        std::uint8_t opts = fuzz::opt_sack_blocks(static_cast<unsigned>(s.sack.size()));
        if (s.mss) opts |= fuzz::opt_mss;
        if (s.ws) opts |= fuzz::opt_ws;
        if (s.sack_ok) opts |= fuzz::opt_sack_ok;
        if (s.ts) opts |= fuzz::opt_ts;
        w_.u8(opts);
        if (s.mss) w_.u16(*s.mss);
        if (s.ws) w_.u8(*s.ws);
        if (s.ts) {
            const ts_spec& t = *s.ts;
            const unsigned vk = delta_kind(t.value_delta), ek = delta_kind(t.echo_delta);
            w_.u8(static_cast<std::uint8_t>((t.value ? 1 : vk << 1) | (t.echo ? 8 : ek << 4)));
            if (t.value) w_.u32(*t.value);
            else put_delta(w_, t.value_delta);
            if (t.echo) w_.u32(*t.echo);
            else put_delta(w_, t.echo_delta);
        }
        for (const auto& [off, len] : s.sack) w_.u16(off).u16(len);
        w_.u8(s.payload);
        return *this;
    }
    conn_seed& advance(std::uint8_t unit, std::uint8_t amount, bool drain = true) {
        op(co::advance, drain);
        w_.u8(unit).u8(amount);
        return *this;
    }
    conn_seed& send(std::uint16_t n) {
        op(co::send);
        w_.u16(n);
        return *this;
    }
    conn_seed& recv(std::uint16_t n) {
        op(co::recv);
        w_.u16(n);
        return *this;
    }
    conn_seed& peek(std::uint16_t n) {
        op(co::peek);
        w_.u16(n);
        return *this;
    }
    conn_seed& ack_all(std::uint16_t window = 65535) {
        op(co::ack_all);
        w_.u16(window);
        return *this;
    }
    conn_seed& setter(std::uint8_t which, std::uint16_t value) {
        op(co::setter);
        w_.u8(which).u16(value);
        return *this;
    }
    byte_writer& raw() { return w_; }
    [[nodiscard]] const std::vector<std::uint8_t>& data() const { return w_.data(); }

private:
    byte_writer w_;
};

constexpr std::uint8_t SYN = tcp_flags::syn, ACK = tcp_flags::ack, FIN = tcp_flags::fin, RST = tcp_flags::rst,
                       PSH = tcp_flags::psh;
constexpr std::uint8_t unit_ms = 2, unit_100ms = 4, unit_s = 5, unit_min = 6;

// The peer's SYN,ACK (or SYN) with Linux's options.
seg_spec peer_syn(std::uint8_t flags, bool timestamps = true) {
    seg_spec s;
    s.flags = flags;
    s.seq_base = fuzz::seq_base::absolute;
    s.seq_abs = 50000;
    s.mss = 1460;
    s.ws = 7;
    s.sack_ok = true;
    s.window = 65160;
    if (timestamps) s.ts = ts_spec{100, 0, std::nullopt, 0};
    return s;
}
// An in-window segment from the peer acknowledging everything.
seg_spec peer(std::uint8_t flags, std::uint8_t payload = 0, bool timestamps = true) {
    seg_spec s;
    s.flags = flags;
    s.payload = payload;
    s.window = 1024;  // scaled by 7: 128 KiB
    if (timestamps) s.ts = ts_spec{std::nullopt, 1, std::nullopt, 0};
    return s;
}

conn_seed active_established(std::uint8_t s0 = fuzz::conn_active, std::uint8_t s1 = 0, std::uint8_t s2 = 0,
                             std::uint8_t s3 = 0, std::uint32_t fail_mask = 0) {
    conn_seed c(s0, s1, s2, s3, 1000, 5000, fail_mask);
    c.op(co::poll).raw().u8(0);                         // the SYN
    c.advance(unit_ms, 10, false);
    c.seg(peer_syn(SYN | ACK, !(s0 & fuzz::conn_no_timestamps)));  // -> ESTABLISHED, our ACK
    return c;
}

void connection_seeds() {
    const std::string t = "fuzz_connection";
    namespace f = tcpcore::fuzz;
    {   // Active open, data both ways, our close first, TIME-WAIT to CLOSED.
        auto c = active_established();
        c.send(3000).advance(unit_ms, 10, false).ack_all(1024);
        c.seg(peer(PSH | ACK, 50)).recv(100).advance(unit_ms, 50);  // the delayed ACK
        c.op(co::shutdown).seg(peer(FIN | ACK)).op(co::events);
        c.advance(unit_min, 1).op(co::events);
        save(t, "active-transfer-close", c.data());
    }
    {   // Passive open, the peer closes first, then we do.
        conn_seed c(0);
        c.seg(peer_syn(SYN));
        c.advance(unit_ms, 10, false).seg(peer(ACK));
        c.seg(peer(PSH | ACK, 20)).send(500).peek(10).recv(100).ack_all(1024);
        c.seg(peer(FIN | ACK)).op(co::events).op(co::close).ack_all(1024).op(co::events);
        save(t, "passive-peer-closes", c.data());
    }
    {   // IPv6, no timestamps, passive open for one peer, send() in LISTEN opens actively.
        conn_seed c(f::conn_ipv6 | f::conn_fixed_remote | f::conn_no_timestamps);
        c.send(100);
        seg_spec sa = peer_syn(SYN | ACK, false);
        c.seg(sa).ack_all(1024).op(co::close).seg(peer(FIN | ACK, 0, false)).advance(unit_min, 2);
        save(t, "v6-listen-send", c.data());
    }
    {   // SYN retransmissions until the give-up, linear timeouts, 2 retries.
        conn_seed c(f::conn_active, 0, 0x03);
        c.op(co::poll).raw().u8(0);
        for (int i = 0; i < 8; ++i) c.advance(unit_s, 2);
        c.op(co::events);
        save(t, "syn-give-up", c.data());
    }
    {   // Simultaneous open: a bare SYN crosses ours.
        conn_seed c(f::conn_active);
        c.op(co::poll).raw().u8(0);
        c.seg(peer_syn(SYN));
        seg_spec ack = peer(ACK);
        c.seg(ack).send(10).ack_all(1024).op(co::abort);
        save(t, "simultaneous-open", c.data());
    }
    {   // A zero window: probes back off, then the window opens.
        auto c = active_established();
        seg_spec zero = peer(ACK);
        zero.window = 0;
        c.seg(zero).send(2000);
        for (int i = 0; i < 4; ++i) c.advance(unit_s, 3);
        c.ack_all(1024).advance(unit_ms, 5).ack_all(1024);
        save(t, "zero-window", c.data());
    }
    {   // Keepalive probes unanswered: the connection times out.
        auto c = active_established(f::conn_active, 0x20);
        for (int i = 0; i < 6; ++i) c.advance(unit_s, 1);
        c.op(co::events);
        save(t, "keepalive-timeout", c.data());
    }
    {   // Out-of-order data held with SACK, then the hole filled.
        auto c = active_established();
        seg_spec later = peer(PSH | ACK, 64 + 3);  // 512 bytes, 512 ahead
        later.seq_delta = 512;
        c.seg(later);
        seg_spec later2 = peer(PSH | ACK, 64 + 3);
        later2.seq_delta = 2048;
        c.seg(later2).seg(peer(ACK, 64 + 3)).recv(4096).peek(4096);
        save(t, "out-of-order", c.data());
    }
    {   // Loss: duplicate ACKs with SACK blocks start fast recovery.
        auto c = active_established();
        c.send(20000);
        for (std::uint16_t k = 1; k <= 4; ++k) {
            seg_spec dup = peer(ACK);
            dup.ack_base = fuzz::ack_base::snd_una;
            dup.sack.push_back({static_cast<std::uint16_t>(1448), static_cast<std::uint16_t>(1448 * k)});
            c.seg(dup);
        }
        c.ack_all(1024).advance(unit_ms, 20).ack_all(1024);
        save(t, "fast-recovery", c.data());
    }
    {   // The same without SACK, under CUBIC.
        auto c = active_established(f::conn_active | f::conn_no_sack, 0, 0, f::conn_cubic);
        c.send(20000);
        for (int k = 0; k < 4; ++k) {
            seg_spec dup = peer(ACK);
            dup.ack_base = fuzz::ack_base::snd_una;
            c.seg(dup);
        }
        c.ack_all(1024).advance(unit_ms, 20).ack_all(1024).send(30000).ack_all(1024);
        save(t, "newreno-recovery-cubic", c.data());
    }
    {   // Retransmission timeouts until retries2 gives up, short timers.
        auto c = active_established(f::conn_active, 0, 0x20 | 0x80);
        c.send(1000);
        for (int i = 0; i < 10; ++i) c.advance(unit_100ms, 5);
        c.op(co::events);
        save(t, "rto-give-up", c.data());
    }
    {   // Resets: an in-window RST draws a challenge ACK, an exact one resets.
        auto c = active_established();
        seg_spec near = peer(RST);
        near.seq_delta = 10;
        near.ts.reset();
        c.seg(near);
        seg_spec exact = peer(RST);
        exact.ts.reset();
        c.seg(exact).op(co::events);
        save(t, "reset", c.data());
    }
    {   // TIME-WAIT: a retransmitted FIN is re-ACKed, a newer SYN reopens, hand-off.
        auto c = active_established();
        c.op(co::shutdown).seg(peer(FIN | ACK));
        seg_spec again = peer(FIN | ACK);
        again.seq_delta = -1;
        c.seg(again);
        seg_spec syn = peer_syn(SYN);
        syn.seq_abs = 90000;
        c.seg(syn).op(co::hand_off).op(co::open).raw().u8(0).u32(77777);
        c.seg(peer_syn(SYN)).seg(peer(ACK));
        save(t, "time-wait", c.data());
    }
    {   // A connection opened from a SYN cookie, with timestamps and data.
        conn_seed c(f::conn_active);
        c.op(co::abort).op(co::cookie).raw().u8(0x80 | 0x70 | 0x0c | 3).u16(512).u32(9000).u32(123456).u32(500).u32(0).u8(10);
        c.send(100).ack_all(1024).recv(100);
        save(t, "syn-cookie-open", c.data());
    }
    {   // Memory runs out for the first buffer: send fails, then works.
        auto c = active_established(f::conn_active, 0, 0, 0, 0x1);
        c.send(100).send(100).ack_all(1024).op(co::release).op(co::fail_alloc).raw().u8(1);
        c.seg(peer(PSH | ACK, 10)).seg(peer(PSH | ACK, 10)).recv(100);
        save(t, "out-of-memory", c.data());
    }
    {   // Tiny buffers and MSS 88: many small segments and window updates.
        auto c = active_established(f::conn_active | f::conn_no_delayed_ack, 2 | (2 << 2));
        c.send(3000);
        for (int i = 0; i < 6; ++i) c.ack_all(1024).seg(peer(PSH | ACK, 60)).recv(200);
        c.op(co::close).ack_all(1024);
        save(t, "small-buffers", c.data());
    }
    {   // Settings while running: keepalive on, user timeout, nodelay.
        auto c = active_established();
        c.setter(0, 1).setter(1, 2).setter(2, 1).setter(3, 2).setter(4, 1500).setter(6, 1).setter(7, 2500);
        c.send(10).send(10);
        for (int i = 0; i < 8; ++i) c.advance(unit_s, 1);
        save(t, "settings", c.data());
    }
}

// ---- The endpoint command language ---------------------------------------

namespace eo = tcpcore::fuzz::ep_op;

class ep_seed {
public:
    ep_seed(std::uint8_t e0, std::uint8_t e1 = 0, std::uint8_t delay = 30, std::uint8_t e3 = 0x0f,
            std::uint32_t fate = 0, std::uint32_t fail_mask = 0) {
        w_.u8(e0).u8(e1).u8(delay).u8(e3).u32(fate).u32(fail_mask);
    }
    ep_seed& op(std::uint8_t code, bool settle = false) {
        w_.u8(static_cast<std::uint8_t>(code | (settle ? 0x80 : 0)));
        return *this;
    }
    // host 0..1; port index: 80, 443, 8080, 40000; cookies: off, when full, always
    ep_seed& listen(int host, unsigned port = 0, unsigned backlog = 3, unsigned syn_backlog = 3, unsigned cookies = 1,
                    unsigned address = 0, unsigned slot = 0) {
        op(eo::listen);
        w_.u8(static_cast<std::uint8_t>(host | port << 1 | address << 3 | slot << 5));
        w_.u8(static_cast<std::uint8_t>(backlog | syn_backlog << 2 | cookies << 4));
        return *this;
    }
    // local: ephemeral, 40000, 40001, 80; remote: the other host, itself, nobody, other family
    ep_seed& connect(int host, unsigned local = 0, unsigned remote = 0, unsigned port = 0) {
        op(eo::connect);
        w_.u8(static_cast<std::uint8_t>(host | local << 1)).u8(static_cast<std::uint8_t>(remote | port << 2));
        return *this;
    }
    static std::uint8_t target(int host, unsigned handle) { return static_cast<std::uint8_t>(host | handle << 1); }
    ep_seed& send(int host, unsigned handle, std::uint16_t n) {
        op(eo::send);
        w_.u8(target(host, handle)).u16(n);
        return *this;
    }
    ep_seed& recv(int host, unsigned handle, std::uint16_t n) {
        op(eo::recv);
        w_.u8(target(host, handle)).u16(n);
        return *this;
    }
    ep_seed& user(std::uint8_t code, int host, unsigned handle) {
        op(code);
        w_.u8(target(host, handle));
        return *this;
    }
    ep_seed& advance(std::uint8_t unit, std::uint8_t amount) {
        op(eo::advance);
        w_.u8(unit).u8(amount);
        return *this;
    }
    ep_seed& net(std::uint8_t action, std::uint8_t packet) {
        op(eo::net);
        w_.u8(action).u8(packet);
        return *this;
    }
    byte_writer& raw() { return w_; }
    [[nodiscard]] const std::vector<std::uint8_t>& data() const { return w_.data(); }

private:
    byte_writer w_;
};

void endpoint_seeds() {
    const std::string t = "fuzz_endpoints";
    namespace f = tcpcore::fuzz;
    const std::uint8_t easy = f::ep_auto_accept | f::ep_auto_read;
    {   // Listen, connect, data both ways, both close, TIME-WAIT runs out.
        ep_seed s(easy, 0x02);
        s.listen(1).connect(0).advance(unit_100ms, 1);
        s.send(0, 0, 5000).advance(unit_s, 1).send(1, 0, 3000).advance(unit_s, 1);
        s.user(eo::close, 0, 0).advance(unit_s, 1).user(eo::close, 1, 0).advance(unit_s, 5);
        save(t, "transfer-close", s.data());
    }
    {   // The same through loss, duplication and reordering, heap timers, RFC 6528 ISNs.
        ep_seed s(easy | f::ep_bundle(1), 0x08, 20, 0x0f, 0x9c4a1b2d);
        s.listen(1).connect(0).advance(unit_s, 2);
        s.send(0, 0, 20000).send(1, 0, 20000);
        for (int i = 0; i < 5; ++i) s.advance(unit_s, 2);
        s.user(eo::shutdown, 0, 0).user(eo::shutdown, 1, 0).advance(unit_s, 5);
        save(t, "lossy-transfer", s.data());
    }
    {   // SYN cookies always, a backlog of one, accepting by hand.
        ep_seed s(0, 0, 10);
        s.listen(1, 0, 0, 0, 2).connect(0).connect(0).connect(0).advance(unit_100ms, 2);
        s.op(eo::accept).raw().u8(1);
        s.op(eo::events).raw().u8(1 | 2 | 4);
        s.send(0, 0, 100).send(0, 1, 100).advance(unit_100ms, 2).recv(1, 0, 200).recv(1, 1, 200);
        s.user(eo::abort, 0, 0).advance(unit_s, 1);
        save(t, "syn-cookies", s.data());
    }
    {   // IPv6, a plain list of timers, keepalive with nothing to say.
        ep_seed s(easy | f::ep_ipv6 | f::ep_bundle(2), 0x04, 50);
        s.listen(1, 1, 3, 3, 1, 1).connect(0, 1, 0, 1).advance(unit_s, 1);
        for (int i = 0; i < 4; ++i) s.advance(unit_s, 3);
        save(t, "v6-keepalive", s.data());
    }
    {   // A host connecting to itself: simultaneous open, one socket.
        ep_seed s(easy, 0x02);
        s.connect(0, 3, 1, 0).advance(unit_s, 1).send(0, 0, 1000).advance(unit_s, 1).recv(0, 0, 2000);
        s.user(eo::close, 0, 0).advance(unit_s, 4);
        save(t, "self-connect", s.data());
    }
    {   // Nobody listening: refused; nobody there: SYNs until the give-up.
        ep_seed s(easy, 0x10);
        s.connect(0, 0, 0, 1).connect(0, 0, 2, 0);
        for (int i = 0; i < 6; ++i) s.advance(unit_s, 5);
        s.op(eo::events).raw().u8(0);
        save(t, "refused-and-unreachable", s.data());
    }
    {   // Injected segments: an exact RST, a SYN, raw bytes wrapped and checksummed.
        ep_seed s(easy, 0x02);
        s.listen(1).connect(0).advance(unit_100ms, 1).send(0, 0, 100).advance(unit_100ms, 1);
        s.op(eo::inject_segment).raw().u8(ep_seed::target(1, 0)).u8(tcp_flags::ack | tcp_flags::psh).u8(0).u16(500).u8(0).u8(20);
        s.op(eo::inject_segment).raw().u8(ep_seed::target(1, 0)).u8(tcp_flags::syn).u8(0).u16(500).u8(0).u8(0);
        const std::vector<std::uint8_t> syn = [] {
            const tcp_header_fields f{5555, 80, seq32{1234}, seq32{}, tcp_flags::syn, 1000, 0, 0};
            tcp_options o;
            o.mss = 1000;
            std::vector<std::uint8_t> out(tcp_max_header_length);
            out.resize(*write_tcp_header(out, f, o));
            return out;
        }();
        s.op(eo::inject_raw).raw().u8(1 | 2 | 4).u8(static_cast<std::uint8_t>(syn.size())).bytes(syn);
        s.op(eo::inject_raw).raw().u8(1 | 2 | 4 | 8).u8(static_cast<std::uint8_t>(syn.size())).bytes(syn);
        s.advance(unit_s, 1);
        s.op(eo::inject_segment).raw().u8(ep_seed::target(0, 0)).u8(tcp_flags::rst).u8(0).u16(0).u8(0).u8(0);
        s.advance(unit_s, 3);
        save(t, "injected", s.data());
    }
    {   // Memory running out here and there.
        ep_seed s(easy | f::ep_alloc_failures, 0x02, 30, 0x0f, 0, 0x00010005);
        for (int i = 0; i < 3; ++i) s.listen(1).connect(0).advance(unit_100ms, 1).send(0, 0, 3000).advance(unit_s, 1);
        s.user(eo::close, 0, 0).advance(unit_s, 5);
        save(t, "out-of-memory", s.data());
    }
    {   // The lower-bound wheel; TIME-WAIT and a second connection on the same port.
        ep_seed s(easy | f::ep_bundle(3), 0x02, 5, 0x10);
        s.listen(1).connect(0, 1).advance(unit_100ms, 1).user(eo::close, 0, 0).user(eo::close, 1, 0).advance(unit_100ms, 3);
        s.connect(0, 1).advance(unit_100ms, 2).send(0, 1, 10).advance(unit_s, 3);
        save(t, "time-wait-reuse", s.data());
    }
    {   // The server closes first and keeps TIME-WAIT; the client's next SYN on the same ports reopens it.
        ep_seed s(easy, 0x02, 5);
        s.listen(1).connect(0, 1).advance(unit_100ms, 1).send(0, 0, 100).advance(unit_100ms, 1);
        s.user(eo::close, 1, 0).advance(unit_100ms, 1).user(eo::close, 0, 0).advance(unit_100ms, 1);
        s.connect(0, 1).advance(unit_100ms, 1).send(0, 0, 100).advance(unit_s, 3);  // the freed entry is reused
        save(t, "time-wait-reopen", s.data());
    }
    {   // The network at work by hand: hold, duplicate, deliver out of turn, corrupt, drop.
        ep_seed s(easy, 0, 100);
        s.listen(1).connect(0).net(f::net_action::hold, 0).raw().u8(3);
        s.net(f::net_action::duplicate, 0).advance(unit_100ms, 3).send(0, 0, 3000).send(1, 0, 3000);
        s.net(f::net_action::deliver, 1).net(f::net_action::to_front, 2).net(f::net_action::drop, 0);
        s.net(f::net_action::corrupt, 1).raw().u8(30).u8(0x40);
        s.net(f::net_action::set_delay, 3).advance(unit_s, 3);
        s.op(eo::fate).raw().u32(0x11111111);
        s.send(0, 0, 3000).advance(unit_s, 5).op(eo::close_listener).raw().u8(1);
        save(t, "network-by-hand", s.data());
    }
}

// ---- The socket command language ------------------------------------------

namespace so = tcpcore::fuzz::sk_op;
namespace sa = tcpcore::fuzz::sk_addr;

class sk_seed {
public:
    sk_seed(std::uint8_t k0 = 0, std::uint8_t k1 = 0, std::uint8_t delay = 30, std::uint8_t k3 = 0x0f,
            std::uint32_t fate = 0, std::uint32_t fail_mask = 0) {
        w_.u8(k0).u8(k1).u8(delay).u8(k3).u32(fate).u32(fail_mask);
    }
    sk_seed& op(std::uint8_t code, bool settle = false) {
        w_.u8(static_cast<std::uint8_t>(code | (settle ? 0x80 : 0)));
        return *this;
    }
    static std::uint8_t fd(int host, int n) { return fuzz::sk_fd(host, n); }
    // A TCP socket (type index: sk_socket_types).
    sk_seed& socket(int host, bool v6 = false, unsigned type = 0) {
        op(so::socket);
        w_.u8(fuzz::sk_socket(host, v6 ? 1 : 0, type));
        return *this;
    }
    sk_seed& bind(int host, int n, std::uint8_t address, unsigned port = 0) {
        op(so::bind);
        w_.u8(fd(host, n)).u8(fuzz::sk_address(address, port));
        return *this;
    }
    sk_seed& listen(int host, int n, unsigned backlog = 0) {
        op(so::listen);
        w_.u8(fd(host, n)).u8(static_cast<std::uint8_t>(backlog));
        return *this;
    }
    sk_seed& accept(int host, int n, std::uint8_t flags = 4) {
        op(so::accept);
        w_.u8(fd(host, n)).u8(flags);
        return *this;
    }
    sk_seed& connect(int host, int n, std::uint8_t address = sa::peer, unsigned port = 0, bool settle = false) {
        op(so::connect, settle);
        w_.u8(fd(host, n)).u8(fuzz::sk_address(address, port));
        return *this;
    }
    sk_seed& send(int host, int n, std::uint16_t length, std::uint8_t flags = 0) {
        op(so::send);
        w_.u8(fd(host, n)).u8(flags).u16(length);
        return *this;
    }
    sk_seed& sendv(int host, int n, std::initializer_list<std::uint8_t> codes, std::uint8_t flags = 0) {
        op(so::sendv);
        w_.u8(fd(host, n)).u8(flags).u8(static_cast<std::uint8_t>(codes.size()));
        for (const std::uint8_t c : codes) w_.u8(c);
        return *this;
    }
    sk_seed& recv(int host, int n, std::uint16_t length, std::uint8_t flags = 0) {
        op(so::recv);
        w_.u8(fd(host, n)).u8(flags).u16(length);
        return *this;
    }
    sk_seed& recvv(int host, int n, std::initializer_list<std::uint8_t> codes, std::uint8_t flags = 0) {
        op(so::recvv);
        w_.u8(fd(host, n)).u8(flags).u8(static_cast<std::uint8_t>(codes.size()));
        for (const std::uint8_t c : codes) w_.u8(c);
        return *this;
    }
    // how: sk_shutdown_how index (0 SHUT_WR, 1 SHUT_RD, 2 SHUT_RDWR)
    sk_seed& shutdown(int host, int n, std::uint8_t how = 0) {
        op(so::shutdown);
        w_.u8(fd(host, n)).u8(how);
        return *this;
    }
    sk_seed& close(int host, int n) {
        op(so::close);
        w_.u8(fd(host, n));
        return *this;
    }
    sk_seed& fcntl(int host, int n, unsigned command, unsigned argument = 0) {
        op(so::fcntl);
        w_.u8(fd(host, n)).u8(static_cast<std::uint8_t>(command | argument << 3));
        return *this;
    }
    sk_seed& ioctl(int host, int n, std::uint8_t request) {
        op(so::ioctl);
        w_.u8(fd(host, n)).u8(request);
        return *this;
    }
    sk_seed& name(int host, int n, bool peer) {
        op(so::name);
        w_.u8(fd(host, n)).u8(peer ? 1 : 0);
        return *this;
    }
    // setsockopt with the value byte `value` (sk_value_byte); its content follows through raw().
    sk_seed& setopt(int host, int n, int level, int name, std::uint8_t value) {
        op(so::setsockopt);
        w_.u8(fd(host, n)).u8(fuzz::sk_option_index(level, name)).u8(value);
        return *this;
    }
    sk_seed& setint(int host, int n, int level, int name, std::int32_t v, std::uint8_t size = fuzz::sk_size::natural) {
        setopt(host, n, level, name, fuzz::sk_value_byte(fuzz::sk_value::int32, size));
        w_.u32(static_cast<std::uint32_t>(v));
        return *this;
    }
    // getsockopt; room: sk_room index (0: the option's size)
    sk_seed& getopt(int host, int n, int level, int name, std::uint8_t room = 0) {
        op(so::getsockopt);
        w_.u8(fd(host, n)).u8(fuzz::sk_option_index(level, name)).u8(room);
        return *this;
    }
    // poll of up to 4 (descriptor, event bits) pairs on one host.
    sk_seed& poll(int host, std::initializer_list<std::pair<int, std::uint8_t>> fds, std::uint8_t timeout = 0) {
        op(so::poll);
        w_.u8(static_cast<std::uint8_t>(host | (fds.size() - 1) << 1));
        for (const auto& [n, events] : fds) w_.u8(fd(host, n)).u8(events);
        w_.u8(timeout);
        return *this;
    }
    sk_seed& epoll_create(int host, unsigned how = 0) {
        op(so::epoll_create);
        w_.u8(static_cast<std::uint8_t>(host | how << 1));
        return *this;
    }
    // op: sk_epoll_ops index (0 ADD, 1 MOD, 2 DEL); events: sk_epoll_events bits
    sk_seed& epoll_ctl(int host, int epfd, std::uint8_t op_index, int n, std::uint8_t events) {
        op(so::epoll_ctl);
        w_.u8(fd(host, epfd)).u8(op_index).u8(fd(host, n)).u8(events);
        return *this;
    }
    sk_seed& epoll_wait(int host, int epfd, std::uint8_t max_events = 8, std::uint8_t timeout = 0) {
        op(so::epoll_wait);
        w_.u8(fd(host, epfd)).u8(max_events).u8(timeout);
        return *this;
    }
    sk_seed& advance(std::uint8_t unit, std::uint8_t amount) {
        op(so::advance);
        w_.u8(unit).u8(amount);
        return *this;
    }
    // The `n` commands before, `k` times more.
    sk_seed& repeat(unsigned n, unsigned k) {
        op(so::repeat);
        w_.u8(static_cast<std::uint8_t>(n - 1)).u8(static_cast<std::uint8_t>(k - 1));
        return *this;
    }
    byte_writer& raw() { return w_; }
    [[nodiscard]] const std::vector<std::uint8_t>& data() const { return w_.data(); }

private:
    byte_writer w_;
};

// Host 1 listens on port 80 (descriptor 3), host 0 connects (its descriptor
// 3) and host 1 accepts (descriptor 4); connect() then reports success.
sk_seed& establish(sk_seed& s, bool v6 = false) {
    s.socket(1, v6).bind(1, 3, sa::wildcard, 0).listen(1, 3);
    s.socket(0, v6).connect(0, 3).advance(unit_100ms, 1);
    return s.accept(1, 3).connect(0, 3);
}

void socket_seeds() {
    const std::string t = "fuzz_sockets";
    namespace f = tcpcore::fuzz;
    using namespace tcpcore::sock;
    constexpr std::uint8_t in = 1u << 0, out = 1u << 1, rdhup = 1u << 2, et = 1u << 3, oneshot = 1u << 4;
    constexpr std::uint8_t peek = 1u << 1;  // sk_recv_flags bit
    {   // Listen, connect, accept, data both ways, names, the client closes first: TIME-WAIT, then gone.
        sk_seed s(0, 0x02);
        establish(s);
        s.name(0, 3, false).name(0, 3, true).name(1, 4, true);
        s.send(0, 3, 5000).advance(unit_100ms, 1).ioctl(1, 4, 0).recv(1, 4, 8000);
        s.send(1, 4, 3000).advance(unit_100ms, 1).recv(0, 3, 1000, peek).recv(0, 3, 4000);
        s.ioctl(0, 3, 1).ioctl(0, 3, 2).shutdown(0, 3).advance(unit_100ms, 1).recv(1, 4, 100);
        s.close(1, 4).advance(unit_100ms, 1).recv(0, 3, 100).close(0, 3).advance(unit_s, 3);
        s.close(1, 3);
        save(t, "transfer-close", s.data());
    }
    {   // The same five calls over and over: a long transfer both ways from a short input.
        sk_seed s(0, 0x02);
        establish(s);
        s.send(0, 3, 3000).send(1, 4, 2000).advance(unit_ms, 20).recv(1, 4, 4000).recv(0, 3, 4000);
        s.repeat(5, 32);
        s.shutdown(1, 4).shutdown(0, 3).advance(unit_s, 1).close(0, 3).close(1, 4).advance(unit_s, 3);
        save(t, "repeat-transfer", s.data());
    }
    {   // sendv and recvv, peeking with pieces, small buffers and MSS through options.
        sk_seed s(0, 0x01);
        s.socket(1).setint(1, 3, sol_socket, so_rcvbuf, 4096).setint(1, 3, sol_tcp, tcp_maxseg, 536);
        s.bind(1, 3, sa::self, 3).listen(1, 3, 2);
        s.socket(0).setint(0, 3, sol_socket, so_sndbuf, 4096).setint(0, 3, sol_tcp, tcp_nodelay, 1);
        s.connect(0, 3, sa::peer, 3).advance(unit_100ms, 1).accept(1, 3, 1).connect(0, 3);
        s.sendv(0, 3, {100, 0, 130, 20}).sendv(0, 3, {140, 140}).advance(unit_ms, 50);
        s.recvv(1, 4, {10, 150, 3}, peek).recvv(1, 4, {10, 150, 3}).recv(1, 4, 20000);
        s.repeat(4, 8).getopt(0, 3, sol_tcp, tcp_maxseg).getopt(1, 4, sol_tcp, tcp_maxseg);
        s.close(0, 3).close(1, 4).advance(unit_s, 5);
        save(t, "vectors-small-buffers", s.data());
    }
    {   // Options: every one set and read on a fresh socket, on a listener and on a live connection,
        // with wrong sizes and values out of range.
        sk_seed s(0, 0x02);
        s.socket(0);
        for (const auto& o : f::sk_options) {
            if (o.kind == f::sk_kind::integer) s.setint(0, 3, o.level, o.name, 1);
            s.getopt(0, 3, o.level, o.name);
        }
        s.setint(0, 3, sol_tcp, tcp_keepidle, 0).setint(0, 3, sol_tcp, tcp_keepcnt, 200);
        s.setint(0, 3, sol_tcp, tcp_maxseg, 40).setint(0, 3, sol_tcp, tcp_user_timeout, -1);
        s.setint(0, 3, sol_socket, so_sndbuf, 1 << 30).setint(0, 3, sol_socket, so_rcvlowat, -5);
        s.setint(0, 3, sol_tcp, tcp_nodelay, 1, f::sk_size::three).setint(0, 3, sol_tcp, tcp_inq, 1, f::sk_size::eight);
        s.setopt(0, 3, sol_socket, so_linger, f::sk_value_byte(f::sk_value::linger)).raw().u8(1).u8(0);
        s.setopt(0, 3, sol_socket, so_linger, f::sk_value_byte(f::sk_value::linger, f::sk_size::four)).raw().u8(1).u8(5);
        s.setopt(0, 3, sol_socket, so_rcvtimeo, f::sk_value_byte(f::sk_value::timeval)).raw().u8(2).u8(50);
        s.setopt(0, 3, sol_socket, so_sndtimeo, f::sk_value_byte(f::sk_value::timeval)).raw().u8(0).u8(101);
        s.setopt(0, 3, sol_socket, so_rcvtimeo, f::sk_value_byte(f::sk_value::timeval)).raw().u8(200).u8(0);
        for (std::uint8_t c = 0; c < 8; ++c)
            s.setopt(0, 3, sol_tcp, tcp_congestion, f::sk_value_byte(f::sk_value::cc_name)).raw().u8(c);
        s.setopt(0, 3, sol_tcp, tcp_keepintvl, f::sk_value_byte(f::sk_value::special)).raw().u8(9);
        s.setopt(0, 3, sol_tcp, tcp_syncnt, f::sk_value_byte(f::sk_value::small)).raw().u8(0xff);
        s.setopt(0, 3, sol_socket, so_keepalive, f::sk_value_byte(f::sk_value::raw, f::sk_size::none)).raw().u8(3).u8(1).u8(2).u8(3);
        s.op(so::setsockopt).raw().u8(f::sk_fd(0, 3)).u8(35).u8(2).u8(1).u8(f::sk_value_byte(f::sk_value::int32)).u32(1);
        s.op(so::getsockopt).raw().u8(f::sk_fd(0, 3)).u8(34).u8(0).u8(7).u8(0);
        for (std::uint8_t room = 0; room < 8; ++room) s.getopt(0, 3, sol_socket, so_linger, room).getopt(0, 3, sol_tcp, tcp_congestion, room);
        // A listener's options, and its connections'.
        s.socket(1).setint(1, 3, sol_socket, so_reuseaddr, 1).setint(1, 3, sol_tcp, tcp_keepidle, 5);
        s.bind(1, 3, sa::wildcard, 0).listen(1, 3).setint(1, 3, sol_tcp, tcp_keepcnt, 3);
        s.setint(1, 3, sol_socket, so_keepalive, 1).getopt(1, 3, sol_socket, so_acceptconn);
        s.socket(0).connect(0, 4).advance(unit_100ms, 1).accept(1, 3).connect(0, 4);
        s.getopt(1, 4, sol_tcp, tcp_keepidle).getopt(1, 4, sol_socket, so_keepalive).getopt(1, 4, sol_tcp, tcp_maxseg);
        s.send(0, 4, 3000).advance(unit_ms, 5).setint(0, 4, sol_socket, so_sndbuf, 5000);  // buffers held: refused
        s.setint(1, 4, sol_tcp, tcp_user_timeout, 2000).setint(1, 4, sol_tcp, tcp_inq, 1).recv(1, 4, 100);
        s.setint(0, 4, sol_tcp, tcp_notsent_lowat, 100).setint(0, 4, sol_socket, so_rcvlowat, 10);
        s.getopt(0, 4, sol_socket, so_error).getopt(0, 4, sol_tcp, tcp_info, 7);
        s.advance(unit_s, 10).close(0, 4).close(1, 4).advance(unit_min, 2);
        save(t, "options", s.data());
    }
    {   // poll and epoll: level- and edge-triggered, one-shot, modified, deleted, bad operations.
        sk_seed s;
        establish(s).epoll_create(0).epoll_create(1, 1);  // descriptors 4 (host 0) and 5 (host 1)
        s.epoll_ctl(0, 4, 0, 3, in | out | rdhup).epoll_ctl(1, 5, 0, 4, in | et).epoll_ctl(1, 5, 0, 3, in);
        s.epoll_wait(0, 4).epoll_wait(1, 5).poll(0, {{3, in | out | rdhup}, {4, in}, {9, in}}).poll(1, {{3, in}, {4, 0xff}});
        s.send(0, 3, 2000).advance(unit_ms, 10).epoll_wait(1, 5).epoll_wait(1, 5).recv(1, 4, 1000).epoll_wait(1, 5);
        s.epoll_ctl(1, 5, 1, 4, in | out | oneshot).epoll_wait(1, 5).epoll_wait(1, 5).epoll_ctl(1, 5, 1, 4, in | out);
        s.epoll_ctl(1, 5, 0, 4, in).epoll_ctl(1, 5, 2, 3, 0).epoll_ctl(1, 5, 2, 3, 0).epoll_ctl(1, 5, 4, 4, in);
        s.epoll_ctl(1, 5, 0, 5, in).epoll_ctl(1, 3, 0, 4, in).epoll_ctl(0, 4, 0, 4, in).epoll_wait(1, 5, 0);
        s.shutdown(0, 3).advance(unit_ms, 50).epoll_wait(1, 5).poll(1, {{4, in | rdhup}}, 1);
        s.close(1, 4).advance(unit_ms, 50).epoll_wait(0, 4).poll(0, {{3, 0xff}}).close(0, 4).epoll_wait(0, 4);
        s.advance(unit_min, 2);
        save(t, "poll-epoll", s.data());
    }
    {   // IPv6, both sides bound to fixed ports connecting to each other at once, both closing at once (CLOSING).
        sk_seed s(f::sk_bundle_heap, 0x02, 10);
        s.socket(0, true).socket(1, true).bind(0, 3, sa::self, 4).bind(1, 3, sa::self, 4);
        s.connect(0, 3, sa::peer, 4).connect(1, 3, sa::peer, 4).advance(unit_100ms, 1);
        s.connect(0, 3, sa::peer, 4).connect(1, 3, sa::peer, 4).name(0, 3, true);
        s.send(0, 3, 1000).send(1, 3, 1000).advance(unit_100ms, 1).recv(0, 3, 2000).recv(1, 3, 2000);
        s.shutdown(0, 3, 2).shutdown(1, 3, 2).advance(unit_100ms, 1).close(0, 3).close(1, 3).advance(unit_s, 5);
        save(t, "v6-simultaneous", s.data());
    }
    {   // Refused, unreachable, reset by SO_LINGER 0, and what the sockets say after.
        sk_seed s(0, 0x10 | 0x08);
        s.socket(0).connect(0, 3, sa::peer, 1).advance(unit_100ms, 1).connect(0, 3, sa::peer, 1);
        s.getopt(0, 3, sol_socket, so_error).connect(0, 3, sa::stranger).advance(unit_s, 10);
        s.connect(0, 3, sa::stranger).send(0, 3, 10).recv(0, 3, 10);
        s.socket(1).bind(1, 3, sa::wildcard, 0).listen(1, 3).socket(0).connect(0, 4).advance(unit_100ms, 1);
        s.accept(1, 3).setopt(1, 4, sol_socket, so_linger, f::sk_value_byte(f::sk_value::linger)).raw().u8(1).u8(0);
        s.send(0, 4, 100).advance(unit_ms, 10).close(1, 4).advance(unit_ms, 10);
        s.getopt(0, 4, sol_socket, so_error).recv(0, 4, 100).send(0, 4, 100).poll(0, {{4, 0xff}}).name(0, 4, true);
        s.shutdown(0, 4).connect(0, 4).close(0, 4).close(0, 4);
        save(t, "refused-reset", s.data());
    }
    {   // Bad descriptors and arguments, then descriptors running out.
        sk_seed s(f::sk_few_descriptors);
        s.op(so::send).raw().u8(0x1a).u8(0).u16(10);  // descriptor -1
        s.op(so::recv).raw().u8(0x1c).u8(0).u16(10);  // descriptor 0
        s.op(so::close).raw().u8(0x1e);               // descriptor 1 << 20
        s.close(0, 3).listen(0, 3).epoll_create(0).bind(0, 3, sa::wildcard).setint(0, 3, sol_tcp, tcp_nodelay, 1);
        s.getopt(0, 3, sol_socket, so_type).ioctl(0, 3, 0).fcntl(0, 3, 0).fcntl(0, 3, 1, 1).fcntl(0, 3, 0).fcntl(0, 3, 5);
        for (unsigned d = 0; d < 4; ++d)
            for (unsigned ty = 0; ty < 8; ty += 3) s.op(so::socket).raw().u8(static_cast<std::uint8_t>(d << 1 | ty << 3 | (d & 1) << 6));
        s.socket(0, false, 1).repeat(1, 6).socket(0).epoll_create(0, 2).epoll_create(0, 5).epoll_create(0, 4);
        s.close(0, 4).close(0, 5).socket(0, true).bind(0, 4, sa::peer).bind(0, 4, sa::wildcard_other).bind(0, 4, sa::loopback);
        s.bind(0, 4, sa::self, 7).bind(0, 4, sa::self, 7).listen(0, 4, 5).listen(0, 4, 6).accept(0, 4, 3).connect(0, 4);
        s.fcntl(0, 4, 2).fcntl(0, 4, 3, 2).fcntl(0, 4, 2).ioctl(0, 4, 0).ioctl(0, 4, 3).shutdown(0, 4, 3).shutdown(0, 4, 1);
        save(t, "bad-descriptors", s.data());
    }
    {   // Loss, duplication and reordering under a lossy fate, short timers, repeated transfers.
        sk_seed s(0, 0x08 | 0x02, 20, 0x0f, 0x9c4a1b2d);
        establish(s).advance(unit_s, 2).connect(0, 3);
        s.send(0, 3, 8000).send(1, 4, 8000).advance(unit_100ms, 5).recv(1, 4, 20000).recv(0, 3, 20000);
        s.repeat(5, 16).op(so::fate).raw().u32(0);
        s.shutdown(0, 3).shutdown(1, 4).advance(unit_s, 5).recv(0, 3, 100).recv(1, 4, 100).close(0, 3).close(1, 4);
        s.advance(unit_min, 3);
        save(t, "lossy-transfer", s.data());
    }
    {   // Keepalive and the user timeout: the network goes silent and the connection gives up.
        sk_seed s(0, 0x04 | 0x02);
        establish(s).setint(0, 3, sol_socket, so_keepalive, 1).setint(0, 3, sol_tcp, tcp_keepidle, 1);
        s.setint(0, 3, sol_tcp, tcp_keepintvl, 1).setint(0, 3, sol_tcp, tcp_keepcnt, 2).setint(1, 4, sol_tcp, tcp_user_timeout, 500);
        s.op(so::fate).raw().u32(0x55555555);
        s.send(1, 4, 100).advance(unit_s, 10).getopt(0, 3, sol_socket, so_error).getopt(1, 4, sol_socket, so_error);
        s.recv(0, 3, 10).send(1, 4, 10).poll(0, {{3, 0xff}}).close(0, 3).close(1, 4);
        save(t, "keepalive-timeout", s.data());
    }
    {   // The listener closes with connections not yet accepted; the network by hand; memory runs out.
        sk_seed s(f::sk_alloc_failures | f::sk_small_somaxconn, 0x02, 50, 0x0f, 0, 0x00100400);
        s.socket(1).bind(1, 3, sa::wildcard, 1).listen(1, 3, 1);
        s.socket(0).connect(0, 3, sa::peer, 1).socket(0).connect(0, 4, sa::peer, 1).socket(0).connect(0, 5, sa::peer, 1);
        s.op(so::net).raw().u8(f::net_action::duplicate).u8(0);
        s.op(so::net).raw().u8(f::net_action::hold).u8(1).u8(3);
        s.op(so::net).raw().u8(f::net_action::deliver).u8(2);
        s.advance(unit_100ms, 2).accept(1, 3).op(so::fail_alloc).raw().u8(0 | 2 << 1);
        s.send(0, 3, 3000);
        s.advance(unit_100ms, 2).close(1, 3).advance(unit_s, 2).recv(0, 4, 10).recv(0, 5, 10);
        s.op(so::sync).raw().u8(1);
        s.advance(unit_min, 1);
        save(t, "listener-closes", s.data());
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus root>\n", argv[0]);
        return 2;
    }
    out_root = argv[1];
    parser_seeds();
    connection_seeds();
    endpoint_seeds();
    socket_seeds();
    std::printf("wrote %zu seeds under %s\n", written, out_root.string().c_str());
    return 0;
}
