#pragma once
// The "many connections, exact answers" timer strategy: a binary min-heap
// with O(log n) schedule, cancel and pop and an exact next_deadline() in
// O(1). Also home to the allocator-backed storage and heap sifting that
// timing_wheel (timer_wheel.hpp) reuses for its due timers.

#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/policies/timer.hpp>
#include <tcpcore/rules/time.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace tcpcore {
namespace detail {

// Growable storage for trivially copyable elements. The owner keeps the
// allocator, so that several blocks share one and a block costs two words.
template <class T>
struct policy_block {
    static_assert(std::is_trivially_copyable_v<T>, "grown by copying bytes");

    T* data = nullptr;
    std::size_t capacity = 0;

    // Room for at least `needed` elements (of at most `most`), new ones set
    // to `fill`. Doubling keeps a run of growths O(1) amortised; if twice the
    // block cannot be had, the exact size is tried before giving up. On
    // failure nothing changes.
    template <allocator_policy Alloc>
    [[nodiscard]] bool grow_for(Alloc& alloc, std::size_t needed, const T& fill,
                                std::size_t most = std::size_t{1} << 32) noexcept {
        if (needed <= capacity) return true;
        const std::size_t doubled = std::min(std::max<std::size_t>(capacity * 2, 16), most);
        if (doubled > needed && resize(alloc, doubled, fill)) return true;
        return resize(alloc, needed, fill);
    }
    template <allocator_policy Alloc>
    [[nodiscard]] bool reserve(Alloc& alloc, std::size_t needed, const T& fill) noexcept {
        return needed <= capacity || resize(alloc, needed, fill);
    }
    template <allocator_policy Alloc>
    void release(Alloc& alloc) noexcept {
        if (data != nullptr) alloc.deallocate(data, capacity * sizeof(T), alignof(T));
        data = nullptr;
        capacity = 0;
    }
    [[nodiscard]] std::size_t bytes() const noexcept { return capacity * sizeof(T); }

private:
    template <allocator_policy Alloc>
    bool resize(Alloc& alloc, std::size_t new_capacity, const T& fill) noexcept {
        auto* fresh = static_cast<T*>(alloc.allocate(new_capacity * sizeof(T), alignof(T)));
        if (fresh == nullptr) return false;
        if (data != nullptr) std::uninitialized_copy_n(data, capacity, fresh);
        std::uninitialized_fill(fresh + capacity, fresh + new_capacity, fill);
        release(alloc);
        data = fresh;
        capacity = new_capacity;
        return true;
    }
};

// One element per timer id. Connection slots are dense from 0, but the
// endpoint gives TIME-WAIT entries ids with the top bit set: a second block
// indexed by the remaining bits keeps memory O(largest id in use) for both
// kinds instead of 2^31 elements for the first TIME-WAIT id.
template <class T>
struct per_id_block {
    static constexpr timer_id high_bit = 0x8000'0000u;

    policy_block<T> low;
    policy_block<T> high;

    [[nodiscard]] T* find(timer_id id) noexcept {
        policy_block<T>& half = (id & high_bit) != 0 ? high : low;
        const std::size_t index = id & ~high_bit;
        return index < half.capacity ? half.data + index : nullptr;
    }
    // For ids known to be stored (linked from a list or a heap).
    [[nodiscard]] T& operator[](timer_id id) noexcept { return *find(id); }
    [[nodiscard]] const T& operator[](timer_id id) const noexcept {
        const policy_block<T>& half = (id & high_bit) != 0 ? high : low;
        return half.data[id & ~high_bit];
    }

    template <allocator_policy Alloc>
    [[nodiscard]] bool grow_for(Alloc& alloc, timer_id id, const T& fill) noexcept {
        policy_block<T>& half = (id & high_bit) != 0 ? high : low;
        return half.grow_for(alloc, std::size_t{id & ~high_bit} + 1, fill, high_bit);
    }
    template <allocator_policy Alloc>
    [[nodiscard]] bool reserve(Alloc& alloc, std::size_t low_ids, std::size_t high_ids, const T& fill) noexcept {
        const bool low_ok = low.reserve(alloc, std::min<std::size_t>(low_ids, high_bit), fill);
        return high.reserve(alloc, std::min<std::size_t>(high_ids, high_bit), fill) && low_ok;
    }
    template <allocator_policy Alloc>
    void release(Alloc& alloc) noexcept {
        low.release(alloc);
        high.release(alloc);
    }
    [[nodiscard]] std::size_t bytes() const noexcept { return low.bytes() + high.bytes(); }
};

// Sifting for array-backed binary min-heaps whose elements must know where
// they are, so that a cancel can find them: `placed(element, index)` hears of
// every move. Each returns how many levels it moved, for step counters.
template <class T, class Less, class Placed>
std::uint32_t heap_sift_up(T* heap, std::size_t index, Less&& less, Placed&& placed) noexcept {
    const T moving = heap[index];
    std::uint32_t levels = 0;
    while (index > 0) {
        const std::size_t parent = (index - 1) / 2;
        if (!less(moving, heap[parent])) break;
        heap[index] = heap[parent];
        placed(heap[index], index);
        index = parent;
        ++levels;
    }
    heap[index] = moving;
    placed(moving, index);
    return levels;
}

template <class T, class Less, class Placed>
std::uint32_t heap_sift_down(T* heap, std::size_t size, std::size_t index, Less&& less, Placed&& placed) noexcept {
    const T moving = heap[index];
    std::uint32_t levels = 0;
    for (;;) {
        std::size_t child = 2 * index + 1;
        if (child >= size) break;
        if (child + 1 < size && less(heap[child + 1], heap[child])) ++child;
        if (!less(heap[child], moving)) break;
        heap[index] = heap[child];
        placed(heap[index], index);
        index = child;
        ++levels;
    }
    heap[index] = moving;
    placed(moving, index);
    return levels;
}

// After heap[index] changed key, in either direction.
template <class T, class Less, class Placed>
std::uint32_t heap_restore(T* heap, std::size_t size, std::size_t index, Less&& less, Placed&& placed) noexcept {
    if (index > 0 && less(heap[index], heap[(index - 1) / 2])) return heap_sift_up(heap, index, less, placed);
    return heap_sift_down(heap, size, index, less, placed);
}

// Removes heap[index]; the caller forgets the removed element's position.
template <class T, class Less, class Placed>
std::uint32_t heap_erase(T* heap, std::size_t& size, std::size_t index, Less&& less, Placed&& placed) noexcept {
    --size;
    if (index == size) return 0;
    heap[index] = heap[size];
    return heap_restore(heap, size, index, less, placed);
}

}  // namespace detail

// Entries live in the heap array with their keys, so sifting compares
// without chasing ids; a per-id position lets cancel and reschedule find an
// entry in O(1) before the O(log n) repair.
//
// Memory: 4 bytes per id up to the largest id in use (two halves, see
// per_id_block), plus 24 bytes per timer for the most timers ever scheduled
// at once. Growth allocates; reserve() ahead of time makes schedule()
// allocation-free for the reserved ids, and nothing else ever allocates.
template <allocator_policy Alloc = std_allocator>
class timer_heap {
public:
    timer_heap() noexcept = default;
    explicit timer_heap(Alloc alloc) noexcept : alloc_(std::move(alloc)) {}
    timer_heap(const timer_heap&) = delete;
    timer_heap& operator=(const timer_heap&) = delete;
    timer_heap(timer_heap&& other) noexcept
        : alloc_(std::move(other.alloc_)),
          positions_(std::exchange(other.positions_, {})),
          entries_(std::exchange(other.entries_, {})),
          size_(std::exchange(other.size_, 0)),
          sequence_(other.sequence_),
          steps_(other.steps_) {}
    timer_heap& operator=(timer_heap&& other) noexcept {
        if (this != &other) {
            release();
            alloc_ = std::move(other.alloc_);
            positions_ = std::exchange(other.positions_, {});
            entries_ = std::exchange(other.entries_, {});
            size_ = std::exchange(other.size_, 0);
            sequence_ = other.sequence_;
            steps_ = other.steps_;
        }
        return *this;
    }
    ~timer_heap() { release(); }

    // Sets or moves id's deadline; `never` cancels. Returns false, changing
    // nothing, when storage for a new id could not be grown (never for ids
    // covered by reserve()). Rescheduling counts as a new schedule for the
    // tie order, as in timer_list.
    bool schedule(timer_id id, time_point when) noexcept {
        if (when == never) {
            cancel(id);
            return true;
        }
        if (!positions_.grow_for(alloc_, id, not_scheduled)) return false;
        const std::uint32_t position = positions_[id];
        const entry fresh{when.time_since_epoch().count(), ++sequence_, id};
        if (position != not_scheduled) {
            entries_.data[position] = fresh;
            steps_ += 1 + detail::heap_restore(entries_.data, size_, position, earlier, placed());
            return true;
        }
        if (!entries_.grow_for(alloc_, size_ + 1, entry{})) return false;
        entries_.data[size_] = fresh;
        ++size_;
        steps_ += 1 + detail::heap_sift_up(entries_.data, size_ - 1, earlier, placed());
        return true;
    }

    void cancel(timer_id id) noexcept {
        std::uint32_t* position = positions_.find(id);
        if (position == nullptr || *position == not_scheduled) return;
        const std::size_t index = std::exchange(*position, not_scheduled);
        steps_ += 1 + detail::heap_erase(entries_.data, size_, index, earlier, placed());
    }

    // Exact: the earliest deadline, or `never` when nothing is scheduled.
    [[nodiscard]] time_point next_deadline() const noexcept {
        return size_ == 0 ? never : time_point{duration{entries_.data[0].deadline}};
    }

    std::optional<timer_id> pop_expired(time_point now) noexcept {
        if (size_ == 0 || entries_.data[0].deadline > now.time_since_epoch().count()) return std::nullopt;
        const timer_id id = entries_.data[0].id;
        positions_[id] = not_scheduled;
        steps_ += 1 + detail::heap_erase(entries_.data, size_, 0, earlier, placed());
        return id;
    }

    // Storage for ids [0, ids) and [2^31, 2^31 + high_bit_ids), and room for
    // all of them to be scheduled at once. False if any of it could not be had
    // (what could be had is kept).
    [[nodiscard]] bool reserve(std::size_t ids, std::size_t high_bit_ids = 0) noexcept {
        const bool positions_ok = positions_.reserve(alloc_, ids, high_bit_ids, not_scheduled);
        return entries_.reserve(alloc_, ids + high_bit_ids, entry{}) && positions_ok;
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    // Bytes held from the allocator.
    [[nodiscard]] std::size_t memory_used() const noexcept { return positions_.bytes() + entries_.bytes(); }
    // Work done since construction: one per call plus one per heap level an
    // entry moved. Lets tests bound the cost per operation without a clock.
    [[nodiscard]] std::uint64_t steps() const noexcept { return steps_; }

private:
    struct entry {
        std::int64_t deadline;   // microseconds since the epoch
        std::uint64_t sequence;  // orders equal deadlines by scheduling order
        timer_id id;
    };
    static constexpr std::uint32_t not_scheduled = 0xffff'ffffu;

    static constexpr auto earlier = [](const entry& a, const entry& b) noexcept {
        return a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence);
    };
    [[nodiscard]] auto placed() noexcept {
        return [this](const entry& e, std::size_t index) noexcept {
            positions_[e.id] = static_cast<std::uint32_t>(index);
        };
    }

    void release() noexcept {
        positions_.release(alloc_);
        entries_.release(alloc_);
        size_ = 0;
    }

    [[no_unique_address]] Alloc alloc_{};
    detail::per_id_block<std::uint32_t> positions_;
    detail::policy_block<entry> entries_;
    std::size_t size_ = 0;
    std::uint64_t sequence_ = 0;
    std::uint64_t steps_ = 0;
};
static_assert(timer_policy<timer_heap<>>);

}  // namespace tcpcore
