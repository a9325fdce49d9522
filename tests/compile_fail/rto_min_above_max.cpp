// rto_min larger than rto_max.
// expected diagnostic: rto_min_must_not_exceed_rto_max
#include <tcpcore/rules/config.hpp>

namespace {
using namespace std::chrono_literals;
constexpr tcpcore::config cfg = [] {
    tcpcore::config c;
#ifdef TCPCORE_COMPILE_FAIL
    c.rto_min = 200s;
#else
    c.rto_min = 20ms;
#endif
    return c;
}();
static_assert(tcpcore::validate(cfg));
}  // namespace
