// An endpoint built from a temporary configuration: its connections would
// point at a configuration gone at the end of the statement.
// expected diagnostic: deleted function.*check
#include <tcpcore/host/endpoint.hpp>

namespace {
#ifdef TCPCORE_COMPILE_FAIL
[[maybe_unused]] void build() { tcpcore::endpoint<> ep(tcpcore::check(tcpcore::config{}).value()); }
#else
[[maybe_unused]] void build() {
    static const tcpcore::config cfg;
    tcpcore::endpoint<> ep(tcpcore::check(cfg).value());
}
#endif
}  // namespace
