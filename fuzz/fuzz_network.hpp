#pragma once
// What the endpoint and socket fuzz targets share: the hosts' configuration
// from two input bytes, and the network. Hosts' datagrams wait in one queue,
// and the fuzz input decides, two bits per datagram, whether each is
// delivered, lost, duplicated or overtaken. Every datagram a host sends is
// checked on the way in: a well-formed IP datagram carrying a TCP segment
// whose checksum verifies.

#include "fuzz_support.hpp"

#include <tcpcore/policies.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/time.hpp>
#include <tcpcore/wire/format.hpp>
#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace tcpcore::fuzz {

// The hosts' configuration: timestamps and SACK as told, and `knobs` picks
// small buffers, short MSL and FIN-WAIT-2 times, keepalive, short RTOs, few
// SYN retries, a user timeout, no window scaling, no delayed ACK (a bit each).
inline config host_config(bool timestamps, bool sack, std::uint8_t knobs) {
    config c;
    c.timestamps = timestamps;
    c.sack = sack;
    if (knobs & 0x01) c.send_buffer = c.receive_buffer = 8192;
    if (knobs & 0x02) {
        c.msl = std::chrono::seconds{1};
        c.fin_timeout = std::chrono::seconds{2};
    }
    if (knobs & 0x04) {
        c.keepalive = true;
        c.keepalive_idle = std::chrono::seconds{2};
        c.keepalive_interval = std::chrono::seconds{1};
        c.keepalive_probes = 2;
    }
    if (knobs & 0x08) {
        c.rto_min = std::chrono::milliseconds{10};
        c.rto_initial = std::chrono::milliseconds{200};
        c.rto_max = std::chrono::seconds{5};
    }
    if (knobs & 0x10) c.syn_retries = c.synack_retries = 2;
    if (knobs & 0x20) c.user_timeout = std::chrono::seconds{2};
    c.window_scaling = !(knobs & 0x40);
    c.delayed_ack = !(knobs & 0x80);
    FUZZ_CHECK(validate(c).ok());
    return c;
}

// Host h's ISN generator: sequential and far apart, or RFC 6528's.
template <class Isn>
auto host_isn(int h) {
    if constexpr (std::is_same_v<Isn, sequential_isn>) {
        return sequential_isn(seq32{1000u + 100000u * static_cast<std::uint32_t>(h)});
    } else {
        return rfc6528_isn(secret_key{0x1111u + static_cast<std::uint64_t>(h), 0x2222});
    }
}
// A timer strategy, on the fuzz allocator when it takes one.
template <class Timer>
auto host_timers(const fuzz_allocator& a) {
    if constexpr (std::is_constructible_v<Timer, fuzz_allocator>) {
        return Timer(a);
    } else {
        return Timer{};
    }
}

struct queued_packet {
    time_point arrival;
    std::uint64_t order;  // first come, first served among equal arrivals
    int to;               // the host owning the destination address, or -1
    std::vector<std::uint8_t> bytes;
};

template <int Hosts>
struct datagram_network {
    std::vector<queued_packet> queue;
    duration delay{1};
    std::uint32_t fate = 0;  // two bits per datagram: deliver, drop, duplicate, hold back
    unsigned fate_position = 0;
    std::uint64_t order = 0;
    std::uint64_t deliveries = 0;
    std::array<std::uint64_t, Hosts> sent{};
    time_point now{};
    // Cleared once bytes the hosts did not write may have reached them:
    // received data can then no longer be checked against what was sent.
    bool honest = true;

    void push(std::vector<std::uint8_t> bytes, time_point arrival, int to) {
        queue.push_back({arrival, order++, to, std::move(bytes)});
    }

    // Host `from` sends `d`: checked, then given its fate. `owner` names
    // the host an address belongs to (-1: none); with `own_source` the
    // source must be one of the sender's.
    template <class Owner>
    void route(int from, std::span<const std::uint8_t> d, Owner&& owner, bool own_source) {
        ++sent[from];
        const auto ip = parse_ip_packet(d);
        FUZZ_CHECK(ip.has_value());
        FUZZ_CHECK(ip->protocol == ip_protocol_tcp && ip->payload.size() + ip->header_length == d.size());
        FUZZ_CHECK(ip->src.is_v4() == ip->dst.is_v4());
        if (own_source) FUZZ_CHECK(owner(ip->src) == from);
        const auto seg = tcp_segment_view::parse(ip->payload, ip->src, ip->dst);
        FUZZ_CHECK(seg.has_value());
        if (tracing()) {
            char text[200];
            (void)format_segment(*seg, text);
            std::fprintf(stderr, "  host %d sends %s\n", from, text);
        }
        const int to = owner(ip->dst);
        std::vector<std::uint8_t> bytes(d.begin(), d.end());
        switch ((fate >> (2 * (fate_position++ % 16))) & 3u) {
            case 0: push(std::move(bytes), now + delay, to); break;
            case 1: break;  // lost
            case 2:
                push(bytes, now + delay, to);
                push(std::move(bytes), now + delay + delay / 2, to);
                break;
            default: push(std::move(bytes), now + 4 * delay + std::chrono::milliseconds{1}, to); break;  // overtaken
        }
    }

    // The index of the next packet due by `t`, or none.
    [[nodiscard]] std::optional<std::size_t> next_due(time_point t) const {
        std::optional<std::size_t> best;
        for (std::size_t i = 0; i < queue.size(); ++i) {
            const queued_packet& p = queue[i];
            if (p.arrival > t) continue;
            if (!best || p.arrival < queue[*best].arrival ||
                (p.arrival == queue[*best].arrival && p.order < queue[*best].order))
                best = i;
        }
        return best;
    }
    [[nodiscard]] time_point earliest() const {
        time_point t = never;
        for (const queued_packet& p : queue) t = std::min(t, p.arrival);
        return t;
    }
    queued_packet take(std::size_t i) {
        queued_packet p = std::move(queue[i]);
        queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
        return p;
    }

    // The input's action on the queued datagram `which` picks (actions in
    // fuzz_support.hpp's net_action); a datagram to deliver at once when
    // the action says so. `at` and `x` corrupt, `times` holds back.
    std::optional<queued_packet> act(std::uint8_t action, std::uint8_t which, std::uint8_t at, std::uint8_t x,
                                     std::uint8_t times) {
        namespace a = net_action;
        if (action == a::set_delay) {
            delay = duration{1} + std::chrono::microseconds{10 * std::uint32_t{which} * which};
            return std::nullopt;
        }
        if (queue.empty()) return std::nullopt;
        const std::size_t i = which % queue.size();
        FUZZ_TRACE("network: action %u on packet %zu of %zu\n", unsigned{action}, i, queue.size());
        switch (action) {
            case a::drop: take(i); return std::nullopt;
            case a::duplicate: {
                queued_packet p = queue[i];
                push(std::move(p.bytes), now + delay, p.to);
                return std::nullopt;
            }
            case a::to_front:
                queue[i].arrival = std::min(queue[i].arrival, now);
                queue[i].order = 0;
                return std::nullopt;
            case a::corrupt: {
                queued_packet& p = queue[i];
                if (p.bytes.empty() || x == 0) return std::nullopt;
                p.bytes[at % p.bytes.size()] ^= x;
                honest = false;
                return std::nullopt;
            }
            case a::hold: queue[i].arrival += delay * (1 + times); return std::nullopt;
            default: return take(i);  // deliver now, out of turn
        }
    }

    // Runs the network and the hosts' timers up to now + d, in order of
    // time. The target supplies deadline(h), deliver(packet), settle(h)
    // (run host h's due timers), set_clocks(), count_step() and out_of_budget().
    template <class Target>
    void advance(Target& t, duration d) {
        const time_point target = now + d;
        FUZZ_TRACE("advance %lld us\n", static_cast<long long>(d.count()));
        while (!t.out_of_budget()) {
            time_point next = earliest();
            for (int h = 0; h < Hosts; ++h) next = std::min(next, t.deadline(h));
            if (next > target) break;
            t.count_step();
            if (next > now) now = next;
            t.set_clocks();
            while (const auto i = next_due(now)) {
                t.deliver(take(*i));
                if (t.out_of_budget()) return;
            }
            for (int h = 0; h < Hosts; ++h) t.settle(h);
        }
        now = std::max(now, target);
        t.set_clocks();
        for (int h = 0; h < Hosts; ++h) t.settle(h);
    }
};

}  // namespace tcpcore::fuzz
