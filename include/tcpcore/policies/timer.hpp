#pragma once
// The TimerStrategy policy: how the endpoint keeps every connection's next
// deadline. Ids are small dense integers (connection slots). Strategies
// change cost, never behaviour: each must hand out expired ids in deadline
// order, ties in the order they were scheduled.

#include <tcpcore/rules/time.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace tcpcore {

using timer_id = std::uint32_t;

template <class T>
concept timer_policy = requires(T& timers, const T& const_timers, timer_id id, time_point when) {
    // Sets (or moves) the deadline of id; scheduling `never` cancels.
    timers.schedule(id, when);
    // Forgets id's deadline; nothing happens if it has none.
    timers.cancel(id);
    // The earliest deadline, or `never` when none is set.
    { const_timers.next_deadline() } -> std::same_as<time_point>;
    // Removes and returns one id whose deadline is at or before `when`.
    { timers.pop_expired(when) } -> std::same_as<std::optional<timer_id>>;
};

// A reference model and the "tiny deployment" strategy: a plain list,
// scanned. O(n) per operation; for a handful of connections the smallest and
// simplest choice.
class timer_list {
public:
    void schedule(timer_id id, time_point when) {
        cancel(id);
        if (when != never) entries_.push_back({id, when, ++sequence_});
    }
    void cancel(timer_id id) noexcept {
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (entries_[i].id == id) {
                entries_[i] = entries_.back();
                entries_.pop_back();
                return;
            }
        }
    }
    [[nodiscard]] time_point next_deadline() const noexcept {
        time_point best = never;
        for (const auto& e : entries_)
            if (e.when < best) best = e.when;
        return best;
    }
    std::optional<timer_id> pop_expired(time_point now) noexcept {
        std::size_t best = entries_.size();
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (entries_[i].when > now) continue;
            if (best == entries_.size() || entries_[i].when < entries_[best].when ||
                (entries_[i].when == entries_[best].when && entries_[i].sequence < entries_[best].sequence))
                best = i;
        }
        if (best == entries_.size()) return std::nullopt;
        const timer_id id = entries_[best].id;
        entries_[best] = entries_.back();
        entries_.pop_back();
        return id;
    }
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    struct entry {
        timer_id id;
        time_point when;
        std::uint64_t sequence;  // orders equal deadlines by scheduling order
    };
    std::vector<entry> entries_;
    std::uint64_t sequence_ = 0;
};
static_assert(timer_policy<timer_list>);

}  // namespace tcpcore
