// Harness sanity: this `_ko` twin compiles, so the harness must report
// "expected a compilation failure". The ctest entry passes only on that report.
// expected diagnostic: keepalive_interval_must_be_whole_seconds
#include <tcpcore/rules/config.hpp>

namespace {
constexpr tcpcore::config cfg{};
static_assert(tcpcore::validate(cfg));
}  // namespace
