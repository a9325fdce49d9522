#pragma once
// The endpoint's connections: each in a slot of a slab (stable address,
// dense index, generation for its handle) with what the endpoint keeps about
// it: who owns it (a listener until accept(), the application after, no one
// once closed), the events not reported yet, and its place in the FIFO of
// connections with events for next_event(). This header owns slots, the
// mapping between handles and slots, and that FIFO.

#include <tcpcore/detail/slab.hpp>
#include <tcpcore/engine/events.hpp>
#include <tcpcore/host/handles.hpp>
#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/rules/config.hpp>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace tcpcore {

template <class Connection, allocator_policy Alloc>
class connection_table {
public:
    static constexpr std::uint32_t none = 0xffffffffu;

    static constexpr std::uint8_t in_ready = 1u << 0;
    static constexpr std::uint8_t user_owned = 1u << 1;   // connect()ed or accept()ed, not closed
    static constexpr std::uint8_t user_closed = 1u << 2;  // close()d or abort()ed: free when CLOSED
    static constexpr std::uint8_t in_table = 1u << 3;     // in the flow table

    struct slot {
        Connection conn;
        std::uint32_t ready_next = none;
        std::uint16_t listener = 0;  // owning listener index + 1 until accept()
        connection_events pending{};  // events not reported yet
        std::uint8_t flags = 0;
        slot(const config& c, const Alloc& a) : conn(c, a) {}
    };
    using slab_type = detail::slab<slot, Alloc>;

    explicit connection_table(Alloc alloc) noexcept : slots_(std::move(alloc)) {}

    // A new slot; `none` when memory runs out.
    std::uint32_t add(const config& cfg, const Alloc& alloc) { return slots_.emplace(cfg, alloc); }
    // Frees the slot (its handle goes stale), first leaving the FIFO.
    void erase(std::uint32_t s) noexcept {
        unlink_ready(s);
        slots_.erase(s);
    }

    [[nodiscard]] slot& operator[](std::uint32_t s) noexcept { return slots_[s]; }
    [[nodiscard]] const slot& operator[](std::uint32_t s) const noexcept { return slots_[s]; }
    [[nodiscard]] bool live(std::uint32_t s) const noexcept { return slots_.live(s); }
    [[nodiscard]] std::uint32_t size() const noexcept { return slots_.size(); }
    [[nodiscard]] std::uint32_t capacity() const noexcept { return slots_.capacity(); }
    [[nodiscard]] std::size_t footprint() const noexcept { return slots_.footprint(); }
    [[nodiscard]] static constexpr std::size_t cell_size() noexcept { return slab_type::cell_size(); }

    [[nodiscard]] connection_handle handle_of(std::uint32_t s) const noexcept { return {s, slots_.generation(s)}; }
    // The slot a handle names, whoever owns it now (for reading).
    [[nodiscard]] const slot* named(connection_handle h) const noexcept {
        return slots_.live(h.index) && slots_.generation(h.index) == h.generation ? &slots_[h.index] : nullptr;
    }
    // The slot a handle names if the application still owns it (for acting).
    [[nodiscard]] slot* owned(connection_handle h) noexcept {
        return const_cast<slot*>(std::as_const(*this).owned(h));
    }
    [[nodiscard]] const slot* owned(connection_handle h) const noexcept {
        const slot* s = named(h);
        return s != nullptr && (s->flags & user_owned) ? s : nullptr;
    }

    // New events for the slot; queued for next_event() once the application owns it.
    void report(std::uint32_t s, connection_events events) noexcept {
        slot& sl = slots_[s];
        sl.pending |= events;
        if (!sl.pending.empty() && (sl.flags & user_owned)) mark_ready(s);
    }
    void mark_ready(std::uint32_t s) noexcept {
        slot& sl = slots_[s];
        if (sl.flags & in_ready) return;
        sl.flags |= in_ready;
        sl.ready_next = none;
        if (ready_tail_ != none && ready_ != none) slots_[ready_tail_].ready_next = s;
        else ready_ = s;
        ready_tail_ = s;
    }
    // The first slot in the FIFO, taken out of it; `none` when empty.
    std::uint32_t pop_ready() noexcept {
        if (ready_ == none) return none;
        const std::uint32_t s = ready_;
        ready_ = slots_[s].ready_next;
        slots_[s].flags &= ~in_ready;
        return s;
    }

private:
    void unlink_ready(std::uint32_t s) noexcept {
        if (!(slots_[s].flags & in_ready)) return;
        std::uint32_t prev = none;
        for (std::uint32_t i = ready_; i != none; prev = i, i = slots_[i].ready_next) {
            if (i != s) continue;
            if (prev == none) ready_ = slots_[i].ready_next;
            else slots_[prev].ready_next = slots_[i].ready_next;
            if (ready_tail_ == s) ready_tail_ = prev;
            break;
        }
        slots_[s].flags &= ~in_ready;
    }

    slab_type slots_;
    std::uint32_t ready_ = none, ready_tail_ = none;
};

}  // namespace tcpcore
