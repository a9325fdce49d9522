#pragma once
// Storage for many objects of one kind, in chunks from an allocator policy:
// stable addresses, O(1) allocate and free through a free list, and memory
// requested only when a chunk fills, never per object. Objects are named by
// a dense index (which timer strategies and hash tables store instead of
// pointers) and a generation that makes stale handles detectable.

#include <tcpcore/detail/assert.hpp>
#include <tcpcore/policies/allocator.hpp>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace tcpcore::detail {

// Generations cost 4 bytes a cell; TIME-WAIT entries, which no handle
// names, do without them.
template <class T, allocator_policy Alloc, std::size_t ChunkBits = 10, bool Generations = true>
class slab {
public:
    static constexpr std::uint32_t chunk_size = 1u << ChunkBits;
    static constexpr std::uint32_t none = 0xffffffffu;

    explicit slab(Alloc alloc = {}) noexcept : alloc_(std::move(alloc)) {}
    slab(const slab&) = delete;
    slab& operator=(const slab&) = delete;
    ~slab() {
        for (std::uint32_t i = 0; i < capacity_; ++i)
            if (cell(i).live) std::destroy_at(object(i));
        for (std::uint32_t c = 0; c < chunk_count_; ++c)
            alloc_.deallocate(chunks_[c], sizeof(cell_type) * chunk_size, alignof(cell_type));
        if (chunks_ != nullptr) alloc_.deallocate(chunks_, sizeof(cell_type*) * chunk_table_size_, alignof(cell_type*));
    }

    // Constructs a T from args in a free cell and returns its index, or
    // `none` when memory runs out.
    template <class... Args>
    std::uint32_t emplace(Args&&... args) {
        if (free_ == none && !grow()) return none;
        const std::uint32_t i = free_;
        cell_type& c = cell(i);
        free_ = c.next_free;
        ::new (static_cast<void*>(c.storage)) T(std::forward<Args>(args)...);
        c.live = true;
        ++size_;
        return i;
    }

    void erase(std::uint32_t i) noexcept {
        cell_type& c = cell(i);
        TCPCORE_ASSERT(c.live);
        std::destroy_at(object(i));
        c.live = false;
        if constexpr (Generations) ++c.generation;
        c.next_free = free_;
        free_ = i;
        --size_;
    }

    [[nodiscard]] T& operator[](std::uint32_t i) noexcept { return *object(i); }
    [[nodiscard]] const T& operator[](std::uint32_t i) const noexcept { return *object(i); }
    [[nodiscard]] bool live(std::uint32_t i) const noexcept { return i < capacity_ && cell(i).live; }
    [[nodiscard]] std::uint32_t generation(std::uint32_t i) const noexcept {
        if constexpr (Generations) return cell(i).generation;
        else return 0;
    }
    [[nodiscard]] std::uint32_t size() const noexcept { return size_; }
    [[nodiscard]] std::uint32_t capacity() const noexcept { return capacity_; }
    // Bytes requested from the allocator so far.
    [[nodiscard]] std::size_t footprint() const noexcept {
        return std::size_t{chunk_count_} * sizeof(cell_type) * chunk_size + sizeof(cell_type*) * chunk_table_size_;
    }
    // Bytes one object takes in its chunk (the object and its bookkeeping).
    [[nodiscard]] static constexpr std::size_t cell_size() noexcept { return sizeof(cell_type); }

private:
    struct no_generation {};
    struct cell_type {
        alignas(T) unsigned char storage[sizeof(T)];
        [[no_unique_address]] std::conditional_t<Generations, std::uint32_t, no_generation> generation{};
        std::uint32_t next_free = none;
        bool live = false;
    };

    [[nodiscard]] cell_type& cell(std::uint32_t i) noexcept { return chunks_[i >> ChunkBits][i & (chunk_size - 1)]; }
    [[nodiscard]] const cell_type& cell(std::uint32_t i) const noexcept {
        return chunks_[i >> ChunkBits][i & (chunk_size - 1)];
    }
    [[nodiscard]] T* object(std::uint32_t i) noexcept { return std::launder(reinterpret_cast<T*>(cell(i).storage)); }
    [[nodiscard]] const T* object(std::uint32_t i) const noexcept {
        return std::launder(reinterpret_cast<const T*>(cell(i).storage));
    }

    bool grow() noexcept {
        if (capacity_ > none - chunk_size) return false;
        if (chunk_count_ == chunk_table_size_) {
            const std::uint32_t bigger = chunk_table_size_ == 0 ? 16 : chunk_table_size_ * 2;
            auto** table = static_cast<cell_type**>(alloc_.allocate(sizeof(cell_type*) * bigger, alignof(cell_type*)));
            if (table == nullptr) return false;
            for (std::uint32_t c = 0; c < chunk_count_; ++c) table[c] = chunks_[c];
            if (chunks_ != nullptr)
                alloc_.deallocate(chunks_, sizeof(cell_type*) * chunk_table_size_, alignof(cell_type*));
            chunks_ = table;
            chunk_table_size_ = bigger;
        }
        auto* chunk = static_cast<cell_type*>(alloc_.allocate(sizeof(cell_type) * chunk_size, alignof(cell_type)));
        if (chunk == nullptr) return false;
        for (std::uint32_t k = 0; k < chunk_size; ++k) {
            ::new (static_cast<void*>(&chunk[k])) cell_type{};
            // Free cells chain in index order, lowest first.
            chunk[k].next_free = k + 1 < chunk_size ? capacity_ + k + 1 : free_;
        }
        chunks_[chunk_count_++] = chunk;
        free_ = capacity_;
        capacity_ += chunk_size;
        return true;
    }

    cell_type** chunks_ = nullptr;
    std::uint32_t chunk_count_ = 0;
    std::uint32_t chunk_table_size_ = 0;
    std::uint32_t capacity_ = 0;
    std::uint32_t size_ = 0;
    std::uint32_t free_ = none;
    [[no_unique_address]] Alloc alloc_;
};

}  // namespace tcpcore::detail
