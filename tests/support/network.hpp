#pragma once
// The in-memory IP network for endpoints is public now
// (<tcpcore/testing/network.hpp>, over simulated_network); the tests keep
// calling it by its old names, with Catch2 as before.

#include <tcpcore/testing/network.hpp>

#include <catch2/catch.hpp>

namespace tcpcore::test {
using testing::network_io;

// Every datagram an endpoint sends must be an IP datagram: the network counts
// the ones that are not, and a test ends with none.
struct memory_network : testing::memory_network {
    using testing::memory_network::memory_network;
    memory_network(const memory_network&) = delete;
    memory_network& operator=(const memory_network&) = delete;
    ~memory_network() { CHECK(network().stats().malformed == 0); }
};
}  // namespace tcpcore::test
