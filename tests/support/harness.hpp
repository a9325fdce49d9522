#pragma once
// The Catch2 adapter over <tcpcore/testing/harness.hpp>: the same harness,
// with every expectation asserted where the tests call it, so they read as
// before:
//   h.send(at(1ms), seg{syn, ...})         the peer's segment arrives at 1 ms
//   h.expect(at(1ms), {seg{...}, ...})     exactly these segments go out then (CHECK)
//   h.expect_nothing_until(at(3s))         and nothing at all before 3 s (CHECK)
// What cannot go on (a segment that cannot be built, a refused write, an
// unparsable segment from the engine, a fixture not reached) is a REQUIRE.
// A failed expectation prints its message: what differed, as tcpdump would.

#include <tcpcore/testing/fixtures.hpp>
#include <tcpcore/testing/harness.hpp>

#include "bytes.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace Catch {
template <>
struct StringMaker<tcpcore::testing::expectation> {
    static std::string convert(const tcpcore::testing::expectation& e) { return e ? "as expected" : e.message(); }
};

template <>
struct StringMaker<tcpcore::testing::fixtures::snapshot> {
    static std::string convert(const tcpcore::testing::fixtures::snapshot& s) {
        std::ostringstream os;
        os << "{" << tcpcore::to_string(s.state) << " snd_una " << s.snd_una.raw() << " snd_nxt " << s.snd_nxt.raw()
           << " wl1 " << s.snd_wl1.raw() << " rtx_next " << s.rtx_next.raw() << " recover " << s.recover.raw()
           << " rcv_nxt " << s.rcv_nxt.raw() << " rcv_adv " << s.rcv_adv.raw() << " last_ack_sent "
           << s.last_ack_sent.raw() << " snd_wnd " << s.snd_wnd << " max_snd_wnd " << s.max_snd_wnd << " cwnd "
           << s.cwnd << " ssthresh " << s.ssthresh << " srtt " << s.srtt_us << " rttvar " << s.rttvar_us
           << " snd_mss " << s.snd_mss << " rcv_mss " << s.rcv_mss << " ws " << unsigned{s.snd_ws} << "/"
           << unsigned{s.rcv_ws} << " flags 0x" << std::hex << s.flags << std::dec << " rtx@"
           << s.rtx_deadline.time_since_epoch().count() << " last_rcv " << s.last_rcv.time_since_epoch().count()
           << " sbuf " << s.sbuf_len << " rbuf " << s.rbuf_len << " ts_recent " << s.ts_recent << " retransmits "
           << unsigned{s.retransmits} << " probes " << unsigned{s.probes_out} << " error " << unsigned{s.error}
           << "}";
        return os.str();
    }
};
}  // namespace Catch

namespace tcpcore::test {

using namespace std::chrono_literals;

// The public names the tests use unqualified (declarations, not a using
// directive: tcpcore::verdict and the like must stay unambiguous).
using seg = testing::segment;
using testing::ACK;
using testing::bytes_of;
using testing::describe;
using testing::FIN;
using testing::local_ip;
using testing::local_iss;
using testing::local_port;
using testing::mss_option;
using testing::plain_config;
using testing::PSH;
using testing::remote_ip;
using testing::remote_iss;
using testing::remote_port;
using testing::RST;
using testing::SYN;

template <class Connection = connection>
struct basic_harness : testing::basic_harness<Connection> {
    using base = testing::basic_harness<Connection>;
    using base::base;

    segment_outcome send(time_point t, const seg& s) {
        const auto outcome = base::send(t, s);
        if (!outcome) FAIL("not a segment: " << describe(s));
        return *outcome;
    }

    std::vector<seg> recv(time_point t) {
        auto out = base::recv(t);
        if (!this->bad_output.empty()) FAIL(this->bad_output);  // valid, checksum included
        return out;
    }

    void expect(time_point t, const std::vector<seg>& expected) { CHECK(base::expect(t, expected)); }
    void expect_nothing(time_point t) { CHECK(base::expect_nothing(t)); }
    void expect_nothing_until(time_point t) { CHECK(base::expect_nothing_until(t)); }
    void expect_deadline(time_point t) { CHECK(base::expect_deadline(t)); }

    std::size_t write(time_point t, std::string_view data) {
        const auto r = base::write(t, data);
        REQUIRE(r.has_value());
        return *r;
    }

    void reach(tcp_state s) { REQUIRE(base::reach(s)); }
};

using harness = basic_harness<>;

}  // namespace tcpcore::test
