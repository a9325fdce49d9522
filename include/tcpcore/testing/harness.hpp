#pragma once
// A virtual-time harness for one connection, in the style of smoltcp's tests:
// the test plays the peer and the clock.
//   h.send(at(1ms), {SYN, ...})              the peer's segment arrives at 1 ms
//   h.expect(at(1ms), {{SYN | ACK, ...}})    exactly these segments go out then
//   h.expect_nothing_until(at(3s))           and nothing at all before 3 s
// Expectations return an `expectation` instead of asserting, so any test framework
// (or a fuzzer, or a plain main) decides what a failure means; a failed one
// says at what time, which segments and which fields differed, both sides
// printed as tcpdump prints them.

#include <tcpcore/engine/connection.hpp>
#include <tcpcore/testing/fixtures.hpp>
#include <tcpcore/testing/run.hpp>
#include <tcpcore/testing/segment.hpp>
#include <tcpcore/testing/expectation.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tcpcore::testing {

// The addresses every harness uses: we are 192.168.1.1:80 (or the client
// port for active opens), the peer 192.168.1.2:49500.
inline const ip_address local_ip = ip_address::v4(192, 168, 1, 1);
inline const ip_address remote_ip = ip_address::v4(192, 168, 1, 2);
inline constexpr std::uint16_t local_port = 80;
inline constexpr std::uint16_t remote_port = 49500;
inline constexpr seq32 local_iss{10000};
inline constexpr seq32 remote_iss{20000};

// Plain TCP by default so that tests read easily: no options beyond MSS, no
// delayed ACK; tests that need more turn it on.
[[nodiscard]] inline config plain_config() {
    config c;
    c.timestamps = false;
    c.sack = false;
    c.window_scaling = false;
    c.delayed_ack = false;
    c.send_buffer = 64 * 1024;
    c.receive_buffer = 64000;
    return c;
}

[[nodiscard]] inline std::string time_text(time_point t) {
    return std::to_string(t.time_since_epoch().count()) + " us";
}

template <class Connection = connection>
struct basic_harness {
    config cfg;
    Connection conn;
    std::vector<segment> log;  // everything the connection sent, in order
    // The first segment the connection sent that did not parse (checksum
    // included); every later expectation fails while it is set.
    std::string bad_output;

    explicit basic_harness(const config& c = plain_config()) : cfg(c), conn(cfg) {}
    basic_harness(const basic_harness&) = delete;  // conn points at cfg
    basic_harness& operator=(const basic_harness&) = delete;

    [[nodiscard]] four_tuple tuple() const { return {{local_ip, local_port}, {remote_ip, remote_port}}; }

    // The peer's segment arrives at t. Empty when the template cannot be a
    // segment (more than 40 bytes of options): the connection saw nothing.
    std::optional<segment_outcome> send(time_point t, const segment& s) {
        const auto bytes = build(s, {remote_ip, remote_port}, {local_ip, local_port});
        if (!bytes) return std::nullopt;
        const auto view = tcp_segment_view::parse(*bytes, remote_ip, local_ip);
        if (!view) return std::nullopt;
        return conn.on_segment(t, *view, remote_ip, local_ip);
    }

    // Everything the connection sends at t (also appended to the log).
    std::vector<segment> recv(time_point t) {
        std::vector<segment> out;
        std::vector<std::uint8_t> buf(tcp_max_header_length + 65536);
        for (int guard = 0; guard < 10000; ++guard) {
            const std::size_t n = conn.poll_output(t, buf);
            if (n == 0) break;
            const auto v = tcp_segment_view::parse(std::span(buf.data(), n), local_ip, remote_ip);
            if (!v) {
                if (bad_output.empty())
                    bad_output = "at " + time_text(t) + " the connection sent a segment that does not parse: " +
                                 to_string(v.error());
                continue;
            }
            out.push_back(segment::from(*v));
            log.push_back(out.back());
        }
        return out;
    }

    // Exactly these segments go out at t, in this order.
    expectation expect(time_point t, const std::vector<segment>& expected) {
        const auto got = recv(t);
        if (!bad_output.empty()) return expectation::fail(bad_output);
        if (got == expected) return expectation::pass();
        std::string why = "at " + time_text(t) + ": expected " + std::to_string(expected.size()) + " segment" +
                          (expected.size() == 1 ? "" : "s") + ", got " + std::to_string(got.size());
        for (std::size_t i = 0; i < std::max(expected.size(), got.size()); ++i) {
            const std::string index = "\n  #" + std::to_string(i) + " ";
            if (i >= got.size()) {
                why += index + "missing  " + describe(expected[i]);
            } else if (i >= expected.size()) {
                why += index + "extra    " + describe(got[i]);
            } else if (const std::string d = differences(expected[i], got[i]); !d.empty()) {
                why += index + "expected " + describe(expected[i]) + index + "got      " + describe(got[i]) +
                       index + "differs in " + d;
            } else {
                why += index + "as expected: " + describe(got[i]);
            }
        }
        return expectation::fail(std::move(why));
    }

    expectation expect_nothing(time_point t) { return expect(t, {}); }

    // Nothing goes out from now until (not including) t: the engine's next
    // deadline is t or later, and polling just before t yields nothing.
    expectation expect_nothing_until(time_point t) {
        expectation v;
        const time_point next = conn.next_deadline();
        if (next < t)
            v = expectation::fail("next deadline " + time_text(next) + ", expected nothing before " + time_text(t));
        if (t.time_since_epoch() > duration{1}) v &= expect_nothing(t - duration{1});
        return v;
    }

    // The next deadline is exactly t.
    expectation expect_deadline(time_point t) const {
        const time_point next = conn.next_deadline();
        if (next == t) return expectation::pass();
        return expectation::fail("next deadline " + time_text(next) + ", expected " + time_text(t));
    }

    std::string read_all() {
        std::string s;
        std::uint8_t buf[4096];
        for (std::size_t n; (n = conn.recv(buf)) != 0;) s.append(reinterpret_cast<const char*>(buf), n);
        return s;
    }

    // The application writes at t; what send() says (bytes taken, or why none).
    auto write(time_point t, std::string_view data) {
        return conn.send(t, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
    }

    // --- Fixtures ---------------------------------------------------------------
    // The handshake every fixture starts from: the peer's SYN at -10 ms, our
    // SYN,ACK at once, its ACK at 0 ms. ESTABLISHED begins at 0 with an RTT
    // of 10 ms measured, so the RTO is 210 ms (SPEC.md §4). Later steps come
    // 1 ms apart.
    static constexpr duration handshake_rtt = std::chrono::milliseconds{10};
    static constexpr time_point t_syn = time_point{} - handshake_rtt;
    static constexpr time_point t_established{};
    static constexpr time_point t_step2 = t_established + std::chrono::milliseconds{1};
    static constexpr time_point t_step3 = t_step2 + std::chrono::milliseconds{1};

    // State s, built directly from its variables.
    void fixture(tcp_state s) {
        fixtures::make_state(conn, s, tuple(), local_iss, remote_iss, handshake_rtt);
        conn.take_events();
    }
    void established() { fixture(tcp_state::established); }

    // State s, reached the real way: calls and segments. Fails, saying
    // where, when a call is refused or the state reached is another.
    expectation reach(tcp_state s) {
        const seq32 us = local_iss + 1, peer = remote_iss + 1;
        auto refused = [&](std::string_view call, std::error_code e) {
            return expectation::fail(std::string("reaching ") + std::string(to_string(s)) + ": " + std::string(call) +
                                 " refused: " + e.message());
        };
        if (const auto e = conn.open_passive(t_syn, {local_ip, local_port}, local_iss)) return refused("open_passive", e);
        if (s == tcp_state::listen) return expectation::pass();
        send(t_syn, {SYN, remote_iss, {}, 64000, mss_option(1460), {}});
        recv(t_syn);
        if (s == tcp_state::syn_received) return expectation::pass();
        send(t_established, {ACK, peer, us, 64000, {}, {}});
        recv(t_established);
        auto call = [&](std::string_view name, std::error_code e, time_point t) {
            recv(t);
            return e ? refused(name, e) : expectation::pass();
        };
        expectation v;
        switch (s) {
            case tcp_state::established: break;
            case tcp_state::fin_wait_1: v = call("shutdown", conn.shutdown(t_step2), t_step2); break;
            case tcp_state::fin_wait_2:
                v = call("shutdown", conn.shutdown(t_step2), t_step2);
                send(t_step3, {ACK, peer, us + 1, 64000, {}, {}});
                recv(t_step3);
                break;
            case tcp_state::close_wait:
                send(t_step2, {FIN | ACK, peer, us, 64000, {}, {}});
                recv(t_step2);
                break;
            case tcp_state::closing:
                v = call("shutdown", conn.shutdown(t_step2), t_step2);
                send(t_step3, {FIN | ACK, peer, us, 64000, {}, {}});
                recv(t_step3);
                break;
            case tcp_state::last_ack:
                send(t_step2, {FIN | ACK, peer, us, 64000, {}, {}});
                recv(t_step2);
                v = call("close", conn.close(t_step3), t_step3);
                break;
            case tcp_state::time_wait:
                v = call("shutdown", conn.shutdown(t_step2), t_step2);
                send(t_step3, {FIN | ACK, peer, us + 1, 64000, {}, {}});
                recv(t_step3);
                break;
            default: return expectation::fail("no real-way builder for " + std::string(to_string(s)));
        }
        if (!v) return v;
        if (conn.state() != s)
            return expectation::fail("reaching " + std::string(to_string(s)) + " ended in " +
                                 std::string(to_string(conn.state())));
        conn.take_events();
        return expectation::pass();
    }
};

using harness = basic_harness<>;

}  // namespace tcpcore::testing
