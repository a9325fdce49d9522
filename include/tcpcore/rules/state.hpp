#pragma once
// The states of a TCP connection (RFC 9293 §3.3.2) and the events that move
// it between them: user calls, arriving segments (classified by what they
// carry), and timeouts.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tcpcore {

enum class tcp_state : std::uint8_t {
    closed,
    listen,
    syn_sent,
    syn_received,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};
inline constexpr std::size_t tcp_state_count = 11;

inline constexpr std::array<tcp_state, tcp_state_count> all_tcp_states = {
    tcp_state::closed,     tcp_state::listen,     tcp_state::syn_sent,   tcp_state::syn_received,
    tcp_state::established, tcp_state::fin_wait_1, tcp_state::fin_wait_2, tcp_state::close_wait,
    tcp_state::closing,    tcp_state::last_ack,   tcp_state::time_wait,
};

// RFC spellings.
[[nodiscard]] constexpr std::string_view to_string(tcp_state s) noexcept {
    switch (s) {
        case tcp_state::closed: return "CLOSED";
        case tcp_state::listen: return "LISTEN";
        case tcp_state::syn_sent: return "SYN-SENT";
        case tcp_state::syn_received: return "SYN-RECEIVED";
        case tcp_state::established: return "ESTABLISHED";
        case tcp_state::fin_wait_1: return "FIN-WAIT-1";
        case tcp_state::fin_wait_2: return "FIN-WAIT-2";
        case tcp_state::close_wait: return "CLOSE-WAIT";
        case tcp_state::closing: return "CLOSING";
        case tcp_state::last_ack: return "LAST-ACK";
        case tcp_state::time_wait: return "TIME-WAIT";
    }
    return "?";
}

// RFC 9293 §3.5: LISTEN, SYN-SENT and SYN-RECEIVED are the non-synchronized
// states; a connection is synchronized once both ISNs are known and acked.
[[nodiscard]] constexpr bool is_synchronized(tcp_state s) noexcept {
    return s != tcp_state::closed && s != tcp_state::listen && s != tcp_state::syn_sent &&
           s != tcp_state::syn_received;
}

// Whether our side may still send data (before our FIN).
[[nodiscard]] constexpr bool can_send_data(tcp_state s) noexcept {
    return s == tcp_state::established || s == tcp_state::close_wait;
}

// Whether the peer may still send data to us (before its FIN).
[[nodiscard]] constexpr bool can_receive_data(tcp_state s) noexcept {
    return s == tcp_state::established || s == tcp_state::fin_wait_1 || s == tcp_state::fin_wait_2 ||
           s == tcp_state::syn_received;
}

enum class tcp_event : std::uint8_t {
    // User calls (RFC 9293 §3.10).
    open_active,
    open_passive,
    send,       // SEND in LISTEN turns a passive open into an active one
    shutdown,   // no more data from us (RFC 9293's CLOSE; sockets' shutdown(SHUT_WR))
    close,      // the application lets go of the connection (sockets' close())
    abort,
    // Arriving segments, as the segment-arrival rules and the engine classify
    // them.
    rcv_syn,                 // a SYN without ACK
    rcv_syn_ack,             // a SYN whose ACK acknowledges our SYN
    rcv_ack_of_syn,          // an ACK that acknowledges our SYN (SYN-RECEIVED)
    rcv_ack_of_fin,          // an ACK that acknowledges our FIN
    rcv_fin,                 // the peer's FIN, in order
    rcv_fin_ack_of_fin,      // the peer's FIN on a segment that also acknowledges ours
    rcv_rst,                 // an acceptable RST
    rcv_rst_passive,         // an acceptable RST in SYN-RECEIVED reached by passive open
    // Timeouts.
    retransmission_give_up,  // SYN retries, synack retries, retries2 exhausted
    user_timeout,            // TCP_USER_TIMEOUT passed with data unacknowledged
    keepalive_give_up,       // keepalive probes unanswered (count, or user timeout)
    fin_wait_2_timeout,      // an orphaned FIN-WAIT-2 waited fin_timeout for the FIN
    time_wait_expiry,        // 2 MSL passed in TIME-WAIT
};
inline constexpr std::size_t tcp_event_count = 19;

[[nodiscard]] constexpr std::string_view to_string(tcp_event e) noexcept {
    switch (e) {
        case tcp_event::open_active: return "active OPEN";
        case tcp_event::open_passive: return "passive OPEN";
        case tcp_event::send: return "SEND";
        case tcp_event::shutdown: return "SHUTDOWN";
        case tcp_event::close: return "CLOSE";
        case tcp_event::abort: return "ABORT";
        case tcp_event::rcv_syn: return "rcv SYN";
        case tcp_event::rcv_syn_ack: return "rcv SYN,ACK";
        case tcp_event::rcv_ack_of_syn: return "rcv ACK of SYN";
        case tcp_event::rcv_ack_of_fin: return "rcv ACK of FIN";
        case tcp_event::rcv_fin: return "rcv FIN";
        case tcp_event::rcv_fin_ack_of_fin: return "rcv FIN,ACK of FIN";
        case tcp_event::rcv_rst: return "rcv RST";
        case tcp_event::rcv_rst_passive: return "rcv RST (passive open)";
        case tcp_event::retransmission_give_up: return "retransmission give-up";
        case tcp_event::user_timeout: return "user timeout";
        case tcp_event::keepalive_give_up: return "keepalive give-up";
        case tcp_event::fin_wait_2_timeout: return "FIN-WAIT-2 timeout";
        case tcp_event::time_wait_expiry: return "2MSL timeout";
    }
    return "?";
}

enum class event_kind : std::uint8_t { user_call, segment, timeout };

[[nodiscard]] constexpr event_kind kind_of(tcp_event e) noexcept {
    if (e <= tcp_event::abort) return event_kind::user_call;
    if (e <= tcp_event::rcv_rst_passive) return event_kind::segment;
    return event_kind::timeout;
}

}  // namespace tcpcore
