#pragma once
// The Catch2 adapter over <tcpcore/testing/loopback.hpp>: opening must work
// (REQUIRE), and a run that met a fault in the link says so (CHECK with the
// fault), so the tests read as before.

#include "byte_stream.hpp"

#include <tcpcore/testing/loopback.hpp>

#include <catch2/catch.hpp>

namespace tcpcore::test {

template <class Connection = connection>
struct loopback : testing::loopback<Connection> {
    using base = testing::loopback<Connection>;
    using base::base;

    void open() {
        const std::error_code e = base::open();
        INFO(e.message());
        REQUIRE(!e);
    }

    template <class Done>
    bool run(Done done, time_point limit) {
        const bool finished = base::run(done, limit);
        INFO(this->fault);
        CHECK(this->fault.empty());
        return finished;
    }
};

}  // namespace tcpcore::test
