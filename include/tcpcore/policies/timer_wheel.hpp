#pragma once
// The timer strategy for endpoints with many connections: a hashed
// hierarchical timing wheel. schedule() and cancel() are O(1), or O(log k)
// for a timer among the k already due; pop_expired() and next_deadline()
// are O(1) amortised, because a timer moves down at most nine levels on its
// way out. next_deadline() is exact by default; see "Exactness" below and
// wheel_deadline for what that costs and for the alternative.
//
// Layout. Time is counted in ticks of 1024 µs (a shift rather than a
// division). Level L has 64 slots, each 64^L ticks wide, with a 64-bit
// occupancy bitmap so the first busy slot is one count-trailing-zeros away:
//
//   level 0: 1.024 ms slots     level 3: 4.47 min slots   level 6: 2.23 year slots
//   level 1: 65.5 ms slots      level 4: 4.77 h slots     level 7: 143 year slots
//   level 2: 4.19 s slots       level 5: 12.7 day slots   level 8: 9133 year slots
//
// Nine levels of six bits cover all 2^54 ticks of time_point's range, so
// there is no overflow list: every deadline has a slot, and none is ever
// rescanned.
//
// Placement. The wheel has a position, now_tick_ (how far pop_expired(), or
// an exact next_deadline(), has got). A timer whose tick is at or before it
// is due and waits in a small min-heap ordered by (deadline, scheduling
// order), which is what makes the order of expiry exact within a tick. Any
// other timer sits at the level of the highest six-bit digit in which its
// tick differs from now_tick_, in the slot named by its own digit there.
// Hence:
//   - level and slot follow from the deadline, so nodes do not store them;
//   - every timer at a lower level is earlier than every timer at a higher
//     one, so the lowest busy slot of the lowest busy level holds the
//     earliest timers, and its start is a lower bound for all of them;
//   - moving now_tick_ to the start of that slot sends its timers strictly
//     lower (or into the due heap) and leaves everyone else where they are.
//
// Exactness. Timers in a slot are not sorted, so the exact earliest deadline
// is known only once its tick's timers are in the due heap. The default
// next_deadline() cascades until they are: the same moves pop_expired()
// would make later, but it takes the position up to the earliest deadline,
// possibly ahead of the clock. A timer then scheduled at or before the
// position skips the slots and costs O(log k) in the due heap (k timers
// there). In a busy endpoint the earliest deadline is milliseconds away and
// k stays small; after an idle spell a burst of new timers may pay O(log k)
// until they fire.
//
// Memory. Per id up to the largest in use (two halves, see per_id_block): a
// 24-byte node (deadline, sequence, two links). The due heap holds 4-byte
// ids and is sized for every timer being due at once, so moving timers into
// it never allocates. Fixed: 2.3 KB of slot heads and bitmaps.

#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/policies/timer.hpp>
#include <tcpcore/policies/timer_heap.hpp>
#include <tcpcore/rules/time.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace tcpcore {

// What timing_wheel::next_deadline() answers; `never` exactly when nothing
// is scheduled, in both cases.
enum class wheel_deadline : std::uint8_t {
    // The earliest deadline, as timer_list and timer_heap answer: an endpoint
    // wakes exactly when something expires. Cascades as described above.
    exact,
    // Never later than the earliest deadline; never moves the wheel, so
    // schedule() stays O(1) however far ahead the earliest timer is. Exact
    // when the earliest deadline lies in a tick (1024 µs from the epoch) at
    // or before that of a `now` for which pop_expired(now) has returned
    // nullopt: such timers wait in the due heap. Otherwise it is the start of
    // the earliest busy slot, earlier than the earliest deadline by less than
    // that slot's width (under 1.024 ms on level 0, under 64^L ticks on
    // level L). Sleeping until it and calling pop_expired() there refines it:
    // after at most nine such empty wake-ups in a row the answer is exact.
    // An endpoint that runs application code on every wake-up then behaves
    // differently from one on an exact strategy.
    lower_bound,
};

template <allocator_policy Alloc = std_allocator, wheel_deadline Deadline = wheel_deadline::exact>
class timing_wheel {
public:
    static constexpr unsigned tick_shift = 10;
    static constexpr duration tick = duration{1 << tick_shift};
    static constexpr unsigned slot_bits = 6;
    static constexpr unsigned slots_per_level = 1u << slot_bits;
    static constexpr unsigned levels = 9;
    // Ends the intrusive lists, so this one id cannot be scheduled. Its node
    // would need 48 GB anyway.
    static constexpr timer_id reserved_id = 0xffff'ffffu;

    timing_wheel() noexcept { heads_.fill(no_node); }
    explicit timing_wheel(Alloc alloc) noexcept : alloc_(std::move(alloc)) { heads_.fill(no_node); }
    timing_wheel(const timing_wheel&) = delete;
    timing_wheel& operator=(const timing_wheel&) = delete;
    timing_wheel(timing_wheel&& other) noexcept : alloc_(std::move(other.alloc_)) { take(other); }
    timing_wheel& operator=(timing_wheel&& other) noexcept {
        if (this != &other) {
            release();
            alloc_ = std::move(other.alloc_);
            take(other);
        }
        return *this;
    }
    ~timing_wheel() { release(); }

    // Sets or moves id's deadline; `never` cancels. Returns false, changing
    // nothing, when storage for a new id could not be grown (never for ids
    // covered by reserve()) or id is reserved_id. Rescheduling counts as a
    // new schedule for the tie order, as in timer_list.
    bool schedule(timer_id id, time_point when) noexcept {
        if (when == never) {
            cancel(id);
            return true;
        }
        if (id == reserved_id || !nodes_.grow_for(alloc_, id, unscheduled_node)) return false;
        const bool is_new = nodes_[id].deadline == unscheduled;
        if (is_new && !due_.grow_for(alloc_, size_ + 1, timer_id{})) return false;
        node& n = nodes_[id];
        if (is_new)
            ++size_;
        else
            unlink(n);
        n.deadline = when.time_since_epoch().count();
        n.sequence = ++sequence_;
        place(id, n);
        ++steps_;
        return true;
    }

    void cancel(timer_id id) noexcept {
        node* n = nodes_.find(id);
        if (n == nullptr || n->deadline == unscheduled) return;
        unlink(*n);
        n->deadline = unscheduled;
        --size_;
        ++steps_;
    }

    // Exact or a lower bound as `Deadline` says (see wheel_deadline). The
    // exact answer may re-arrange timers, which is invisible to callers but
    // means this must not run concurrently with anything, unlike most const
    // members.
    [[nodiscard]] time_point next_deadline() const noexcept {
        if constexpr (Deadline == wheel_deadline::exact) bring_earliest_due();
        if (due_size_ != 0) return time_point{duration{nodes_[due_.data[0]].deadline}};
        if (occupied_levels_ == 0) return never;
        return start_of(earliest_slot().start);
    }

    std::optional<timer_id> pop_expired(time_point now) noexcept {
        const std::int64_t limit = now.time_since_epoch().count();
        const std::uint64_t limit_tick = tick_of(limit);
        for (;;) {
            ++steps_;
            if (due_size_ != 0) {
                // Every timer still in a slot is in a later tick than any due one.
                const timer_id first = due_.data[0];
                node& n = nodes_[first];
                if (n.deadline > limit) return std::nullopt;
                steps_ += detail::heap_erase(due_.data, due_size_, 0, due_earlier(), due_placed());
                n.deadline = unscheduled;
                --size_;
                return first;
            }
            if (occupied_levels_ == 0) {
                advance_idle_to(limit_tick);
                return std::nullopt;
            }
            const slot_ref earliest = earliest_slot();
            if (earliest.start > limit_tick) {
                advance_idle_to(limit_tick);
                return std::nullopt;
            }
            now_tick_ = earliest.start;
            cascade(earliest);
        }
    }

    // Nodes for ids [0, ids) and [2^31, 2^31 + high_bit_ids), and due-heap
    // room for all of them at once: schedule() of those ids then never
    // allocates, and nothing else ever does. False if any of it could not be
    // had (what could be had is kept).
    [[nodiscard]] bool reserve(std::size_t ids, std::size_t high_bit_ids = 0) noexcept {
        const bool nodes_ok = nodes_.reserve(alloc_, ids, high_bit_ids, unscheduled_node);
        return due_.reserve(alloc_, ids + high_bit_ids, timer_id{}) && nodes_ok;
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    // Bytes held from the allocator.
    [[nodiscard]] std::size_t memory_used() const noexcept { return nodes_.bytes() + due_.bytes(); }
    // Work done since construction: one per call and per pass of
    // pop_expired()'s loop, plus one per node moved out of a slot and per
    // due-heap level sifted. Lets tests bound the cost per operation without
    // a clock.
    [[nodiscard]] std::uint64_t steps() const noexcept { return steps_; }

private:
    struct node {
        std::int64_t deadline;   // microseconds since the epoch; `unscheduled` when none
        std::uint64_t sequence;  // orders equal deadlines by scheduling order
        std::uint32_t prev;      // in a slot: the previous id; when due: the index in the due heap
        std::uint32_t next;
    };
    struct slot_ref {
        unsigned level;
        unsigned slot;
        std::uint64_t start;  // first tick the slot covers
    };

    static constexpr std::uint32_t no_node = reserved_id;
    static constexpr std::int64_t unscheduled = never.time_since_epoch().count();
    static constexpr node unscheduled_node{unscheduled, 0, no_node, no_node};
    // Ticks are biased so that unsigned order is time order across the epoch:
    // time_point::min() is tick 0 and the last representable tick is 2^54 - 1.
    static constexpr std::uint64_t tick_bias = std::uint64_t{1} << (63 - tick_shift);
    static_assert(levels * slot_bits >= 64 - tick_shift, "every tick must have a level");

    [[nodiscard]] static constexpr std::uint64_t tick_of(std::int64_t microseconds) noexcept {
        return static_cast<std::uint64_t>(microseconds >> tick_shift) + tick_bias;
    }
    [[nodiscard]] static constexpr time_point start_of(std::uint64_t ticks) noexcept {
        return time_point{static_cast<std::int64_t>(ticks - tick_bias) * tick};
    }
    // Valid for ticks after now_tick_ only, which is where the invariant puts them.
    [[nodiscard]] unsigned level_of(std::uint64_t tick) const noexcept {
        return static_cast<unsigned>(std::bit_width(tick ^ now_tick_) - 1) / slot_bits;
    }
    [[nodiscard]] static constexpr unsigned slot_of(std::uint64_t tick, unsigned level) noexcept {
        return static_cast<unsigned>(tick >> (level * slot_bits)) & (slots_per_level - 1);
    }

    [[nodiscard]] slot_ref earliest_slot() const noexcept {
        const auto level = static_cast<unsigned>(std::countr_zero(occupied_levels_));
        const auto slot = static_cast<unsigned>(std::countr_zero(occupied_[level]));
        const unsigned low_bits = (level + 1) * slot_bits;  // at most 54
        const std::uint64_t shared_digits = now_tick_ >> low_bits << low_bits;
        return {level, slot, shared_digits | (std::uint64_t{slot} << (level * slot_bits))};
    }

    // Moves the position to the earliest busy slot until its timers are due:
    // at most nine cascades, each sending timers strictly lower.
    void bring_earliest_due() const noexcept {
        while (due_size_ == 0 && occupied_levels_ != 0) {
            const slot_ref earliest = earliest_slot();
            now_tick_ = earliest.start;
            cascade(earliest);
        }
    }

    // Nothing is due up to `tick`, so the position may move there: each busy
    // slot starts later, which keeps every timer's digits as the invariant
    // wants, and timers scheduled later land on lower levels. Never backwards.
    void advance_idle_to(std::uint64_t tick) noexcept {
        if (tick > now_tick_) now_tick_ = tick;
    }

    void place(timer_id id, node& n) const noexcept {
        const std::uint64_t t = tick_of(n.deadline);
        if (t <= now_tick_) {
            due_.data[due_size_] = id;
            ++due_size_;
            steps_ += detail::heap_sift_up(due_.data, due_size_ - 1, due_earlier(), due_placed());
            return;
        }
        const unsigned level = level_of(t);
        const unsigned slot = slot_of(t, level);
        std::uint32_t& head = heads_[level * slots_per_level + slot];
        n.prev = no_node;
        n.next = head;
        if (head != no_node) nodes_[head].prev = id;
        head = id;
        occupied_[level] |= std::uint64_t{1} << slot;
        occupied_levels_ |= 1u << level;
    }

    void unlink(node& n) noexcept {
        const std::uint64_t t = tick_of(n.deadline);
        if (t <= now_tick_) {
            steps_ += detail::heap_erase(due_.data, due_size_, n.prev, due_earlier(), due_placed());
            return;
        }
        const unsigned level = level_of(t);
        const unsigned slot = slot_of(t, level);
        std::uint32_t& head = heads_[level * slots_per_level + slot];
        if (n.prev == no_node)
            head = n.next;
        else
            nodes_[n.prev].next = n.next;
        if (n.next != no_node) nodes_[n.next].prev = n.prev;
        if (head == no_node) clear_occupied(level, slot);
    }

    void clear_occupied(unsigned level, unsigned slot) const noexcept {
        occupied_[level] &= ~(std::uint64_t{1} << slot);
        if (occupied_[level] == 0) occupied_levels_ &= ~(1u << level);
    }

    // now_tick_ has just reached the slot's start: its timers now share more
    // digits with it, so each lands strictly lower, or in the due heap.
    void cascade(const slot_ref& s) const noexcept {
        std::uint32_t& head = heads_[s.level * slots_per_level + s.slot];
        std::uint32_t id = std::exchange(head, no_node);
        clear_occupied(s.level, s.slot);
        while (id != no_node) {
            node& n = nodes_[id];
            const std::uint32_t next = n.next;
            place(id, n);
            ++steps_;
            id = next;
        }
    }

    [[nodiscard]] auto due_earlier() const noexcept {
        return [this](timer_id a, timer_id b) noexcept {
            const node& x = nodes_[a];
            const node& y = nodes_[b];
            return x.deadline < y.deadline || (x.deadline == y.deadline && x.sequence < y.sequence);
        };
    }
    [[nodiscard]] auto due_placed() const noexcept {
        return [this](timer_id id, std::size_t index) noexcept { nodes_[id].prev = static_cast<std::uint32_t>(index); };
    }

    void release() noexcept {
        nodes_.release(alloc_);
        due_.release(alloc_);
        size_ = 0;
        due_size_ = 0;
    }
    void take(timing_wheel& other) noexcept {
        nodes_ = std::exchange(other.nodes_, {});
        due_ = std::exchange(other.due_, {});
        heads_ = other.heads_;
        occupied_ = other.occupied_;
        occupied_levels_ = std::exchange(other.occupied_levels_, 0);
        now_tick_ = other.now_tick_;
        size_ = std::exchange(other.size_, 0);
        due_size_ = std::exchange(other.due_size_, 0);
        sequence_ = other.sequence_;
        steps_ = other.steps_;
        other.heads_.fill(no_node);
        other.occupied_.fill(0);
    }

    [[no_unique_address]] Alloc alloc_{};
    // Where each timer sits is not part of the wheel's value: an exact
    // next_deadline() cascades, hence `mutable`. Which timers there are, and
    // their deadlines and order, change only through the non-const calls.
    mutable detail::per_id_block<node> nodes_;
    mutable detail::policy_block<timer_id> due_;  // a min-heap of ids; capacity >= size_ always
    mutable std::size_t due_size_ = 0;
    mutable std::array<std::uint32_t, levels * slots_per_level> heads_;
    mutable std::array<std::uint64_t, levels> occupied_{};
    mutable std::uint32_t occupied_levels_ = 0;
    // Starts at the epoch so that a clock starting there keeps its first
    // timers on low levels; any other start costs a few early cascades.
    mutable std::uint64_t now_tick_ = tick_bias;
    std::size_t size_ = 0;
    std::uint64_t sequence_ = 0;
    mutable std::uint64_t steps_ = 0;
};
static_assert(timer_policy<timing_wheel<>>);
static_assert(timer_policy<timing_wheel<std_allocator, wheel_deadline::lower_bound>>);

}  // namespace tcpcore
