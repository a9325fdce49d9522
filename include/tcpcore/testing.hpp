#pragma once
// Everything for testing code that uses tcpcore, in virtual time and without
// a test framework: the one-connection harness and its segment templates,
// state fixtures, two connections back to back, endpoints over an in-memory
// network, the deterministic byte stream, and the driver loop. Checks return
// an expectation (pass, or what differed) instead of asserting.
//
//   tcpcore::testing::harness h;                     // we are 192.168.1.1:80
//   h.established();                                 // fixture: RTT 10 ms, RTO 210 ms
//   (void)h.write(at(0ms), "hello");
//   using namespace tcpcore::testing;                // PSH, ACK, bytes_of, ...
//   const seq32 us = local_iss + 1, peer = remote_iss + 1;
//   auto e = h.expect(at(0ms), {{PSH | ACK, us, peer, 64000, {}, bytes_of("hello")}});
//   if (!e) std::puts(e.message().c_str());          // what differed, as tcpdump prints it
//   e = h.expect_nothing_until(at(210ms));           // then the retransmission

#include <tcpcore/testing/byte_stream.hpp>
#include <tcpcore/testing/expectation.hpp>
#include <tcpcore/testing/fixtures.hpp>
#include <tcpcore/testing/harness.hpp>
#include <tcpcore/testing/loopback.hpp>
#include <tcpcore/testing/network.hpp>
#include <tcpcore/testing/run.hpp>
#include <tcpcore/testing/segment.hpp>
