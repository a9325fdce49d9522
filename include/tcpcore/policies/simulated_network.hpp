#pragma once
// A simulated IP network in virtual time, for tests and simulations: hosts
// (endpoints, or anything that takes datagrams and has timers) attach with an
// address, their I/O policy hands datagrams to the network, and the network
// delivers them with the impairments it was given: loss, duplication,
// reordering, delay and jitter, bit flips that a checksum must catch, bit
// flips hidden below a recomputed TCP checksum, a bandwidth limit and a
// drop-tail queue.
//
//   struct sim_policies : tcpcore::default_policies {
//       using clock = tcpcore::manual_clock;
//       using io = tcpcore::simulated_io;
//   };
//   tcpcore::simulated_network net(seed, {.delay = 5ms, .jitter = 2ms, .loss = 0.02});
//   tcpcore::endpoint<sim_policies> a(*tcpcore::check(cfg)), b(*tcpcore::check(cfg));
//   net.attach(a, ip_address::v4(10, 0, 0, 1));
//   net.attach(b, ip_address::v4(10, 0, 0, 2));
//   ... a.connect(...), b.listen(...) ...
//   while (net.step(at(60s))) { /* application calls at net.now() */ }
//
// Everything random comes from one seeded generator of its own (the
// standard distributions differ between standard libraries), and time moves
// only from event to event, so a seed gives the same trace on every machine,
// and an hour of simulated traffic costs only the work of its packets.
//
// This is a tool for tests, not a data path: it copies and allocates for
// every datagram in flight. Like the core headers it needs no exceptions, no
// RTTI and no iostreams.

#include <tcpcore/policies/io.hpp>
#include <tcpcore/rules/time.hpp>
#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <utility>
#include <vector>

namespace tcpcore {

// ---------------------------------------------------------------------------
// Randomness: xoshiro256** (Blackman and Vigna), its state filled by
// splitmix64 so that any seed, zero included, gives a good state.

class simulation_random {
public:
    constexpr explicit simulation_random(std::uint64_t seed) noexcept {
        for (auto& word : state_) word = splitmix64(seed);
    }

    constexpr std::uint64_t next() noexcept {
        const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = std::rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, n); 0 when n is 0. Draws that would favour the low
    // remainders are thrown away, so every value is equally likely.
    constexpr std::uint64_t below(std::uint64_t n) noexcept {
        if (n == 0) return 0;
        const std::uint64_t biased = (std::uint64_t{0} - n) % n;  // 2^64 mod n
        for (;;) {
            const std::uint64_t r = next();
            if (r >= biased) return r % n;
        }
    }

    // True with probability p. Always one draw, whatever p, so that changing
    // one probability leaves every later draw where it was. (53 bits of the
    // draw scaled by 2^-53 are exact in any IEEE double.)
    constexpr bool chance(double p) noexcept {
        const double u = static_cast<double>(next() >> 11) * 0x1.0p-53;
        return u < p;
    }

    // Uniform in [0, d].
    constexpr duration up_to(duration d) noexcept {
        if (d <= duration::zero()) return duration::zero();
        return duration{static_cast<duration::rep>(below(static_cast<std::uint64_t>(d.count()) + 1))};
    }

private:
    static constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

    std::uint64_t state_[4]{};
};

// ---------------------------------------------------------------------------
// What the network does to each datagram, in the order it happens: loss,
// then the bottleneck (queue and serialization), then propagation delay and
// jitter, then the reordering hold-back; duplicates are made after the
// bottleneck (each copy gets its own delay, so copies may overtake each
// other), and corruption hits each copy on its way in.

struct impairments {
    duration delay = std::chrono::milliseconds{1};  // one-way propagation
    duration jitter{};                              // plus uniform [0, jitter] per copy: reorders too
    double loss = 0;                                // probability a datagram vanishes
    double duplicate = 0;                           // probability a second copy is delivered
    double reorder = 0;                             // probability a copy is held back...
    duration reorder_delay = std::chrono::milliseconds{10};  // ... by uniform (0, reorder_delay]
    // One bit flipped anywhere in the datagram, checksums left as they were:
    // an IPv4 header checksum or the TCP checksum must reject it (IPv6 has no
    // header checksum, so a flip in its traffic class, flow label or hop
    // limit goes unnoticed, as on a real link).
    double corrupt = 0;
    // One bit flipped in the TCP header (checksum field excepted) or payload,
    // and the TCP checksum recomputed: damage no checksum can see, which the
    // protocol logic must survive.
    double corrupt_below_checksum = 0;
    std::uint64_t bandwidth_bps = 0;  // bits per second at the bottleneck; 0: unlimited
    // Drop-tail: a datagram that would make the bottleneck hold more than
    // this many bytes (being sent or waiting) is dropped. 0: unlimited. Only
    // a bandwidth limit makes a queue form.
    std::size_t queue_limit = 0;
};

struct simulated_network_stats {
    std::uint64_t sent = 0;        // datagrams handed to the network
    std::uint64_t bytes_sent = 0;
    std::uint64_t delivered = 0;   // copies handed to a host
    std::uint64_t bytes_delivered = 0;
    std::uint64_t lost = 0;        // random loss
    std::uint64_t queue_drops = 0; // drop-tail at a full bottleneck
    std::uint64_t duplicated = 0;  // second copies made
    std::uint64_t reordered = 0;   // copies held back
    std::uint64_t corrupted = 0;   // copies with a bit flipped under the checksums' eyes
    std::uint64_t corrupted_below_checksum = 0;
    std::uint64_t undeliverable = 0;  // no host answers for the destination
    std::uint64_t malformed = 0;      // not an IP datagram at all
    // Instants cut short because hosts kept asking for work at the same time
    // (a host whose deadline stays at or before now after being polled):
    // zero for a well-behaved host.
    std::uint64_t stalls = 0;
};

// What an observer sees, as it happens.
enum class network_event_kind : std::uint8_t {
    sent,           // a host handed a datagram over (bytes as sent)
    lost,           // ... and the network lost it
    queue_drop,     // ... or the full bottleneck dropped it
    undeliverable,  // ... or nobody has its destination address
    malformed,      // ... or it was no IP datagram
    delivered,      // a copy reached its host, which has processed it (bytes as delivered)
    polled,         // a host's timers ran (no bytes)
};

struct network_event {
    network_event_kind kind;
    time_point at;
    std::span<const std::uint8_t> datagram;  // valid during the call only
    std::size_t host = 0;                     // attach order; for delivered and polled
};

class simulated_network;

// The I/O policy: an endpoint with it hands every datagram to the network
// it was attached to (simulated_network::attach sets the pointer).
struct simulated_io {
    simulated_network* network = nullptr;
    void send_datagram(std::span<const std::uint8_t> datagram);
};
static_assert(datagram_io<simulated_io>);

// Any host: takes datagrams, has timers, says when it next needs a poll
// (time_point::min() meaning now). It sends through simulated_network::send,
// typically with a simulated_io of its own.
template <class H>
concept simulated_host = requires(H& h, const H& ch, time_point now, std::span<const std::uint8_t> d) {
    h.receive(now, d);
    h.poll(now);
    { ch.next_deadline() } -> std::convertible_to<time_point>;
};

// A tcpcore::endpoint whose clock is a manual_clock and whose I/O policy is
// simulated_io.
template <class E>
concept simulated_endpoint = requires(E& ep, time_point t, std::span<const std::uint8_t> d) {
    ep.clock().set(t);
    ep.receive_datagram(d);
    ep.poll();
    { ep.next_deadline() } -> std::convertible_to<time_point>;
    { ep.io() } -> std::same_as<simulated_io&>;
};

class simulated_network {
public:
    explicit simulated_network(std::uint64_t seed, const impairments& everywhere = {}, time_point start = {})
        : seed_(seed), random_(seed), everywhere_(everywhere), now_(start) {}
    simulated_network(const simulated_network&) = delete;
    simulated_network& operator=(const simulated_network&) = delete;

    // ---- Hosts -------------------------------------------------------------

    // Attaches an endpoint answering for `address` (attach it again for more
    // addresses). The endpoint must outlive the network's use of it.
    template <simulated_endpoint E>
    void attach(E& ep, const ip_address& address) {
        ep.io().network = this;
        ep.clock().set(now_);
        add_host(address, &ep,
                 {[](void* h, time_point now, std::span<const std::uint8_t> d) {
                      E& e = *static_cast<E*>(h);
                      e.clock().set(now);
                      e.receive_datagram(d);
                  },
                  [](void* h, time_point now) {
                      E& e = *static_cast<E*>(h);
                      e.clock().set(now);
                      e.poll();
                  },
                  [](const void* h) -> time_point { return static_cast<const E*>(h)->next_deadline(); },
                  [](void* h, time_point now) { static_cast<E*>(h)->clock().set(now); }});
    }

    // Attaches any host. Its set_time(now), if it has one, is called whenever
    // the network's clock moves.
    template <simulated_host H>
    void attach_host(H& host, const ip_address& address) {
        add_host(address, &host,
                 {[](void* h, time_point now, std::span<const std::uint8_t> d) { static_cast<H*>(h)->receive(now, d); },
                  [](void* h, time_point now) { static_cast<H*>(h)->poll(now); },
                  [](const void* h) -> time_point { return static_cast<const H*>(h)->next_deadline(); },
                  [](void* h, time_point now) {
                      if constexpr (requires(H& x, time_point t) { x.set_time(t); }) static_cast<H*>(h)->set_time(now);
                  }});
    }

    // ---- Impairments -------------------------------------------------------

    // What every direction without its own setting gets.
    void set_impairments(const impairments& everywhere) noexcept { everywhere_ = everywhere; }
    // One direction's own: datagrams from `from` to `to` (by IP address).
    void set_impairments(const ip_address& from, const ip_address& to, const impairments& imp) {
        direction& d = direction_for(from, to);
        d.own = imp;
        d.has_own = true;
    }
    // Back to the common setting.
    void clear_impairments(const ip_address& from, const ip_address& to) { direction_for(from, to).has_own = false; }
    [[nodiscard]] const impairments& impairments_for(const ip_address& from, const ip_address& to) const noexcept {
        for (const direction& d : directions_)
            if (d.from == from && d.to == to && d.has_own) return d.own;
        return everywhere_;
    }

    // ---- Observing ---------------------------------------------------------

    // Calls observer(const network_event&) for everything that happens, e.g.
    // to write a pcap or check invariants. One observer; it must outlive its
    // use. Pass nullptr to stop.
    template <class Observer>
        requires std::invocable<Observer&, const network_event&>
    void observe(Observer* observer) noexcept {
        observer_ = observer;
        notify_ = nullptr;
        if (observer != nullptr)
            notify_ = [](void* o, const network_event& e) { (*static_cast<Observer*>(o))(e); };
    }

    // ---- Sending -----------------------------------------------------------

    // A datagram enters the network at now(): what simulated_io calls, and a
    // way to inject packets from outside.
    void send(std::span<const std::uint8_t> datagram) {
        ++stats_.sent;
        stats_.bytes_sent += datagram.size();
        mix_into_digest(1, datagram);
        notify(network_event_kind::sent, datagram, 0);
        // Each datagram draws from a generator of its own, seeded by one draw
        // of the main one: how many draws its fate takes never shifts the dice
        // for the datagrams after it.
        simulation_random dice(random_.next());

        const auto ip = parse_ip_packet(datagram);
        if (!ip) {
            ++stats_.malformed;
            notify(network_event_kind::malformed, datagram, 0);
            return;
        }
        // Routed by the destination as sent: corruption happens on the last
        // link, so a damaged datagram still reaches the host that must reject it.
        const std::size_t host = host_for(ip->dst);
        if (host == no_host) {
            ++stats_.undeliverable;
            notify(network_event_kind::undeliverable, datagram, 0);
            return;
        }
        direction& dir = direction_for(ip->src, ip->dst);
        const impairments& imp = dir.has_own ? dir.own : everywhere_;

        if (dice.chance(imp.loss)) {
            ++stats_.lost;
            notify(network_event_kind::lost, datagram, host);
            return;
        }
        time_point departure = now_;
        if (imp.bandwidth_bps != 0) {
            dir.drain(now_);
            if (imp.queue_limit != 0 && dir.queued_bytes + datagram.size() > imp.queue_limit) {
                ++stats_.queue_drops;
                notify(network_event_kind::queue_drop, datagram, host);
                return;
            }
            departure = std::max(now_, dir.busy_until) + serialization_time(datagram.size(), imp.bandwidth_bps);
            dir.busy_until = departure;
            dir.queue.push_back({departure, datagram.size()});
            dir.queued_bytes += datagram.size();
        }
        const bool twice = dice.chance(imp.duplicate);
        schedule(datagram, *ip, host, departure, imp, dice);
        if (twice) {
            ++stats_.duplicated;
            schedule(datagram, *ip, host, departure, imp, dice);
        }
    }

    // ---- Time --------------------------------------------------------------

    [[nodiscard]] time_point now() const noexcept { return now_; }

    // When something next happens: a delivery or a host's deadline (a host
    // that wants a poll at once counts as now); `never` when nothing will.
    [[nodiscard]] time_point next_event() const noexcept {
        time_point t = flight_.empty() ? never : flight_.front().arrival;
        for (const attached& h : hosts_) t = std::min(t, std::max(h.hooks.deadline(h.host), now_));
        return t;
    }

    // Moves the clock to the next event, or to `limit` when that comes first,
    // and runs everything due then: deliveries and hosts' timers, until
    // nothing is left at that instant. Returns false when nothing was left to
    // happen at or before `limit` (the clock then stands at `limit`, unless
    // that is `never`). After a step the application sees what happened at
    // now() and may act at now().
    bool step(time_point limit = never) {
        time_point next = next_event();
        // A stalled instant left a host due: go on from the next microsecond.
        if (stalled_ && next <= now_) next = now_ + duration{1};
        if (next == never || next > limit) {
            if (limit != never && limit > now_) move_to(limit);
            return false;
        }
        move_to(next);
        run_due();
        return true;
    }

    // Steps until done() is true (checked before each step) or nothing is left
    // before `limit`; returns done().
    template <class Done>
    bool run_until(Done&& done, time_point limit = never) {
        while (!done()) {
            if (!step(limit)) return done();
        }
        return true;
    }

    // Steps until nothing at all is left to happen (true) or `limit` comes
    // first (false).
    bool run_until_idle(time_point limit = never) {
        while (step(limit)) {
        }
        return next_event() == never;
    }

    // ---- Introspection -----------------------------------------------------

    [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }
    [[nodiscard]] const simulated_network_stats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::size_t in_flight() const noexcept { return flight_.size(); }
    [[nodiscard]] std::size_t host_count() const noexcept { return hosts_.size(); }
    // A 64-bit digest of everything sent and delivered, with times: two runs
    // with the same seed and the same hosts give the same digest.
    [[nodiscard]] std::uint64_t trace_digest() const noexcept { return digest_; }

private:
    struct host_hooks {
        void (*receive)(void*, time_point, std::span<const std::uint8_t>);
        void (*poll)(void*, time_point);
        time_point (*deadline)(const void*);
        void (*set_time)(void*, time_point);
    };
    struct attached {
        void* host;
        host_hooks hooks;
    };
    struct address_entry {
        ip_address address;
        std::size_t host;
    };
    struct queued {
        time_point departure;
        std::size_t bytes;
    };
    // One direction between two addresses: its own impairments, if any, and
    // its bottleneck.
    struct direction {
        ip_address from;
        ip_address to;
        impairments own{};
        bool has_own = false;
        time_point busy_until{};
        std::deque<queued> queue;  // serialized or waiting; leaves at `departure`
        std::size_t queued_bytes = 0;

        void drain(time_point now) {
            while (!queue.empty() && queue.front().departure <= now) {
                queued_bytes -= queue.front().bytes;
                queue.pop_front();
            }
        }
    };
    struct packet {
        time_point arrival;
        std::uint64_t order;  // ties at one instant go in sending order
        std::size_t host;
        std::vector<std::uint8_t> bytes;
    };
    // A min-heap on (arrival, order): a strict order, so every standard
    // library pops the same sequence.
    struct later {
        bool operator()(const packet& a, const packet& b) const noexcept {
            return a.arrival != b.arrival ? a.arrival > b.arrival : a.order > b.order;
        }
    };

    static constexpr std::size_t no_host = static_cast<std::size_t>(-1);
    static constexpr unsigned max_rounds_per_instant = 100000;

    void add_host(const ip_address& address, void* host, host_hooks hooks) {
        std::size_t index = hosts_.size();
        for (std::size_t i = 0; i < hosts_.size(); ++i)
            if (hosts_[i].host == host) index = i;
        if (index == hosts_.size()) hosts_.push_back({host, hooks});
        for (address_entry& a : addresses_)
            if (a.address == address) {
                a.host = index;
                return;
            }
        addresses_.push_back({address, index});
    }

    [[nodiscard]] std::size_t host_for(const ip_address& address) const noexcept {
        for (const address_entry& a : addresses_)
            if (a.address == address) return a.host;
        return no_host;
    }

    direction& direction_for(const ip_address& from, const ip_address& to) {
        for (direction& d : directions_)
            if (d.from == from && d.to == to) return d;
        direction& d = directions_.emplace_back();
        d.from = from;
        d.to = to;
        return d;
    }

    // Rounded up to a whole microsecond, so a bandwidth is never exceeded.
    static duration serialization_time(std::size_t bytes, std::uint64_t bps) noexcept {
        const std::uint64_t bits_us = std::uint64_t{bytes} * 8u * 1000000u;
        return duration{static_cast<duration::rep>((bits_us + bps - 1) / bps)};
    }

    void schedule(std::span<const std::uint8_t> datagram, const ip_packet_view& ip, std::size_t host,
                  time_point departure, const impairments& imp, simulation_random& dice) {
        time_point arrival = departure + imp.delay + dice.up_to(imp.jitter);
        if (dice.chance(imp.reorder)) {
            ++stats_.reordered;
            arrival += duration{1} + dice.up_to(imp.reorder_delay - duration{1});
        }
        packet p{arrival, next_order_++, host, std::vector<std::uint8_t>(datagram.begin(), datagram.end())};
        if (dice.chance(imp.corrupt_below_checksum) && flip_below_checksum(p.bytes, ip, dice))
            ++stats_.corrupted_below_checksum;
        if (dice.chance(imp.corrupt) && !p.bytes.empty()) {
            const std::uint64_t bit = dice.below(p.bytes.size() * 8u);
            p.bytes[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
            ++stats_.corrupted;
        }
        flight_.push_back(std::move(p));
        std::push_heap(flight_.begin(), flight_.end(), later{});
    }

    // One bit of the TCP segment (its checksum field excepted), then a fresh
    // checksum: the IP header is untouched, so its own checksum still holds.
    static bool flip_below_checksum(std::vector<std::uint8_t>& bytes, const ip_packet_view& ip,
                                    simulation_random& dice) {
        if (ip.protocol != ip_protocol_tcp || ip.payload.size() < tcp_min_header_length) return false;
        const std::span<std::uint8_t> segment(bytes.data() + ip.header_length, ip.payload.size());
        const std::uint64_t bit = dice.below((segment.size() - 2) * 8u);
        std::size_t byte = static_cast<std::size_t>(bit / 8);
        if (byte >= 16) byte += 2;  // past the checksum field
        segment[byte] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        write_tcp_checksum(segment, ip.src, ip.dst);
        return true;
    }

    void move_to(time_point t) {
        if (t <= now_) return;
        now_ = t;
        for (attached& h : hosts_) h.hooks.set_time(h.host, now_);
    }

    void run_due() {
        stalled_ = false;
        for (unsigned round = 0;; ++round) {
            if (round == max_rounds_per_instant) {
                ++stats_.stalls;
                stalled_ = true;
                return;
            }
            bool worked = false;
            while (!flight_.empty() && flight_.front().arrival <= now_) {
                std::pop_heap(flight_.begin(), flight_.end(), later{});
                packet p = std::move(flight_.back());
                flight_.pop_back();
                ++stats_.delivered;
                stats_.bytes_delivered += p.bytes.size();
                mix_into_digest(2, p.bytes);
                attached& h = hosts_[p.host];
                h.hooks.receive(h.host, now_, p.bytes);
                notify(network_event_kind::delivered, p.bytes, p.host);
                worked = true;
            }
            for (std::size_t i = 0; i < hosts_.size(); ++i) {
                attached& h = hosts_[i];
                if (h.hooks.deadline(h.host) > now_) continue;
                h.hooks.poll(h.host, now_);
                notify(network_event_kind::polled, {}, i);
                worked = true;
            }
            if (!worked) return;
        }
    }

    void notify(network_event_kind kind, std::span<const std::uint8_t> datagram, std::size_t host) {
        if (notify_ != nullptr) notify_(observer_, network_event{kind, now_, datagram, host});
    }

    // FNV-1a over a tag, the time and the bytes.
    void mix_into_digest(std::uint8_t tag, std::span<const std::uint8_t> bytes) noexcept {
        constexpr std::uint64_t prime = 0x100000001b3ull;
        auto mix = [&](std::uint8_t b) { digest_ = (digest_ ^ b) * prime; };
        mix(tag);
        const auto t = static_cast<std::uint64_t>(now_.time_since_epoch().count());
        for (int i = 0; i < 8; ++i) mix(static_cast<std::uint8_t>(t >> (8 * i)));
        for (const std::uint8_t b : bytes) mix(b);
    }

    std::uint64_t seed_;
    simulation_random random_;
    impairments everywhere_;
    time_point now_;
    std::vector<attached> hosts_;
    std::vector<address_entry> addresses_;
    std::vector<direction> directions_;
    std::vector<packet> flight_;  // a heap (see `later`)
    std::uint64_t next_order_ = 0;
    bool stalled_ = false;
    simulated_network_stats stats_{};
    std::uint64_t digest_ = 0xcbf29ce484222325ull;
    void* observer_ = nullptr;
    void (*notify_)(void*, const network_event&) = nullptr;
};

inline void simulated_io::send_datagram(std::span<const std::uint8_t> datagram) {
    if (network != nullptr) network->send(datagram);
}

}  // namespace tcpcore
