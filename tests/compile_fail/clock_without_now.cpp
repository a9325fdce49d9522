// A policy bundle whose clock has no now().
// expected diagnostic: clock(\.|->)now\(\)
#include <tcpcore/policies.hpp>

namespace {
struct wall_clock {
#ifdef TCPCORE_COMPILE_FAIL
    tcpcore::time_point current() const { return {}; }
#else
    tcpcore::time_point now() const { return {}; }
#endif
};
struct my_policies : tcpcore::default_policies {
    using clock = wall_clock;
};
static_assert(tcpcore::policy_bundle<my_policies>);
}  // namespace
