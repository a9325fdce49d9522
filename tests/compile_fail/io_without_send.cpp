// An I/O policy that can neither send datagrams nor segments.
// expected diagnostic: datagram_io|segment_io|send_datagram|send_segment
#include <tcpcore/policies.hpp>

#include <span>

namespace {
struct my_io {
#ifdef TCPCORE_COMPILE_FAIL
    void write(std::span<const std::uint8_t>) {}
#else
    void send_datagram(std::span<const std::uint8_t>) {}
#endif
};
struct my_policies : tcpcore::default_policies {
    using io = my_io;
};
static_assert(tcpcore::policy_bundle<my_policies>);
}  // namespace
