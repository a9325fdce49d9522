#pragma once
// The endpoint's counters, and the record of one dropped packet that the
// drop hook (observers.hpp) receives beside them. Every packet the endpoint
// drops is counted under exactly one of drop_kind's counters, so a hook and
// the counters can never disagree.

#include <tcpcore/rules/arrival.hpp>
#include <tcpcore/wire/ip.hpp>
#include <tcpcore/wire/tcp_header.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tcpcore {

// Counters for everything the endpoint refused or did on its own.
struct endpoint_stats {
    std::uint64_t datagrams_in = 0;
    std::uint64_t segments_in = 0;
    std::uint64_t segments_out = 0;  // taken by the I/O policy
    std::uint64_t not_tcp = 0;
    std::array<std::uint64_t, ip_parse_error_count> ip_errors{};
    std::array<std::uint64_t, tcp_parse_error_count> tcp_errors{};
    std::array<std::uint64_t, drop_reason_count> drops{};
    std::uint64_t resets_for_no_connection = 0;
    std::uint64_t syn_backlog_overflows = 0;  // SYNs dropped: backlog full, no cookies
    std::uint64_t accept_queue_overflows = 0;
    std::uint64_t syn_cookies_sent = 0;
    std::uint64_t syn_cookies_accepted = 0;
    std::uint64_t syn_cookies_rejected = 0;
    std::uint64_t time_wait_skipped = 0;  // beyond max_time_wait
    std::uint64_t out_of_memory = 0;
    std::uint64_t io_refusals = 0;          // packets the I/O policy refused at first (held, sent later)
    std::uint64_t replies_not_sent = 0;     // RSTs, TIME-WAIT ACKs, cookie SYN,ACKs skipped while one was held
};

// Which counter a dropped packet went to.
enum class drop_kind : std::uint8_t {
    ip_error,           // ip_errors[ip_error]: not a well-formed IP datagram
    not_tcp,            // not_tcp
    tcp_error,          // tcp_errors[tcp_error]: not a well-formed TCP segment
    rule,               // drops[reason]: the arrival rules (RFC 9293 §3.10.7) refused it
    syn_backlog_full,   // syn_backlog_overflows
    accept_queue_full,  // accept_queue_overflows
};

// One dropped packet, for the drop hook. The spans are valid only during the
// call. Of ip_error, tcp_error and reason only the one `kind` names means
// anything.
struct dropped_packet {
    drop_kind kind = drop_kind::rule;
    ip_parse_error ip_error{};
    tcp_parse_error tcp_error{};
    drop_reason reason = drop_reason::none;
    std::span<const std::uint8_t> datagram{};  // the IP datagram; empty when it came as a bare segment
    std::span<const std::uint8_t> segment{};   // the TCP segment; empty when the IP layer refused it
};

// Counts a drop where it belongs.
constexpr void count_drop(endpoint_stats& s, const dropped_packet& d) noexcept {
    switch (d.kind) {
        case drop_kind::ip_error: ++s.ip_errors[static_cast<std::size_t>(d.ip_error)]; return;
        case drop_kind::not_tcp: ++s.not_tcp; return;
        case drop_kind::tcp_error: ++s.tcp_errors[static_cast<std::size_t>(d.tcp_error)]; return;
        case drop_kind::rule: ++s.drops[static_cast<std::size_t>(d.reason)]; return;
        case drop_kind::syn_backlog_full: ++s.syn_backlog_overflows; return;
        case drop_kind::accept_queue_full: ++s.accept_queue_overflows; return;
    }
}

}  // namespace tcpcore
