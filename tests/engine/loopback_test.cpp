// Two connections back to back through an in-memory link: bulk transfer in
// both directions, byte-exact, then a clean close; also through loss.

#include "../support/loopback.hpp"

#include <chrono>

using namespace tcpcore;
using namespace tcpcore::test;
using namespace std::chrono_literals;

namespace {
bool final_state(tcp_state s) { return s == tcp_state::time_wait || s == tcp_state::closed; }

// Both have read everything and closed, and both are in a final state.
template <class L>
bool finished(const L& l) {
    return l.a.conn.eof() && l.b.conn.eof() && final_state(l.a.conn.state()) && final_state(l.b.conn.state());
}

template <class L>
void expect_clean_finish(L& l, std::uint64_t a_received, std::uint64_t b_received) {
    CHECK(l.a.received == a_received);
    CHECK(l.b.received == b_received);
    CHECK(!l.a.mismatch);
    CHECK(!l.b.mismatch);
    CHECK(l.a.conn.eof());
    CHECK(l.b.conn.eof());
    // Both ends in a legitimate final state: the one that closed first waits
    // in TIME-WAIT (or both, on a simultaneous close), the other is CLOSED.
    const auto sa = l.a.conn.state(), sb = l.b.conn.state();
    CHECK((sa == tcp_state::time_wait || sa == tcp_state::closed));
    CHECK((sb == tcp_state::time_wait || sb == tcp_state::closed));
    CHECK(!l.a.conn.error());
    CHECK(!l.b.conn.error());
}
}  // namespace

TEST_CASE("loopback: 100 MiB in each direction, byte-exact, then both close cleanly") {
    const config cfg;  // every option on: window scaling, SACK, timestamps, delayed ACK
    loopback<> l(cfg, cfg, 1ms);
    constexpr std::uint64_t bytes = 100ull << 20;
    l.a.to_send = l.b.to_send = bytes;
    l.open();
    const auto wall = std::chrono::steady_clock::now();
    const bool done = l.run([&] { return finished(l); }, at(3600s));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    REQUIRE(done);
    expect_clean_finish(l, bytes, bytes);
    WARN("100 MiB each way: " << seconds << " s wall, " << l.packets << " segments, virtual "
                               << std::chrono::duration<double>(l.now.time_since_epoch()).count() << " s");
    // TIME-WAIT ends 60 s later and leaves both CLOSED.
    REQUIRE(l.run([&] { return l.a.conn.state() == tcp_state::closed && l.b.conn.state() == tcp_state::closed; },
                  l.now + 61s));
}

TEST_CASE("loopback: 4 MiB each way through 2% loss arrives byte-exact (SACK and NewReno alike)") {
    for (const bool sack : {true, false}) {
        config cfg;
        cfg.sack = sack;
        loopback<> l(cfg, cfg, 5ms);
        l.drop = [](std::uint64_t index, const std::vector<std::uint8_t>&) {
            return (index * 2654435761u) % 100 < 2;  // a fixed 2% of packets
        };
        constexpr std::uint64_t bytes = 4ull << 20;
        l.a.to_send = l.b.to_send = bytes;
        l.open();
        INFO("sack " << sack);
        REQUIRE(l.run([&] { return finished(l); }, at(3600s)));
        CHECK(l.dropped > 0);
        expect_clean_finish(l, bytes, bytes);
    }
}

TEST_CASE("loopback: CUBIC moves the same bytes as NewReno") {
    config cfg;
    loopback<basic_connection<cubic>> l(cfg, cfg, 2ms);
    l.drop = [](std::uint64_t index, const std::vector<std::uint8_t>&) { return index % 97 == 13; };
    constexpr std::uint64_t bytes = 8ull << 20;
    l.a.to_send = l.b.to_send = bytes;
    l.open();
    REQUIRE(l.run([&] { return finished(l); }, at(3600s)));
    expect_clean_finish(l, bytes, bytes);
}

TEST_CASE("loopback: a one-way transfer with a small receive buffer (window-limited, zero windows)") {
    config small;
    small.receive_buffer = 4096;
    config cfg;
    loopback<> l(cfg, small, 1ms);
    constexpr std::uint64_t bytes = 1ull << 20;
    l.a.to_send = bytes;
    l.b.to_send = 0;
    l.open();
    REQUIRE(l.run([&] { return finished(l); }, at(3600s)));
    expect_clean_finish(l, 0, bytes);
}
