// Two hosts, each a socket layer (no waiting: every socket acts as a
// non-blocking one), talking through a network the fuzz input runs. The
// input is a sequence of socket calls (socket, bind, listen, accept, connect,
// send/sendv, recv/recvv, shutdown, close, fcntl, ioctl, getsockname,
// getpeername, setsockopt, getsockopt, poll, epoll_create, epoll_ctl,
// epoll_wait, sync) on a handful of descriptors, valid or not, with every
// option Linux names plus random ones and values of every size; and of what
// the network does (deliver, drop, duplicate, reorder, hold, corrupt), when
// time moves and when memory runs out. A repeat command runs the commands
// before it again, so that short inputs make long sequences and reach the
// deep states (established with data both ways, closing, TIME-WAIT).
//
// Checked, in every build:
//   - every call succeeds or fails with a Linux errno from the call's set
//     (the errno_set tables below), and answers EBADF for a descriptor that
//     is not open, ENOTSOCK for an epoll set where a socket is wanted;
//   - new descriptors are the lowest free ones, and EMFILE comes only when
//     none is free; valid socket()/epoll_create() arguments then succeed;
//   - a setsockopt that fails changes nothing (every option of the socket
//     reads the same bytes before and after), one that succeeds reads back
//     as Linux would report it, and a value Linux refuses is refused;
//   - getsockopt writes at most the room it was given and says how much;
//   - received bytes are the bytes the peer's socket sent, in order and no
//     more, while the network is honest; MSG_PEEK shows the bytes recv then
//     returns; getpeername names the peer the connection was made with;
//   - connect() on a socket that is connected (accepted, or whose connect()
//     reported success) answers EISCONN, as Linux's SS_CONNECTED does;
//   - poll and epoll report only the bits asked for plus POLLERR/POLLHUP,
//     among those Linux's tcp_poll reports, and epoll only registered
//     descriptors; epoll_ctl follows its interest list;
//   - the endpoints only send well-formed datagrams, keep their timers in
//     the future once they ran, and give all their memory back; once every
//     socket is closed and every connection gone, the layer's per-socket
//     configurations are free again.

#include "fuzz_network.hpp"
#include "fuzz_support.hpp"

#include <tcpcore/socket.hpp>
#include <tcpcore/wire/format.hpp>
#include <tcpcore/wire/ip.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

using namespace tcpcore;
using tcpcore::fuzz::byte_reader;

namespace {

constexpr int hosts = 2;
// Work per input is bounded: an input past a limit stops being run (it is
// not a failure).
constexpr std::uint64_t max_deliveries = 20000;
constexpr std::uint64_t max_commands = 20000;
constexpr std::uint64_t max_payload = std::uint64_t{4} << 20;  // bytes the applications write
constexpr std::uint64_t max_steps = 200000;                    // moments the network and timers are run at
constexpr int max_repeat_depth = 3;
constexpr std::uint64_t final_allowance = 20000;  // deliveries and steps more, for closing everything at the end

// ---- Errors each call may give --------------------------------------------
// Linux's errno values for the call (its manual page and the kernel), and
// the socket layer's documented additions: EBUSY and ENOBUFS from options
// that change a socket's buffer sizes, ECONNABORTED from connect() after an
// attempt that failed without a cause, ENOTSOCK from ioctl() on an epoll set
// (Linux: ENOTTY) and EPERM from epoll_ctl() adding an epoll set (Linux
// nests them).
class errno_set {
public:
    constexpr errno_set(std::initializer_list<int> values) noexcept {
        for (const int v : values) bits_[static_cast<std::size_t>(v) / 64] |= std::uint64_t{1} << (v % 64);
    }
    [[nodiscard]] constexpr bool has(int v) const noexcept {
        return v > 0 && v < 192 && ((bits_[static_cast<std::size_t>(v) / 64] >> (v % 64)) & 1u) != 0;
    }

private:
    std::array<std::uint64_t, 3> bits_{};
};

// What a failed connection reports (sock_error(); a RST in CLOSE-WAIT is EPIPE).
#define CONNECTION_ERRORS ECONNRESET, ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EPIPE
constexpr errno_set e_socket{EAFNOSUPPORT, EPROTONOSUPPORT, ESOCKTNOSUPPORT, EINVAL, EMFILE, ENFILE, ENOBUFS, ENOMEM,
                             EACCES};
constexpr errno_set e_close{EBADF, EINTR, EIO};
constexpr errno_set e_fcntl{EBADF, EINVAL};
constexpr errno_set e_bind{EBADF, ENOTSOCK, EINVAL, EAFNOSUPPORT, EADDRINUSE, EADDRNOTAVAIL, EACCES};
constexpr errno_set e_listen{EBADF, ENOTSOCK, EOPNOTSUPP, EADDRINUSE, EINVAL, ENOBUFS, ENOMEM};
constexpr errno_set e_accept{EBADF, ENOTSOCK, EINVAL, EAGAIN, EOPNOTSUPP, EMFILE, ENFILE, ENOBUFS, ECONNABORTED, EPROTO,
                             EPERM, ENOMEM};
constexpr errno_set e_connect{EBADF, ENOTSOCK, EAFNOSUPPORT, EINVAL, EISCONN, EALREADY, EINPROGRESS, EADDRNOTAVAIL,
                              EADDRINUSE, EAGAIN, EACCES, EPERM, ECONNABORTED, ENOBUFS, ENOMEM, CONNECTION_ERRORS};
constexpr errno_set e_send{EBADF, ENOTSOCK, EOPNOTSUPP, EAGAIN, ENOTCONN, EINVAL, EMSGSIZE, ENOBUFS, ENOMEM,
                           EDESTADDRREQ, EISCONN, CONNECTION_ERRORS};
constexpr errno_set e_recv{EBADF, ENOTSOCK, EINVAL, EAGAIN, ENOTCONN, ENOMEM, CONNECTION_ERRORS};
constexpr errno_set e_shutdown{EBADF, ENOTSOCK, EINVAL, ENOTCONN};
constexpr errno_set e_ioctl{EBADF, ENOTSOCK, ENOTTY, EINVAL};
constexpr errno_set e_name{EBADF, ENOTSOCK, ENOTCONN, EINVAL, ENOBUFS};
constexpr errno_set e_setsockopt{EBADF, ENOTSOCK, EINVAL, ENOPROTOOPT, EDOM, ENOENT, EPERM, EBUSY, ENOBUFS, ENOMEM,
                                 EISCONN, EOPNOTSUPP};
constexpr errno_set e_getsockopt{EBADF, ENOTSOCK, ENOPROTOOPT, EINVAL, EOPNOTSUPP};
constexpr errno_set e_poll{EINVAL, ENOMEM, EINTR};
constexpr errno_set e_epoll_create{EINVAL, EMFILE, ENFILE, ENOMEM};
constexpr errno_set e_epoll_ctl{EBADF, EEXIST, EINVAL, ELOOP, ENOENT, ENOMEM, ENOSPC, EPERM};
constexpr errno_set e_epoll_wait{EBADF, EINTR, EINVAL};
#undef CONNECTION_ERRORS

[[nodiscard]] bool is(const std::error_code& e, int value) noexcept {
    return e.value() == value && e.category() == std::generic_category();
}

void check_error(const char* call, const std::error_code& e, const errno_set& allowed) {
    if (!e) return;
    if (e.category() == std::generic_category() && allowed.has(e.value())) return;
    std::fprintf(stderr, "%s failed with %s (%d, %s): not an error it may give\n", call, e.message().c_str(), e.value(),
                 e.category().name());
    fuzz::check_failed("the call's errno set", __FILE__, __LINE__);
}

// Every poll/epoll bit Linux's tcp_poll() may report (no urgent data is kept).
constexpr std::uint32_t poll_reportable = sock::pollin | sock::pollout | sock::pollerr | sock::pollhup |
                                          sock::pollrdnorm | sock::pollwrnorm | sock::pollrdhup;
constexpr std::uint32_t epoll_flags = sock::epollet | sock::epolloneshot | sock::epollexclusive | sock::epollwakeup;

// The harness's own loops over stream bytes: uninstrumented under libFuzzer,
// where they would otherwise cost more than the code under test.
#if defined(__clang__)
#define HARNESS_LOOP __attribute__((no_sanitize("coverage")))
#else
#define HARNESS_LOOP
#endif

HARNESS_LOOP void fill_stream(std::span<std::uint8_t> out, std::uint32_t from) noexcept {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = fuzz::stream_byte(from + static_cast<std::uint32_t>(i));
}
// Where `bytes` first differs from the stream at `from`, or bytes.size().
HARNESS_LOOP std::size_t stream_mismatch(std::span<const std::uint8_t> bytes, std::uint32_t from) noexcept {
    for (std::size_t i = 0; i < bytes.size(); ++i)
        if (bytes[i] != fuzz::stream_byte(from + static_cast<std::uint32_t>(i))) return i;
    return bytes.size();
}

// ---- The network ------------------------------------------------------------

struct network;

// The I/O policy: datagrams go to the network, which checks each one.
struct queue_io {
    network* net = nullptr;
    int host = 0;
    void send_datagram(std::span<const std::uint8_t> datagram);
};

// The states connections reached (and, when tracing, the transitions).
struct state_tracer {
    std::uint32_t* reached = nullptr;
    int host = 0;
    void on_transition(connection_handle, const transition& t) {
        if (reached != nullptr) *reached |= 1u << static_cast<unsigned>(t.to);
        const std::string_view from = to_string(t.from), to = to_string(t.to), why = to_string(t.event);
        FUZZ_TRACE("  host %d: %.*s -> %.*s (%.*s)\n", host, static_cast<int>(from.size()), from.data(),
                   static_cast<int>(to.size()), to.data(), static_cast<int>(why.size()), why.data());
    }
};

template <class Timer, class Isn, class CC>
struct bundle : default_policies {
    using clock = manual_clock;
    using io = queue_io;
    using allocator = fuzz::fuzz_allocator;
    using timer = Timer;
    using isn = Isn;
    using congestion_control = CC;
    using tracer = state_tracer;
};

using packet = fuzz::queued_packet;

ip_address host_address(int h, bool v6) {
    const auto last = static_cast<std::uint8_t>(h + 1);
    return v6 ? ip_address::v6({0xfd00, 0, 0, 0, 0, 0, 0, last}) : ip_address::v4(10, 0, 0, last);
}

struct network : fuzz::datagram_network<hosts> {
    static int owner(const ip_address& a) {
        for (int h = 0; h < hosts; ++h)
            if (host_address(h, false) == a || host_address(h, true) == a) return h;
        return -1;
    }
    // What an endpoint sends must be a well-formed datagram with a TCP
    // segment whose checksum verifies, from one of its own addresses.
    void send(int from, std::span<const std::uint8_t> d) { route(from, d, owner, true); }
};

void queue_io::send_datagram(std::span<const std::uint8_t> datagram) { net->send(host, datagram); }

config make_config(std::uint8_t k0, std::uint8_t k1) {
    return fuzz::host_config(!(k0 & fuzz::sk_no_timestamps), !(k0 & fuzz::sk_no_sack), k1);
}

// ---- What the applications know of their descriptors ------------------------

enum class fd_kind : std::uint8_t { free, tcp, epoll };

struct epoll_registration {
    int fd;
    std::uint32_t events;
    std::uint64_t data;
};

struct fd_model {
    fd_kind kind = fd_kind::free;
    int family = 0;
    bool nonblocking = false;
    bool cloexec = false;
    // Linux's SS_CONNECTED: accepted, or connect() reported success. From
    // then on connect() answers EISCONN, whatever became of the connection.
    bool connected = false;
    // The connection the socket has (or had): the bytes we wrote into it and
    // read from it, and what MSG_PEEK showed that recv has not taken yet.
    bool stream = false;
    std::uint32_t sent = 0;
    std::uint32_t received = 0;
    std::optional<socket_address> local, remote;  // the connection's ends, when known
    std::vector<std::uint8_t> peeked;
    std::vector<epoll_registration> interest;  // an epoll set's
};

using tuple_key = std::array<std::uint8_t, 36>;
tuple_key key_of(const socket_address& local, const socket_address& remote) {
    tuple_key k{};
    const auto a = local.address.bytes(), b = remote.address.bytes();
    for (std::size_t i = 0; i < 16; ++i) {
        k[i] = a[i];
        k[16 + i] = b[i];
    }
    k[32] = static_cast<std::uint8_t>(local.port >> 8);
    k[33] = static_cast<std::uint8_t>(local.port);
    k[34] = static_cast<std::uint8_t>(remote.port >> 8);
    k[35] = static_cast<std::uint8_t>(remote.port);
    return k;
}

// An option's value as getsockopt read it (or its error).
struct option_reading {
    std::error_code error;
    std::vector<std::byte> bytes;
    friend bool operator==(const option_reading&, const option_reading&) = default;
};

std::string describe(const std::error_code& e) { return e ? e.message() : std::string("ok"); }

template <class P>
class world {
public:
    using layer_type = socket_layer<P>;

    world(const std::uint8_t* data, std::size_t size)
        : data_(data), size_(size), top_(data, size), in_(&top_) {
        const std::uint8_t k0 = top_.u8(), k1 = top_.u8(), delay = top_.u8(), k3 = top_.u8();
        const std::uint32_t fate = top_.u32(), fail_mask = top_.u32();
        cfg_ = make_config(k0, k1);
        net_.delay = duration{1} + std::chrono::microseconds{10 * std::uint32_t{delay} * delay};
        net_.fate = fate;
        descriptors_ = (k0 & fuzz::sk_few_descriptors) ? 4 : fuzz::sk_descriptors;
        endpoint_options eo;
        eo.ephemeral_first = 40000;
        eo.ephemeral_last = static_cast<std::uint16_t>(40000 + (k3 & 0x0f));
        eo.max_time_wait = (k3 & 0x10) ? 1 : (k3 & 0x20) ? 0 : 1000;
        eo.hash_seed = 0x5eed;
        for (int h = 0; h < hosts; ++h) {
            if (k0 & fuzz::sk_alloc_failures) alloc_[h].fail_mask = h == 0 ? fail_mask : fail_mask >> 16 | fail_mask << 16;
            socket_layer_options o;
            o.max_sockets = static_cast<std::uint32_t>(descriptors_);
            if (k0 & fuzz::sk_small_somaxconn) o.somaxconn = 1;
            if (k0 & fuzz::sk_small_buffer_caps) o.wmem_max = o.rmem_max = 16384;
            if (k3 & 0x40) o.notsent_lowat = 4096;
            o.source_v4 = host_address(h, false);
            o.source_v6 = host_address(h, true);
            o.listen_defaults.syn_cookies =
                (k0 & fuzz::sk_cookies_always) ? syn_cookie_mode::always : syn_cookie_mode::when_backlog_full;
            o.listen_defaults.syn_backlog = 4;
            const fuzz::fuzz_allocator a{&alloc_[h]};
            layer_[h] = std::make_unique<layer_type>(
                check(cfg_).value(),
                typename layer_type::endpoint_type::parts{
                    .io = queue_io{&net_, h}, .clock = manual_clock{net_.now}, .isn = make_isn(h),
                    .timer = make_timers(a), .allocator = a, .cookies = syn_cookie_jar(cookie_key),
                    .tracer = state_tracer{&reached_, h}, .on_drop = {}, .options = eo},
                o);
        }
    }

    ~world() {
        for (int h = 0; h < hosts; ++h) {
            layer_[h].reset();
            // Connections, TIME-WAIT entries, listeners, tables, timers: all back.
            FUZZ_CHECK(alloc_[h].live.empty());
        }
    }

    void run() {
        while (!top_.empty() && !out_of_budget()) {
            const std::size_t index = history_.size();
            history_.push_back({position(), position()});
            command(index, 0);
            history_[index].end = position();
        }
        finish();
        if (fuzz::tracing()) {
            std::fprintf(stderr, "%llu commands; states reached:", static_cast<unsigned long long>(commands_));
            for (std::size_t i = 0; i < tcp_state_count; ++i) {
                const std::string_view name = to_string(static_cast<tcp_state>(i));
                if (reached_ & (1u << i)) std::fprintf(stderr, " %.*s", static_cast<int>(name.size()), name.data());
            }
            std::fprintf(stderr, "\n");
        }
    }


private:
    static constexpr secret_key cookie_key{0x0123456789abcdefull, 0xfedcba9876543210ull};

    static auto make_isn(int h) { return fuzz::host_isn<typename P::isn>(h); }
    static auto make_timers(const fuzz::fuzz_allocator& a) { return fuzz::host_timers<typename P::timer>(a); }

    byte_reader& in() { return *in_; }
    layer_type& L(int h) { return *layer_[h]; }
    [[nodiscard]] std::size_t position() const noexcept { return size_ - top_.remaining(); }
    [[nodiscard]] bool out_of_budget() const noexcept {
        return net_.deliveries > delivery_limit_ || commands_ > max_commands || payload_ > max_payload ||
               steps_ > max_steps;
    }

    // ---- Commands and repeats ----------------------------------------------------

    void command(std::size_t index, int depth) {
        namespace o = fuzz::sk_op;
        ++commands_;
        const std::uint8_t op = in().u8();
        const auto code = static_cast<std::uint8_t>((op & 0x7f) % o::count);
        if (code == o::repeat) {
            const std::uint8_t n = in().u8(), k = in().u8();
            if (depth < max_repeat_depth) replay(index, 1u + n % 16u, 1u + k % 32u, depth);
        } else {
            step(code);
        }
        if (op & 0x80) advance(std::chrono::milliseconds{100});
        for (int h = 0; h < hosts; ++h) check_host(h);
    }

    // The `n` commands before command `index`, `k` times more, each read
    // from its own bytes again (a repeat among them repeats in turn).
    void replay(std::size_t index, unsigned n, unsigned k, int depth) {
        const std::size_t first = index >= n ? index - n : 0;
        FUZZ_TRACE("repeat commands %zu..%zu, %u times\n", first, index, k);
        for (unsigned r = 0; r < k; ++r) {
            for (std::size_t j = first; j < index; ++j) {
                if (out_of_budget()) return;
                const span_record s = history_[j];
                byte_reader again(data_ + s.begin, s.end - s.begin);
                byte_reader* const outer = std::exchange(in_, &again);
                command(j, depth + 1);
                in_ = outer;
            }
        }
    }

    void step(std::uint8_t op) {
        namespace o = fuzz::sk_op;
        switch (op) {
            case o::socket: return do_socket();
            case o::bind: return do_bind();
            case o::listen: return do_listen();
            case o::accept: return do_accept();
            case o::connect: return do_connect();
            case o::send: return do_send(false);
            case o::sendv: return do_send(true);
            case o::recv: return do_recv(false);
            case o::recvv: return do_recv(true);
            case o::shutdown: return do_shutdown();
            case o::close: return do_close();
            case o::fcntl: return do_fcntl();
            case o::ioctl: return do_ioctl();
            case o::name: return do_name();
            case o::setsockopt: return do_setsockopt();
            case o::getsockopt: return do_getsockopt();
            case o::poll: return do_poll();
            case o::epoll_create: return do_epoll_create();
            case o::epoll_ctl: return do_epoll_ctl();
            case o::epoll_wait: return do_epoll_wait();
            case o::sync: {
                const int h = in().u8() & 1;
                FUZZ_TRACE("host %d: sync\n", h);
                L(h).sync();
                return;
            }
            case o::advance: {
                const std::uint8_t unit = in().u8();
                return advance(fuzz::time_step(unit, in().u8()));
            }
            case o::net: return do_net();
            case o::fate:
                net_.fate = in().u32();
                net_.fate_position = 0;
                return;
            case o::fail_alloc: {
                const std::uint8_t b = in().u8();
                alloc_[b & 1].fail_next = b >> 1;
                return;
            }
            default: return;
        }
    }

    // ---- Descriptors ------------------------------------------------------------------

    fd_model* model(int h, int fd) {
        if (fd < 3 || fd >= 3 + fuzz::sk_descriptors) return nullptr;
        return &fds_[h][static_cast<std::size_t>(fd - 3)];
    }
    bool open(int h, int fd) {
        const fd_model* m = model(h, fd);
        return m != nullptr && m->kind != fd_kind::free;
    }
    bool is_socket(int h, int fd) {
        const fd_model* m = model(h, fd);
        return m != nullptr && m->kind == fd_kind::tcp;
    }
    // The descriptor the next socket or epoll set gets: the lowest free one.
    std::optional<int> lowest_free(int h) {
        for (int i = 0; i < descriptors_; ++i)
            if (fds_[h][static_cast<std::size_t>(i)].kind == fd_kind::free) return 3 + i;
        return std::nullopt;
    }
    // A new descriptor must be the lowest free one; EMFILE only when none is.
    static void check_new_fd(const std::optional<int>& lowest, const expected<int, std::error_code>& r) {
        if (r) FUZZ_CHECK(lowest && *r == *lowest);
        else if (is(r.error(), EMFILE)) FUZZ_CHECK(!lowest);
    }
    fd_model& opened(int h, int fd, fd_kind kind) {
        fd_model& m = *model(h, fd);
        FUZZ_CHECK(m.kind == fd_kind::free);
        m = fd_model{};
        m.kind = kind;
        return m;
    }
    void closed(int h, int fd) {
        *model(h, fd) = fd_model{};
        for (auto& m : fds_[h])
            std::erase_if(m.interest, [fd](const epoll_registration& r) { return r.fd == fd; });
    }
    // A call that wants a socket: EBADF for a descriptor not open, ENOTSOCK for an epoll set.
    void expect_socket(int h, int fd, const std::error_code& e) {
        const fd_model* m = model(h, fd);
        if (m == nullptr || m->kind == fd_kind::free) FUZZ_CHECK(is(e, EBADF));
        else if (m->kind == fd_kind::epoll) FUZZ_CHECK(is(e, ENOTSOCK));
    }
    // A connection begins on `fd`, to `remote` (unknown: none).
    void new_stream(int h, int fd, const std::optional<socket_address>& remote) {
        fd_model& m = *model(h, fd);
        m.stream = true;
        m.sent = m.received = 0;
        m.peeked.clear();
        const auto local = L(h).getsockname(fd);
        FUZZ_CHECK(local.has_value());
        m.local = *local;
        m.remote = remote;
        if (!remote) {
            reused_tuple_ = true;  // its tuple is unknown: stop trusting streams
            return;
        }
        // A tuple used twice may carry the old connection's bytes into the new one.
        if (sent_on_.contains(key_of(*local, *remote))) reused_tuple_ = true;
        sent_on_[key_of(*local, *remote)] = 0;
    }

    // An AF_INET socket has IPv4 addresses; an AF_INET6 one IPv6 or, dual
    // stack, IPv4-mapped ones (which tcpcore holds as it holds IPv4).
    static bool family_fits(int family, const ip_address& a) { return family == sock::af_inet6 || a.is_v4(); }

    socket_address decode_address(int h, int fd, std::uint8_t a) {
        const fd_model* m = model(h, fd);
        const bool v6 = m != nullptr && m->family == sock::af_inet6;
        namespace s = fuzz::sk_addr;
        const std::uint8_t which = a & 7u;
        const bool fam6 = (which == s::peer_other || which == s::self_other || which == s::wildcard_other) ? !v6 : v6;
        ip_address address;
        switch (which) {
            case s::peer:
            case s::peer_other: address = host_address(1 - h, fam6); break;
            case s::self:
            case s::self_other: address = host_address(h, fam6); break;
            case s::stranger:
                address = fam6 ? ip_address::v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x66}) : ip_address::v4(192, 0, 2, 66);
                break;
            case s::loopback: address = fam6 ? ip_address::v6({0, 0, 0, 0, 0, 0, 0, 1}) : ip_address::v4(127, 0, 0, 1); break;
            default: address = fam6 ? ip_address{} : ip_address::v4(0, 0, 0, 0); break;
        }
        return {address, fuzz::sk_ports[(a >> 3) & 7u]};
    }
    static std::string text(const socket_address& a) {
        char buf[46];
        (void)format_address(a.address, buf);
        return std::string(buf) + ":" + std::to_string(a.port);
    }

    void do_socket() {
        const std::uint8_t b = in().u8();
        const int h = b & 1;
        const int domain = fuzz::sk_socket_domains[(b >> 1) & 3u];
        const int type = fuzz::sk_socket_types[(b >> 3) & 7u];
        const int protocol = fuzz::sk_socket_protocols[(b >> 6) & 3u];
        const auto expected_fd = lowest_free(h);
        const auto r = L(h).socket(domain, type, protocol);
        FUZZ_TRACE("host %d: socket(%d, %#x, %d) = %s\n", h, domain, static_cast<unsigned>(type), protocol,
                   r ? std::to_string(*r).c_str() : r.error().message().c_str());
        const bool valid = (domain == sock::af_inet || domain == sock::af_inet6) &&
                           (type & ~(sock::sock_nonblock | sock::sock_cloexec)) == sock::sock_stream &&
                           (protocol == 0 || protocol == sock::ipproto_tcp);
        check_new_fd(expected_fd, r);
        if (!r) {
            check_error("socket", r.error(), e_socket);
            FUZZ_CHECK(!valid || !expected_fd);  // valid arguments fail only when every descriptor is taken
            return;
        }
        FUZZ_CHECK(valid);
        fd_model& m = opened(h, *r, fd_kind::tcp);
        m.family = domain;
        m.nonblocking = (type & sock::sock_nonblock) != 0;
        m.cloexec = (type & sock::sock_cloexec) != 0;
    }

    void do_bind() {
        const std::uint8_t b = in().u8(), a = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const socket_address addr = decode_address(h, fd, a);
        const std::error_code e = L(h).bind(fd, addr);
        FUZZ_TRACE("host %d: bind(%d, %s): %s\n", h, fd, text(addr).c_str(), describe(e).c_str());
        check_error("bind", e, e_bind);
        expect_socket(h, fd, e);
    }

    void do_listen() {
        const std::uint8_t b = in().u8(), k = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const int backlog = fuzz::sk_backlogs[k & 7u];
        const std::error_code e = L(h).listen(fd, backlog);
        FUZZ_TRACE("host %d: listen(%d, %d): %s\n", h, fd, backlog, describe(e).c_str());
        check_error("listen", e, e_listen);
        expect_socket(h, fd, e);
    }

    void do_accept() {
        const std::uint8_t b = in().u8(), f = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const int flags = fuzz::sk_accept_flags[f & 3u];
        const bool ask_peer = (f & 4u) != 0;
        const auto expected_fd = lowest_free(h);
        socket_address peer{};
        const auto r = L(h).accept(fd, ask_peer ? &peer : nullptr, flags);
        FUZZ_TRACE("host %d: accept(%d, %#x) = %s\n", h, fd, static_cast<unsigned>(flags),
                   r ? std::to_string(*r).c_str() : r.error().message().c_str());
        check_new_fd(expected_fd, r);
        if (!r) {
            check_error("accept", r.error(), e_accept);
            expect_socket(h, fd, r.error());
            return;
        }
        FUZZ_CHECK(is_socket(h, fd));
        const int family = model(h, fd)->family;
        fd_model& m = opened(h, *r, fd_kind::tcp);
        m.family = family;
        m.nonblocking = (flags & sock::sock_nonblock) != 0;
        m.cloexec = (flags & sock::sock_cloexec) != 0;
        m.connected = true;
        std::optional<socket_address> remote;
        if (ask_peer) {
            FUZZ_CHECK(family_fits(family, peer.address));
            remote = peer;
        } else if (const auto p = L(h).getpeername(*r)) {
            remote = *p;
        } else {
            check_error("getpeername", p.error(), e_name);  // reset before it was accepted: no peer to name
        }
        new_stream(h, *r, remote);
    }

    void do_connect() {
        const std::uint8_t b = in().u8(), a = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const socket_address addr = decode_address(h, fd, a);
        const std::error_code e = L(h).connect(fd, addr);
        FUZZ_TRACE("host %d: connect(%d, %s): %s\n", h, fd, text(addr).c_str(), describe(e).c_str());
        check_error("connect", e, e_connect);
        expect_socket(h, fd, e);
        if (!is_socket(h, fd)) return;
        fd_model& m = *model(h, fd);
        // (The layer checks the address's family before the state, Linux after: for an address of the
        // other family either answer will do.)
        const bool other_family = addr.address.is_v4() != (m.family == sock::af_inet);
        if (m.connected && !is(e, EISCONN) && !(is(e, EAFNOSUPPORT) && other_family)) {
            std::fprintf(stderr, "connect(%d) on a connected socket answered %s, Linux EISCONN\n", fd, describe(e).c_str());
            fuzz::check_failed("connect on a connected socket is EISCONN", __FILE__, __LINE__);
        }
        if (!e) m.connected = true;
        // A connection begins (nothing blocks, so it is on its way).
        if (is(e, EINPROGRESS)) new_stream(h, fd, addr);
    }

    static int flags_of(std::uint8_t b, const int (&table)[8]) {
        int f = 0;
        for (unsigned i = 0; i < 8; ++i)
            if (b & (1u << i)) f |= table[i];
        return f;
    }

    // Lengths of sendv/recvv pieces (or one piece of u16 length).
    std::vector<std::size_t> piece_lengths(bool vectored) {
        std::vector<std::size_t> lengths;
        if (!vectored) {
            lengths.push_back(in().u16());
            return lengths;
        }
        const unsigned n = in().u8() & 7u;
        for (unsigned i = 0; i < n; ++i) lengths.push_back(fuzz::sk_piece_length(in().u8()));
        return lengths;
    }

    void do_send(bool vectored) {
        const std::uint8_t b = in().u8(), fb = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const int flags = flags_of(fb, fuzz::sk_send_flags);
        const std::vector<std::size_t> lengths = piece_lengths(vectored);
        std::size_t total = 0;
        for (const std::size_t n : lengths) total += n;
        payload_ += total;
        fd_model* m = model(h, fd);
        // The bytes matter only where a connection may take them.
        send_buffer_.resize(std::max(send_buffer_.size(), total));
        const std::span<std::uint8_t> data = std::span<std::uint8_t>(send_buffer_).first(total);
        if (m != nullptr && m->stream) fill_stream(data, m->sent);
        std::vector<std::span<const std::uint8_t>> pieces;
        std::size_t at = 0;
        for (const std::size_t n : lengths) {
            pieces.push_back(data.subspan(at, n));
            at += n;
        }
        const auto r = vectored ? L(h).sendv(fd, pieces, flags) : L(h).send(fd, pieces[0], flags);
        FUZZ_TRACE("host %d: send%s(%d, %zu, %#x) = %s\n", h, vectored ? "v" : "", fd, total,
                   static_cast<unsigned>(flags), r ? std::to_string(*r).c_str() : r.error().message().c_str());
        if (!r) {
            check_error(vectored ? "sendv" : "send", r.error(), e_send);
            expect_socket(h, fd, r.error());
            return;
        }
        FUZZ_CHECK(*r <= total);
        FUZZ_CHECK(*r != 0 || total == 0);  // nothing taken is EAGAIN
        if (*r == 0) return;
        FUZZ_CHECK(m != nullptr && m->stream);
        m->sent += static_cast<std::uint32_t>(*r);
        if (m->remote) sent_on_[key_of(*m->local, *m->remote)] = m->sent;
    }

    void do_recv(bool vectored) {
        const std::uint8_t b = in().u8(), fb = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const int flags = flags_of(fb, fuzz::sk_recv_flags);
        const std::vector<std::size_t> lengths = piece_lengths(vectored);
        std::size_t total = 0;
        for (const std::size_t n : lengths) total += n;
        recv_buffer_.resize(std::max(recv_buffer_.size(), total + guard_bytes));
        const std::span<std::uint8_t> data = std::span<std::uint8_t>(recv_buffer_).first(total + guard_bytes);
        std::fill(data.begin(), data.end(), std::uint8_t{0xa5});
        std::vector<std::span<std::uint8_t>> pieces;
        std::size_t at = 0;
        for (const std::size_t n : lengths) {
            pieces.push_back(data.subspan(at, n));
            at += n;
        }
        const auto r = vectored ? L(h).recvv(fd, pieces, flags) : L(h).recv(fd, pieces[0], flags);
        FUZZ_TRACE("host %d: recv%s(%d, %zu, %#x) = %s\n", h, vectored ? "v" : "", fd, total,
                   static_cast<unsigned>(flags), r ? std::to_string(r->bytes).c_str() : r.error().message().c_str());
        if (!r) {
            check_error(vectored ? "recvv" : "recv", r.error(), e_recv);
            expect_socket(h, fd, r.error());
            return;
        }
        const std::size_t n = r->bytes;
        FUZZ_CHECK(n <= total);
        if (r->inq) FUZZ_CHECK(*r->inq >= 0);
        // Nothing written past what was read (next to it, and past the buffers).
        for (std::size_t i = n; i < std::min(total, n + guard_bytes); ++i) FUZZ_CHECK(data[i] == 0xa5);
        for (std::size_t i = total; i < total + guard_bytes; ++i) FUZZ_CHECK(data[i] == 0xa5);
        if (n == 0) return;
        fd_model* m = model(h, fd);
        FUZZ_CHECK(m != nullptr && m->stream);
        received(*m, data.first(n), (flags & sock::msg_peek) != 0);
    }

    // Bytes a recv gave: the peer's stream from where we are, and the bytes
    // an earlier MSG_PEEK showed.
    void received(fd_model& m, std::span<const std::uint8_t> bytes, bool peek) {
        const std::size_t common = std::min(bytes.size(), m.peeked.size());
        for (std::size_t i = 0; i < common; ++i) FUZZ_CHECK(bytes[i] == m.peeked[i]);
        if (net_.honest && !reused_tuple_) {
            // The peer's bytes, in order, and no more than its socket sent.
            FUZZ_CHECK(stream_mismatch(bytes, m.received) == bytes.size());
            if (m.remote) {
                const auto peer = sent_on_.find(key_of(*m.remote, *m.local));
                FUZZ_CHECK(peer != sent_on_.end() && m.received + bytes.size() <= peer->second);
            }
        }
        if (peek) {
            if (bytes.size() > m.peeked.size()) m.peeked.assign(bytes.begin(), bytes.end());
            return;
        }
        m.peeked.erase(m.peeked.begin(), m.peeked.begin() + static_cast<std::ptrdiff_t>(common));
        m.received += static_cast<std::uint32_t>(bytes.size());
    }

    void do_shutdown() {
        const std::uint8_t b = in().u8(), w = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const int how = fuzz::sk_shutdown_how[w % 5u];
        const std::error_code e = L(h).shutdown(fd, how);
        FUZZ_TRACE("host %d: shutdown(%d, %d): %s\n", h, fd, how, describe(e).c_str());
        check_error("shutdown", e, e_shutdown);
        expect_socket(h, fd, e);
        if (!e) FUZZ_CHECK(how >= sock::shut_rd && how <= sock::shut_rdwr);
    }

    void do_close() {
        const std::uint8_t b = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const std::error_code e = L(h).close(fd);
        FUZZ_TRACE("host %d: close(%d): %s\n", h, fd, describe(e).c_str());
        check_error("close", e, e_close);
        if (open(h, fd)) {
            FUZZ_CHECK(!e);
            closed(h, fd);
        } else {
            FUZZ_CHECK(is(e, EBADF));
        }
    }

    void do_fcntl() {
        const std::uint8_t b = in().u8(), c = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const int cmd = fuzz::sk_fcntl_commands[c & 7u], arg = fuzz::sk_fcntl_arguments[(c >> 3) & 7u];
        const auto r = L(h).fcntl(fd, cmd, arg);
        FUZZ_TRACE("host %d: fcntl(%d, %d, %#x) = %s\n", h, fd, cmd, static_cast<unsigned>(arg),
                   r ? std::to_string(*r).c_str() : r.error().message().c_str());
        fd_model* m = model(h, fd);
        if (!open(h, fd)) FUZZ_CHECK(!r && is(r.error(), EBADF));
        if (!r) {
            check_error("fcntl", r.error(), e_fcntl);
            return;
        }
        switch (cmd) {
            case sock::f_getfl: FUZZ_CHECK(*r == (sock::o_rdwr | (m->nonblocking ? sock::o_nonblock : 0))); break;
            case sock::f_setfl: m->nonblocking = (arg & sock::o_nonblock) != 0; break;
            case sock::f_getfd: FUZZ_CHECK(*r == (m->cloexec ? sock::fd_cloexec : 0)); break;
            case sock::f_setfd: m->cloexec = (arg & sock::fd_cloexec) != 0; break;
            default: break;
        }
    }

    void do_ioctl() {
        const std::uint8_t b = in().u8(), q = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const unsigned long request = fuzz::sk_ioctls[q & 7u];
        const auto r = L(h).ioctl(fd, request);
        FUZZ_TRACE("host %d: ioctl(%d, %#lx) = %s\n", h, fd, request,
                   r ? std::to_string(*r).c_str() : r.error().message().c_str());
        if (!r) {
            check_error("ioctl", r.error(), e_ioctl);
            expect_socket(h, fd, r.error());
            return;
        }
        FUZZ_CHECK(is_socket(h, fd));
        FUZZ_CHECK(*r >= 0);
    }

    void do_name() {
        const std::uint8_t b = in().u8(), w = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const bool peer = (w & 1u) != 0;
        const auto r = peer ? L(h).getpeername(fd) : L(h).getsockname(fd);
        FUZZ_TRACE("host %d: %s(%d) = %s\n", h, peer ? "getpeername" : "getsockname", fd,
                   r ? text(*r).c_str() : r.error().message().c_str());
        if (!r) {
            check_error(peer ? "getpeername" : "getsockname", r.error(), e_name);
            expect_socket(h, fd, r.error());
            return;
        }
        FUZZ_CHECK(is_socket(h, fd));
        const fd_model& m = *model(h, fd);
        FUZZ_CHECK(family_fits(m.family, r->address));
        if (peer) FUZZ_CHECK(r->port != 0 && (!m.remote || *r == *m.remote));
    }

    // ---- Options ------------------------------------------------------------------------

    struct option_choice {
        int level;
        int name;
        std::uint8_t kind;
        bool known;  // from the table of Linux's options
    };

    option_choice decode_option() {
        const std::uint8_t o = in().u8() % 36u;
        if (o < fuzz::sk_option_count) {
            const fuzz::sk_option& x = fuzz::sk_options[o];
            return {x.level, x.name, x.kind, true};
        }
        const int level = fuzz::sk_levels[in().u8() & 7u];
        const int name = static_cast<std::int8_t>(in().u8());
        return {level, name, fuzz::sk_kind::integer, false};
    }

    template <class T>
    static void append(std::vector<std::byte>& out, const T& v) {
        const auto* p = reinterpret_cast<const std::byte*>(&v);
        out.insert(out.end(), p, p + sizeof v);
    }

    std::vector<std::byte> decode_value(const option_choice& opt) {
        const std::uint8_t v = in().u8();
        std::vector<std::byte> out;
        namespace k = fuzz::sk_value;
        switch ((v >> 3) & 7u) {
            case k::int32: append(out, static_cast<std::int32_t>(in().u32())); break;
            case k::special: append(out, std::int32_t{fuzz::sk_special_ints[in().u8() % std::size(fuzz::sk_special_ints)]}); break;
            case k::small: append(out, std::int32_t{static_cast<std::int8_t>(in().u8())}); break;
            case k::raw: {
                const auto bytes = in().bytes(in().u8() % 65u);
                for (const std::uint8_t x : bytes) out.push_back(std::byte{x});
                break;
            }
            case k::timeval: {
                const std::uint8_t s = in().u8(), us = in().u8();
                const linux_timeval tv{s < 200 ? std::int64_t{s} : fuzz::sk_special_seconds[s % 8u],
                                       us < 100 ? std::int64_t{us} * 10000 : fuzz::sk_special_microseconds[us % 8u]};
                append(out, tv);
                break;
            }
            case k::linger: {
                const std::uint8_t on = in().u8(), s = in().u8();
                const linux_linger l{fuzz::sk_linger_onoff[on % 4u], s < 200 ? std::int32_t{s} : fuzz::sk_special_linger[s % 8u]};
                append(out, l);
                break;
            }
            case k::cc_name: {
                const std::uint8_t c = in().u8() % 8u;
                const char* name = fuzz::sk_cc_names[c];
                for (std::size_t i = 0; i < fuzz::sk_cc_name_length[c]; ++i) out.push_back(static_cast<std::byte>(name[i]));
                break;
            }
            default:  // counter
                append(out, static_cast<std::int32_t>(in().u16() + commands_));
                break;
        }
        const std::size_t natural = fuzz::sk_natural_size(opt.kind);
        namespace z = fuzz::sk_size;
        switch (v & 7u) {
            case z::natural: out.resize(natural); break;
            case z::none: out.clear(); break;
            case z::one: out.resize(1); break;
            case z::three: out.resize(3); break;
            case z::natural_plus_one: out.resize(natural + 1); break;
            case z::four: out.resize(4); break;
            case z::eight: out.resize(8); break;
            default: out.resize(16); break;
        }
        return out;
    }

    option_reading read_option(int h, int fd, int level, int name, std::size_t room = 64) {
        std::vector<std::byte> buf(room, std::byte{0xa5});
        const auto r = L(h).getsockopt(fd, level, name, buf);
        if (!r) return {r.error(), {}};
        FUZZ_CHECK(*r <= room);
        buf.resize(*r);
        return {{}, std::move(buf)};
    }

    // Every option of a socket but SO_ERROR (reading it takes the error).
    std::vector<option_reading> snapshot(int h, int fd) {
        std::vector<option_reading> s;
        for (const auto& o : fuzz::sk_options)
            if (!(o.level == sock::sol_socket && o.name == sock::so_error)) s.push_back(read_option(h, fd, o.level, o.name));
        return s;
    }

    static std::optional<int> as_int(const option_reading& r) {
        if (r.error || r.bytes.size() < sizeof(int)) return std::nullopt;
        int v;
        std::memcpy(&v, r.bytes.data(), sizeof v);
        return v;
    }

    // Linux refuses these values with EINVAL (do_tcp_setsockopt).
    static bool linux_refuses(int level, int name, int v) {
        if (level != sock::sol_tcp) return false;
        switch (name) {
            case sock::tcp_keepidle:
            case sock::tcp_keepintvl: return v < 1 || v > 32767;  // MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL
            case sock::tcp_keepcnt: return v < 1 || v > 127;      // MAX_TCP_KEEPCNT
            case sock::tcp_syncnt: return v < 1 || v > 127;       // MAX_TCP_SYNCNT
            case sock::tcp_maxseg: return v != 0 && (v < 88 || v > 32767);  // TCP_MIN_MSS, MAX_TCP_WINDOW
            case sock::tcp_user_timeout: return v < 0;
            case sock::tcp_inq: return v < 0 || v > 1;
            default: return false;
        }
    }

    // What getsockopt reads after setsockopt(level, name, v) succeeded, as Linux reports it.
    std::optional<int> linux_reads_back(int level, int name, int v) const {
        if (level == sock::sol_socket) {
            switch (name) {
                case sock::so_reuseaddr:
                case sock::so_reuseport:
                case sock::so_keepalive: return int{v != 0};
                case sock::so_rcvlowat: return v < 0 ? INT_MAX : (v == 0 ? 1 : v);
                case sock::so_sndbuf:
                case sock::so_rcvbuf: {
                    const int cap = name == sock::so_sndbuf ? wmem_max() : rmem_max();
                    const int floor = name == sock::so_sndbuf ? sock::min_sndbuf : sock::min_rcvbuf;
                    const std::uint32_t x = std::min(static_cast<std::uint32_t>(v), static_cast<std::uint32_t>(cap));
                    return std::max(static_cast<int>(x * 2), floor);
                }
                default: return std::nullopt;
            }
        }
        if (level != sock::sol_tcp) return std::nullopt;
        switch (name) {
            case sock::tcp_nodelay:
            case sock::tcp_cork:
            case sock::tcp_inq: return int{v != 0};
            case sock::tcp_keepidle:
            case sock::tcp_keepintvl:
            case sock::tcp_keepcnt:
            case sock::tcp_syncnt:
            case sock::tcp_user_timeout:
            case sock::tcp_notsent_lowat: return v;
            default: return std::nullopt;
        }
    }
    int wmem_max() const { return layer_[0]->options().wmem_max; }
    int rmem_max() const { return layer_[0]->options().rmem_max; }

    void do_setsockopt() {
        const std::uint8_t b = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const option_choice opt = decode_option();
        const std::vector<std::byte> value = decode_value(opt);
        const bool socket = is_socket(h, fd);
        // Settled first, so that only the call changes what the options read.
        L(h).sync();
        std::vector<option_reading> before;
        if (socket) before = snapshot(h, fd);
        const std::error_code e = L(h).setsockopt(fd, opt.level, opt.name, value);
        FUZZ_TRACE("host %d: setsockopt(%d, %d, %d, %zu bytes): %s\n", h, fd, opt.level, opt.name, value.size(),
                   describe(e).c_str());
        check_error("setsockopt", e, e_setsockopt);
        expect_socket(h, fd, e);
        if (!socket) return;
        if (e) {
            // A refused option changes nothing.
            if (snapshot(h, fd) != before) {
                std::fprintf(stderr, "setsockopt(%d, %d, %d) failed (%s) but changed the socket's options\n", fd,
                             opt.level, opt.name, e.message().c_str());
                fuzz::check_failed("a failed setsockopt changes nothing", __FILE__, __LINE__);
            }
            return;
        }
        if (!opt.known || opt.kind != fuzz::sk_kind::integer) return;
        // An int option needs an int (Linux: EINVAL below sizeof(int)).
        FUZZ_CHECK(value.size() >= sizeof(int));
        int v;
        std::memcpy(&v, value.data(), sizeof v);
        if (linux_refuses(opt.level, opt.name, v)) {
            std::fprintf(stderr, "setsockopt(%d, %d, %d) took %d, which Linux refuses with EINVAL\n", fd, opt.level,
                         opt.name, v);
            fuzz::check_failed("values out of Linux's range are refused", __FILE__, __LINE__);
        }
        if (const auto want = linux_reads_back(opt.level, opt.name, v)) {
            const auto got = as_int(read_option(h, fd, opt.level, opt.name));
            if (got != want) {
                std::fprintf(stderr, "setsockopt(%d, %d, %d) took %d; getsockopt reads %d, Linux %d\n", fd, opt.level,
                             opt.name, v, got.value_or(-999), *want);
                fuzz::check_failed("options read back as set", __FILE__, __LINE__);
            }
        }
    }

    void do_getsockopt() {
        const std::uint8_t b = in().u8();
        const int h = b & 1, fd = fuzz::sk_fd_of(b);
        const option_choice opt = decode_option();
        std::size_t room = fuzz::sk_room[in().u8() % 8u];
        if (room == fuzz::sk_room_natural) room = fuzz::sk_natural_size(opt.kind);
        std::vector<std::byte> buf(room + 8, std::byte{0xa5});
        const auto r = L(h).getsockopt(fd, opt.level, opt.name, std::span<std::byte>(buf).first(room));
        FUZZ_TRACE("host %d: getsockopt(%d, %d, %d, %zu) = %s\n", h, fd, opt.level, opt.name, room,
                   r ? std::to_string(*r).c_str() : r.error().message().c_str());
        // Nothing past the room given, nor past the length reported.
        const std::size_t n = r.value_or(0);
        FUZZ_CHECK(n <= room);
        for (std::size_t i = n; i < buf.size(); ++i) FUZZ_CHECK(buf[i] == std::byte{0xa5});
        if (!r) {
            check_error("getsockopt", r.error(), e_getsockopt);
            expect_socket(h, fd, r.error());
            return;
        }
        FUZZ_CHECK(is_socket(h, fd));
        if (opt.known && opt.kind == fuzz::sk_kind::integer && n >= sizeof(int)) {
            int v;
            std::memcpy(&v, buf.data(), sizeof v);
            if (opt.level == sock::sol_socket && opt.name == sock::so_type) FUZZ_CHECK(v == sock::sock_stream);
            if (opt.level == sock::sol_socket && opt.name == sock::so_protocol) FUZZ_CHECK(v == sock::ipproto_tcp);
            if (opt.level == sock::sol_socket && opt.name == sock::so_domain) FUZZ_CHECK(v == model(h, fd)->family);
            if (opt.level == sock::sol_socket && opt.name == sock::so_acceptconn) FUZZ_CHECK(v == 0 || v == 1);
            if (opt.level == sock::sol_socket && opt.name == sock::so_error) FUZZ_CHECK(v == 0 || e_recv.has(v) || e_connect.has(v));
        }
    }

    // ---- Readiness ----------------------------------------------------------------------------

    void do_poll() {
        const std::uint8_t b = in().u8();
        const int h = b & 1;
        const std::size_t count = 1u + ((b >> 1) & 3u);
        std::array<poll_request, 4> req{};
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint8_t f = in().u8(), ev = in().u8();
            req[i] = {fuzz::sk_fd_of(f), 0, 0xdeadu};
            for (unsigned k = 0; k < 8; ++k)
                if (ev & (1u << k)) req[i].events |= fuzz::sk_poll_events[k];
        }
        const int timeout = fuzz::sk_timeouts[in().u8() & 3u];
        const auto r = L(h).poll(std::span<poll_request>(req.data(), count), timeout);
        FUZZ_TRACE("host %d: poll(%zu, %d) = %s\n", h, count, timeout,
                   r ? std::to_string(*r).c_str() : r.error().message().c_str());
        if (!r) {
            check_error("poll", r.error(), e_poll);
            return;
        }
        int ready = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const poll_request& p = req[i];
            FUZZ_TRACE("  fd %d events %#x revents %#x\n", p.fd, p.events, p.revents);
            if (p.revents != 0) ++ready;
            if (p.fd < 0) FUZZ_CHECK(p.revents == 0);
            else if (!open(h, p.fd)) FUZZ_CHECK(p.revents == sock::pollnval);
            else {
                FUZZ_CHECK((p.revents & ~poll_reportable) == 0);
                FUZZ_CHECK((p.revents & ~(p.events | sock::pollerr | sock::pollhup)) == 0);
            }
        }
        FUZZ_CHECK(*r == ready);
    }

    void do_epoll_create() {
        const std::uint8_t b = in().u8();
        const int h = b & 1;
        const unsigned how = (b >> 1) & 7u;
        const auto expected_fd = lowest_free(h);
        expected<int, std::error_code> r = unexpected{std::error_code{}};
        switch (how) {
            case 0: r = L(h).epoll_create1(0); break;
            case 1: r = L(h).epoll_create1(sock::sock_cloexec); break;
            case 2: r = L(h).epoll_create1(1); break;
            case 3: r = L(h).epoll_create1(-1); break;
            case 4: r = L(h).epoll_create(1); break;
            case 5: r = L(h).epoll_create(0); break;
            case 6: r = L(h).epoll_create(-1); break;
            default: r = L(h).epoll_create(INT_MAX); break;
        }
        FUZZ_TRACE("host %d: epoll_create (%u) = %s\n", h, how, r ? std::to_string(*r).c_str() : r.error().message().c_str());
        const bool valid = how == 0 || how == 1 || how == 4 || how == 7;
        check_new_fd(expected_fd, r);
        if (!r) {
            check_error("epoll_create", r.error(), e_epoll_create);
            FUZZ_CHECK(!valid || !expected_fd);
            return;
        }
        FUZZ_CHECK(valid);
        opened(h, *r, fd_kind::epoll).cloexec = how == 1;
    }

    void do_epoll_ctl() {
        const std::uint8_t eb = in().u8(), ob = in().u8(), fb = in().u8(), vb = in().u8();
        const int h = eb & 1, epfd = fuzz::sk_fd_of(eb), fd = fuzz::sk_fd_of(fb);
        const int op = fuzz::sk_epoll_ops[ob % 6u];
        std::uint32_t events = 0;
        for (unsigned k = 0; k < 8; ++k)
            if (vb & (1u << k)) events |= fuzz::sk_epoll_events[k];
        const std::uint64_t data = std::uint64_t{static_cast<std::uint32_t>(fd)} << 32 | ++tag_;
        const std::error_code e = L(h).epoll_ctl(epfd, op, fd, {events, data});
        FUZZ_TRACE("host %d: epoll_ctl(%d, %d, %d, %#x): %s\n", h, epfd, op, fd, events, describe(e).c_str());
        check_error("epoll_ctl", e, e_epoll_ctl);
        if (!open(h, epfd) || !open(h, fd)) {
            FUZZ_CHECK(is(e, EBADF));
            return;
        }
        fd_model& set = *model(h, epfd);
        if (set.kind != fd_kind::epoll || epfd == fd) {
            FUZZ_CHECK(is(e, EINVAL));
            return;
        }
        if (!is_socket(h, fd)) {  // epoll sets in epoll sets are not offered
            FUZZ_CHECK(e);
            return;
        }
        const auto at = std::find_if(set.interest.begin(), set.interest.end(),
                                     [fd](const epoll_registration& r) { return r.fd == fd; });
        const bool have = at != set.interest.end();
        // Linux refuses EPOLLEXCLUSIVE with EPOLL_CTL_MOD and with EPOLLONESHOT.
        if ((events & sock::epollexclusive) && is(e, EINVAL) && op != sock::epoll_ctl_del) return;
        switch (op) {
            case sock::epoll_ctl_add:
                if (have) FUZZ_CHECK(is(e, EEXIST));
                else {
                    FUZZ_CHECK(!e);
                    set.interest.push_back({fd, events, data});
                }
                return;
            case sock::epoll_ctl_mod:
                if (!have) FUZZ_CHECK(is(e, ENOENT));
                else {
                    FUZZ_CHECK(!e);
                    *at = {fd, events, data};
                }
                return;
            case sock::epoll_ctl_del:
                if (!have) FUZZ_CHECK(is(e, ENOENT));
                else {
                    FUZZ_CHECK(!e);
                    set.interest.erase(at);
                }
                return;
            default: FUZZ_CHECK(is(e, EINVAL)); return;
        }
    }

    void do_epoll_wait() {
        const std::uint8_t eb = in().u8(), mb = in().u8(), tb = in().u8();
        const int h = eb & 1, epfd = fuzz::sk_fd_of(eb);
        const std::size_t max_events = mb & 15u;
        const int timeout = fuzz::sk_timeouts[tb & 3u];
        std::array<epoll_item, 16> out;
        out.fill({0xdeadu, 0xdeadu});
        const auto r = L(h).epoll_wait(epfd, std::span<epoll_item>(out.data(), max_events), timeout);
        FUZZ_TRACE("host %d: epoll_wait(%d, %zu, %d) = %s\n", h, epfd, max_events, timeout,
                   r ? std::to_string(*r).c_str() : r.error().message().c_str());
        const fd_model* set = model(h, epfd);
        const bool usable = set != nullptr && set->kind == fd_kind::epoll && max_events > 0;
        if (!open(h, epfd)) FUZZ_CHECK(!r && is(r.error(), EBADF));
        if (!r) {
            check_error("epoll_wait", r.error(), e_epoll_wait);
            FUZZ_CHECK(!usable);
            return;
        }
        FUZZ_CHECK(usable);
        FUZZ_CHECK(*r >= 0 && static_cast<std::size_t>(*r) <= max_events);
        std::set<int> reported;
        for (std::size_t i = 0; i < static_cast<std::size_t>(*r); ++i) {
            const epoll_item& item = out[i];
            FUZZ_TRACE("  events %#x data %#llx\n", item.events, static_cast<unsigned long long>(item.data));
            const auto reg = std::find_if(set->interest.begin(), set->interest.end(),
                                          [&](const epoll_registration& x) { return x.data == item.data; });
            FUZZ_CHECK(reg != set->interest.end());  // only what is registered, with its data
            FUZZ_CHECK(reported.insert(reg->fd).second);
            FUZZ_CHECK(item.events != 0 && (item.events & ~poll_reportable) == 0);
            FUZZ_CHECK((item.events & ~((reg->events & ~epoll_flags) | sock::pollerr | sock::pollhup)) == 0);
        }
        for (std::size_t i = max_events; i < out.size(); ++i) FUZZ_CHECK(out[i].data == 0xdeadu);
    }

    // ---- The network and time ---------------------------------------------------------------

    void do_net() {
        namespace a = fuzz::net_action;
        const std::uint8_t action = in().u8() % a::count;
        const std::uint8_t which = in().u8();
        std::uint8_t at = 0, x = 0, times = 0;
        if (action == a::corrupt) {
            at = in().u8();
            x = in().u8();
        } else if (action == a::hold) {
            times = in().u8();
        }
        if (auto p = net_.act(action, which, at, x, times)) deliver(*p);
    }

    void deliver(const packet& p) {
        ++net_.deliveries;
        FUZZ_TRACE("  host %d receives %zu bytes\n", p.to, p.bytes.size());
        if (p.to < 0) return;
        L(p.to).endpoint().receive_datagram(p.bytes);
        L(p.to).sync();  // as an event loop does after input
    }

    void set_clocks() {
        for (int h = 0; h < hosts; ++h) L(h).endpoint().clock().set(net_.now);
    }

    // What the network's advance() asks of the hosts.
    friend struct fuzz::datagram_network<hosts>;
    time_point deadline(int h) { return L(h).endpoint().next_deadline(); }
    void count_step() { ++steps_; }
    void advance(duration d) { net_.advance(*this, d); }

    void settle(int h) {
        L(h).sync();
        // Everything due has run: what is left lies in the future.
        FUZZ_CHECK(L(h).endpoint().next_deadline() > net_.now);
    }

    void check_host(int h) { FUZZ_CHECK(L(h).endpoint().stats().segments_out == net_.sent[h]); }

    // ---- The end ------------------------------------------------------------------------------

    // Everything is closed, and time runs until every connection is gone;
    // then no per-socket configuration may still be held.
    void finish() {
        FUZZ_TRACE("finish: close everything\n");
        for (int h = 0; h < hosts; ++h)
            for (int fd = 3; fd < 3 + fuzz::sk_descriptors; ++fd) {
                if (!open(h, fd)) continue;
                FUZZ_CHECK(!L(h).close(fd));
                closed(h, fd);
            }
        delivery_limit_ = net_.deliveries + final_allowance;
        steps_ = std::min(steps_, max_steps - final_allowance);
        for (int i = 0; i < 4 && !out_of_budget(); ++i) advance(std::chrono::hours{1});
        if (out_of_budget()) return;
        for (int h = 0; h < hosts; ++h) {
            L(h).sync();
            if (L(h).endpoint().connection_count() != 0) continue;
            // Every descriptor at once with a configuration of its own, twice
            // over: what a closed listener or connection kept would be missing.
            for (int round = 0; round < 2; ++round) {
                for (int i = 0; i < descriptors_; ++i) {
                    const auto fd = L(h).socket(sock::af_inet, sock::sock_stream, 0);
                    FUZZ_CHECK(fd.has_value() && *fd == 3 + i);
                    const int mss = 100 + round * descriptors_ + i;
                    const std::error_code e = L(h).setsockopt(*fd, sock::sol_tcp, sock::tcp_maxseg,
                                                              std::as_bytes(std::span<const int>(&mss, 1)));
                    if (e) {
                        std::fprintf(stderr,
                                     "host %d: with every earlier socket closed and every connection gone, "
                                     "setsockopt(TCP_MAXSEG, %d) on socket %d of %d fails: %s\n",
                                     h, mss, i + 1, descriptors_, e.message().c_str());
                        fuzz::check_failed("per-socket configurations are given back", __FILE__, __LINE__);
                    }
                }
                for (int fd = 3; fd < 3 + descriptors_; ++fd) FUZZ_CHECK(!L(h).close(fd));
            }
        }
    }

    struct span_record {
        std::size_t begin, end;
    };

    const std::uint8_t* data_;
    std::size_t size_;
    byte_reader top_;
    byte_reader* in_;
    config cfg_;
    network net_;
    std::array<fuzz::alloc_control, hosts> alloc_;
    std::array<std::unique_ptr<layer_type>, hosts> layer_;
    std::array<std::array<fd_model, fuzz::sk_descriptors>, hosts> fds_{};
    std::map<tuple_key, std::uint32_t> sent_on_;  // bytes sent on each connection, by (sender, receiver)
    std::vector<span_record> history_;
    static constexpr std::size_t guard_bytes = 16;
    std::vector<std::uint8_t> send_buffer_, recv_buffer_;  // reused from call to call
    int descriptors_ = fuzz::sk_descriptors;
    std::uint64_t commands_ = 0;
    std::uint64_t payload_ = 0;
    std::uint64_t delivery_limit_ = max_deliveries;
    std::uint64_t steps_ = 0;
    std::uint64_t tag_ = 0;
    std::uint32_t reached_ = 0;
    bool reused_tuple_ = false;
};

using fa = fuzz::fuzz_allocator;


template <class P>
void play(const std::uint8_t* data, std::size_t size) {
    world<P> w(data, size);
    w.run();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::uint8_t k0 = size > 0 ? data[0] : 0;
    if (k0 & fuzz::sk_bundle_heap) play<bundle<timer_heap<fa>, rfc6528_isn, cubic>>(data, size);
    else play<bundle<timing_wheel<fa>, sequential_isn, newreno>>(data, size);
    return 0;
}
