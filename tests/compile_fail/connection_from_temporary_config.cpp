// A connection built from a temporary configuration: the connection keeps a
// pointer to its config, which would dangle once the statement ended.
// expected diagnostic: config_must_outlive_the_connection
#include <tcpcore/engine/connection.hpp>

namespace {
[[maybe_unused]] bool builds() {
#ifdef TCPCORE_COMPILE_FAIL
    tcpcore::connection c(tcpcore::config{});
#else
    const tcpcore::config cfg;
    tcpcore::connection c(cfg);
#endif
    return c.state() == tcpcore::tcp_state::closed;
}
}  // namespace
