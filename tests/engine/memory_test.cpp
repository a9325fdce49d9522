// Memory: the connection's size budget, buffers from the allocator policy,
// no allocation per segment, and allocation failure handled without harm.

#include "../support/harness.hpp"
#include "../support/loopback.hpp"

#include <memory_resource>

using namespace tcpcore;
using namespace tcpcore::test;

// DEVELOPERS.md's budget: a connection without buffers in at most 256 bytes.
static_assert(sizeof(connection) <= 256, "the connection object grew past its 256-byte budget");
static_assert(sizeof(basic_connection<cubic>) <= sizeof(connection) + 32, "CUBIC's state is 32 bytes at most");

namespace {
// Counts what it hands out and can be told to fail.
struct counting_allocator {
    struct stats {
        std::size_t allocations = 0;
        std::size_t frees = 0;
        std::size_t live_bytes = 0;
        bool fail = false;
    };
    stats* s;
    void* allocate(std::size_t bytes, std::size_t alignment) noexcept {
        if (s->fail) return nullptr;
        ++s->allocations;
        s->live_bytes += bytes;
        return std_allocator{}.allocate(bytes, alignment);
    }
    void deallocate(void* p, std::size_t bytes, std::size_t alignment) noexcept {
        ++s->frees;
        s->live_bytes -= bytes;
        std_allocator{}.deallocate(p, bytes, alignment);
    }
};
static_assert(allocator_policy<counting_allocator>);

using counted_connection = basic_connection<newreno, counting_allocator>;
}  // namespace

TEST_CASE("memory: one allocation per connection for a whole transfer, none per segment") {
    counting_allocator::stats sa, sb;
    const config cfg;
    struct counted_loopback : loopback<counted_connection> {
        counted_loopback(const config& c, counting_allocator::stats* x, counting_allocator::stats* y)
            : loopback<counted_connection>(c, c, std::chrono::milliseconds{1}) {
            // Rebuild both ends with their counters (the base made them with null ones).
            std::destroy_at(&a.conn);
            std::construct_at(&a.conn, c, counting_allocator{x});
            std::destroy_at(&b.conn);
            std::construct_at(&b.conn, c, counting_allocator{y});
        }
    };
    counted_loopback l(cfg, &sa, &sb);
    constexpr std::uint64_t bytes = 10ull << 20;
    l.a.to_send = l.b.to_send = bytes;
    l.open();
    REQUIRE(l.run([&] { return l.a.conn.eof() && l.b.conn.eof(); }, at(3600s)));
    CHECK(l.packets > 7000);
    CHECK(sa.allocations == 1);
    CHECK(sb.allocations == 1);
    // The rings, the receive slack of one scaled-window unit, and the SACK
    // scoreboard and reassembly map (16 ranges of 8 bytes each).
    CHECK(l.a.conn.buffer_bytes() == cfg.send_buffer + cfg.receive_buffer + (1u << 3) + 2 * 16 * 8);
}

TEST_CASE("memory: buffers arrive with the first data and can be released while idle") {
    counting_allocator::stats st;
    config cfg = plain_config();
    basic_harness<counted_connection> h(cfg);
    std::destroy_at(&h.conn);
    std::construct_at(&h.conn, h.cfg, counting_allocator{&st});
    h.fixture(tcp_state::established);
    CHECK(!h.conn.has_buffers());  // an established, idle connection costs its object only
    CHECK(st.allocations == 0);
    h.write(at(1ms), "x");
    CHECK(h.conn.has_buffers());
    h.recv(at(1ms));
    h.send(at(2ms), {ACK, remote_iss + 1, local_iss + 2, 64000, {}, {}});
    h.conn.release_idle_buffers();
    CHECK(!h.conn.has_buffers());
    CHECK(st.live_bytes == 0);
    CHECK(st.frees == 1);
}

TEST_CASE("memory: when the allocator fails, send says so and arriving data is left for a retransmission") {
    counting_allocator::stats st;
    st.fail = true;
    basic_harness<counted_connection> h;
    std::destroy_at(&h.conn);
    std::construct_at(&h.conn, h.cfg, counting_allocator{&st});
    h.fixture(tcp_state::established);
    std::uint8_t b = 1;
    CHECK(h.conn.send(at(1ms), std::span(&b, 1)).error() == std::errc::not_enough_memory);
    h.send(at(2ms), {PSH | ACK, remote_iss + 1, local_iss + 1, 64000, {}, bytes_of("data")});
    // Not acknowledged: RCV.NXT stays, the peer will send it again.
    h.expect(at(2ms), {{ACK, local_iss + 1, remote_iss + 1, 64000, {}, {}}});
    CHECK(h.conn.readable() == 0);
    st.fail = false;
    h.send(at(3ms), {PSH | ACK, remote_iss + 1, local_iss + 1, 64000, {}, bytes_of("data")});
    CHECK(h.read_all() == "data");
}

TEST_CASE("memory: a pmr arena serves a connection's buffers") {
    std::vector<std::byte> storage(1 << 20);
    std::pmr::monotonic_buffer_resource arena(storage.data(), storage.size(), std::pmr::null_memory_resource());
    config cfg = plain_config();
    basic_connection<newreno, pmr_allocator> c(cfg, pmr_allocator(&arena));
    REQUIRE(!c.open_active(at(0ms), {{local_ip, 1000}, {remote_ip, 2000}}, seq32{1}));
    std::uint8_t b[100] = {};
    REQUIRE(c.send(at(0ms), b).has_value());  // queued before the handshake completes
    CHECK(c.has_buffers());
}
