// A table that lets ESTABLISHED jump straight to TIME-WAIT.
// expected diagnostic: time_wait_entered_from_other_than_fin_wait_or_closing_at_row<(61|61ul|61UL)>
#include <tcpcore/rules/transitions.hpp>

#include <array>

namespace {
constexpr auto table = [] {
    std::array<tcpcore::transition, tcpcore::transition_table.size() + 1> t{};
    for (std::size_t i = 0; i < tcpcore::transition_table.size(); ++i) t[i] = tcpcore::transition_table[i];
    t.back() = {tcpcore::tcp_state::established, tcpcore::tcp_event::rcv_fin_ack_of_fin,
#ifdef TCPCORE_COMPILE_FAIL
                tcpcore::tcp_state::time_wait,
#else
                tcpcore::tcp_state::close_wait,
#endif
                tcpcore::transition_output::ack, "made up"};
    return t;
}();
static_assert(tcpcore::verify_transition_table<table>());
}  // namespace
