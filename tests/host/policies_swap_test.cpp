// Policies change how the host runs, never what goes on the wire: the same
// scenario under every timer strategy, and with a pmr arena for memory, must
// put byte-identical datagrams on the wire at identical virtual times.

#include "../support/network.hpp"

#include <tcpcore/host/endpoint.hpp>
#include <tcpcore/policies/timer_heap.hpp>
#include <tcpcore/policies/timer_wheel.hpp>

#include <catch2/catch.hpp>

#include <memory_resource>
#include <string>

using namespace tcpcore;
using namespace tcpcore::test;
using namespace std::chrono_literals;

namespace {
const ip_address client_ip = ip_address::v4(10, 0, 0, 1);
const ip_address server_ip = ip_address::v4(10, 0, 0, 2);

template <class Timer, class Alloc = std_allocator>
struct swapped : default_policies {
    using clock = manual_clock;
    using io = network_io;
    using isn = sequential_isn;
    using timer = Timer;
    using allocator = Alloc;
};

struct timed_datagram {
    time_point at;
    std::vector<std::uint8_t> bytes;
    friend bool operator==(const timed_datagram&, const timed_datagram&) = default;
};

// Twenty connections with keepalive, data in both directions, 5% loss, and a
// close; long enough for retransmissions, keepalive probes, delayed ACKs,
// TIME-WAIT expiry and SYN retries to all fire.
template <class Policies>
std::vector<timed_datagram> run_scenario(typename Policies::allocator alloc = {}) {
    config cfg;
    cfg.send_buffer = cfg.receive_buffer = 32 * 1024;
    cfg.keepalive = true;
    cfg.keepalive_idle = 5s;
    cfg.keepalive_interval = 1s;
    memory_network net;
    std::vector<timed_datagram> trace;
    std::uint64_t n = 0;
    net.drop = [&](const std::vector<std::uint8_t>& d) {
        trace.push_back({net.now(), d});
        return (n++ * 2654435761u) % 100 < 5;
    };
    using ep_type = endpoint<Policies>;
    ep_type client(check(cfg).value(), {.allocator = alloc});
    ep_type server(check(cfg).value(), {.allocator = alloc});
    net.attach(client, client_ip);
    net.attach(server, server_ip);
    const auto l = server.listen({server_ip, 80});
    REQUIRE(l.has_value());
    std::vector<connection_handle> clients, accepted;
    for (int i = 0; i < 20; ++i) clients.push_back(*client.connect({server_ip, 80}, {client_ip, 0}));
    const std::string payload(20000, 'z');
    bool wrote = false;
    net.run_until(
        [&] {
            while (auto a = server.accept(*l)) {
                accepted.push_back(*a);
                server.send(*a, std::span(reinterpret_cast<const std::uint8_t*>(payload.data()), 5000));
            }
            if (!wrote && accepted.size() == 20) {
                for (auto c : clients)
                    client.send(c, std::span(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()));
                wrote = true;
            }
            std::uint8_t buf[4096];
            for (auto a : accepted) while (server.recv(a, buf).value_or(0) != 0) {}
            for (auto c : clients) while (client.recv(c, buf).value_or(0) != 0) {}
            return false;
        },
        at(30s));
    for (auto c : clients) client.close(c);
    for (auto a : accepted) server.close(a);
    net.run_until([] { return false; }, at(200s));
    CHECK(trace.size() > 500);
    return trace;
}
}  // namespace

TEST_CASE("policies: every timer strategy and a pmr arena give byte-identical traces") {
    const auto list = run_scenario<swapped<timer_list>>();
    const auto heap = run_scenario<swapped<timer_heap<>>>();
    const auto wheel = run_scenario<swapped<timing_wheel<>>>();
    REQUIRE(list.size() == heap.size());
    REQUIRE(list.size() == wheel.size());
    CHECK(list == heap);
    CHECK(list == wheel);

    // Memory from an arena: a pool over one monotonic buffer, nothing from
    // the global heap once it is set up.
    std::vector<std::byte> arena_storage(64 << 20);
    std::pmr::monotonic_buffer_resource arena(arena_storage.data(), arena_storage.size(),
                                              std::pmr::null_memory_resource());
    std::pmr::unsynchronized_pool_resource pool(&arena);
    const auto pooled = run_scenario<swapped<timing_wheel<>, pmr_allocator>>(pmr_allocator(&pool));
    CHECK(list == pooled);
}
