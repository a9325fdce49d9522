// A table in which nothing leads to LAST-ACK (the CLOSE-WAIT close rows are
// gone): LAST-ACK (state 9) is unreachable from CLOSED.
// expected diagnostic: state_unreachable_from_closed<(9|9ul|9UL)>
#include <tcpcore/rules/transitions.hpp>

#include <array>

namespace {
constexpr bool keep(const tcpcore::transition& t) {
#ifdef TCPCORE_COMPILE_FAIL
    return !(t.from == tcpcore::tcp_state::close_wait && t.to == tcpcore::tcp_state::last_ack);
#else
    return !(t.from == tcpcore::tcp_state::close_wait && t.event == tcpcore::tcp_event::shutdown);
#endif
}
constexpr std::size_t kept = [] {
    std::size_t n = 0;
    for (const auto& t : tcpcore::transition_table) n += keep(t) ? 1 : 0;
    return n;
}();
constexpr auto table = [] {
    std::array<tcpcore::transition, kept> t{};
    std::size_t n = 0;
    for (const auto& row : tcpcore::transition_table)
        if (keep(row)) t[n++] = row;
    return t;
}();
static_assert(tcpcore::verify_transition_table<table>());
}  // namespace
