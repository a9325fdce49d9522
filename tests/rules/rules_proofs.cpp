// The translation unit that includes every rules header and runs every proof:
// the transition table's (transitions.hpp), the timeout formulas'
// (timeouts.hpp), the default configuration's (config.hpp), the policy
// models' (policies.hpp), and the exhaustive segment-arrival proofs
// (arrival_proofs.hpp). Its compile time is the figure reported for the
// rules; it has no run-time content.

#include <tcpcore/rules/arrival_proofs.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/policies.hpp>
#include <tcpcore/rules/timeouts.hpp>
#include <tcpcore/rules/transitions.hpp>

static_assert(tcpcore::verify_transition_table<tcpcore::transition_table>());
