#pragma once
// What the fuzz targets, their replay driver and the seed generator share:
// a reader that turns fuzz bytes into decisions, a writer that encodes the
// same decisions (for seeds), the opcodes of the two command languages, a
// check that aborts in every build type, and an allocator whose failures the
// input decides and which counts what is still held.

#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/socket/constants.hpp>
#include <tcpcore/wire/seq.hpp>
#include <tcpcore/wire/tcp_header.hpp>
#include <tcpcore/wire/tcp_options.hpp>
#include <tcpcore/rules/time.hpp>

#include <cstddef>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <span>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace tcpcore::fuzz {

// assert() disappears under NDEBUG (the release preset replays the corpus
// too), and a fuzzer that stops checking finds nothing.
[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
    std::fflush(stderr);
    std::abort();
}
#define FUZZ_CHECK(cond) ((cond) ? void(0) : ::tcpcore::fuzz::check_failed(#cond, __FILE__, __LINE__))

// TCPCORE_FUZZ_TRACE=1 makes a target narrate what an input does: for
// writing seeds and reading what the fuzzer found. Read once; it does not
// change while the process runs.
inline bool tracing() {
    static const bool on = [] {
        const char* v = std::getenv("TCPCORE_FUZZ_TRACE");
        return v != nullptr && v[0] != '\0' && v[0] != '0';
    }();
    return on;
}
#define FUZZ_TRACE(...) (::tcpcore::fuzz::tracing() ? void(std::fprintf(stderr, __VA_ARGS__)) : void(0))

// Past the end every read gives zeros: an input may stop anywhere, and a
// command cut short is still a command.
class byte_reader {
public:
    byte_reader(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}

    [[nodiscard]] bool empty() const noexcept { return pos_ >= size_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return empty() ? 0 : size_ - pos_; }

    std::uint8_t u8() noexcept { return empty() ? 0 : data_[pos_++]; }
    std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
    std::uint32_t u32() noexcept { return std::uint32_t{u16()} << 16 | u16(); }
    bool flag() noexcept { return (u8() & 1) != 0; }

    // Up to n bytes of the input itself (fewer when it runs out).
    std::span<const std::uint8_t> bytes(std::size_t n) noexcept {
        if (n > remaining()) n = remaining();
        const std::span<const std::uint8_t> s(data_ + pos_, n);
        pos_ += n;
        return s;
    }

    // A signed offset whose width the two bits of `kind` choose: none, 8, 16
    // or 32 bits. Small offsets cost the fuzzer few bytes; large ones wrap.
    std::uint32_t delta(unsigned kind) noexcept {
        switch (kind & 3u) {
            case 1: return static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int8_t>(u8())));
            case 2: return static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<std::int16_t>(u16())));
            case 3: return u32();
            default: return 0;
        }
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// The reader's mirror, for the seed generator.
class byte_writer {
public:
    byte_writer& u8(std::uint8_t v) {
        out_.push_back(v);
        return *this;
    }
    byte_writer& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v)); }
    byte_writer& u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v)); }
    byte_writer& bytes(std::span<const std::uint8_t> b) {
        out_.insert(out_.end(), b.begin(), b.end());
        return *this;
    }
    [[nodiscard]] const std::vector<std::uint8_t>& data() const noexcept { return out_; }

private:
    std::vector<std::uint8_t> out_;
};

// Durations a time step is counted in: microseconds to hours, so that one
// step can be a delayed ACK's worth or a keepalive's.
inline constexpr duration time_units[8] = {
    std::chrono::microseconds{1}, std::chrono::microseconds{100}, std::chrono::milliseconds{1},
    std::chrono::milliseconds{10}, std::chrono::milliseconds{100}, std::chrono::seconds{1},
    std::chrono::minutes{1},      std::chrono::hours{1},
};
// unit: low 3 bits choose the unit; amount 0 still moves one microsecond,
// so that a time step always makes time pass.
[[nodiscard]] inline duration time_step(std::uint8_t unit, std::uint8_t amount) noexcept {
    const duration d = time_units[unit & 7u] * amount;
    return d > duration::zero() ? d : duration{1};
}

// Bytes a sender writes are a function of their position in its stream, so
// a receiver can check every byte it reads without knowing who sent it.
[[nodiscard]] constexpr std::uint8_t stream_byte(std::uint32_t offset) noexcept {
    std::uint32_t x = offset * 0x9e3779b1u;
    x ^= x >> 15;
    return static_cast<std::uint8_t>(x ^ (x >> 8));
}

// ---- The connection command language (fuzz_connection.cpp) --------------
//
// setup:  u8 s0, u8 s1, u8 s2, u8 s3, u32 iss, u32 start_ms, u16 start_us, u32 alloc_fail_mask
// (the bits of s1..s3 pick configuration variants: see make_config in fuzz_connection.cpp)
// then commands until the input ends: u8 op (bit 7: drain output afterwards)
namespace conn_op {
inline constexpr std::uint8_t segment = 0;      // see fuzz_connection.cpp: feed_segment
inline constexpr std::uint8_t advance = 1;      // u8 unit, u8 amount
inline constexpr std::uint8_t poll = 2;         // u8 room: 0 full-sized, else 60 + 8 * room bytes
inline constexpr std::uint8_t send = 3;         // u16 length
inline constexpr std::uint8_t recv = 4;         // u16 length
inline constexpr std::uint8_t peek = 5;         // u16 length to consume
inline constexpr std::uint8_t shutdown = 6;
inline constexpr std::uint8_t close = 7;
inline constexpr std::uint8_t abort = 8;
inline constexpr std::uint8_t setter = 9;       // u8 which, u16 value
inline constexpr std::uint8_t open = 10;        // u8 mode, u32 iss
inline constexpr std::uint8_t release = 11;     // release_idle_buffers
inline constexpr std::uint8_t events = 12;      // take_events
inline constexpr std::uint8_t fail_alloc = 13;  // u8: the next n allocations fail
inline constexpr std::uint8_t hand_off = 14;    // hand_off_time_wait, in TIME-WAIT
inline constexpr std::uint8_t cookie = 15;      // u8 mss index and options, u16 window, u32 peer isn
inline constexpr std::uint8_t ack_all = 16;     // u16 window: a clean ACK of everything sent
inline constexpr std::uint8_t count = 17;
}  // namespace conn_op

// s0 bits
inline constexpr std::uint8_t conn_active = 1u << 0;
inline constexpr std::uint8_t conn_ipv6 = 1u << 1;
inline constexpr std::uint8_t conn_fixed_remote = 1u << 2;  // passive open for one peer
inline constexpr std::uint8_t conn_no_timestamps = 1u << 3;
inline constexpr std::uint8_t conn_no_sack = 1u << 4;
inline constexpr std::uint8_t conn_no_window_scaling = 1u << 5;
inline constexpr std::uint8_t conn_no_delayed_ack = 1u << 6;
inline constexpr std::uint8_t conn_nodelay = 1u << 7;
// s3 bits
inline constexpr std::uint8_t conn_cubic = 1u << 0;

// The segment command: u8 flags, u8 ctl, [seq base u32] [seq delta], [ack base u32] [ack delta],
// u16 window, u8 opts, option values, u8 payload, payload bytes (when taken from the input).
// ctl bits 0-1 seq base, 2-3 seq delta width, 4-5 ack base, 6-7 ack delta width.
namespace seq_base {
inline constexpr std::uint8_t rcv_nxt = 0, rcv_adv = 1, absolute = 2, before_rcv_nxt = 3;
}
namespace ack_base {
inline constexpr std::uint8_t snd_nxt = 0, snd_una = 1, absolute = 2, iss = 3;
}
// opts bits: MSS (u16), window scale (u8), SACK-permitted, timestamps (u8 ctl, ...),
// bits 4-6 SACK blocks (u16 left offset from SND.UNA, u16 length each), bit 7 misaddressed (u8 how)
inline constexpr std::uint8_t opt_mss = 1u << 0;
inline constexpr std::uint8_t opt_ws = 1u << 1;
inline constexpr std::uint8_t opt_sack_ok = 1u << 2;
inline constexpr std::uint8_t opt_ts = 1u << 3;
inline constexpr std::uint8_t opt_misaddressed = 1u << 7;
[[nodiscard]] constexpr std::uint8_t opt_sack_blocks(unsigned n) noexcept { return static_cast<std::uint8_t>((n & 7u) << 4); }
// payload byte: bits 0-6 length code (< 64: that many bytes; else (code - 63) * 128),
// bit 7: the bytes come from the input (otherwise stream_byte of their sequence number)
inline constexpr std::uint8_t payload_from_input = 1u << 7;
[[nodiscard]] constexpr std::size_t payload_length(std::uint8_t code) noexcept {
    const unsigned c = code & 0x7fu;
    return c < 64 ? c : (c - 63u) * 128u;
}

// The receiving connection's variables a segment may be aimed at.
struct segment_context {
    seq32 rcv_nxt, rcv_adv, snd_una, snd_nxt, iss;
    std::uint32_t ts_recent = 0;
    std::uint32_t our_tsval = 0;  // the receiver's TSval clock now
};

// A segment decoded from the input, before addressing and checksum.
struct segment_recipe {
    tcp_header_fields fields;
    tcp_options options;
    std::optional<std::uint8_t> misaddress;  // how to get the addresses wrong, if at all
    std::vector<std::uint8_t> payload;
    bool payload_from_input = false;
};

// The payload: bytes of the input, or stream_byte of each byte's sequence
// number (which a receiver can check).
inline std::vector<std::uint8_t> decode_payload(byte_reader& in, seq32 first, bool& from_input) {
    const std::uint8_t code = in.u8();
    std::vector<std::uint8_t> p(payload_length(code));
    from_input = (code & payload_from_input) != 0 && !p.empty();
    if (code & payload_from_input) {
        const auto b = in.bytes(p.size());
        for (std::size_t i = 0; i < b.size(); ++i) p[i] = b[i];
    } else {
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = stream_byte((first + static_cast<std::uint32_t>(i)).raw());
    }
    return p;
}

inline segment_recipe decode_segment(byte_reader& in, const segment_context& c) {
    segment_recipe r;
    tcp_header_fields& f = r.fields;
    f.flags = in.u8();
    const std::uint8_t ctl = in.u8();
    switch (ctl & 3u) {
        case seq_base::rcv_nxt: f.seq = c.rcv_nxt; break;
        case seq_base::rcv_adv: f.seq = c.rcv_adv; break;
        case seq_base::absolute: f.seq = seq32{in.u32()}; break;
        default: f.seq = c.rcv_nxt - 1; break;
    }
    f.seq += in.delta(ctl >> 2);
    switch ((ctl >> 4) & 3u) {
        case ack_base::snd_nxt: f.ack = c.snd_nxt; break;
        case ack_base::snd_una: f.ack = c.snd_una; break;
        case ack_base::absolute: f.ack = seq32{in.u32()}; break;
        default: f.ack = c.iss; break;
    }
    f.ack += in.delta(ctl >> 6);
    f.window = in.u16();
    const std::uint8_t opts = in.u8();
    tcp_options& o = r.options;
    if (opts & opt_mss) o.mss = in.u16();
    if (opts & opt_ws) o.window_scale = in.u8();
    o.sack_permitted = (opts & opt_sack_ok) != 0;
    if (opts & opt_ts) {
        const std::uint8_t t = in.u8();
        tcp_timestamps ts;
        ts.value = (t & 1) ? in.u32() : c.ts_recent + in.delta(t >> 1);
        ts.echo_reply = (t & 8) ? in.u32() : c.our_tsval + in.delta(t >> 4);
        o.timestamps = ts;
    }
    const unsigned blocks = (opts >> 4) & 7u;
    for (unsigned b = 0; b < blocks && b < max_sack_blocks; ++b) {
        const seq32 left = c.snd_una + in.u16();
        o.add_sack_block({left, left + in.u16()});
    }
    if (opts & opt_misaddressed) r.misaddress = in.u8();
    r.payload = decode_payload(in, f.seq + (f.flags.syn_set() ? 1u : 0u), r.payload_from_input);
    return r;
}

// ---- The endpoint command language (fuzz_endpoints.cpp) ------------------
//
// setup:  u8 e0, u8 e1, u8 delay_ms, u8 e3, u32 fate, u32 alloc_fail_mask
// then commands: u8 op (bit 7: settle, i.e. run the network 1 s further afterwards)
namespace ep_op {
inline constexpr std::uint8_t connect = 0;         // u8 host|ports, u8 remote choice
inline constexpr std::uint8_t listen = 1;          // u8 host|port, u8 backlog|cookies
inline constexpr std::uint8_t close_listener = 2;  // u8 host|index
inline constexpr std::uint8_t accept = 3;          // u8 host|index
inline constexpr std::uint8_t send = 4;            // u8 host|handle, u16 length
inline constexpr std::uint8_t recv = 5;            // u8 host|handle, u16 length
inline constexpr std::uint8_t shutdown = 6;        // u8 host|handle
inline constexpr std::uint8_t close = 7;           // u8 host|handle
inline constexpr std::uint8_t abort = 8;           // u8 host|handle
inline constexpr std::uint8_t configure = 9;       // u8 host|handle, u8 which, u16 value
inline constexpr std::uint8_t advance = 10;        // u8 unit, u8 amount
inline constexpr std::uint8_t net = 11;            // u8 action, u8 packet, ...
inline constexpr std::uint8_t inject_raw = 12;     // u8 host|wrap|checksum|stranger|udp, u8 length, bytes
inline constexpr std::uint8_t inject_segment = 13; // u8 host|handle, u8 flags, u8 ctl, ...
inline constexpr std::uint8_t events = 14;         // u8 host: take its events (accepting when asked)
inline constexpr std::uint8_t fate = 15;           // u32: what happens to the next 16 datagrams
inline constexpr std::uint8_t count = 16;
}  // namespace ep_op

// e0 bits
inline constexpr std::uint8_t ep_ipv6 = 1u << 0;
[[nodiscard]] constexpr std::uint8_t ep_bundle(unsigned b) noexcept { return static_cast<std::uint8_t>((b & 3u) << 1); }
inline constexpr std::uint8_t ep_auto_accept = 1u << 3;
inline constexpr std::uint8_t ep_auto_read = 1u << 4;
inline constexpr std::uint8_t ep_alloc_failures = 1u << 5;
inline constexpr std::uint8_t ep_no_timestamps = 1u << 6;
inline constexpr std::uint8_t ep_no_sack = 1u << 7;

// Network actions (the net command)
namespace net_action {
inline constexpr std::uint8_t drop = 0, duplicate = 1, to_front = 2, corrupt = 3, hold = 4, deliver = 5,
                              set_delay = 6, count = 7;
}

// ---- The socket command language (fuzz_sockets.cpp) ----------------------
//
// setup:  u8 k0, u8 k1, u8 delay_ms, u8 k3, u32 fate, u32 alloc_fail_mask
// (k1 picks configuration variants as the endpoints' e1 does; k3: bits 0-3
// ephemeral ports 40000..40000+n, 0x10 one TIME-WAIT entry at most, 0x20
// none, 0x40 net.ipv4.tcp_notsent_lowat 4096)
// then commands: u8 op (bit 7: settle, i.e. run the network 100 ms further afterwards)
//
// A descriptor byte: bit 0 the host; bits 1-4 the descriptor: 3 + n for
// n < 13 (sockets and epoll sets alike), then -1, 0 and 1 << 20, never open.
namespace sk_op {
inline constexpr std::uint8_t socket = 0;        // u8 host|domain|type|protocol (see sk_socket_*)
inline constexpr std::uint8_t bind = 1;          // u8 fd, u8 address|port (see sk_address)
inline constexpr std::uint8_t listen = 2;        // u8 fd, u8 backlog (index into sk_backlogs)
inline constexpr std::uint8_t accept = 3;        // u8 fd, u8 flags (bits 0-1 sk_accept_flags, bit 2 ask the peer)
inline constexpr std::uint8_t connect = 4;       // u8 fd, u8 address|port
inline constexpr std::uint8_t send = 5;          // u8 fd, u8 flags (bits: sk_send_flags), u16 length
inline constexpr std::uint8_t sendv = 6;         // u8 fd, u8 flags, u8 pieces (0-7), u8 length code each
inline constexpr std::uint8_t recv = 7;          // u8 fd, u8 flags (bits: sk_recv_flags), u16 length
inline constexpr std::uint8_t recvv = 8;         // u8 fd, u8 flags, u8 pieces (0-7), u8 length code each
inline constexpr std::uint8_t shutdown = 9;      // u8 fd, u8 how (sk_shutdown_how)
inline constexpr std::uint8_t close = 10;        // u8 fd
inline constexpr std::uint8_t fcntl = 11;        // u8 fd, u8 command (bits 0-2) | argument (bits 3-5)
inline constexpr std::uint8_t ioctl = 12;        // u8 fd, u8 request (sk_ioctls)
inline constexpr std::uint8_t name = 13;         // u8 fd, u8 which: even getsockname, odd getpeername
inline constexpr std::uint8_t setsockopt = 14;   // u8 fd, option, value (see below)
inline constexpr std::uint8_t getsockopt = 15;   // u8 fd, option, u8 room (sk_room)
inline constexpr std::uint8_t poll = 16;         // u8 host|count-1 (bits 1-2), (u8 fd, u8 events) each, u8 timeout
inline constexpr std::uint8_t epoll_create = 17; // u8 host|how (bits 1-3)
inline constexpr std::uint8_t epoll_ctl = 18;    // u8 epfd, u8 op (sk_epoll_ops), u8 fd, u8 events (bits: sk_epoll_events)
inline constexpr std::uint8_t epoll_wait = 19;   // u8 epfd, u8 max events (0-15), u8 timeout
inline constexpr std::uint8_t sync = 20;         // u8 host
inline constexpr std::uint8_t advance = 21;      // u8 unit, u8 amount
inline constexpr std::uint8_t net = 22;          // u8 action, u8 packet [, u8 at, u8 xor (corrupt) | u8 times (hold)]
inline constexpr std::uint8_t fate = 23;         // u32: what happens to the next 16 datagrams
inline constexpr std::uint8_t repeat = 24;       // u8 n, u8 k: the previous 1 + n % 16 commands, 1 + k % 32 times more
inline constexpr std::uint8_t fail_alloc = 25;   // u8 host|n: that host's next n >> 1 allocations fail
inline constexpr std::uint8_t count = 26;
}  // namespace sk_op

// k0 bits
inline constexpr std::uint8_t sk_bundle_heap = 1u << 0;  // timer heap, RFC 6528 ISNs, CUBIC (else wheel, sequential, NewReno)
inline constexpr std::uint8_t sk_alloc_failures = 1u << 1;
inline constexpr std::uint8_t sk_no_timestamps = 1u << 2;
inline constexpr std::uint8_t sk_no_sack = 1u << 3;
inline constexpr std::uint8_t sk_few_descriptors = 1u << 4;  // 4 descriptors per host instead of 13
inline constexpr std::uint8_t sk_cookies_always = 1u << 5;
inline constexpr std::uint8_t sk_small_somaxconn = 1u << 6;  // net.core.somaxconn 1
inline constexpr std::uint8_t sk_small_buffer_caps = 1u << 7;  // wmem_max and rmem_max 16384

inline constexpr int sk_descriptors = 13;  // 3 .. 15 per host
[[nodiscard]] constexpr int sk_fd_of(std::uint8_t b) noexcept {
    const int k = (b >> 1) & 15;
    if (k < sk_descriptors) return 3 + k;
    constexpr int never_open[3] = {-1, 0, 1 << 20};
    return never_open[k - sk_descriptors];
}
// The byte for descriptor `fd` (3 .. 15) of `host`.
[[nodiscard]] constexpr std::uint8_t sk_fd(int host, int fd) noexcept {
    return static_cast<std::uint8_t>((host & 1) | ((fd - 3) & 15) << 1);
}

// socket(): bit 0 host, bits 1-2 domain, bits 3-5 type, bits 6-7 protocol.
inline constexpr int sk_socket_domains[4] = {sock::af_inet, sock::af_inet6, sock::af_unspec, 1 /* AF_UNIX */};
inline constexpr int sk_socket_types[8] = {sock::sock_stream,
                                           sock::sock_stream | sock::sock_nonblock,
                                           sock::sock_stream | sock::sock_cloexec,
                                           sock::sock_stream | sock::sock_nonblock | sock::sock_cloexec,
                                           sock::sock_dgram,
                                           3 /* SOCK_RAW */,
                                           sock::sock_stream | 0x100,
                                           5 /* SOCK_SEQPACKET */};
inline constexpr int sk_socket_protocols[4] = {0, sock::ipproto_tcp, 17 /* UDP */, 255};
[[nodiscard]] constexpr std::uint8_t sk_socket(int host, unsigned domain, unsigned type = 0, unsigned protocol = 0) noexcept {
    return static_cast<std::uint8_t>((host & 1) | (domain & 3u) << 1 | (type & 7u) << 3 | (protocol & 3u) << 6);
}

// bind() and connect(): bits 0-2 the address, bits 3-5 the port.
namespace sk_addr {
inline constexpr std::uint8_t peer = 0;            // the other host, in the socket's family
inline constexpr std::uint8_t self = 1;            // this host
inline constexpr std::uint8_t wildcard = 2;        // 0.0.0.0 or ::
inline constexpr std::uint8_t peer_other = 3;      // the other host, in the other family
inline constexpr std::uint8_t stranger = 4;        // an address nobody has
inline constexpr std::uint8_t loopback = 5;
inline constexpr std::uint8_t self_other = 6;      // this host, in the other family
inline constexpr std::uint8_t wildcard_other = 7;
}  // namespace sk_addr
inline constexpr std::uint16_t sk_ports[8] = {80, 443, 0, 8080, 40000, 32768, 1, 65535};
[[nodiscard]] constexpr std::uint8_t sk_address(std::uint8_t address, unsigned port_index) noexcept {
    return static_cast<std::uint8_t>((address & 7u) | (port_index & 7u) << 3);
}

inline constexpr int sk_backlogs[8] = {5, 0, 1, 2, 128, -1, INT_MAX, INT_MIN};
inline constexpr int sk_accept_flags[4] = {0, sock::sock_nonblock, sock::sock_cloexec, 1};
// Flag bit i of the flags byte means sk_send_flags[i] (send, sendv) or sk_recv_flags[i] (recv, recvv).
inline constexpr int sk_send_flags[8] = {sock::msg_dontwait, sock::msg_more,     sock::msg_nosignal, sock::msg_oob,
                                         sock::msg_fastopen, sock::msg_zerocopy, sock::msg_eor,      0x40000000};
inline constexpr int sk_recv_flags[8] = {sock::msg_dontwait, sock::msg_peek,  sock::msg_waitall, sock::msg_oob,
                                         sock::msg_errqueue, sock::msg_trunc, sock::msg_eor,     0x40000000};
// sendv/recvv piece lengths: codes below 128 are bytes, above (code - 127) * 512.
[[nodiscard]] constexpr std::size_t sk_piece_length(std::uint8_t code) noexcept {
    return code < 128 ? code : std::size_t{code - 127u} * 512u;
}
inline constexpr int sk_shutdown_how[5] = {sock::shut_wr, sock::shut_rd, sock::shut_rdwr, -1, 3};
inline constexpr int sk_fcntl_commands[8] = {sock::f_getfl, sock::f_setfl, sock::f_getfd, sock::f_setfd, 0, 99, -1, 1030};
inline constexpr int sk_fcntl_arguments[8] = {0, sock::o_nonblock, sock::fd_cloexec, sock::o_nonblock | sock::fd_cloexec,
                                              -1, sock::o_rdwr, 02000 | sock::o_nonblock, INT_MIN};
inline constexpr unsigned long sk_ioctls[8] = {sock::siocinq, sock::siocoutq, sock::siocoutqnsd, 0x5421 /* FIONBIO */,
                                               0, ~0ul, 0x541C, 0x8906 /* SIOCGSTAMP */};
// poll(): event bit i asks for sk_poll_events[i]; the timeout byte picks one of sk_timeouts.
inline constexpr std::uint32_t sk_poll_events[8] = {sock::pollin,     sock::pollout,     sock::pollrdhup,
                                                    sock::pollpri,    sock::pollrdnorm,  sock::pollwrnorm,
                                                    sock::pollerr | sock::pollhup, 0xffffffffu};
inline constexpr int sk_timeouts[4] = {0, -1, 1, 1000};
inline constexpr int sk_epoll_ops[6] = {sock::epoll_ctl_add, sock::epoll_ctl_mod, sock::epoll_ctl_del,
                                        sock::epoll_ctl_add, 0, 4};
inline constexpr std::uint32_t sk_epoll_events[8] = {sock::pollin,  sock::pollout,  sock::pollrdhup,
                                                     sock::epollet, sock::epolloneshot, sock::pollerr,
                                                     sock::pollhup, sock::pollpri | sock::epollexclusive};

// Options: an option byte o picks sk_options[o % 36] when below sk_option_count,
// else a level (u8, sk_levels[l % 8]) and a name (u8, read as a signed char).
namespace sk_kind {
inline constexpr std::uint8_t integer = 0, linger = 1, timeval = 2, name = 3, info = 4;
}
struct sk_option {
    int level;
    int name;
    std::uint8_t kind;
};
inline constexpr sk_option sk_options[] = {
    {sock::sol_socket, sock::so_reuseaddr, sk_kind::integer},  {sock::sol_socket, sock::so_type, sk_kind::integer},
    {sock::sol_socket, sock::so_error, sk_kind::integer},      {sock::sol_socket, sock::so_sndbuf, sk_kind::integer},
    {sock::sol_socket, sock::so_rcvbuf, sk_kind::integer},     {sock::sol_socket, sock::so_keepalive, sk_kind::integer},
    {sock::sol_socket, sock::so_linger, sk_kind::linger},      {sock::sol_socket, sock::so_reuseport, sk_kind::integer},
    {sock::sol_socket, sock::so_rcvlowat, sk_kind::integer},   {sock::sol_socket, sock::so_sndlowat, sk_kind::integer},
    {sock::sol_socket, sock::so_rcvtimeo, sk_kind::timeval},   {sock::sol_socket, sock::so_sndtimeo, sk_kind::timeval},
    {sock::sol_socket, sock::so_acceptconn, sk_kind::integer}, {sock::sol_socket, sock::so_protocol, sk_kind::integer},
    {sock::sol_socket, sock::so_domain, sk_kind::integer},     {sock::sol_tcp, sock::tcp_nodelay, sk_kind::integer},
    {sock::sol_tcp, sock::tcp_maxseg, sk_kind::integer},       {sock::sol_tcp, sock::tcp_cork, sk_kind::integer},
    {sock::sol_tcp, sock::tcp_keepidle, sk_kind::integer},     {sock::sol_tcp, sock::tcp_keepintvl, sk_kind::integer},
    {sock::sol_tcp, sock::tcp_keepcnt, sk_kind::integer},      {sock::sol_tcp, sock::tcp_syncnt, sk_kind::integer},
    {sock::sol_tcp, sock::tcp_linger2, sk_kind::integer},      {sock::sol_tcp, sock::tcp_window_clamp, sk_kind::integer},
    {sock::sol_tcp, sock::tcp_info, sk_kind::info},            {sock::sol_tcp, sock::tcp_quickack, sk_kind::integer},
    {sock::sol_tcp, sock::tcp_congestion, sk_kind::name},      {sock::sol_tcp, sock::tcp_user_timeout, sk_kind::integer},
    {sock::sol_tcp, sock::tcp_fastopen, sk_kind::integer},     {sock::sol_tcp, sock::tcp_notsent_lowat, sk_kind::integer},
    {sock::sol_tcp, sock::tcp_fastopen_connect, sk_kind::integer}, {sock::sol_tcp, sock::tcp_inq, sk_kind::integer},
};
inline constexpr std::size_t sk_option_count = std::size(sk_options);
static_assert(sk_option_count < 36);
inline constexpr int sk_levels[8] = {sock::sol_socket, sock::sol_tcp, 0 /* IPPROTO_IP */, 41 /* IPPROTO_IPV6 */,
                                     17 /* SOL_UDP */, 255, -1, INT_MAX};
// The index of an option in sk_options (for seeds).
[[nodiscard]] constexpr std::uint8_t sk_option_index(int level, int name) noexcept {
    for (std::size_t i = 0; i < sk_option_count; ++i)
        if (sk_options[i].level == level && sk_options[i].name == name) return static_cast<std::uint8_t>(i);
    return 0xff;
}
[[nodiscard]] constexpr std::size_t sk_natural_size(std::uint8_t kind) noexcept {
    switch (kind) {
        case sk_kind::linger: return 8;
        case sk_kind::timeval: return 16;
        case sk_kind::name: return 16;  // TCP_CA_NAME_MAX
        case sk_kind::info: return 256;
        default: return 4;
    }
}

// A value: u8 bits 0-2 its size (sk_size), bits 3-5 what it holds (sk_value), then the content.
namespace sk_value {
inline constexpr std::uint8_t int32 = 0;    // u32
inline constexpr std::uint8_t special = 1;  // u8: sk_special_ints[b % N]
inline constexpr std::uint8_t small = 2;    // u8, read as a signed char
inline constexpr std::uint8_t raw = 3;      // u8 n (n % 65), n bytes
inline constexpr std::uint8_t timeval = 4;  // u8 seconds code, u8 microseconds code
inline constexpr std::uint8_t linger = 5;   // u8 on/off code, u8 seconds code
inline constexpr std::uint8_t cc_name = 6;  // u8: sk_cc_names[b % 8], with its NUL
inline constexpr std::uint8_t counter = 7;  // u16 base: base + the number of commands run so far (differs on each repeat)
}  // namespace sk_value
namespace sk_size {
inline constexpr std::uint8_t natural = 0, none = 1, one = 2, three = 3, natural_plus_one = 4, four = 5, eight = 6,
                              sixteen = 7;
}
[[nodiscard]] constexpr std::uint8_t sk_value_byte(std::uint8_t content, std::uint8_t size = sk_size::natural) noexcept {
    return static_cast<std::uint8_t>((size & 7u) | (content & 7u) << 3);
}
inline constexpr int sk_special_ints[24] = {0,     1,     -1,    2,       88,      87,     536,   1460,
                                            4096,  32767, 32768, 127,     128,     65535,  65536, INT_MAX,
                                            INT_MIN, 1 << 20, 2304, 4608, 212992, 106496, 7200, 1 << 30};
// timeval seconds: codes below 200 are themselves; microseconds: below 100, code * 10000.
inline constexpr std::int64_t sk_special_seconds[8] = {-1, INT64_MAX, INT64_MIN, std::int64_t{1} << 31,
                                                       std::int64_t{1} << 40, 9223372036854, INT_MAX, 4294967296};
inline constexpr std::int64_t sk_special_microseconds[8] = {999999, 1000000, -1, 1, INT64_MAX, INT64_MIN, 500000, 2};
// linger: on/off sk_linger_onoff[b % 4]; seconds: codes below 200 are themselves.
inline constexpr std::int32_t sk_linger_onoff[4] = {0, 1, -1, 256};
inline constexpr std::int32_t sk_special_linger[8] = {-1, INT_MAX, INT_MIN, 65536, 1 << 20, 3600, 200, 255};
inline constexpr const char* sk_cc_names[8] = {"newreno", "cubic", "reno", "bbr", "", "cubic\0junk",
                                               "newrenoXXXXXXXXXXXXXXXXXXXX", "CUBIC"};
inline constexpr std::size_t sk_cc_name_length[8] = {8, 6, 5, 4, 1, 10, 27, 6};  // the bytes written, NUL included
// getsockopt's buffer: sk_room[b % 8], sk_room_natural meaning the option's natural size.
inline constexpr std::size_t sk_room_natural = ~std::size_t{0};
inline constexpr std::size_t sk_room[8] = {sk_room_natural, 0, 1, 3, 4, 8, 16, 300};

// ---- An allocator that fails when the input says so ----------------------
// Every allocation is recorded, so a deallocation with the wrong size or
// alignment, a double free, and whatever is left at the end are caught in
// every build, sanitizers or not.
struct alloc_control {
    std::uint32_t fail_mask = 0;    // bit i: the i-th allocation fails (the first 32)
    std::uint32_t fail_next = 0;    // so many allocations fail from now on
    std::uint32_t calls = 0;
    std::uint32_t failures = 0;
    struct block {
        void* p;
        std::size_t bytes;
        std::size_t alignment;
    };
    std::vector<block> live;

    bool should_fail() noexcept {
        const std::uint32_t i = calls++;
        if (fail_next != 0) {
            --fail_next;
            return true;
        }
        return i < 32 && ((fail_mask >> i) & 1u) != 0;
    }
};

class fuzz_allocator {
public:
    fuzz_allocator() noexcept = default;
    explicit fuzz_allocator(alloc_control* c) noexcept : control_(c) {}

    [[nodiscard]] void* allocate(std::size_t bytes, std::size_t alignment) noexcept {
        FUZZ_CHECK(control_ != nullptr);
        if (control_->should_fail()) {
            ++control_->failures;
            return nullptr;
        }
        void* p = std_allocator{}.allocate(bytes, alignment);
        if (p != nullptr) {
            try {
                control_->live.push_back({p, bytes, alignment});
            } catch (...) {
                check_failed("allocation record", __FILE__, __LINE__);
            }
        }
        return p;
    }
    void deallocate(void* p, std::size_t bytes, std::size_t alignment) noexcept {
        FUZZ_CHECK(control_ != nullptr);
        auto& live = control_->live;
        for (std::size_t i = 0; i < live.size(); ++i) {
            if (live[i].p != p) continue;
            FUZZ_CHECK(live[i].bytes == bytes);
            FUZZ_CHECK(live[i].alignment == alignment);
            live[i] = live.back();
            live.pop_back();
            std_allocator{}.deallocate(p, bytes, alignment);
            return;
        }
        check_failed("deallocate of a block not allocated here", __FILE__, __LINE__);
    }

private:
    alloc_control* control_ = nullptr;
};
static_assert(allocator_policy<fuzz_allocator>);

}  // namespace tcpcore::fuzz
