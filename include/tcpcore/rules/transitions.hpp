#pragma once
// The connection state machine as data: every arrow of RFC 9293 Figure 5,
// plus the reset, abort and timeout arrows the figure leaves out, each row
// with its RFC reference. The connection engine changes state only through
// rows of this table (lookup_transition), and the table's properties are
// proved below with static_assert. A failed proof names the offending row or
// state in the compiler's error, e.g.
//   "incomplete type 'tcpcore::table_problem::duplicate_state_event_pair_at_row<7>'".

#include <tcpcore/detail/graph.hpp>
#include <tcpcore/rules/state.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tcpcore {

// What a transition puts on the wire (the "snd ..." labels of Figure 5).
enum class transition_output : std::uint8_t { none, syn, syn_ack, ack, fin, rst };

[[nodiscard]] constexpr std::string_view to_string(transition_output o) noexcept {
    switch (o) {
        case transition_output::none: return "";
        case transition_output::syn: return "snd SYN";
        case transition_output::syn_ack: return "snd SYN,ACK";
        case transition_output::ack: return "snd ACK";
        case transition_output::fin: return "snd FIN";
        case transition_output::rst: return "snd RST";
    }
    return "?";
}

struct transition {
    tcp_state from;
    tcp_event event;
    tcp_state to;
    transition_output output;
    std::string_view rfc;  // where RFC 9293 (or Linux, where it differs) says so
};

namespace detail {
using S = tcp_state;
using E = tcp_event;
using O = transition_output;
}  // namespace detail

// clang-format off
inline constexpr std::array transition_table = {
    // CLOSED: only an open leaves it.
    transition{detail::S::closed, detail::E::open_passive, detail::S::listen, detail::O::none, "3.10.1 OPEN, passive: create TCB (Fig. 5)"},
    transition{detail::S::closed, detail::E::open_active, detail::S::syn_sent, detail::O::syn, "3.10.1 OPEN, active: snd SYN (Fig. 5)"},
    // LISTEN
    transition{detail::S::listen, detail::E::rcv_syn, detail::S::syn_received, detail::O::syn_ack, "3.10.7.2 third: rcv SYN, snd SYN,ACK (Fig. 5)"},
    transition{detail::S::listen, detail::E::send, detail::S::syn_sent, detail::O::syn, "3.10.2 SEND in LISTEN: snd SYN (Fig. 5)"},
    transition{detail::S::listen, detail::E::close, detail::S::closed, detail::O::none, "3.10.4 CLOSE in LISTEN: delete TCB (Fig. 5)"},
    transition{detail::S::listen, detail::E::abort, detail::S::closed, detail::O::none, "3.10.5 ABORT in LISTEN: delete TCB"},
    // SYN-SENT
    transition{detail::S::syn_sent, detail::E::rcv_syn_ack, detail::S::established, detail::O::ack, "3.10.7.3 fourth: rcv SYN,ACK of our SYN, snd ACK (Fig. 5)"},
    transition{detail::S::syn_sent, detail::E::rcv_syn, detail::S::syn_received, detail::O::syn_ack, "3.10.7.3 fourth: simultaneous open, snd SYN,ACK (Fig. 5, Fig. 7)"},
    transition{detail::S::syn_sent, detail::E::rcv_rst, detail::S::closed, detail::O::none, "3.10.7.3 second: acceptable RST, connection refused"},
    transition{detail::S::syn_sent, detail::E::close, detail::S::closed, detail::O::none, "3.10.4 CLOSE in SYN-SENT: delete TCB (Fig. 5)"},
    transition{detail::S::syn_sent, detail::E::shutdown, detail::S::closed, detail::O::none, "Linux tcp_close_state: shutdown in SYN-SENT closes"},
    transition{detail::S::syn_sent, detail::E::abort, detail::S::closed, detail::O::none, "3.10.5 ABORT in SYN-SENT: delete TCB"},
    transition{detail::S::syn_sent, detail::E::retransmission_give_up, detail::S::closed, detail::O::none, "3.8.3 R2 for SYN (RFC 1122 4.2.3.5): syn_retries"},
    // SYN-RECEIVED
    transition{detail::S::syn_received, detail::E::rcv_ack_of_syn, detail::S::established, detail::O::none, "3.10.7.4 fifth: rcv ACK of SYN (Fig. 5)"},
    transition{detail::S::syn_received, detail::E::close, detail::S::fin_wait_1, detail::O::fin, "3.10.4 CLOSE in SYN-RECEIVED: snd FIN (Fig. 5)"},
    transition{detail::S::syn_received, detail::E::shutdown, detail::S::fin_wait_1, detail::O::fin, "3.10.4 CLOSE in SYN-RECEIVED: snd FIN (Fig. 5)"},
    transition{detail::S::syn_received, detail::E::rcv_rst, detail::S::closed, detail::O::none, "3.10.7.4 second: RST, active open: connection refused"},
    transition{detail::S::syn_received, detail::E::rcv_rst_passive, detail::S::listen, detail::O::none, "3.10.7.4 second: RST, passive open: return to LISTEN"},
    transition{detail::S::syn_received, detail::E::abort, detail::S::closed, detail::O::rst, "3.10.5 ABORT in SYN-RECEIVED: snd RST"},
    transition{detail::S::syn_received, detail::E::retransmission_give_up, detail::S::closed, detail::O::none, "3.8.3 R2 for SYN,ACK: synack_retries"},
    // ESTABLISHED
    transition{detail::S::established, detail::E::close, detail::S::fin_wait_1, detail::O::fin, "3.10.4 CLOSE in ESTABLISHED: snd FIN (Fig. 5)"},
    transition{detail::S::established, detail::E::shutdown, detail::S::fin_wait_1, detail::O::fin, "3.10.4 CLOSE in ESTABLISHED: snd FIN (Fig. 5)"},
    transition{detail::S::established, detail::E::rcv_fin, detail::S::close_wait, detail::O::ack, "3.10.7.4 eighth: rcv FIN, snd ACK (Fig. 5)"},
    transition{detail::S::established, detail::E::rcv_rst, detail::S::closed, detail::O::none, "3.10.7.4 second: RST at RCV.NXT, connection reset"},
    transition{detail::S::established, detail::E::abort, detail::S::closed, detail::O::rst, "3.10.5 ABORT in ESTABLISHED: snd RST"},
    transition{detail::S::established, detail::E::retransmission_give_up, detail::S::closed, detail::O::none, "3.8.3 R2: retries2 (Linux: no RST)"},
    transition{detail::S::established, detail::E::user_timeout, detail::S::closed, detail::O::none, "3.10.8 USER TIMEOUT (RFC 5482; Linux: no RST)"},
    transition{detail::S::established, detail::E::keepalive_give_up, detail::S::closed, detail::O::rst, "3.8.4 keep-alives (Linux tcp_keepalive_timer: snd RST)"},
    // FIN-WAIT-1
    transition{detail::S::fin_wait_1, detail::E::rcv_ack_of_fin, detail::S::fin_wait_2, detail::O::none, "3.10.7.4 fifth: ACK of our FIN (Fig. 5)"},
    transition{detail::S::fin_wait_1, detail::E::rcv_fin, detail::S::closing, detail::O::ack, "3.10.7.4 eighth: simultaneous close, snd ACK (Fig. 5, Fig. 13)"},
    transition{detail::S::fin_wait_1, detail::E::rcv_fin_ack_of_fin, detail::S::time_wait, detail::O::ack, "3.10.7.4 eighth: FIN acking our FIN, snd ACK"},
    transition{detail::S::fin_wait_1, detail::E::rcv_rst, detail::S::closed, detail::O::none, "3.10.7.4 second: RST at RCV.NXT"},
    transition{detail::S::fin_wait_1, detail::E::abort, detail::S::closed, detail::O::rst, "3.10.5 ABORT in FIN-WAIT-1: snd RST"},
    transition{detail::S::fin_wait_1, detail::E::retransmission_give_up, detail::S::closed, detail::O::none, "3.8.3 R2: retries2"},
    transition{detail::S::fin_wait_1, detail::E::user_timeout, detail::S::closed, detail::O::none, "3.10.8 USER TIMEOUT"},
    // FIN-WAIT-2
    transition{detail::S::fin_wait_2, detail::E::rcv_fin, detail::S::time_wait, detail::O::ack, "3.10.7.4 eighth: rcv FIN, snd ACK (Fig. 5)"},
    transition{detail::S::fin_wait_2, detail::E::rcv_rst, detail::S::closed, detail::O::none, "3.10.7.4 second: RST at RCV.NXT"},
    transition{detail::S::fin_wait_2, detail::E::abort, detail::S::closed, detail::O::rst, "3.10.5 ABORT in FIN-WAIT-2: snd RST"},
    transition{detail::S::fin_wait_2, detail::E::keepalive_give_up, detail::S::closed, detail::O::rst, "3.8.4 keep-alives (Linux: snd RST)"},
    transition{detail::S::fin_wait_2, detail::E::fin_wait_2_timeout, detail::S::closed, detail::O::none, "Linux tcp_fin_timeout for an orphaned FIN-WAIT-2"},
    // CLOSE-WAIT
    transition{detail::S::close_wait, detail::E::close, detail::S::last_ack, detail::O::fin, "3.10.4 CLOSE in CLOSE-WAIT: snd FIN (Fig. 5)"},
    transition{detail::S::close_wait, detail::E::shutdown, detail::S::last_ack, detail::O::fin, "3.10.4 CLOSE in CLOSE-WAIT: snd FIN (Fig. 5)"},
    transition{detail::S::close_wait, detail::E::rcv_rst, detail::S::closed, detail::O::none, "3.10.7.4 second: RST at RCV.NXT"},
    transition{detail::S::close_wait, detail::E::abort, detail::S::closed, detail::O::rst, "3.10.5 ABORT in CLOSE-WAIT: snd RST"},
    transition{detail::S::close_wait, detail::E::retransmission_give_up, detail::S::closed, detail::O::none, "3.8.3 R2: retries2"},
    transition{detail::S::close_wait, detail::E::user_timeout, detail::S::closed, detail::O::none, "3.10.8 USER TIMEOUT"},
    transition{detail::S::close_wait, detail::E::keepalive_give_up, detail::S::closed, detail::O::rst, "3.8.4 keep-alives (Linux: snd RST)"},
    // CLOSING
    transition{detail::S::closing, detail::E::rcv_ack_of_fin, detail::S::time_wait, detail::O::none, "3.10.7.4 fifth: ACK of our FIN (Fig. 5, Fig. 13)"},
    transition{detail::S::closing, detail::E::rcv_rst, detail::S::closed, detail::O::none, "3.10.7.4 second: RST in CLOSING"},
    transition{detail::S::closing, detail::E::abort, detail::S::closed, detail::O::none, "3.10.5 ABORT in CLOSING: delete TCB"},
    transition{detail::S::closing, detail::E::retransmission_give_up, detail::S::closed, detail::O::none, "3.8.3 R2: retries2"},
    transition{detail::S::closing, detail::E::user_timeout, detail::S::closed, detail::O::none, "3.10.8 USER TIMEOUT"},
    // LAST-ACK
    transition{detail::S::last_ack, detail::E::rcv_ack_of_fin, detail::S::closed, detail::O::none, "3.10.7.4 fifth: ACK of our FIN, delete TCB (Fig. 5)"},
    transition{detail::S::last_ack, detail::E::rcv_rst, detail::S::closed, detail::O::none, "3.10.7.4 second: RST in LAST-ACK"},
    transition{detail::S::last_ack, detail::E::abort, detail::S::closed, detail::O::none, "3.10.5 ABORT in LAST-ACK: delete TCB"},
    transition{detail::S::last_ack, detail::E::retransmission_give_up, detail::S::closed, detail::O::none, "3.8.3 R2: retries2"},
    transition{detail::S::last_ack, detail::E::user_timeout, detail::S::closed, detail::O::none, "3.10.8 USER TIMEOUT"},
    // TIME-WAIT
    transition{detail::S::time_wait, detail::E::time_wait_expiry, detail::S::closed, detail::O::none, "3.10.8 TIME-WAIT timeout, 2 MSL (Fig. 5)"},
    transition{detail::S::time_wait, detail::E::rcv_fin, detail::S::time_wait, detail::O::ack, "3.10.7.4 eighth: retransmitted FIN, snd ACK, restart 2 MSL"},
    transition{detail::S::time_wait, detail::E::rcv_rst, detail::S::closed, detail::O::none, "3.10.7.4 second: RST in TIME-WAIT (RFC 1337 protection off, as Linux)"},
    transition{detail::S::time_wait, detail::E::abort, detail::S::closed, detail::O::none, "3.10.5 ABORT in TIME-WAIT: delete TCB"},
};
// clang-format on

// The arrows RFC 9293 Figure 5 draws, which every table must contain. Kept
// apart from the table so that deleting a row from the table is caught.
struct required_arrow {
    tcp_state from;
    tcp_event event;
    tcp_state to;
};
inline constexpr std::array figure_5_arrows = {
    required_arrow{detail::S::closed, detail::E::open_passive, detail::S::listen},
    required_arrow{detail::S::closed, detail::E::open_active, detail::S::syn_sent},
    required_arrow{detail::S::listen, detail::E::rcv_syn, detail::S::syn_received},
    required_arrow{detail::S::listen, detail::E::send, detail::S::syn_sent},
    required_arrow{detail::S::listen, detail::E::close, detail::S::closed},
    required_arrow{detail::S::syn_sent, detail::E::rcv_syn, detail::S::syn_received},
    required_arrow{detail::S::syn_sent, detail::E::rcv_syn_ack, detail::S::established},
    required_arrow{detail::S::syn_sent, detail::E::close, detail::S::closed},
    required_arrow{detail::S::syn_received, detail::E::rcv_ack_of_syn, detail::S::established},
    required_arrow{detail::S::syn_received, detail::E::close, detail::S::fin_wait_1},
    required_arrow{detail::S::established, detail::E::close, detail::S::fin_wait_1},
    required_arrow{detail::S::established, detail::E::rcv_fin, detail::S::close_wait},
    required_arrow{detail::S::fin_wait_1, detail::E::rcv_ack_of_fin, detail::S::fin_wait_2},
    required_arrow{detail::S::fin_wait_1, detail::E::rcv_fin, detail::S::closing},
    required_arrow{detail::S::fin_wait_2, detail::E::rcv_fin, detail::S::time_wait},
    required_arrow{detail::S::close_wait, detail::E::close, detail::S::last_ack},
    required_arrow{detail::S::closing, detail::E::rcv_ack_of_fin, detail::S::time_wait},
    required_arrow{detail::S::last_ack, detail::E::rcv_ack_of_fin, detail::S::closed},
    required_arrow{detail::S::time_wait, detail::E::time_wait_expiry, detail::S::closed},
    // Beyond the figure, required by the text.
    required_arrow{detail::S::fin_wait_1, detail::E::rcv_fin_ack_of_fin, detail::S::time_wait},
    required_arrow{detail::S::syn_received, detail::E::rcv_rst_passive, detail::S::listen},
};

// ---------------------------------------------------------------------------
// The proofs. Each check returns the index of the first offending row (or
// state, or required arrow), npos when there is none. The require_* helpers
// turn an index into a compile error that names it.

namespace table_check {

using detail::npos;

constexpr std::size_t index(tcp_state s) noexcept { return static_cast<std::size_t>(s); }

template <class Table>
constexpr std::size_t first_duplicate_pair(const Table& t) {
    for (std::size_t i = 0; i < t.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (t[i].from == t[j].from && t[i].event == t[j].event) return i;
    return npos;
}

template <class Table>
constexpr std::size_t first_unreachable_state(const Table& t) {
    return detail::first_missing(detail::reachable_from<tcp_state_count>(
        t, index(tcp_state::closed), [](const transition& r) { return index(r.from); },
        [](const transition& r) { return index(r.to); }));
}

template <class Table>
constexpr std::size_t first_state_that_cannot_close(const Table& t) {
    return detail::first_missing(detail::can_reach<tcp_state_count>(
        t, index(tcp_state::closed), [](const transition& r) { return index(r.from); },
        [](const transition& r) { return index(r.to); }));
}

// "Entered from" counts arrows from other states: a self-loop enters nothing.
template <class Table>
constexpr std::size_t first_bad_entry_to_time_wait(const Table& t) {
    for (std::size_t i = 0; i < t.size(); ++i)
        if (t[i].to == tcp_state::time_wait && t[i].from != tcp_state::fin_wait_1 &&
            t[i].from != tcp_state::fin_wait_2 && t[i].from != tcp_state::closing &&
            t[i].from != tcp_state::time_wait)
            return i;
    return npos;
}

template <class Table>
constexpr std::size_t first_bad_entry_to_established(const Table& t) {
    for (std::size_t i = 0; i < t.size(); ++i)
        if (t[i].to == tcp_state::established && t[i].from != tcp_state::syn_sent &&
            t[i].from != tcp_state::syn_received && t[i].from != tcp_state::established)
            return i;
    return npos;
}

template <class Table>
constexpr std::size_t first_exit_from_closed_but_open(const Table& t) {
    for (std::size_t i = 0; i < t.size(); ++i)
        if (t[i].from == tcp_state::closed && t[i].event != tcp_event::open_active &&
            t[i].event != tcp_event::open_passive)
            return i;
    return npos;
}

// A timeout always ends the connection, except the TIME-WAIT re-ACK which is
// a segment event, not a timeout.
template <class Table>
constexpr std::size_t first_timeout_not_to_closed(const Table& t) {
    for (std::size_t i = 0; i < t.size(); ++i)
        if (kind_of(t[i].event) == event_kind::timeout && t[i].to != tcp_state::closed) return i;
    return npos;
}

// RST is sent only by ABORT and by a keepalive give-up (Linux); a reset
// received never answers with anything.
template <class Table>
constexpr std::size_t first_unexpected_rst_output(const Table& t) {
    for (std::size_t i = 0; i < t.size(); ++i) {
        const bool may_rst = t[i].event == tcp_event::abort || t[i].event == tcp_event::keepalive_give_up;
        if (t[i].output == transition_output::rst && !may_rst) return i;
        const bool is_reset = t[i].event == tcp_event::rcv_rst || t[i].event == tcp_event::rcv_rst_passive;
        if (is_reset && t[i].output != transition_output::none) return i;
    }
    return npos;
}

template <class Table>
constexpr bool has_row(const Table& t, tcp_state from, tcp_event e, tcp_state to) {
    for (const auto& r : t)
        if (r.from == from && r.event == e && r.to == to) return true;
    return false;
}

// Every state but CLOSED can be aborted, straight to CLOSED.
template <class Table>
constexpr std::size_t first_state_without_abort(const Table& t) {
    for (tcp_state s : all_tcp_states)
        if (s != tcp_state::closed && !has_row(t, s, tcp_event::abort, tcp_state::closed)) return index(s);
    return npos;
}

// Every state that has a peer (all but CLOSED and LISTEN) ends on a RST.
template <class Table>
constexpr std::size_t first_state_ignoring_rst(const Table& t) {
    for (tcp_state s : all_tcp_states) {
        if (s == tcp_state::closed || s == tcp_state::listen) continue;
        if (!has_row(t, s, tcp_event::rcv_rst, tcp_state::closed)) return index(s);
    }
    return npos;
}

template <class Table, class Arrows>
constexpr std::size_t first_missing_arrow(const Table& t, const Arrows& arrows) {
    for (std::size_t i = 0; i < arrows.size(); ++i)
        if (!has_row(t, arrows[i].from, arrows[i].event, arrows[i].to)) return i;
    return npos;
}

template <class Table>
constexpr std::size_t first_row_without_reference(const Table& t) {
    for (std::size_t i = 0; i < t.size(); ++i)
        if (t[i].rfc.empty()) return i;
    return npos;
}

}  // namespace table_check

// Instantiated only when a proof fails; never defined, so the compiler's
// error message carries the name of the problem and the row, state or arrow.
namespace table_problem {
template <std::size_t Row> struct duplicate_state_event_pair_at_row;
template <std::size_t State> struct state_unreachable_from_closed;  // State: tcp_state value
template <std::size_t State> struct state_that_cannot_reach_closed;
template <std::size_t Row> struct time_wait_entered_from_other_than_fin_wait_or_closing_at_row;
template <std::size_t Row> struct established_entered_from_other_than_syn_states_at_row;
template <std::size_t Row> struct closed_left_by_other_than_open_at_row;
template <std::size_t Row> struct timeout_not_leading_to_closed_at_row;
template <std::size_t Row> struct rst_sent_or_answered_wrongly_at_row;
template <std::size_t State> struct state_without_abort_to_closed;
template <std::size_t State> struct state_ignoring_rst;
template <std::size_t Arrow> struct figure_5_arrow_missing;  // Arrow: index into figure_5_arrows
template <std::size_t Row> struct row_without_rfc_reference;
}  // namespace table_problem

namespace detail {
template <template <std::size_t> class Problem, std::size_t Index>
consteval bool require_none() {
    if constexpr (Index != npos) {
        return Problem<Index>::value;  // incomplete type: the error names Problem<Index>
    } else {
        return true;
    }
}
}  // namespace detail

// Proves every property of a transition table; usable on any table of
// `transition` rows: static_assert(tcpcore::verify_transition_table<my_table>());
template <const auto& Table>
consteval bool verify_transition_table() {
    using namespace table_check;
    return detail::require_none<table_problem::duplicate_state_event_pair_at_row, first_duplicate_pair(Table)>() &&
           detail::require_none<table_problem::state_unreachable_from_closed, first_unreachable_state(Table)>() &&
           detail::require_none<table_problem::state_that_cannot_reach_closed, first_state_that_cannot_close(Table)>() &&
           detail::require_none<table_problem::time_wait_entered_from_other_than_fin_wait_or_closing_at_row,
                                first_bad_entry_to_time_wait(Table)>() &&
           detail::require_none<table_problem::established_entered_from_other_than_syn_states_at_row,
                                first_bad_entry_to_established(Table)>() &&
           detail::require_none<table_problem::closed_left_by_other_than_open_at_row,
                                first_exit_from_closed_but_open(Table)>() &&
           detail::require_none<table_problem::timeout_not_leading_to_closed_at_row,
                                first_timeout_not_to_closed(Table)>() &&
           detail::require_none<table_problem::rst_sent_or_answered_wrongly_at_row,
                                first_unexpected_rst_output(Table)>() &&
           detail::require_none<table_problem::state_without_abort_to_closed, first_state_without_abort(Table)>() &&
           detail::require_none<table_problem::state_ignoring_rst, first_state_ignoring_rst(Table)>() &&
           detail::require_none<table_problem::figure_5_arrow_missing,
                                first_missing_arrow(Table, figure_5_arrows)>() &&
           detail::require_none<table_problem::row_without_rfc_reference, first_row_without_reference(Table)>();
}

static_assert(verify_transition_table<transition_table>());

// ---------------------------------------------------------------------------
// O(1) lookup for the engine, built from the table at compile time.

namespace detail {
struct transition_lookup_table {
    // Index into transition_table, or 0xff when (state, event) is no row.
    std::array<std::array<std::uint8_t, tcp_event_count>, tcp_state_count> row{};
};

template <class Table>
constexpr transition_lookup_table build_lookup(const Table& t) {
    static_assert(std::tuple_size_v<Table> < 0xff);
    transition_lookup_table l;
    for (auto& per_state : l.row) per_state.fill(0xff);
    for (std::size_t i = 0; i < t.size(); ++i)
        l.row[static_cast<std::size_t>(t[i].from)][static_cast<std::size_t>(t[i].event)] =
            static_cast<std::uint8_t>(i);
    return l;
}

inline constexpr transition_lookup_table transition_lookup = build_lookup(transition_table);
}  // namespace detail

// Whether (state, event) is a row: whether the event changes that state.
[[nodiscard]] constexpr bool has_transition(tcp_state from, tcp_event e) noexcept {
    return detail::transition_lookup.row[static_cast<std::size_t>(from)][static_cast<std::size_t>(e)] != 0xff;
}

// The row for (state, event), or nullptr when the table has none. (In
// constant expressions prefer has_transition: g++ with -fsanitize=undefined
// refuses to compare the address of a table element with nullptr there.)
[[nodiscard]] constexpr const transition* lookup_transition(tcp_state from, tcp_event e) noexcept {
    const auto i = detail::transition_lookup.row[static_cast<std::size_t>(from)][static_cast<std::size_t>(e)];
    return i == 0xff ? nullptr : &transition_table[i];
}

static_assert(lookup_transition(tcp_state::syn_sent, tcp_event::rcv_syn)->to == tcp_state::syn_received,
              "simultaneous open: SYN-SENT -> SYN-RECEIVED on a bare SYN");
static_assert(lookup_transition(tcp_state::fin_wait_1, tcp_event::rcv_fin)->to == tcp_state::closing &&
                  lookup_transition(tcp_state::closing, tcp_event::rcv_ack_of_fin)->to == tcp_state::time_wait,
              "simultaneous close: FIN-WAIT-1 -> CLOSING -> TIME-WAIT");
static_assert(!has_transition(tcp_state::closed, tcp_event::rcv_syn),
              "CLOSED has no segment rows: replies come from the arrival rules");

}  // namespace tcpcore
