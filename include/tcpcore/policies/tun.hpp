#pragma once
// A Linux TUN device as the endpoint's I/O policy: IP datagrams go out with a
// write(2) each and come in with read(2); the descriptor is non-blocking so an
// event loop (poll, epoll, Asio) can wait on it. An optional injector drops
// and reorders datagrams in both directions, deterministically from a seed,
// for tests over a real kernel.
//
//   auto tun = tcpcore::tun_device::open("tcpc0");      // needs CAP_NET_ADMIN
//   struct policies : tcpcore::default_policies { using io = tcpcore::tun_io; };
//   tcpcore::endpoint<policies> ep(*tcpcore::check(cfg), {.io = tcpcore::tun_io{&*tun}});
//   for (;;) { /* wait for tun->fd() or ep.next_deadline() */
//       tun->receive([&](auto datagram) { ep.receive_datagram(datagram); });
//       ep.poll(); }
//
// Linux only. Errors are std::error_code from errno; nothing throws.

#if !defined(__linux__)
#error "tcpcore/policies/tun.hpp needs Linux's /dev/net/tun"
#endif

#include <tcpcore/detail/expected.hpp>
#include <tcpcore/policies/io.hpp>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>  // glibc's ifreq, not <linux/if.h>, which clashes with it in one program
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace tcpcore {

// Drops and reorders datagrams with fixed probabilities, from a seed: the
// same seed gives the same impairments for the same traffic.
struct tun_impairment {
    double loss = 0.0;     // probability a datagram is lost, each direction
    double reorder = 0.0;  // probability a datagram is held back behind the next one
    std::uint64_t seed = 1;
};

class tun_device {
public:
    // Opens (creating if needed) the TUN interface `name`, without packet
    // information headers, non-blocking. Bringing it up and addressing it is
    // the caller's business (ip link / ip addr, or netlink).
    static expected<tun_device, std::error_code> open(std::string_view name) {
        if (name.size() >= IFNAMSIZ) return unexpected{std::make_error_code(std::errc::invalid_argument)};
        const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) return unexpected{std::error_code(errno, std::generic_category())};
        ifreq ifr{};
        ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
        std::memcpy(ifr.ifr_name, name.data(), name.size());
        if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
            const int e = errno;
            ::close(fd);
            return unexpected{std::error_code(e, std::generic_category())};
        }
        return tun_device(fd);
    }

    tun_device() noexcept = default;
    tun_device(tun_device&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)), impair_(o.impair_), rng_(o.rng_), held_out_(std::move(o.held_out_)),
          held_in_(std::move(o.held_in_)), stats_(o.stats_), error_(o.error_) {}
    tun_device& operator=(tun_device&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            impair_ = o.impair_;
            rng_ = o.rng_;
            held_out_ = std::move(o.held_out_);
            held_in_ = std::move(o.held_in_);
            stats_ = o.stats_;
            error_ = o.error_;
        }
        return *this;
    }
    tun_device(const tun_device&) = delete;
    tun_device& operator=(const tun_device&) = delete;
    ~tun_device() { close(); }

    [[nodiscard]] int fd() const noexcept { return fd_; }
    void impair(const tun_impairment& i) noexcept {
        impair_ = i;
        rng_ = i.seed ? i.seed : 1;
    }

    struct statistics {
        std::uint64_t sent = 0, received = 0, dropped_out = 0, dropped_in = 0, reordered = 0, write_errors = 0;
    };
    [[nodiscard]] const statistics& stats() const noexcept { return stats_; }

    // Writes one datagram to the kernel (through the injector).
    void send(std::span<const std::uint8_t> datagram) {
        if (lose()) {
            ++stats_.dropped_out;
            return;
        }
        if (hold(held_out_, datagram)) return;
        write_one(datagram);
        release(held_out_, [this](std::span<const std::uint8_t> d) { write_one(d); });
    }

    // Reads every datagram waiting and hands each to `deliver`; returns how
    // many were read (0: nothing waiting, or an error other than EAGAIN, in
    // which case last_error() says which).
    template <class Deliver>
    std::size_t receive(Deliver&& deliver) {
        std::size_t n = 0;
        std::uint8_t buf[65536];
        for (;;) {
            const ssize_t r = ::read(fd_, buf, sizeof buf);
            if (r < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) error_ = errno;
                break;
            }
            ++n;
            ++stats_.received;
            const std::span<const std::uint8_t> d(buf, static_cast<std::size_t>(r));
            if (lose()) {
                ++stats_.dropped_in;
                continue;
            }
            if (hold(held_in_, d)) continue;
            deliver(d);
            release(held_in_, deliver);
        }
        return n;
    }

    [[nodiscard]] std::error_code last_error() const noexcept {
        return error_ ? std::error_code(error_, std::generic_category()) : std::error_code{};
    }

private:
    explicit tun_device(int fd) noexcept : fd_(fd) {}

    void close() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    void write_one(std::span<const std::uint8_t> d) {
        if (::write(fd_, d.data(), d.size()) < 0) {
            ++stats_.write_errors;
            error_ = errno;
        } else {
            ++stats_.sent;
        }
    }

    // xorshift64*: enough randomness for impairments, and the same on every
    // standard library.
    double uniform() noexcept {
        rng_ ^= rng_ >> 12;
        rng_ ^= rng_ << 25;
        rng_ ^= rng_ >> 27;
        return static_cast<double>((rng_ * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
    }
    bool lose() noexcept { return impair_.loss > 0 && uniform() < impair_.loss; }

    // Holds one datagram back so that the next one overtakes it.
    bool hold(std::vector<std::uint8_t>& slot, std::span<const std::uint8_t> d) {
        if (impair_.reorder <= 0 || !slot.empty() || uniform() >= impair_.reorder) return false;
        slot.assign(d.begin(), d.end());
        ++stats_.reordered;
        return true;
    }
    template <class Out>
    void release(std::vector<std::uint8_t>& slot, Out&& out) {
        if (slot.empty()) return;
        std::vector<std::uint8_t> d;
        d.swap(slot);
        out(std::span<const std::uint8_t>(d));
    }

    int fd_ = -1;
    tun_impairment impair_{};
    std::uint64_t rng_ = 1;
    std::vector<std::uint8_t> held_out_, held_in_;
    statistics stats_{};
    int error_ = 0;
};

// The I/O policy: outgoing datagrams go to a TUN device the application owns.
struct tun_io {
    tun_device* device = nullptr;
    void send_datagram(std::span<const std::uint8_t> datagram) { device->send(datagram); }
};
static_assert(datagram_io<tun_io>);

}  // namespace tcpcore
