// A configuration with keepalive on and a zero probe interval.
// expected diagnostic: keepalive_interval_must_be_whole_seconds
#include <tcpcore/rules/config.hpp>

namespace {
using namespace std::chrono_literals;
constexpr tcpcore::config cfg = [] {
    tcpcore::config c;
    c.keepalive = true;
#ifdef TCPCORE_COMPILE_FAIL
    c.keepalive_interval = 0s;
#else
    c.keepalive_interval = 1s;
#endif
    return c;
}();
static_assert(tcpcore::validate(cfg));
}  // namespace
