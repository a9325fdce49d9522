#pragma once
// The Allocator policy: where tcpcore's memory comes from. It is asked for
// memory only when something is created, never per segment:
//   - each connection's send and receive buffers (when the connection opens);
//   - the endpoint's connection slots, TIME-WAIT entries, demultiplexing
//     table and timer storage (when they grow).
// allocate() returns nullptr when memory runs out; tcpcore then refuses the
// operation with std::errc::not_enough_memory and changes nothing.

#include <concepts>
#include <cstddef>
#include <memory>
#include <memory_resource>
#include <new>

namespace tcpcore {

template <class A>
concept allocator_policy = requires(A& a, std::size_t bytes, std::size_t alignment, void* p) {
    { a.allocate(bytes, alignment) } noexcept -> std::same_as<void*>;
    { a.deallocate(p, bytes, alignment) } noexcept;
};

namespace detail {
// The standard allocators report exhaustion by throwing; tcpcore's core is
// exception-free, so the throw becomes nullptr where exceptions exist at all.
template <class F>
void* allocate_or_null(F&& f) noexcept {
#if defined(__cpp_exceptions)
    try {
        return f();
    } catch (...) {
        return nullptr;
    }
#else
    return f();
#endif
}
}  // namespace detail

// Backed by std::allocator<std::byte> (operator new).
class std_allocator {
public:
    [[nodiscard]] void* allocate(std::size_t bytes, std::size_t alignment) noexcept {
        return detail::allocate_or_null([&]() -> void* {
            return ::operator new(bytes, std::align_val_t{alignment});
        });
    }
    void deallocate(void* p, std::size_t bytes, std::size_t alignment) noexcept {
        (void)bytes;  // sized delete needs -fsized-deallocation on clang 14
        ::operator delete(p, std::align_val_t{alignment});
    }
};
static_assert(allocator_policy<std_allocator>);

// Backed by a std::pmr::memory_resource: an arena (monotonic_buffer_resource),
// a pool, or anything else the application provides. Defaults to
// std::pmr::get_default_resource().
class pmr_allocator {
public:
    pmr_allocator() noexcept : resource_(std::pmr::get_default_resource()) {}
    explicit pmr_allocator(std::pmr::memory_resource* resource) noexcept : resource_(resource) {}

    [[nodiscard]] void* allocate(std::size_t bytes, std::size_t alignment) noexcept {
        return detail::allocate_or_null([&] { return resource_->allocate(bytes, alignment); });
    }
    void deallocate(void* p, std::size_t bytes, std::size_t alignment) noexcept {
        resource_->deallocate(p, bytes, alignment);
    }
    [[nodiscard]] std::pmr::memory_resource* resource() const noexcept { return resource_; }

private:
    std::pmr::memory_resource* resource_;
};
static_assert(allocator_policy<pmr_allocator>);

}  // namespace tcpcore
