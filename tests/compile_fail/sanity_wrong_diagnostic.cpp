// Harness sanity: this `_ko` twin fails, but for another reason than the one
// expected, so the harness must report that the diagnostic does not match.
// expected diagnostic: keepalive_interval_must_be_whole_seconds
#include <tcpcore/rules/config.hpp>

namespace {
#ifdef TCPCORE_COMPILE_FAIL
static_assert(sizeof(int) == 3, "an unrelated failure");
#endif
constexpr tcpcore::config cfg{};
static_assert(tcpcore::validate(cfg));
}  // namespace
