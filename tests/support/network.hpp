#pragma once
// An in-memory IP network for endpoints, in virtual time. Each endpoint's I/O
// policy drops datagrams into the network; the network delivers them after a
// fixed delay to whichever endpoint owns the destination address. A hook may
// drop, corrupt or record packets; every datagram is kept in a trace so that
// runs can be compared byte for byte.

#include <tcpcore/host/endpoint.hpp>
#include <tcpcore/policies/clock.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <vector>

namespace tcpcore::test {

struct memory_network;

// The I/O policy: hands datagrams to the network it was attached to.
struct network_io {
    memory_network* net = nullptr;
    void send_datagram(std::span<const std::uint8_t> datagram);
};
static_assert(datagram_io<network_io>);

struct memory_network {
    struct in_flight {
        time_point arrival;
        std::vector<std::uint8_t> bytes;
    };
    struct attached {
        ip_address address;
        std::function<void(std::span<const std::uint8_t>)> deliver;
        std::function<void(time_point)> set_time;
        std::function<time_point()> next_deadline;
        std::function<void()> poll;
    };

    duration delay = std::chrono::milliseconds{1};
    time_point now{};
    std::deque<in_flight> wire;
    std::vector<attached> hosts;
    std::vector<std::vector<std::uint8_t>> trace;  // every datagram sent, in order
    bool keep_trace = false;
    std::function<bool(const std::vector<std::uint8_t>&)> drop;  // lose this datagram?
    std::uint64_t sent = 0;
    std::uint64_t undeliverable = 0;

    // Attaches an endpoint whose I/O policy is network_io and whose clock is
    // a manual_clock, answering for `address`.
    template <class Endpoint>
    void attach(Endpoint& ep, const ip_address& address) {
        ep.io().net = this;
        hosts.push_back({address, [&ep](std::span<const std::uint8_t> d) { ep.receive_datagram(d); },
                         [&ep](time_point t) { ep.clock().set(t); }, [&ep] { return ep.next_deadline(); },
                         [&ep] { ep.poll(); }});
    }

    void send(std::span<const std::uint8_t> datagram) {
        ++sent;
        std::vector<std::uint8_t> bytes(datagram.begin(), datagram.end());
        if (keep_trace) trace.push_back(bytes);
        if (drop && drop(bytes)) return;
        wire.push_back({now + delay, std::move(bytes)});
    }

    // Injects a datagram as if a host outside the network had sent it.
    void inject(std::vector<std::uint8_t> bytes) { wire.push_back({now + delay, std::move(bytes)}); }

    // Delivers everything due, runs every host's timers, and moves time to
    // the next event; returns false when nothing is left to happen before
    // `limit`.
    bool step(time_point limit) {
        for (auto& h : hosts) h.set_time(now);
        while (!wire.empty() && wire.front().arrival <= now) {
            in_flight p = std::move(wire.front());
            wire.pop_front();
            const auto ip = parse_ip_packet(p.bytes);
            REQUIRE(ip.has_value());
            bool delivered = false;
            for (auto& h : hosts) {
                if (h.address == ip->dst) {
                    h.deliver(p.bytes);
                    delivered = true;
                    break;
                }
            }
            if (!delivered) ++undeliverable;
        }
        for (auto& h : hosts) h.poll();
        time_point next = never;
        if (!wire.empty()) next = wire.front().arrival;
        for (auto& h : hosts) next = std::min(next, h.next_deadline());
        if (next == never || next > limit) return false;
        now = std::max(now + duration{1}, next);
        return true;
    }

    template <class Done>
    bool run_until(Done done, time_point limit) {
        while (!done()) {
            if (!step(limit)) return done();
        }
        return true;
    }
};

inline void network_io::send_datagram(std::span<const std::uint8_t> datagram) { net->send(datagram); }

}  // namespace tcpcore::test
