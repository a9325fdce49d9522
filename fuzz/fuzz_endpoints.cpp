// Two endpoints talking through a network the fuzz input runs: it decides
// what the applications do (connect, listen, accept, send, receive, close,
// abort, settings), what the network does to each datagram (deliver, drop,
// duplicate, reorder, hold, corrupt), when time moves, and it injects
// datagrams of its own, raw or aimed at a connection's windows. The
// endpoints must only ever send well-formed datagrams, keep their timers in
// the future once they have run, deliver exactly the bytes that were sent
// (while the network is honest), and give all their memory back.

#include "fuzz_network.hpp"
#include "fuzz_support.hpp"

#include <tcpcore/host/endpoint.hpp>
#include <tcpcore/wire/format.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {
// A connection's windows, from its public sequence variables: to aim
// injected segments at them.
template <class C>
tcpcore::fuzz::segment_context context_of(const C& c, tcpcore::time_point now) {
    const tcpcore::sequence_variables v = c.sequence();
    const std::uint32_t our_tsval = tcpcore::detail::ms32(now) + v.ts_offset;
    return {v.rcv_nxt, v.rcv_adv, v.snd_una, v.snd_nxt, v.snd_una, v.ts_recent, our_tsval};
}
template <class C>
bool in_flight_consistent(const C& c) {
    const tcpcore::sequence_variables v = c.sequence();
    return !(v.snd_nxt < v.snd_una) && c.info().bytes_in_flight == tcpcore::seq_distance(v.snd_una, v.snd_nxt);
}
}  // namespace

using namespace tcpcore;
using tcpcore::fuzz::byte_reader;

namespace {

constexpr int hosts = 2;
constexpr std::size_t handles_per_host = 8, listeners_per_host = 4;
// Work per input is bounded: an input that keeps the network busy for
// longer stops being run (it is not a failure; a livelock shows as a timer
// that stays due, which is checked).
constexpr std::uint64_t max_deliveries = 10000;

struct network;

// The I/O policy: datagrams go to the network, which checks each one.
struct queue_io {
    network* net = nullptr;
    int host = 0;
    void send_datagram(std::span<const std::uint8_t> datagram);
};

template <class Timer, class Isn>
struct bundle : default_policies {
    using clock = manual_clock;
    using io = queue_io;
    using allocator = fuzz::fuzz_allocator;
    using timer = Timer;
    using isn = Isn;
};

using packet = fuzz::queued_packet;

struct network : fuzz::datagram_network<hosts> {
    std::array<ip_address, hosts> address;

    int owner(const ip_address& a) const {
        for (int h = 0; h < hosts; ++h)
            if (address[h] == a) return h;
        return -1;
    }
    // What an endpoint sends must be a well-formed datagram with a TCP
    // segment whose checksum verifies.
    void send(int from, std::span<const std::uint8_t> d) {
        route(from, d, [this](const ip_address& a) { return owner(a); }, false);
    }
};

void queue_io::send_datagram(std::span<const std::uint8_t> datagram) { net->send(host, datagram); }

// One side's application: its handles and how far each stream has got.
struct conn_entry {
    connection_handle handle;
    bool used = false;
    bool owned = false;     // ours until close() or abort()
    std::uint32_t sent = 0;      // bytes the endpoint took from us
    std::uint32_t received = 0;  // bytes we read
};

config make_config(std::uint8_t e0, std::uint8_t e1) {
    return fuzz::host_config(!(e0 & fuzz::ep_no_timestamps), !(e0 & fuzz::ep_no_sack), e1);
}

template <class P>
class world {
public:
    using endpoint_type = endpoint<P>;

    world(byte_reader& in, std::uint8_t e0, std::uint8_t e1, std::uint8_t delay, std::uint8_t e3,
          std::uint32_t fate, std::uint32_t fail_mask)
        : in_(in), cfg_(make_config(e0, e1)) {
        const bool v6 = (e0 & fuzz::ep_ipv6) != 0;
        for (int h = 0; h < hosts; ++h) {
            const auto last = static_cast<std::uint8_t>(h + 1);
            net_.address[h] = v6 ? ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, last}) : ip_address::v4(10, 0, 0, last);
        }
        net_.delay = duration{1} + std::chrono::microseconds{10 * std::uint32_t{delay} * delay};
        net_.fate = fate;
        auto_accept_ = (e0 & fuzz::ep_auto_accept) != 0;
        auto_read_ = (e0 & fuzz::ep_auto_read) != 0;
        endpoint_options options;
        // A handful of ephemeral ports, so that running out is reachable.
        options.ephemeral_first = 40000;
        options.ephemeral_last = static_cast<std::uint16_t>(40000 + (e3 & 0x0f));
        options.max_time_wait = (e3 & 0x10) ? 1 : (e3 & 0x20) ? 0 : 1000;
        options.hash_seed = 0x5eed;
        for (int h = 0; h < hosts; ++h) {
            if (e0 & fuzz::ep_alloc_failures) alloc_[h].fail_mask = h == 0 ? fail_mask : fail_mask >> 16 | fail_mask << 16;
            const fuzz::fuzz_allocator a{&alloc_[h]};
            ep_[h] = std::make_unique<endpoint_type>(
                check(cfg_).value(),
                typename endpoint_type::parts{.io = queue_io{&net_, h}, .clock = manual_clock{net_.now},
                                              .isn = make_isn(h), .timer = make_timers(a), .allocator = a,
                                              .cookies = syn_cookie_jar(cookie_key), .options = options});
        }
    }

    ~world() {
        for (int h = 0; h < hosts; ++h) {
            ep_[h].reset();
            // Connections, TIME-WAIT entries, listeners, tables, timers: all back.
            FUZZ_CHECK(alloc_[h].live.empty());
        }
    }

    void run() {
        while (!in_.empty() && !out_of_budget()) {
            const std::uint8_t op = in_.u8();
            step(static_cast<std::uint8_t>((op & 0x7f) % fuzz::ep_op::count));
            if (op & 0x80) advance(std::chrono::seconds{1});
            for (int h = 0; h < hosts; ++h) check_host(h);
        }
    }

private:
    static constexpr secret_key cookie_key{0x0123456789abcdefull, 0xfedcba9876543210ull};

    static auto make_isn(int h) { return fuzz::host_isn<typename P::isn>(h); }
    static auto make_timers(const fuzz::fuzz_allocator& a) { return fuzz::host_timers<typename P::timer>(a); }

    bool out_of_budget() const { return net_.deliveries > max_deliveries; }

    endpoint_type& ep(int h) { return *ep_[h]; }

    void set_clocks() {
        for (int h = 0; h < hosts; ++h) ep(h).clock().set(net_.now);
    }

    // ---- Commands ----------------------------------------------------------

    void step(std::uint8_t op) {
        namespace o = fuzz::ep_op;
        switch (op) {
            case o::connect: return do_connect();
            case o::listen: return do_listen();
            case o::close_listener: {
                const std::uint8_t b = in_.u8();
                const int h = b & 1;
                auto& l = listeners_[h][(b >> 1) % listeners_per_host];
                FUZZ_TRACE("host %d: close listener\n", h);
                if (l) ep(h).close_listener(*l);
                l.reset();
                return drain_events(h);
            }
            case o::accept: {
                const std::uint8_t b = in_.u8();
                const int h = b & 1;
                const auto& l = listeners_[h][(b >> 1) % listeners_per_host];
                if (l) accept_all(h, *l, 1);
                return;
            }
            case o::send: {
                const std::uint8_t b = in_.u8();
                return do_send(b & 1, entry(b), in_.u16());
            }
            case o::recv: {
                const std::uint8_t b = in_.u8();
                return do_recv(b & 1, entry(b), in_.u16());
            }
            case o::shutdown: {
                const std::uint8_t b = in_.u8();
                conn_entry& e = entry(b);
                if (!e.used) return;
                const auto r = ep(b & 1).shutdown(e.handle);
                FUZZ_TRACE("host %d: shutdown: %s\n", b & 1, r ? r.message().c_str() : "ok");
                if (!e.owned) FUZZ_CHECK(r == std::errc::bad_file_descriptor);
                return drain_events(b & 1);
            }
            case o::close:
            case o::abort: {
                const std::uint8_t b = in_.u8();
                conn_entry& e = entry(b);
                if (!e.used) return;
                FUZZ_TRACE("host %d: %s\n", b & 1, op == o::close ? "close" : "abort");
                if (op == o::close) {
                    const auto r = ep(b & 1).close(e.handle);
                    FUZZ_CHECK(!r == e.owned);
                } else {
                    const auto r = ep(b & 1).abort(e.handle);
                    FUZZ_CHECK(!r == e.owned);
                    if (r) FUZZ_CHECK(r == std::errc::bad_file_descriptor);
                }
                e.owned = false;
                return drain_events(b & 1);
            }
            case o::configure: return do_configure();
            case o::advance: {
                const std::uint8_t unit = in_.u8();
                return advance(fuzz::time_step(unit, in_.u8()));
            }
            case o::net: return do_net();
            case o::inject_raw: return inject_raw();
            case o::inject_segment: return inject_segment();
            case o::events: {
                const std::uint8_t b = in_.u8();
                return drain_events(b & 1, (b & 2) != 0, (b & 4) != 0);
            }
            case o::fate:
                net_.fate = in_.u32();
                net_.fate_position = 0;
                return;
            default: return;
        }
    }

    conn_entry& entry(std::uint8_t b) { return handles_[b & 1][(b >> 1) % handles_per_host]; }

    // A new handle takes a free entry, else the oldest.
    void remember(int h, connection_handle c) {
        const connection_type_ptr conn = ep(h).get(c).value_or(nullptr);
        FUZZ_CHECK(conn != nullptr);
        if (!seen_tuples_.insert(tuple_key(conn->tuple())).second) reused_tuple_ = true;
        auto& table = handles_[h];
        std::size_t k = next_slot_[h]++ % handles_per_host;
        for (std::size_t i = 0; i < handles_per_host; ++i)
            if (!table[i].used || !table[i].owned) {
                k = i;
                break;
            }
        table[k] = conn_entry{c, true, true, 0, 0};
    }
    using connection_type_ptr = const typename endpoint_type::connection_type*;

    static std::array<std::uint8_t, 36> tuple_key(const four_tuple& t) {
        std::array<std::uint8_t, 36> k{};
        const auto a = t.local.address.bytes(), b = t.remote.address.bytes();
        for (std::size_t i = 0; i < 16; ++i) {
            k[i] = a[i];
            k[16 + i] = b[i];
        }
        k[32] = static_cast<std::uint8_t>(t.local.port >> 8);
        k[33] = static_cast<std::uint8_t>(t.local.port);
        k[34] = static_cast<std::uint8_t>(t.remote.port >> 8);
        k[35] = static_cast<std::uint8_t>(t.remote.port);
        return k;
    }

    static constexpr std::uint16_t ports[4] = {80, 443, 8080, 40000};

    void do_connect() {
        const std::uint8_t a = in_.u8(), b = in_.u8();
        const int h = a & 1;
        socket_address local{net_.address[h], 0};
        switch ((a >> 1) & 3u) {
            case 0: break;  // ephemeral
            case 1: local.port = 40000; break;
            case 2: local.port = 40001; break;
            default: local.port = 80; break;
        }
        socket_address remote{net_.address[1 - h], 80};
        switch (b & 3u) {
            case 0: break;
            case 1: remote.address = net_.address[h]; break;  // itself
            case 2: remote.address = net_.address[0].is_v4() ? ip_address::v4(10, 0, 0, 9)
                                                             : ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 9});
                break;  // nobody
            default: remote.address = net_.address[0].is_v4() ? ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, 2})
                                                              : ip_address::v4(10, 0, 0, 2);
                break;  // the other family: refused
        }
        remote.port = ports[(b >> 2) & 3u];
        const auto r = ep(h).connect(remote, local);
        FUZZ_TRACE("host %d: connect port %u -> %u: %s\n", h, local.port, remote.port,
                   r ? "ok" : r.error().message().c_str());
        if ((b & 3u) == 3) FUZZ_CHECK(!r && r.error() == std::errc::invalid_argument);
        if (r) remember(h, *r);
        drain_events(h);
    }

    void do_listen() {
        const std::uint8_t a = in_.u8(), b = in_.u8();
        const int h = a & 1;
        socket_address local{net_.address[h], ports[(a >> 1) & 3u]};
        switch ((a >> 3) & 3u) {
            case 0: break;
            case 1: local.address = ip_address{}; break;                 // any address
            case 2: local.address = ip_address::v4(0, 0, 0, 0); break;   // any IPv4 address
            default: local.address = net_.address[1 - h]; break;         // not ours: never matches
        }
        constexpr std::uint32_t backlogs[4] = {1, 2, 4, 128};
        constexpr std::uint32_t syn_backlogs[4] = {1, 2, 4, 256};
        constexpr syn_cookie_mode modes[4] = {syn_cookie_mode::off, syn_cookie_mode::when_backlog_full,
                                              syn_cookie_mode::always, syn_cookie_mode::when_backlog_full};
        listen_options o{backlogs[b & 3u], syn_backlogs[(b >> 2) & 3u], modes[(b >> 4) & 3u]};
        const auto r = ep(h).listen(local, o);
        FUZZ_TRACE("host %d: listen port %u: %s\n", h, local.port, r ? "ok" : r.error().message().c_str());
        if (!r) return;
        auto& table = listeners_[h];
        const std::size_t k = (a >> 5) % listeners_per_host;
        if (table[k]) ep(h).close_listener(*table[k]);  // its slot in our table is needed
        table[k] = *r;
        drain_events(h);
    }

    void accept_all(int h, listener_handle l, std::size_t limit) {
        for (std::size_t n = 0; n < limit; ++n) {
            const auto c = ep(h).accept(l);
            if (!c) return;
            FUZZ_TRACE("host %d: accepted\n", h);
            remember(h, *c);
        }
    }

    void do_send(int h, conn_entry& e, std::uint16_t length) {
        if (!e.used) return;
        std::vector<std::uint8_t> data(length);
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = fuzz::stream_byte(e.sent + static_cast<std::uint32_t>(i));
        const auto r = ep(h).send(e.handle, data);
        FUZZ_TRACE("host %d: send %u: %s\n", h, unsigned{length}, r ? std::to_string(*r).c_str() : r.error().message().c_str());
        if (!e.owned) FUZZ_CHECK(!r && r.error() == std::errc::bad_file_descriptor);
        if (r) {
            FUZZ_CHECK(*r <= data.size());
            e.sent += static_cast<std::uint32_t>(*r);
        }
        drain_events(h);
    }

    void do_recv(int h, conn_entry& e, std::uint16_t length) {
        if (!e.used) return;
        std::vector<std::uint8_t> buf(length);
        const auto* c = ep(h).get(e.handle).value_or(nullptr);
        const std::size_t readable = c != nullptr ? c->readable() : 0;
        if (e.owned) FUZZ_CHECK(ep(h).readable(e.handle).value_or(~std::size_t{0}) == readable);
        const auto r = ep(h).recv(e.handle, buf);
        const std::size_t n = r.value_or(0);
        FUZZ_TRACE("host %d: recv %u: %s\n", h, unsigned{length},
                   r ? std::to_string(*r).c_str() : r.error().message().c_str());
        if (!e.owned) {
            FUZZ_CHECK(!r && r.error() == std::errc::bad_file_descriptor);
        } else {
            FUZZ_CHECK(n == std::min<std::size_t>(length, readable));
            // Nothing read: the end of the stream (0), or why not, never EBADF for a held handle.
            if (r && *r == 0) FUZZ_CHECK(length == 0 || ep(h).get(e.handle).value()->eof());
            if (!r) FUZZ_CHECK(r.error() != std::errc::bad_file_descriptor && readable == 0);
        }
        check_stream(e, std::span(buf).first(n));
        drain_events(h);
    }

    void check_stream(conn_entry& e, std::span<const std::uint8_t> bytes) {
        if (net_.honest && !reused_tuple_) {
            for (std::size_t i = 0; i < bytes.size(); ++i)
                FUZZ_CHECK(bytes[i] == fuzz::stream_byte(e.received + static_cast<std::uint32_t>(i)));
        }
        e.received += static_cast<std::uint32_t>(bytes.size());
    }

    void do_configure() {
        const std::uint8_t b = in_.u8(), which = in_.u8();
        const std::uint16_t value = in_.u16();
        conn_entry& e = entry(b);
        // configure() is for handles the application holds.
        if (!e.used || !e.owned) return;
        const time_point now = net_.now;
        const auto c = ep(b & 1).configure(e.handle, [&](auto& conn) {
            switch (which % 7u) {
                case 0: return conn.set_keepalive((value & 1) != 0, now);
                case 1: return conn.set_keepalive_idle(std::chrono::seconds{value});
                case 2: return conn.set_keepalive_interval(std::chrono::seconds{value});
                case 3: return conn.set_keepalive_probes(static_cast<std::uint8_t>(value));
                case 4: return conn.set_user_timeout(std::chrono::milliseconds{value});
                case 5: return conn.set_syn_retries(static_cast<std::uint8_t>(value));
                default: return conn.set_nodelay((value & 1) != 0);
            }
        });
        FUZZ_TRACE("host %d: setting %u = %u: %s\n", b & 1, which % 7u, unsigned{value},
                   c && c->ok() ? "ok" : "refused");
        FUZZ_CHECK(c.has_value());  // only held handles get here
        drain_events(b & 1);
    }

    // ---- The network -------------------------------------------------------

    void do_net() {
        namespace a = fuzz::net_action;
        const std::uint8_t action = in_.u8() % a::count;
        const std::uint8_t which = in_.u8();
        std::uint8_t at = 0, x = 0, times = 0;
        // The action's own bytes follow only when there is a datagram to act on.
        if (!net_.queue.empty() && action == a::corrupt) {
            at = in_.u8();
            x = in_.u8();
        } else if (!net_.queue.empty() && action == a::hold) {
            times = in_.u8();
        }
        if (auto p = net_.act(action, which, at, x, times)) deliver(*p);
    }

    void deliver(const packet& p) {
        ++net_.deliveries;
        FUZZ_TRACE("  host %d receives %zu bytes\n", p.to, p.bytes.size());
        if (p.to < 0) return;
        const std::uint64_t before = ep(p.to).stats().datagrams_in;
        ep(p.to).receive_datagram(p.bytes);
        FUZZ_CHECK(ep(p.to).stats().datagrams_in == before + 1);
        drain_events(p.to);
    }

    // What the network's advance() asks of the hosts.
    friend struct fuzz::datagram_network<hosts>;
    time_point deadline(int h) { return ep(h).next_deadline(); }
    void count_step() {}
    void settle(int h) { poll(h); }
    void advance(duration d) { net_.advance(*this, d); }

    void poll(int h) {
        ep(h).poll();
        // Everything due has run: what is left lies in the future.
        FUZZ_CHECK(ep(h).next_deadline() > net_.now);
        drain_events(h);
    }

    // ---- Injected datagrams ----------------------------------------------

    void inject_raw() {
        const std::uint8_t b = in_.u8();
        const int h = b & 1;
        const auto body = in_.bytes(in_.u8());
        std::vector<std::uint8_t> d;
        if (b & 2) {
            // Wrapped in a valid IP header from the other host (or a stranger),
            // with the TCP checksum made right on request: so the bytes reach
            // the TCP layer and its state instead of dying in the parsers.
            // (Or as UDP, which the endpoint must count and ignore.)
            const ip_address src = (b & 8) ? (net_.address[0].is_v4() ? ip_address::v4(192, 0, 2, 66)
                                                                       : ip_address::v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 66}))
                                           : net_.address[1 - h];
            d.resize(ipv6_header_length);
            const std::uint8_t protocol = (b & 0x10) ? ip_protocol_udp : ip_protocol_tcp;
            const auto hl = write_ip_header(d, src, net_.address[h], protocol, body.size());
            FUZZ_CHECK(hl.has_value());
            d.resize(*hl);
            d.insert(d.end(), body.begin(), body.end());
            if ((b & 4) && protocol == ip_protocol_tcp && body.size() >= tcp_min_header_length)
                write_tcp_checksum(std::span(d).subspan(*hl), src, net_.address[h]);
        } else {
            d.assign(body.begin(), body.end());
        }
        FUZZ_TRACE("host %d: raw datagram of %zu bytes\n", h, d.size());
        net_.honest = false;
        deliver(packet{net_.now, 0, h, std::move(d)});
    }

    // A segment aimed at one of our connections, as if from its peer.
    void inject_segment() {
        const std::uint8_t b = in_.u8();
        const int h = b & 1;
        const conn_entry& e = entry(b);
        const auto* c = e.used ? ep(h).get(e.handle).value_or(nullptr) : nullptr;
        fuzz::segment_context ctx{};
        four_tuple t{{net_.address[h], 80}, {net_.address[1 - h], 40000}};
        if (c != nullptr) {
            ctx = context_of(*c, net_.now);
            t = c->tuple();
        }
        fuzz::segment_recipe r = fuzz::decode_segment(in_, ctx);
        if (r.misaddress) t.remote.port = static_cast<std::uint16_t>(t.remote.port + 1 + (*r.misaddress & 3u));
        r.fields.src_port = t.remote.port;
        r.fields.dst_port = t.local.port;
        std::vector<std::uint8_t> d(ipv6_header_length + tcp_max_header_length + r.payload.size());
        const std::size_t hl = ip_header_length(t.local.address.family());
        const auto n = build_tcp_segment(std::span(d).subspan(hl), r.fields, r.options, r.payload, t.remote.address,
                                         t.local.address);
        if (!n) return;
        FUZZ_CHECK(write_ip_header(d, t.remote.address, t.local.address, ip_protocol_tcp, *n).has_value());
        d.resize(hl + *n);
        if (!r.payload.empty()) net_.honest = false;
        FUZZ_TRACE("host %d: injected segment\n", h);
        deliver(packet{net_.now, 0, h, std::move(d)});
    }

    // ---- Events and checks -------------------------------------------------

    conn_entry* find(int h, connection_handle c) {
        for (auto& e : handles_[h])
            if (e.used && e.handle == c) return &e;
        return nullptr;
    }

    void drain_events(int h, bool accept = false, bool read = false) {
        accept = accept || auto_accept_;
        read = read || auto_read_;
        while (const auto ev = ep(h).next_event()) {
            if (ev->accept_ready) {
                if (accept) accept_all(h, ev->listener, handles_per_host);
                continue;
            }
            // Events are reported for connections the application holds.
            const auto* c = ep(h).get(ev->connection).value_or(nullptr);
            FUZZ_CHECK(c != nullptr);
            conn_entry* e = find(h, ev->connection);
            FUZZ_TRACE("host %d: events %02x\n", h, ev->events.bits());
            if (ev->events.has(connection_events::closed)) {
                FUZZ_CHECK(c->state() == tcp_state::closed);
                FUZZ_CHECK(ev->error == c->error());
            }
            if (read && e != nullptr && e->owned && ev->events.has(connection_events::readable)) {
                std::array<std::uint8_t, 4096> buf;
                for (std::size_t n; (n = ep(h).recv(e->handle, buf).value_or(0)) != 0;)
                    check_stream(*e, std::span(buf).first(n));
            }
        }
    }

    void check_host(int h) {
        endpoint_type& x = ep(h);
        FUZZ_CHECK(x.stats().segments_out == net_.sent[h]);
        for (const conn_entry& e : handles_[h]) {
            if (!e.used) continue;
            const auto g = x.get(e.handle);
            const auto* c = g.value_or(nullptr);
            // A handle the application holds stays valid until it lets go;
            // one that names nothing is answered EBADF.
            if (e.owned) FUZZ_CHECK(c != nullptr);
            if (!g) FUZZ_CHECK(g.error() == std::errc::bad_file_descriptor);
            if (c == nullptr) continue;
            FUZZ_CHECK(static_cast<std::size_t>(c->state()) < tcp_state_count);
            FUZZ_CHECK(c->state() != tcp_state::listen && c->state() != tcp_state::time_wait);
            FUZZ_CHECK(in_flight_consistent(*c));
            FUZZ_CHECK(c->info().send_queue <= cfg_.send_buffer);
        }
    }

    byte_reader& in_;
    config cfg_;
    network net_;
    std::array<fuzz::alloc_control, hosts> alloc_;
    std::array<std::unique_ptr<endpoint_type>, hosts> ep_;
    std::array<std::array<conn_entry, handles_per_host>, hosts> handles_{};
    std::array<std::array<std::optional<listener_handle>, listeners_per_host>, hosts> listeners_{};
    std::array<std::size_t, hosts> next_slot_{};
    std::set<std::array<std::uint8_t, 36>> seen_tuples_;
    bool reused_tuple_ = false;
    bool auto_accept_ = false;
    bool auto_read_ = false;
};

template <class P>
void play(byte_reader& in, std::uint8_t e0, std::uint8_t e1, std::uint8_t delay, std::uint8_t e3,
          std::uint32_t fate, std::uint32_t fail_mask) {
    world<P> w(in, e0, e1, delay, e3, fate, fail_mask);
    w.run();
}

using fa = fuzz::fuzz_allocator;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    byte_reader in(data, size);
    const std::uint8_t e0 = in.u8(), e1 = in.u8(), delay = in.u8(), e3 = in.u8();
    const std::uint32_t fate = in.u32(), fail_mask = in.u32();
    switch ((e0 >> 1) & 3u) {
        case 0: play<bundle<timing_wheel<fa>, sequential_isn>>(in, e0, e1, delay, e3, fate, fail_mask); break;
        case 1: play<bundle<timer_heap<fa>, rfc6528_isn>>(in, e0, e1, delay, e3, fate, fail_mask); break;
        case 2: play<bundle<timer_list, sequential_isn>>(in, e0, e1, delay, e3, fate, fail_mask); break;
        default:
            play<bundle<timing_wheel<fa, wheel_deadline::lower_bound>, rfc6528_isn>>(in, e0, e1, delay, e3, fate,
                                                                                   fail_mask);
            break;
    }
    return 0;
}
