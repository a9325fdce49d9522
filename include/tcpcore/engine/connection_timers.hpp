#pragma once
// The connection's timers firing, defined here and declared in
// connection.hpp: the delayed ACK, the shared retransmission deadline (RTO,
// loss probe, persist, FIN-WAIT-2, TIME-WAIT) and keepalive, and giving up.

#include <tcpcore/engine/connection.hpp>

namespace tcpcore {

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
void basic_connection<CC, Alloc, Tracer, Counters>::run_timers(time_point now) {
    if ((flags_ & flag::delack) && delack_deadline() <= now) {
        flags_ &= ~flag::delack;
        flags_ |= flag::ack_now;
        pacing_.set_interactive(false);  // an ACK had to go alone: not so interactive (Linux)
    }
    if ((flags_ & flag::rtx_armed) && timers_.rtx_deadline <= now) {
        // A retransmission timeout proper: not the persist timer, a loss
        // probe, FIN-WAIT-2's or TIME-WAIT's end.
        [[maybe_unused]] const bool rto = !(flags_ & (flag::persist | flag::tlp)) &&
                                          state_ != tcp_state::time_wait && state_ != tcp_state::fin_wait_2;
        [[maybe_unused]] const std::uint8_t timeouts_before = timers_.retransmits;
        const auto fired = timers_.rtx_timer_fired(now, *cfg_, state_, flags_, snd_, cc_, events_);
        if constexpr (Counters::enabled)
            if (rto && !fired.event) counters_.on_rto(now, timeouts_before == 0);
        if (fired.give_up) set_error(std::errc::timed_out);
        if (fired.event) apply(now, *fired.event);
    }
    if (keepalive_deadline() <= now && timers_.keepalive_timeout(now, flags_))
        give_up(now, tcp_event::keepalive_give_up);
}

template <congestion_control CC, allocator_policy Alloc, transition_tracer Tracer, counters_policy Counters>
void basic_connection<CC, Alloc, Tracer, Counters>::give_up(time_point now, tcp_event e) {
    set_error(std::errc::timed_out);
    apply(now, e);
}

}  // namespace tcpcore
