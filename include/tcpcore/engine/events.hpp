#pragma once
// What the connection tells the outside world, apart from the connection
// itself: the outcome of an arriving segment, the events collected for the
// application, the TCP_INFO-like snapshot, the read-only sequence variables,
// the tracer hook, and the two records an endpoint trades with a connection
// (a SYN cookie's memory, a TIME-WAIT hand-off). Plain types, so the endpoint
// and tools can use them without instantiating the engine.

#include <tcpcore/rules/arrival.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/rules/time.hpp>
#include <tcpcore/rules/transitions.hpp>
#include <tcpcore/wire/ip_address.hpp>
#include <tcpcore/wire/seq.hpp>

#include <cstdint>
#include <optional>

namespace tcpcore {

// What happened to an arriving segment.
enum class segment_result : std::uint8_t {
    accepted,    // processed
    dropped,     // judged and dropped (the reason says why); a reply may be queued
    reset,       // it reset the connection
    reopen,      // TIME-WAIT: a new SYN for this 4-tuple (the endpoint may open anew)
    not_for_us,  // another 4-tuple or port; nothing changed
};

struct segment_outcome {
    segment_result result = segment_result::accepted;
    drop_reason reason = drop_reason::none;
};

// Things the application may want to know, collected until take_events():
// a bitmask type (as the standard library's BitmaskType) whose values are
// the named events below, so a stray integer cannot pass for an event.
//   if (ev.has(connection_events::readable)) ...
//   ev &= ~connection_events::writable;
class connection_events {
public:
    static const connection_events connected;           // reached ESTABLISHED
    static const connection_events readable;            // new data, or end of stream
    static const connection_events writable;            // send buffer space was freed
    static const connection_events peer_closed;         // the peer's FIN: reads end after the data
    static const connection_events closed;              // reached CLOSED; error() says why, if it failed
    static const connection_events path_may_be_broken;  // retries1 retransmissions without progress
    static const connection_events entered_time_wait;

    constexpr connection_events() noexcept = default;
    // The raw bits, for logs and compact storage; from_bits() keeps only
    // the bits that name an event.
    [[nodiscard]] constexpr std::uint8_t bits() const noexcept { return bits_; }
    [[nodiscard]] static constexpr connection_events from_bits(std::uint8_t b) noexcept {
        return connection_events{static_cast<std::uint8_t>(b & all_bits)};
    }

    // True when any event of `e` is set.
    [[nodiscard]] constexpr bool has(connection_events e) const noexcept { return (bits_ & e.bits_) != 0; }
    [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }
    constexpr explicit operator bool() const noexcept { return bits_ != 0; }

    friend constexpr connection_events operator|(connection_events a, connection_events b) noexcept {
        return connection_events{static_cast<std::uint8_t>(a.bits_ | b.bits_)};
    }
    friend constexpr connection_events operator&(connection_events a, connection_events b) noexcept {
        return connection_events{static_cast<std::uint8_t>(a.bits_ & b.bits_)};
    }
    friend constexpr connection_events operator^(connection_events a, connection_events b) noexcept {
        return connection_events{static_cast<std::uint8_t>(a.bits_ ^ b.bits_)};
    }
    friend constexpr connection_events operator~(connection_events a) noexcept {
        return connection_events{static_cast<std::uint8_t>(~a.bits_ & all_bits)};
    }
    constexpr connection_events& operator|=(connection_events b) noexcept { return *this = *this | b; }
    constexpr connection_events& operator&=(connection_events b) noexcept { return *this = *this & b; }
    constexpr connection_events& operator^=(connection_events b) noexcept { return *this = *this ^ b; }
    friend constexpr bool operator==(connection_events, connection_events) noexcept = default;

private:
    static constexpr std::uint8_t all_bits = 0x7f;
    constexpr explicit connection_events(std::uint8_t b) noexcept : bits_(b) {}
    std::uint8_t bits_ = 0;
};
inline constexpr connection_events connection_events::connected{1u << 0};
inline constexpr connection_events connection_events::readable{1u << 1};
inline constexpr connection_events connection_events::writable{1u << 2};
inline constexpr connection_events connection_events::peer_closed{1u << 3};
inline constexpr connection_events connection_events::closed{1u << 4};
inline constexpr connection_events connection_events::path_may_be_broken{1u << 5};
inline constexpr connection_events connection_events::entered_time_wait{1u << 6};
static_assert(sizeof(connection_events) == 1);

// A snapshot of the connection's variables, in the spirit of TCP_INFO.
struct connection_info {
    tcp_state state;
    duration srtt;
    duration rttvar;
    duration rto;
    std::uint32_t cwnd;
    std::uint32_t ssthresh;
    std::uint32_t send_mss;
    std::uint32_t send_window;
    std::uint32_t receive_window;
    std::uint8_t send_window_scale;
    std::uint8_t receive_window_scale;
    bool sack;
    bool timestamps;
    std::uint8_t retransmits;
    std::uint8_t probes_out;
    std::uint32_t bytes_in_flight;
    std::uint32_t send_queue;     // bytes queued, sent or not, not yet acknowledged
    std::uint32_t receive_queue;  // bytes readable
    bool window_scaling;          // negotiated (the scales may still be 0)
};

// Where loss recovery stands, in the order of Linux's congestion-avoidance
// states (TCP_CA_Open, _Disorder, _Recovery, _Loss; tcpcore has no ECN, so
// never CWR).
enum class loss_phase : std::uint8_t {
    open,      // nothing amiss
    disorder,  // duplicate ACKs or SACKed data, too few for recovery
    recovery,  // fast recovery (RFC 5681 / 6582 / 6675)
    loss,      // retransmitting after a timeout, until what was outstanding then is acknowledged
};

// Loss recovery and the retransmission timer, as TCP_INFO reports them.
// Byte counts; Linux counts segments (tcp_info.hpp converts).
struct recovery_info {
    loss_phase phase = loss_phase::open;
    std::uint32_t sacked = 0;         // SACKed above SND.UNA
    std::uint32_t lost = 0;           // deemed lost in this recovery (not SACKed), retransmitted or not
    std::uint32_t retransmitted = 0;  // retransmitted in this recovery, not yet acknowledged or SACKed
    std::uint32_t not_sent = 0;       // queued data not yet sent once
    std::uint8_t dupacks = 0;         // duplicate ACKs in a row
    std::uint8_t timeouts = 0;        // retransmission timeouts since the last progress (Linux icsk_retransmits)
    std::uint8_t backoff = 0;         // doublings of the RTO or persist interval now applied (Linux icsk_backoff)
    bool persist = false;             // the zero-window persist timer runs
};

// Sees every state change as it happens, with the table row that made it:
// for logs ("SYN-SENT => ESTABLISHED on rcv SYN,ACK"), or for checkers that
// prove every change is a row. The default does nothing and costs nothing.
template <class T>
concept transition_tracer = requires(T& t, const transition& row) { t.on_transition(row); };

struct no_tracer {
    constexpr void on_transition(const transition&) const noexcept {}
};
static_assert(transition_tracer<no_tracer>);

// The sequence variables (RFC 9293 §3.3.1, with RFC 5681's windows and RFC
// 7323's timestamps), read-only: for fuzzers, property tests and tools that
// aim segments at a connection's windows or check its bookkeeping.
struct sequence_variables {
    seq32 snd_una, snd_nxt, snd_wl1;
    std::uint32_t snd_wnd;      // the peer's window, scaled
    std::uint32_t max_snd_wnd;  // the largest it has offered
    seq32 rcv_nxt;
    std::uint32_t rcv_wnd;  // what the last window field offered from RCV.NXT on
    seq32 rcv_adv;          // RCV.NXT + RCV.WND: the right edge offered
    seq32 last_ack_sent;
    std::uint32_t cwnd, ssthresh;
    std::uint16_t snd_mss, rcv_mss;
    std::uint8_t snd_wscale, rcv_wscale;
    std::uint32_t ts_recent;  // TS.Recent (RFC 7323 §4.3)
    std::uint32_t ts_offset;  // added to the millisecond clock in our TSval
    std::uint32_t send_queue;     // bytes queued, sent or not, not yet acknowledged
    std::uint32_t receive_queue;  // bytes readable
    bool fin_received;            // the peer's FIN is in (RCV.NXT counts it)

    friend bool operator==(const sequence_variables&, const sequence_variables&) = default;
};

// What a SYN cookie remembered of the peer's SYN (RFC 4987 §3.6): the
// endpoint validated the cookie in an ACK and decoded these.
struct cookie_syn {
    std::uint16_t mss = 536;
    std::optional<std::uint8_t> window_scale;  // only when timestamps carried it
    bool sack_permitted = false;
    std::optional<std::uint32_t> ts_recent;    // the ACK's TSval, when timestamps are on
    std::uint16_t window = 0;                  // the window in the peer's SYN (unscaled)
};

// What a TIME-WAIT connection must remember, in 64 bytes, to answer
// segments for 2 MSL: the endpoint keeps this instead of the connection.
struct time_wait_record {
    four_tuple tuple;
    seq32 snd_nxt;
    seq32 rcv_nxt;
    std::uint32_t ts_recent = 0;
    std::uint32_t ts_offset = 0;
    std::uint16_t window = 0;  // the window field our ACKs carry
    bool timestamps = false;
};

}  // namespace tcpcore
