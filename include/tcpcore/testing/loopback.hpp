#pragma once
// Two connections wired back to back through an in-memory link with a
// one-way delay and, optionally, deterministic loss; each side's application
// sends a byte_stream and checks every byte it reads against the other's.
// Virtual time jumps from event to event, so a long transfer costs only the
// work of its segments. It is a testing::world: run_until() drives it, and
// so does run(done, limit).
//
//   tcpcore::testing::loopback<> l(cfg, cfg, 1ms);
//   l.a.to_send = l.b.to_send = 1 << 20;
//   if (l.open()) ...;                               // the active open's error
//   bool ok = l.run([&] { return l.a.conn.eof() && l.b.conn.eof(); }, at(60s));
//   // ok, !l.a.mismatch, !l.b.mismatch, l.fault.empty()

#include <tcpcore/engine/connection.hpp>
#include <tcpcore/testing/byte_stream.hpp>
#include <tcpcore/testing/run.hpp>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

namespace tcpcore::testing {

template <class Connection = connection>
struct loopback {
    struct side {
        Connection conn;
        byte_stream out_stream;
        std::uint64_t to_send = 0;   // bytes this side should send in all
        std::uint64_t sent = 0;      // bytes handed to the connection
        std::uint64_t received = 0;  // bytes read and checked
        bool mismatch = false;
        bool closed_write = false;
    };
    struct packet {
        time_point arrival;
        bool to_b;
        std::vector<std::uint8_t> bytes;
    };

    const config& cfg_a;
    const config& cfg_b;
    side a;
    side b;
    duration delay;
    std::deque<packet> wire;
    std::function<bool(std::uint64_t, const std::vector<std::uint8_t>&)> drop;  // (packet index, bytes) -> lose it?
    std::uint64_t packets = 0;
    std::uint64_t dropped = 0;
    time_point now{};
    // The first thing that went wrong in the link itself (a segment that did
    // not parse, an instant that never settled); the run stops there.
    std::string fault;
    std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(tcp_max_header_length + 65536);

    const four_tuple a_tuple{{ip_address::v4(10, 0, 0, 1), 40000}, {ip_address::v4(10, 0, 0, 2), 80}};
    const four_tuple b_tuple{a_tuple.remote, a_tuple.local};

    loopback(const config& ca, const config& cb, duration one_way_delay)
        : cfg_a(ca), cfg_b(cb), a{Connection(ca), byte_stream{1}}, b{Connection(cb), byte_stream{2}},
          delay(one_way_delay) {}

    // b listens, a connects; sequence numbers wrap during the transfer.
    [[nodiscard]] std::error_code open() {
        if (const auto e = b.conn.open_passive(now, b_tuple.local, seq32{0xfffff000u})) return e;
        return a.conn.open_active(now, a_tuple, seq32{0x7ffffff0u});
    }

    // Moves everything due at `now`: output onto the wire, arrivals into the
    // connections, application reads and writes.
    void step() {
        if (!fault.empty()) return;
        for (int round = 0; round < 1000; ++round) {
            bool moved = false;
            moved |= pump(a, true);
            moved |= pump(b, false);
            while (!wire.empty() && wire.front().arrival <= now) {
                packet p = std::move(wire.front());
                wire.pop_front();
                side& dst = p.to_b ? b : a;
                const four_tuple& t = p.to_b ? b_tuple : a_tuple;
                const auto v = tcp_segment_view::parse(p.bytes, t.remote.address, t.local.address);
                if (!v) {
                    fault = std::string("a segment on the wire does not parse: ") + to_string(v.error());
                    return;
                }
                (void)dst.conn.on_segment(now, *v, t.remote.address, t.local.address);
                moved = true;
            }
            moved |= application(a);
            moved |= application(b);
            if (!moved) return;
        }
        fault = "no quiescence at " + std::to_string(now.time_since_epoch().count()) + " us: something loops";
    }

    // The next instant anything happens.
    [[nodiscard]] time_point next_event() const {
        if (!fault.empty()) return never;
        time_point t = never;
        if (!wire.empty()) t = wire.front().arrival;
        return std::min({t, std::max(a.conn.next_deadline(), now), std::max(b.conn.next_deadline(), now)});
    }

    // As a world: to the next event, if it comes by `limit`, and run it.
    bool step(time_point limit) {
        const time_point t = next_event();
        if (t == never || t > limit) return false;
        now = std::max(now, t);
        step();
        return fault.empty();
    }

    // Runs the present instant, then from event to event until `done` or
    // virtual time passes `limit`; true when done.
    template <std::predicate Done>
    bool run(Done done, time_point limit, std::uint64_t max_steps = default_max_steps) {
        if (done()) return true;
        step();
        return run_until(*this, done, limit, max_steps).finished;
    }

private:
    bool pump(side& s, bool to_b) {
        bool moved = false;
        for (std::size_t n; (n = s.conn.poll_output(now, buf)) != 0;) {
            std::vector<std::uint8_t> bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
            const std::uint64_t index = packets++;
            moved = true;
            if (drop && drop(index, bytes)) {
                ++dropped;
                continue;
            }
            // FIFO on a fixed delay: arrivals stay in order of sending.
            wire.push_back({now + delay, to_b, std::move(bytes)});
        }
        return moved;
    }

    bool application(side& s) {
        bool moved = false;
        std::uint8_t chunk[16384];
        // Read and check.
        for (std::size_t n; (n = s.conn.recv(chunk)) != 0;) {
            const byte_stream& expected = &s == &a ? b.out_stream : a.out_stream;
            if (expected.mismatch(s.received, std::span<const std::uint8_t>(chunk, n)) != n) s.mismatch = true;
            s.received += n;
            moved = true;
        }
        // Write as much as the buffer takes.
        const tcp_state st = s.conn.state();
        if (st == tcp_state::established || st == tcp_state::close_wait) {
            while (s.sent < s.to_send) {
                const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof chunk, s.to_send - s.sent));
                s.out_stream.fill(s.sent, std::span(chunk, want));
                const auto r = s.conn.send(now, std::span<const std::uint8_t>(chunk, want));
                if (!r || *r == 0) break;
                s.sent += *r;
                moved = true;
            }
            if (s.sent == s.to_send && !s.closed_write) {
                s.closed_write = true;
                (void)s.conn.shutdown(now);
                moved = true;
            }
        }
        return moved;
    }
};
static_assert(world<loopback<>>);

}  // namespace tcpcore::testing
