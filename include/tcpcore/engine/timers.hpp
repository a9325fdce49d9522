#pragma once
// The timers (gVisor's timer.go and the timer parts of snd.go): one deadline
// shared by the retransmission timeout, the tail loss probe, the persist
// timer, FIN-WAIT-2 and TIME-WAIT (at most one of them runs at a time, and
// the control word says which); the delayed ACK; keepalive; and the
// per-connection settings they read (RFC 9293 §3.8.6.1, RFC 6298, RFC 8985
// §7, RFC 1122 4.2.3.6).
//
// One shared deadline rather than one per timer keeps the connection small
// and next_deadline() a minimum of three values. The timers decide; the state
// changes a firing causes (giving up, TIME-WAIT's end) are returned as
// events for the connection to apply through the transition table.

#include <tcpcore/engine/control.hpp>
#include <tcpcore/engine/events.hpp>
#include <tcpcore/engine/send.hpp>
#include <tcpcore/policies/congestion.hpp>
#include <tcpcore/rules/config.hpp>
#include <tcpcore/rules/state.hpp>
#include <tcpcore/rules/time.hpp>
#include <tcpcore/rules/timeouts.hpp>
#include <tcpcore/rules/transitions.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace tcpcore::detail {

struct timer_state {
    time_point rtx_deadline{};  // retransmission, loss probe, persist, TIME-WAIT or FIN-WAIT-2
    time_point last_rcv{};      // last segment accepted (keepalive)
    std::uint32_t delack_deadline_us = 0;  // read back around last_rcv (delack_deadline())
    std::uint32_t keepalive_delay_ms = 0;  // keepalive probes postponed by a late clock
    std::uint32_t first_rtx_ms = 0;        // when unanswered retransmission or probing began
    // ---- Per-connection settings (config's defaults, changed by setters) ----
    std::uint32_t user_timeout_ms = 0;
    std::uint16_t keepalive_idle_s = 0, keepalive_interval_s = 0;
    std::uint8_t keepalive_probes = 0, syn_retries = 0;
    // ---- Counters -----------------------------------------------------------
    std::uint8_t probes_out = 0, retransmits = 0;

    // Keepalive times are whole seconds, as in Linux (validate() insists).
    static std::uint16_t whole_seconds(duration d) noexcept {
        return static_cast<std::uint16_t>(std::chrono::duration_cast<std::chrono::seconds>(d).count());
    }
    static std::uint32_t to_ms(duration d) noexcept {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
        return ms <= 0 ? 0u : ms > 0xffffffffLL ? 0xffffffffu : static_cast<std::uint32_t>(ms);
    }
    void load_settings(const config& cfg) noexcept {
        keepalive_idle_s = whole_seconds(cfg.keepalive_idle);
        keepalive_interval_s = whole_seconds(cfg.keepalive_interval);
        keepalive_probes = cfg.keepalive_probes;
        user_timeout_ms = to_ms(cfg.user_timeout);
        syn_retries = cfg.syn_retries;
    }
    // Per-connection settings (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT,
    // TCP_USER_TIMEOUT, TCP_SYNCNT): each value is checked as the whole
    // configuration would be with it, so the same rules and messages apply,
    // and kept, in the form the timers read, only when it passes.
    config_check set_keepalive_idle(const config& cfg, duration d) noexcept {
        return set_checked(cfg, &config::keepalive_idle, d, keepalive_idle_s, whole_seconds(d));
    }
    config_check set_keepalive_interval(const config& cfg, duration d) noexcept {
        return set_checked(cfg, &config::keepalive_interval, d, keepalive_interval_s, whole_seconds(d));
    }
    config_check set_keepalive_probes(const config& cfg, std::uint8_t n) noexcept {
        return set_checked(cfg, &config::keepalive_probes, n, keepalive_probes, n);
    }
    config_check set_user_timeout(const config& cfg, duration d) noexcept {
        return set_checked(cfg, &config::user_timeout, d, user_timeout_ms, to_ms(d));
    }
    config_check set_syn_retries(const config& cfg, std::uint8_t n) noexcept {
        return set_checked(cfg, &config::syn_retries, n, syn_retries, n);
    }
    template <class T, class Stored>
    static config_check set_checked(const config& cfg, T config::*field, T value, Stored& stored,
                                    std::type_identity_t<Stored> kept) noexcept {
        config c = cfg;
        c.*field = value;
        const auto check = validate(c);
        if (check) stored = kept;
        return check;
    }
    // A new open: the counters from zero, the idle clock from now.
    void start_over(time_point now) noexcept {
        retransmits = 0;
        restart_probing();
        last_rcv = now;
    }
    [[nodiscard]] duration user_timeout() const noexcept { return std::chrono::milliseconds{user_timeout_ms}; }

    // ---- The shared deadline --------------------------------------------------
    void arm(time_point when, bool persist, std::uint32_t& flags) noexcept {
        rtx_deadline = when;
        flags |= flag::rtx_armed;
        if (persist) flags |= flag::persist;
        else flags &= ~flag::persist;
    }
    static void disarm(std::uint32_t& flags) noexcept { flags &= ~(flag::rtx_armed | flag::persist); }

    // The RTO after `retransmits` expiries: doubled each time, capped.
    [[nodiscard]] duration rto(const config& cfg, const send_side& snd) const noexcept {
        duration r = snd.srtt_us == 0 ? cfg.rto_initial
                                      : compute_rto(duration{snd.srtt_us}, duration{snd.rttvar_us}, cfg.rto_style,
                                                    cfg.rto_min, cfg.rto_max);
        for (unsigned i = 0; i < retransmits && r < cfg.rto_max; ++i) r = backed_off_rto(r, cfg.rto_max);
        return r;
    }

    // When a loss probe may be due (duration::max() when none may): only
    // with SACK, outside recovery, once per episode, with an RTT measured;
    // two smoothed RTTs, plus a delayed ACK's worth when one segment is out.
    [[nodiscard]] duration loss_probe_timeout(std::uint32_t flags, const send_side& snd) const noexcept {
        if (!(flags & flag::sack) || (flags & (flag::recovery | flag::rto_recovery | flag::tlp_sent)) ||
            snd.srtt_us == 0 || retransmits != 0)
            return duration::max();
        duration pto = 2 * duration{snd.srtt_us};
        if (snd.flight_size() <= snd.mss) pto += std::chrono::milliseconds{200};
        return pto < std::chrono::milliseconds{10} ? std::chrono::milliseconds{10} : pto;
    }

    // The timer for data in flight: the RTO, or first a tail loss probe
    // (RFC 8985 §7, as Linux with SACK) when that would come sooner.
    void arm_retransmission(time_point now, const config& cfg, const send_side& snd, std::uint32_t& flags) noexcept {
        const duration rto_now = rto(cfg, snd);
        const duration pto = loss_probe_timeout(flags, snd);
        flags &= ~flag::tlp;
        if (pto < rto_now) {
            arm(now + pto, false, flags);
            flags |= flag::tlp;
            return;
        }
        arm(now + rto_now, false, flags);
    }

    // New data went out: the probe is due two SRTTs after the last of it
    // (Linux reschedules it after every transmission), if that comes before
    // the timer already running.
    void reschedule_loss_probe(time_point now, const config& cfg, const send_side& snd, std::uint32_t& flags) noexcept {
        const duration pto = loss_probe_timeout(flags, snd);
        if (pto == duration::max()) return;
        if ((flags & flag::tlp) || now + pto < rtx_deadline) {
            rtx_deadline = std::min(now + pto, (flags & flag::tlp) ? now + rto(cfg, snd) : rtx_deadline);
            flags |= flag::tlp;
        }
    }

    // The probe: new data if any may go (even past cwnd), else the last
    // segment again; its ACK (or SACK) shows what was lost. The RTO follows.
    void send_loss_probe(time_point now, duration rto_now, std::uint32_t& flags) noexcept {
        flags &= ~flag::tlp;
        flags |= flag::tlp_sent | flag::tlp_probe;
        arm(now + rto_now, false, flags);
    }

    // SYN or SYN,ACK unanswered: it goes again (returns nothing), or the
    // budget is spent (returns the give-up event).
    std::optional<tcp_event> syn_timeout(time_point now, const config& cfg, std::uint32_t& flags) noexcept {
        const bool active = !(flags & flag::passive);
        const unsigned linear = active ? cfg.syn_linear_timeouts : 0u;
        const unsigned budget = active ? syn_retransmission_count(syn_retries, linear) : cfg.synack_retries;
        if (retransmits >= budget) return tcp_event::retransmission_give_up;
        ++retransmits;
        flags |= flag::syn_due;
        flags &= ~flag::rtt_timing;  // Karn
        arm(now + syn_wait(retransmits + 1u, cfg.rto_initial, linear, cfg.rto_max), false, flags);
        return std::nullopt;
    }

    // Data (or FIN) unacknowledged for a whole RTO: give up (the event), or
    // count one more retransmission. `path_event` is set when retries1 is
    // reached, once per episode.
    std::optional<tcp_event> data_timeout(time_point now, const config& cfg, std::uint32_t& flags,
                                          bool& path_event) noexcept {
        const duration since_first = (flags & flag::first_rtx) ? since_ms32(now, first_rtx_ms) : duration::zero();
        if ((flags & flag::first_rtx) &&
            retransmission_gives_up(since_first, user_timeout(), cfg.retries2, cfg.rto_min, cfg.rto_max)) {
            return user_timeout_ms != 0 ? tcp_event::user_timeout : tcp_event::retransmission_give_up;
        }
        if (!(flags & flag::first_rtx)) {
            first_rtx_ms = ms32(now);
            flags |= flag::first_rtx;
        }
        if (retransmits < 0xff) ++retransmits;
        path_event = retransmits >= cfg.retries1 && !(flags & flag::path_reported);
        if (path_event) flags |= flag::path_reported;
        return std::nullopt;
    }
    // The RTO that follows a data timeout, within the user timeout.
    void rearm_after_data_timeout(time_point now, duration rto_now, std::uint32_t& flags) noexcept {
        const duration elapsed = since_ms32(now, first_rtx_ms);
        arm(now + clamp_rto_to_user_timeout(rto_now, elapsed, user_timeout()), false, flags);
    }

    // ---- Persist (RFC 9293 §3.8.6.1, Linux tcp_probe_timer) ----------------
    // Zero-window probing gives up after retries2 unanswered probes, or the
    // user timeout. The interval is the RTO.
    std::optional<tcp_event> persist_timeout(time_point now, const config& cfg, std::uint32_t& flags) noexcept {
        if (user_timeout_ms != 0 && probes_out != 0 && (flags & flag::first_rtx) &&
            since_ms32(now, first_rtx_ms) >= user_timeout())
            return tcp_event::user_timeout;
        if (user_timeout_ms == 0 && probes_out >= cfg.retries2) return tcp_event::retransmission_give_up;
        if (probes_out == 0) {
            first_rtx_ms = ms32(now);  // when the unanswered probing began
            flags |= flag::first_rtx;
        }
        if (probes_out < 0xff) ++probes_out;
        // The interval backs off even when probes are answered (Linux
        // icsk_backoff); retransmits counts it, as nothing is in flight.
        if (retransmits < 0xff) ++retransmits;
        flags |= flag::probe_due;
        return std::nullopt;
    }

    // Start or stop the persist timer as the peer's window closes or opens.
    // `interval` is read only when the timer starts.
    template <class Interval>
    void update_persist(time_point now, bool stalled, Interval interval, std::uint32_t& flags) noexcept {
        if (stalled && !(flags & flag::rtx_armed)) {
            restart_probing();
            retransmits = 0;
            arm(now + interval(), true, flags);
        } else if (!stalled && (flags & flag::persist)) {
            disarm(flags);
            restart_probing();
            retransmits = 0;
        }
    }

    // The shared deadline falls due. Returns the table row to apply, if any
    // (TIME-WAIT's or FIN-WAIT-2's end, or giving up); the rest it handles:
    // SYNs again, a persist probe, the loss probe, or a retransmission
    // timeout with its congestion response.
    struct fired {
        std::optional<tcp_event> event;
        bool give_up = false;  // the connection fails with timed_out
    };
    template <congestion_control CC>
    fired rtx_timer_fired(time_point now, const config& cfg, tcp_state state, std::uint32_t& flags, send_side& snd,
                          CC& cc, connection_events& events) {
        auto give_up = [](std::optional<tcp_event> e) { return fired{e, e.has_value()}; };
        flags &= ~flag::rtx_armed;
        switch (state) {
            case tcp_state::time_wait: return {tcp_event::time_wait_expiry};
            case tcp_state::fin_wait_2: return {tcp_event::fin_wait_2_timeout};
            case tcp_state::syn_sent:
            case tcp_state::syn_received: return give_up(syn_timeout(now, cfg, flags));
            default: break;
        }
        if (flags & flag::persist) {
            if (const auto e = persist_timeout(now, cfg, flags)) return give_up(e);
            arm(now + rto(cfg, snd), true, flags);
            return {};
        }
        if (flags & flag::tlp) {
            send_loss_probe(now, rto(cfg, snd), flags);
            return {};
        }
        bool path_event = false;
        if (const auto e = data_timeout(now, cfg, flags, path_event)) return give_up(e);
        if (path_event) events |= connection_events::path_may_be_broken;
        snd.on_retransmission_timeout(cc, now, flags);
        rearm_after_data_timeout(now, rto(cfg, snd), flags);
        return {};
    }

    // ---- Delayed ACK ------------------------------------------------------------
    // The deadline is kept as the low 32 bits of its microsecond count: it
    // lies within half a second of the segment that armed it, whose arrival
    // is last_rcv or a little before, so the full time is recovered from
    // last_rcv.
    [[nodiscard]] time_point delack_deadline() const noexcept {
        return last_rcv + duration{static_cast<std::int32_t>(delack_deadline_us - us32(last_rcv))};
    }
    void arm_delayed_ack(time_point now, const config& cfg, std::uint32_t& flags) noexcept {
        if (flags & flag::delack) return;
        delack_deadline_us = us32(now + cfg.delayed_ack_timeout);
        flags |= flag::delack;
    }
    // A delayed ACK that fell due while the clock ran on without a poll could
    // lie too far behind the new last_rcv to be read back: it is due, so it
    // becomes an immediate ACK before last_rcv moves.
    void move_last_rcv(time_point now, std::uint32_t& flags) noexcept {
        if ((flags & flag::delack) && delack_deadline() <= now) flags = (flags & ~flag::delack) | flag::ack_now;
        last_rcv = now;
    }

    // ---- Keepalive (RFC 1122 4.2.3.6) -----------------------------------------
    // Keepalive and zero-window probing count from zero again.
    void restart_probing() noexcept {
        probes_out = 0;
        keepalive_delay_ms = 0;
    }

    // Keepalive watches an idle connection only: anything outstanding is
    // watched by the retransmission or persist timer instead (Linux
    // tcp_keepalive_timer), and an orphan in FIN-WAIT-2 by fin_timeout.
    [[nodiscard]] static bool keepalive_applies(tcp_state state, std::uint32_t flags, bool idle) noexcept {
        if (!(flags & flag::keepalive)) return false;
        if (state != tcp_state::established && state != tcp_state::close_wait && state != tcp_state::fin_wait_2)
            return false;
        if (state == tcp_state::fin_wait_2 && (flags & flag::orphan)) return false;
        return idle;
    }

    // Probes at idle, idle + interval, ... after the last segment received,
    // moved later by however late the clock let the timer run.
    [[nodiscard]] time_point keepalive_deadline(bool applies) const noexcept {
        if (!applies) return never;
        return last_rcv + std::chrono::seconds{keepalive_idle_s} +
               std::chrono::seconds{std::uint32_t{keepalive_interval_s} * probes_out} +
               std::chrono::milliseconds{keepalive_delay_ms};
    }

    // A keepalive probe falls due: returns whether to give up instead.
    bool keepalive_timeout(time_point now, std::uint32_t& flags) noexcept {
        const duration idle = now - last_rcv;
        const bool ut = user_timeout_ms != 0;
        if ((ut && idle >= user_timeout() && probes_out > 0) || (!ut && probes_out >= keepalive_probes)) return true;
        if (probes_out < 0xff) ++probes_out;
        flags |= flag::probe_due;
        // A clock that jumped (a suspended host, a simulator) must not turn
        // the probes it skipped into a burst: the next waits a whole interval
        // from now, as Linux re-arms its keepalive timer from the firing.
        const time_point next = keepalive_deadline(true);
        if (next <= now) {
            const auto behind =
                std::chrono::ceil<std::chrono::milliseconds>(now + std::chrono::seconds{keepalive_interval_s} - next)
                    .count();
            keepalive_delay_ms =
                static_cast<std::uint32_t>(std::min<std::int64_t>(std::int64_t{keepalive_delay_ms} + behind, 0xffffffff));
        }
        return false;
    }
};

// Start or stop the persist timer as the peer's window closes or opens.
inline void update_persist(time_point now, const config& cfg, const send_side& snd, const send_inputs& in,
                           timer_state& timers, std::uint32_t& flags) noexcept {
    // Nothing in flight and data waiting: for the peer's window to open, or
    // for a cork that only this timer (or the application) lifts.
    const bool stalled =
        snd.una == snd.nxt && snd.has_unsent(in) && (snd.wnd == 0 || snd.corked_idle(0xffff, in));
    timers.update_persist(now, stalled, [&] { return timers.rto(cfg, snd); }, flags);
}

}  // namespace tcpcore::detail
