// A transition table with two rows for one (state, event) pair.
// expected diagnostic: duplicate_state_event_pair_at_row<(61|61ul|61UL)>
#include <tcpcore/rules/transitions.hpp>

#include <array>

namespace {
constexpr auto table = [] {
    std::array<tcpcore::transition, tcpcore::transition_table.size() + 1> t{};
    for (std::size_t i = 0; i < tcpcore::transition_table.size(); ++i) t[i] = tcpcore::transition_table[i];
#ifdef TCPCORE_COMPILE_FAIL
    // ESTABLISHED --rcv FIN--> again, to LAST-ACK this time.
    t.back() = {tcpcore::tcp_state::established, tcpcore::tcp_event::rcv_fin, tcpcore::tcp_state::last_ack,
                tcpcore::transition_output::ack, "made up"};
#else
    t.back() = {tcpcore::tcp_state::established, tcpcore::tcp_event::send, tcpcore::tcp_state::established,
                tcpcore::transition_output::none, "a harmless self-loop"};
#endif
    return t;
}();
static_assert(tcpcore::verify_transition_table<table>());
}  // namespace
