#pragma once
// The demultiplexing table: 4-tuple -> a 32-bit value (a slab index, tagged
// for TIME-WAIT entries). Open addressing with linear probing over a
// power-of-two array of {hash, value} pairs; the keys themselves live in the
// objects the values name, so the table costs 8 bytes a slot. Kept at most
// half full, so a lookup touches one or two cache lines; it grows (the only
// time it allocates) by doubling.

#include <tcpcore/policies/allocator.hpp>
#include <tcpcore/wire/ip_address.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace tcpcore::detail {

// A seeded mix of the 36 bytes of a 4-tuple. The seed is per endpoint (and
// random unless a test fixes it) so that a peer choosing ports cannot
// predict collisions.
inline std::uint64_t hash_tuple(const four_tuple& t, std::uint64_t seed) noexcept {
    auto mix = [](std::uint64_t a, std::uint64_t b) noexcept {
        const unsigned __int128 m = static_cast<unsigned __int128>(a) * b;
        return static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64);
    };
    std::uint64_t w[4];
    std::memcpy(&w[0], t.local.address.bytes().data(), 8);
    std::memcpy(&w[1], t.local.address.bytes().data() + 8, 8);
    std::memcpy(&w[2], t.remote.address.bytes().data(), 8);
    std::memcpy(&w[3], t.remote.address.bytes().data() + 8, 8);
    const std::uint64_t ports = (std::uint64_t{t.local.port} << 16) | t.remote.port;
    std::uint64_t h = mix(w[0] ^ seed ^ 0xa0761d6478bd642full, w[1] ^ 0xe7037ed1a0b428dbull);
    h = mix(h ^ w[2], w[3] ^ 0x8ebc6af09c88c6e3ull);
    return mix(h ^ ports, seed ^ 0x589965cc75374cc3ull);
}

template <allocator_policy Alloc>
class flow_table {
public:
    static constexpr std::uint32_t empty = 0xffffffffu;
    static constexpr std::uint32_t removed = 0xfffffffeu;

    explicit flow_table(Alloc alloc = {}, std::uint64_t seed = 0) noexcept : alloc_(std::move(alloc)), seed_(seed) {}
    flow_table(const flow_table&) = delete;
    flow_table& operator=(const flow_table&) = delete;
    ~flow_table() {
        if (slots_ != nullptr) alloc_.deallocate(slots_, sizeof(entry) * capacity_, alignof(entry));
    }

    [[nodiscard]] std::uint64_t hash(const four_tuple& t) const noexcept { return hash_tuple(t, seed_); }

    // The value whose key (read back through key_of(value)) equals t, or `empty`.
    template <class KeyOf>
    [[nodiscard]] std::uint32_t find(const four_tuple& t, KeyOf&& key_of) const noexcept {
        if (size_ == 0) return empty;
        const std::uint64_t h = hash(t);
        const auto tag = static_cast<std::uint32_t>(h);
        for (std::size_t i = h & (capacity_ - 1);; i = (i + 1) & (capacity_ - 1)) {
            const entry& e = slots_[i];
            if (e.value == empty) return empty;
            if (e.value != removed && e.tag == tag && key_of(e.value) == t) return e.value;
        }
    }

    // Adds t -> value (t must not be present). False when growing failed.
    template <class KeyOf>
    bool insert(const four_tuple& t, std::uint32_t value, KeyOf&& key_of) noexcept {
        if ((size_ + removed_ + 1) * 2 > capacity_) {
            // Full of live entries: double. Full mostly of tombstones: clean
            // them out at the same size.
            const std::size_t next = capacity_ == 0 ? 64 : (size_ + 1) * 4 > capacity_ ? capacity_ * 2 : capacity_;
            if (!rehash(next, key_of)) return false;
        }
        place(hash(t), value);
        ++size_;
        return true;
    }

    // Removes t (present, naming `value`).
    void erase(const four_tuple& t, std::uint32_t value) noexcept {
        const std::uint64_t h = hash(t);
        for (std::size_t i = h & (capacity_ - 1);; i = (i + 1) & (capacity_ - 1)) {
            entry& e = slots_[i];
            if (e.value == empty) return;
            if (e.value == value) {
                e.value = removed;
                --size_;
                ++removed_;
                return;
            }
        }
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t footprint() const noexcept { return sizeof(entry) * capacity_; }

private:
    struct entry {
        std::uint32_t tag;    // low bits of the hash: most mismatches end here
        std::uint32_t value;
    };

    void place(std::uint64_t h, std::uint32_t value) noexcept {
        for (std::size_t i = h & (capacity_ - 1);; i = (i + 1) & (capacity_ - 1)) {
            entry& e = slots_[i];
            if (e.value == empty || e.value == removed) {
                if (e.value == removed) --removed_;
                e = {static_cast<std::uint32_t>(h), value};
                return;
            }
        }
    }

    template <class KeyOf>
    bool rehash(std::size_t new_capacity, KeyOf& key_of) noexcept {
        auto* fresh = static_cast<entry*>(alloc_.allocate(sizeof(entry) * new_capacity, alignof(entry)));
        if (fresh == nullptr) return false;
        for (std::size_t i = 0; i < new_capacity; ++i) fresh[i] = {0, empty};
        entry* old = std::exchange(slots_, fresh);
        const std::size_t old_capacity = std::exchange(capacity_, new_capacity);
        removed_ = 0;
        for (std::size_t i = 0; i < old_capacity; ++i)
            if (old[i].value != empty && old[i].value != removed) place(hash(key_of(old[i].value)), old[i].value);
        if (old != nullptr) alloc_.deallocate(old, sizeof(entry) * old_capacity, alignof(entry));
        return true;
    }

    entry* slots_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t size_ = 0;
    std::size_t removed_ = 0;
    [[no_unique_address]] Alloc alloc_;
    std::uint64_t seed_;
};

}  // namespace tcpcore::detail
