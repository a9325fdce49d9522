#pragma once
// Congestion control as a policy. The connection owns cwnd and ssthresh (in
// bytes) and the loss-recovery machinery (fast retransmit, RFC 6675 SACK
// recovery, RFC 6582 NewReno partial ACKs); the policy decides how the
// window grows on ACKs and what it becomes on a loss or a timeout.
//
// Two implementations: newreno (RFC 5681 growth, the default) and cubic
// (RFC 9438).

#include <tcpcore/rules/time.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <string_view>

namespace tcpcore {

// What the policy may read and change.
struct cc_window {
    std::uint32_t cwnd = 0;      // bytes
    std::uint32_t ssthresh = 0;  // bytes
    std::uint32_t mss = 0;       // sender MSS, bytes
};

template <class CC>
concept congestion_control = requires(CC& cc, cc_window& w, std::uint32_t bytes, time_point now, duration rtt) {
    // The window grows: `bytes` newly acknowledged outside recovery.
    cc.on_ack(w, bytes, now, rtt);
    // Fast retransmit: a loss detected by duplicate ACKs or SACK, with
    // `bytes` in flight. Sets ssthresh and the cwnd recovery starts with.
    cc.on_loss(w, bytes, now);
    // The retransmission timer expired with `bytes` in flight.
    cc.on_timeout(w, bytes, now);
};

namespace detail {
constexpr std::uint32_t half_flight_or_two_segments(std::uint32_t flight, std::uint32_t mss) noexcept {
    const std::uint32_t half = flight / 2;
    return half > 2 * mss ? half : 2 * mss;  // RFC 5681 (4)
}

// RFC 5681 §3.1: slow start grows by at most one MSS per ACK; returns the
// bytes of the ACK left over once cwnd reaches ssthresh.
constexpr std::uint32_t slow_start(cc_window& w, std::uint32_t acked) noexcept {
    const std::uint32_t room = w.ssthresh > w.cwnd ? w.ssthresh - w.cwnd : 0;
    std::uint32_t grow = acked < w.mss ? acked : w.mss;
    if (grow > room) grow = room;
    w.cwnd += grow;
    return acked - (grow < acked ? grow : acked);
}
}  // namespace detail

// RFC 5681: slow start, then congestion avoidance by about one MSS per RTT
// (eq. 3, per ACK), halving on loss. Stateless, so it costs the connection
// no bytes.
struct newreno {
    static constexpr std::string_view name = "reno";  // Linux's name for it (TCP_CONGESTION)

    constexpr void on_ack(cc_window& w, std::uint32_t acked, time_point, duration) noexcept {
        if (w.cwnd < w.ssthresh) {
            acked = detail::slow_start(w, acked);
            if (acked == 0) return;
        }
        const std::uint64_t inc = std::uint64_t{w.mss} * w.mss / (w.cwnd ? w.cwnd : 1);
        w.cwnd += static_cast<std::uint32_t>(inc ? inc : 1);
    }
    constexpr void on_loss(cc_window& w, std::uint32_t flight, time_point) noexcept {
        w.ssthresh = detail::half_flight_or_two_segments(flight, w.mss);
        w.cwnd = w.ssthresh;
    }
    constexpr void on_timeout(cc_window& w, std::uint32_t flight, time_point) noexcept {
        w.ssthresh = detail::half_flight_or_two_segments(flight, w.mss);
        w.cwnd = w.mss;  // RFC 5681 (5): the loss window, one segment
    }
};
static_assert(congestion_control<newreno>);

// RFC 9438 CUBIC: the window follows W(t) = C (t - K)^3 + W_max after a
// loss, with the Reno-friendly estimate as a floor, beta 0.7, C 0.4 and fast
// convergence.
class cubic {
public:
    static constexpr std::string_view name = "cubic";
    static constexpr double c = 0.4;
    static constexpr double beta = 0.7;

    void on_ack(cc_window& w, std::uint32_t acked, time_point now, duration rtt) noexcept {
        if (w.cwnd < w.ssthresh) {
            acked = detail::slow_start(w, acked);
            if (acked == 0) return;
        }
        const double mss = w.mss;
        const double cwnd_seg = w.cwnd / mss;
        if (!in_epoch_) {
            // §4.2: a new congestion-avoidance epoch.
            in_epoch_ = true;
            epoch_start_ = now;
            if (cwnd_seg < w_max_) {
                k_ = static_cast<float>(std::cbrt((w_max_ - cwnd_seg) / c));
                origin_ = w_max_;
            } else {
                k_ = 0;
                origin_ = static_cast<float>(cwnd_seg);
            }
            w_est_ = static_cast<float>(cwnd_seg);
        }
        const double t = std::chrono::duration<double>(now - epoch_start_ + rtt).count();
        const double target_cubic = c * (t - k_) * (t - k_) * (t - k_) + origin_;
        // §4.3: the Reno-friendly region.
        const double alpha = 3.0 * (1.0 - beta) / (1.0 + beta);
        w_est_ += static_cast<float>(alpha * (acked / mss) / cwnd_seg);
        double next;
        if (target_cubic < w_est_) {
            next = w_est_;
        } else {
            // §4.4: grow towards the target at most 1.5x per RTT.
            double target = target_cubic;
            if (target > 1.5 * cwnd_seg) target = 1.5 * cwnd_seg;
            if (target < cwnd_seg) target = cwnd_seg;
            next = cwnd_seg + (target - cwnd_seg) / cwnd_seg * (acked / mss);
        }
        const double bytes = next * mss;
        if (bytes > w.cwnd) w.cwnd = bytes > 4e9 ? 4000000000u : static_cast<std::uint32_t>(bytes);
    }

    void on_loss(cc_window& w, std::uint32_t, time_point) noexcept {
        reduce(w);
        w.cwnd = w.ssthresh;
    }

    void on_timeout(cc_window& w, std::uint32_t, time_point) noexcept {
        reduce(w);
        w.cwnd = w.mss;
    }

private:
    void reduce(cc_window& w) noexcept {
        const double cwnd_seg = static_cast<double>(w.cwnd) / w.mss;
        // §4.7 fast convergence: a second loss below the last maximum lowers
        // it further, releasing bandwidth to newer flows.
        w_max_ = static_cast<float>(cwnd_seg < w_max_ ? cwnd_seg * (1.0 + beta) / 2.0 : cwnd_seg);
        const double ss = cwnd_seg * beta * w.mss;
        w.ssthresh = ss < 2.0 * w.mss ? 2 * w.mss : static_cast<std::uint32_t>(ss);
        in_epoch_ = false;
    }

    // float: the state is per connection, and 24 bits of precision are far
    // more than a window in segments needs.
    float w_max_ = 0;    // segments
    float k_ = 0;        // seconds
    float origin_ = 0;   // segments
    float w_est_ = 0;    // segments
    time_point epoch_start_{};
    bool in_epoch_ = false;
};
static_assert(congestion_control<cubic>);

// The name TCP_CONGESTION reports: the policy's `name`, when it has one.
template <class CC>
[[nodiscard]] constexpr std::string_view congestion_name() noexcept {
    if constexpr (requires { CC::name; }) return std::string_view{CC::name};
    else return "custom";
}

}  // namespace tcpcore
