#pragma once
// What tests add to simulated_network, the public hostile network: a
// deterministic, scripted loss (a predicate that sees every datagram), a
// trace of every datagram sent (to compare runs byte for byte, or to look at
// what went out), injection from outside, and a bounded driver loop; plus
// connection_host, one engine connection as a host on the network, for
// tests of two engines without endpoints. Random impairments, statistics and
// observers are simulated_network's own: network() reaches them.
//
//   struct net_policies : tcpcore::default_policies {
//       using clock = tcpcore::manual_clock;
//       using io = tcpcore::testing::network_io;
//   };
//   tcpcore::testing::memory_network net;           // 1 ms one way, nothing lost
//   const auto checked = tcpcore::check(cfg);         // cfg must outlive the endpoints
//   tcpcore::endpoint<net_policies> a(*checked), b(*checked);
//   net.attach(a, ip_address::v4(10, 0, 0, 1));
//   net.attach(b, ip_address::v4(10, 0, 0, 2));
//   ... b.listen(...), a.connect(...) ...
//   bool ok = net.run_until([&] { return /* what the test waits for */; }, at(10s));

#include <tcpcore/engine/connection.hpp>
#include <tcpcore/policies/io.hpp>
#include <tcpcore/policies/simulated_network.hpp>
#include <tcpcore/testing/run.hpp>
#include <tcpcore/wire/ip.hpp>

#include <concepts>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <utility>
#include <vector>

namespace tcpcore::testing {

class memory_network;

// The I/O policy: hands datagrams to the memory_network it was attached to.
struct network_io {
    memory_network* net = nullptr;
    void send_datagram(std::span<const std::uint8_t> datagram);
};
static_assert(datagram_io<network_io>);

class memory_network {
public:
    explicit memory_network(std::uint64_t seed = 1, const impairments& everywhere = {}, time_point start = {})
        : net_(seed, everywhere, start) {}
    memory_network(const memory_network&) = delete;
    memory_network& operator=(const memory_network&) = delete;

    // Loses a datagram when it returns true; sees every datagram sent, in
    // order, before the network's own impairments.
    std::function<bool(const std::vector<std::uint8_t>&)> drop;
    // Every datagram sent, in order, dropped or not (when keep_trace).
    std::vector<std::vector<std::uint8_t>> trace;
    bool keep_trace = false;
    std::uint64_t dropped = 0;  // by `drop`

    // An endpoint whose clock is a manual_clock and whose I/O policy is
    // network_io, answering for `address`. It must outlive the network's use.
    template <class Endpoint>
        requires requires(Endpoint& ep, time_point t, std::span<const std::uint8_t> d) {
            ep.clock().set(t);
            ep.receive_datagram(d);
            ep.poll();
            { ep.next_deadline() } -> std::convertible_to<time_point>;
            { ep.io() } -> std::same_as<network_io&>;
        }
    void attach(Endpoint& ep, const ip_address& address) {
        ep.io().net = this;
        ep.clock().set(net_.now());
        endpoint_host& h = endpoints_.emplace_back(endpoint_host{
            &ep, [](void* e, std::span<const std::uint8_t> d) { static_cast<Endpoint*>(e)->receive_datagram(d); },
            [](void* e) { static_cast<Endpoint*>(e)->poll(); },
            [](const void* e) -> time_point { return static_cast<const Endpoint*>(e)->next_deadline(); },
            [](void* e, time_point t) { static_cast<Endpoint*>(e)->clock().set(t); }});
        net_.attach_host(h, address);
    }

    // Any simulated_host; one with a network_io member `io` is pointed here.
    template <simulated_host H>
    void attach_host(H& host, const ip_address& address) {
        if constexpr (requires { { host.io } -> std::same_as<network_io&>; }) host.io.net = this;
        net_.attach_host(host, address);
    }

    // A datagram enters the network at now(): what network_io calls.
    void send(std::span<const std::uint8_t> datagram) {
        if (keep_trace || drop) {
            std::vector<std::uint8_t> bytes(datagram.begin(), datagram.end());
            if (drop && drop(bytes)) {
                ++dropped;
                if (keep_trace) trace.push_back(std::move(bytes));
                return;
            }
            if (keep_trace) trace.push_back(std::move(bytes));
        }
        net_.send(datagram);
    }

    // A datagram from a host outside the network: neither traced nor seen
    // by `drop`.
    void inject(std::span<const std::uint8_t> datagram) { net_.send(datagram); }

    // ---- Time: a testing::world ------------------------------------------
    [[nodiscard]] time_point now() const noexcept { return net_.now(); }
    [[nodiscard]] time_point next_event() const noexcept { return net_.next_event(); }
    bool step(time_point limit = never) { return net_.step(limit); }

    // From event to event until done() holds (true), or nothing is left by
    // `limit`, or the cap on steps is reached (false).
    template <std::predicate Done>
    bool run_until(Done&& done, time_point limit = never, std::uint64_t max_steps = default_max_steps) {
        return testing::run_until(*this, std::forward<Done>(done), limit, max_steps).finished;
    }
    bool run_until_idle(time_point limit = never, std::uint64_t max_steps = default_max_steps) {
        return testing::run_until_idle(*this, limit, max_steps).finished;
    }

    // Impairments, statistics, observers, the trace digest.
    [[nodiscard]] simulated_network& network() noexcept { return net_; }
    [[nodiscard]] const simulated_network& network() const noexcept { return net_; }

private:
    // An endpoint as a simulated_host: its manual clock set to the network's
    // time before everything it is asked to do.
    struct endpoint_host {
        void* ep;
        void (*receive_datagram)(void*, std::span<const std::uint8_t>);
        void (*poll_now)(void*);
        time_point (*deadline)(const void*);
        void (*set_clock)(void*, time_point);

        void receive(time_point now, std::span<const std::uint8_t> d) {
            set_clock(ep, now);
            receive_datagram(ep, d);
        }
        void poll(time_point now) {
            set_clock(ep, now);
            poll_now(ep);
        }
        [[nodiscard]] time_point next_deadline() const { return deadline(ep); }
        void set_time(time_point now) { set_clock(ep, now); }
    };
    static_assert(simulated_host<endpoint_host>);

    simulated_network net_;
    std::deque<endpoint_host> endpoints_;  // a deque: the network keeps pointers to them
};

static_assert(world<simulated_network>);
static_assert(world<memory_network>);

inline void network_io::send_datagram(std::span<const std::uint8_t> datagram) {
    if (net != nullptr) net->send(datagram);
}

// One engine connection as a host: IP datagrams in, its segments out in IP
// datagrams through Io (simulated_io for a simulated_network, network_io for
// a memory_network: attach_host points either at the network). Datagrams the
// parsers or checksums refuse are counted, not fed to the connection.
template <class Connection = connection, class Io = simulated_io>
struct connection_host {
    Connection conn;
    Io io;
    std::uint64_t rejected = 0;
    std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(ipv6_header_length + tcp_max_header_length + 65535);

    // The connection's own constructor arguments (its config first).
    template <class... Args>
    explicit connection_host(Args&&... args) : conn(std::forward<Args>(args)...) {}

    void receive(time_point now, std::span<const std::uint8_t> datagram) {
        const auto ip = parse_ip_packet(datagram);
        if (!ip || ip->protocol != ip_protocol_tcp) {
            ++rejected;
            return;
        }
        const auto seg = tcp_segment_view::parse(ip->payload, ip->src, ip->dst);
        if (!seg) {
            ++rejected;
            return;
        }
        (void)conn.on_segment(now, *seg, ip->src, ip->dst);
        flush(now);
    }
    void poll(time_point now) { flush(now); }
    [[nodiscard]] time_point next_deadline() const { return conn.next_deadline(); }

    // Everything the connection has to send at `now`, each in an IP header
    // written in front of it in the same buffer.
    void flush(time_point now) {
        const std::span<std::uint8_t> room = std::span(buffer).subspan(ipv6_header_length);
        for (std::size_t n; (n = conn.poll_output(now, room)) != 0;) {
            const four_tuple& t = conn.tuple();
            const std::size_t hl = ip_header_length(t.local.address.family());
            const auto header = std::span(buffer).subspan(ipv6_header_length - hl, hl);
            if (!write_ip_header(header, t.local.address, t.remote.address, ip_protocol_tcp, n)) continue;
            io.send_datagram(std::span<const std::uint8_t>(buffer).subspan(ipv6_header_length - hl, hl + n));
        }
    }
};

}  // namespace tcpcore::testing
