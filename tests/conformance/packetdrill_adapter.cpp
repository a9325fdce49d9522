// packetdrill's shared-object interface (--so_filename) over tcpcore's socket
// layer, in virtual time: packetdrill's usleep() and gettimeofday() move a
// manual clock, its packets go into the endpoint, and what the endpoint sends
// comes back out stamped with the virtual time it left at.
//
// The stack is configured from the network namespace's sysctls when the first
// socket is made, so the scripts' set-up (defaults.sh, sysctl lines) reaches
// tcpcore: knobs tcpcore models become configuration, and a knob a script
// moves away from the baseline (the sysctls after defaults.sh, which
// run_packetdrill.py records) that tcpcore does not model stops the script
// with "unsupported: <knob>", rather than running it with another value.
//
// Threads: packetdrill runs a blocking call on a thread of its own and goes on
// with the script; every entry point takes one lock, and a blocking call
// waits on a condition variable (the socket layer's Waiter) that the main
// thread signals whenever it moves time or delivers a packet.
//
// Flags (--so_flags, comma-separated): baseline=FILE, local4=IP, local6=IP.

// The snapshot's interface header, by its full path: its directory also
// holds an assert.h of packetdrill's own, which must not replace the system's.
#include TCPCORE_PACKETDRILL_HEADER

#include <tcpcore/socket.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace tcpcore;
using namespace std::chrono_literals;

struct adapter;

// Outgoing datagrams wait here, stamped with the virtual time they left.
struct queue_io {
    adapter* owner = nullptr;
    void send_datagram(std::span<const std::uint8_t> datagram);
};

// Blocks a call on packetdrill's syscall thread until the main thread moves
// time or delivers input.
struct condition_waiter {
    adapter* owner = nullptr;
    bool wait_until(time_point deadline);
};

struct adapter_bundle : default_policies {
    using clock = manual_clock;
    using io = queue_io;
    using congestion_control = cubic;  // Linux's default (and defaults.sh's)
};
// Connections count what struct tcp_info reports.
using adapter_policies = with_counters<adapter_bundle>;
using layer_type = socket_layer<adapter_policies, condition_waiter>;

// ---- Sysctls -------------------------------------------------------------------------------
using sysctl_map = std::map<std::string, std::string>;

std::string normalized(std::string v) {
    std::istringstream in(v);
    std::string word, out;
    while (in >> word) out += (out.empty() ? "" : " ") + word;
    return out;
}

sysctl_map read_tcp_sysctls() {
    sysctl_map m;
    const std::string dir = "/proc/sys/net/ipv4/";
    static const char* const names[] = {
        "tcp_abort_on_overflow", "tcp_adv_win_scale", "tcp_allowed_congestion_control", "tcp_app_win",
        "tcp_autocorking", "tcp_base_mss", "tcp_challenge_ack_limit", "tcp_congestion_control", "tcp_dsack",
        "tcp_early_retrans", "tcp_ecn", "tcp_ecn_fallback", "tcp_fack", "tcp_fastopen", "tcp_fastopen_key",
        "tcp_fin_timeout", "tcp_frto", "tcp_fwmark_accept", "tcp_invalid_ratelimit", "tcp_keepalive_intvl",
        "tcp_keepalive_probes", "tcp_keepalive_time", "tcp_limit_output_bytes", "tcp_low_latency",
        "tcp_max_orphans", "tcp_max_reordering", "tcp_max_syn_backlog", "tcp_max_tw_buckets", "tcp_mem",
        "tcp_min_rtt_wlen", "tcp_min_snd_mss", "tcp_min_tso_segs", "tcp_moderate_rcvbuf", "tcp_mtu_probing",
        "tcp_no_metrics_save", "tcp_no_ssthresh_metrics_save", "tcp_notsent_lowat", "tcp_orphan_retries",
        "tcp_pacing_ca_ratio", "tcp_pacing_ss_ratio", "tcp_probe_interval", "tcp_probe_threshold",
        "tcp_recovery", "tcp_reflect_tos", "tcp_reordering", "tcp_retrans_collapse", "tcp_retries1",
        "tcp_retries2", "tcp_rfc1337", "tcp_rmem", "tcp_sack", "tcp_slow_start_after_idle", "tcp_stdurg",
        "tcp_syn_linear_timeouts", "tcp_syn_retries", "tcp_synack_retries", "tcp_syncookies", "tcp_thin_linear_timeouts",
        "tcp_timestamps", "tcp_tso_rtt_log", "tcp_tso_win_divisor", "tcp_tw_reuse", "tcp_window_scaling",
        "tcp_wmem", "tcp_workaround_signed_windows", "tcp_comp_sack_delay_ns", "tcp_comp_sack_nr",
        "tcp_comp_sack_slack_ns", "tcp_thin_dupack", "tcp_shrink_window", "tcp_backlog_ack_defer",
        "tcp_rto_min_us", "tcp_rto_max_ms", "tcp_pingpong_thresh", "tcp_plb_enabled", "tcp_ecn_option"};
    for (const char* n : names) {
        std::ifstream f(dir + n);
        if (!f) continue;
        std::stringstream s;
        s << f.rdbuf();
        m[n] = normalized(s.str());
    }
    return m;
}

sysctl_map read_baseline(const std::string& path) {
    sysctl_map m;
    std::ifstream f(path);
    for (std::string line; std::getline(f, line);) {
        const auto sp = line.find(' ');
        if (sp == std::string::npos) continue;
        m[line.substr(0, sp)] = normalized(line.substr(sp + 1));
    }
    return m;
}

int core_sysctl(const char* name, int fallback) {
    std::ifstream f(std::string("/proc/sys/net/core/") + name);
    int v;
    return (f >> v) ? v : fallback;
}

std::vector<long> numbers(const std::string& v) {
    std::istringstream in(v);
    std::vector<long> out;
    for (long x; in >> x;) out.push_back(x);
    return out;
}

// Knobs tcpcore takes from the namespace, with how each maps; and knobs that
// make no difference to a stack that never builds TSO bursts or paces (its
// segments are MSS-sized; packetdrill matches them against a burst).
const std::set<std::string> modeled = {
    "tcp_syn_retries",   "tcp_synack_retries",   "tcp_syn_linear_timeouts", "tcp_retries1",
    "tcp_retries2",      "tcp_keepalive_time",   "tcp_keepalive_intvl",     "tcp_keepalive_probes",
    "tcp_fin_timeout",   "tcp_rfc1337",          "tcp_timestamps",          "tcp_sack",
    "tcp_window_scaling", "tcp_rmem",            "tcp_wmem",                "tcp_notsent_lowat",
    "tcp_syncookies",    "tcp_max_syn_backlog",  "tcp_challenge_ack_limit", "tcp_max_tw_buckets",
};
const std::set<std::string> no_effect_here = {"tcp_min_tso_segs", "tcp_tso_win_divisor", "tcp_tso_rtt_log",
                                              "tcp_pacing_ss_ratio", "tcp_pacing_ca_ratio",
                                              "tcp_limit_output_bytes", "tcp_autocorking"};

[[noreturn]] void unsupported(const std::string& what) {
    std::fprintf(stderr, "unsupported: %s\n", what.c_str());
    std::fflush(stderr);
    _exit(3);
}

// ---- The adapter ------------------------------------------------------------------------------
struct outbound {
    std::vector<std::uint8_t> bytes;
    time_point at;
};

thread_local std::unique_lock<std::mutex>* held_lock = nullptr;

struct adapter {
    std::mutex mutex;
    std::condition_variable changed;
    std::uint64_t generation = 0;
    // A blocked call that was signalled must get to run before packetdrill's
    // thread, which spins on gettimeofday() taking the (unfair) mutex again
    // and again, goes on: `observed` is the generation it last woke to.
    std::condition_variable progress;
    int blocked = 0;
    std::uint64_t observed = 0;

    sysctl_map baseline;
    sysctl_map at_start;  // the sysctls the layer was built from
    ip_address local4 = ip_address::v4(192, 168, 0, 1);
    ip_address local6{};
    config cfg{};
    std::optional<layer_type> layer;
    time_point now{};
    std::deque<outbound> out;
    // packetdrill closes the descriptors a script leaves open with libc's
    // close(), so each of the layer's descriptors is shown to it as a real
    // one (an eventfd held open for it): kernel number -> layer number.
    std::map<int, int> layer_fd_of;

    // The number packetdrill sees for a new descriptor of the layer's.
    int show_fd(int layer_fd) {
        const int k = ::eventfd(0, EFD_CLOEXEC);
        if (k < 0) {
            std::perror("tcpcore adapter: eventfd");
            std::_Exit(2);
        }
        layer_fd_of[k] = layer_fd;
        return k;
    }
    // The layer's number for a descriptor packetdrill names; for one it
    // does not know, a number the layer never gives (EBADF, POLLNVAL).
    [[nodiscard]] int layer_fd(int shown) const {
        const auto i = layer_fd_of.find(shown);
        return i == layer_fd_of.end() ? INT_MAX : i->second;
    }
    void forget_fd(int shown) {
        if (layer_fd_of.erase(shown) != 0) ::close(shown);
    }

    [[nodiscard]] time_point clock_now() const { return now; }

    // Builds the stack from the namespace's sysctls at the first socket().
    layer_type& stack() {
        if (layer) {
            if (read_tcp_sysctls() != at_start) {
                const sysctl_map cur = read_tcp_sysctls();
                for (const auto& [k, v] : cur)
                    if (at_start[k] != v) unsupported("net.ipv4." + k + " changed after the first socket (" + v + ")");
            }
            return *layer;
        }
        at_start = read_tcp_sysctls();
        for (const auto& [k, v] : at_start) {
            const auto b = baseline.find(k);
            if (b == baseline.end() || b->second == v || modeled.count(k) || no_effect_here.count(k)) continue;
            unsupported("net.ipv4." + k + "=" + v + " (baseline " + b->second + ")");
        }
        auto num = [&](const char* k, long fallback) {
            const auto it = at_start.find(k);
            if (it == at_start.end()) return fallback;
            const auto n = numbers(it->second);
            return n.empty() ? fallback : n[0];
        };
        cfg.syn_retries = static_cast<std::uint8_t>(num("tcp_syn_retries", 6));
        cfg.synack_retries = static_cast<std::uint8_t>(num("tcp_synack_retries", 5));
        cfg.syn_linear_timeouts = static_cast<std::uint8_t>(num("tcp_syn_linear_timeouts", 0));
        cfg.retries1 = static_cast<std::uint8_t>(num("tcp_retries1", 3));
        cfg.retries2 = static_cast<std::uint8_t>(num("tcp_retries2", 15));
        cfg.keepalive_idle = std::chrono::seconds{num("tcp_keepalive_time", 7200)};
        cfg.keepalive_interval = std::chrono::seconds{num("tcp_keepalive_intvl", 75)};
        cfg.keepalive_probes = static_cast<std::uint8_t>(num("tcp_keepalive_probes", 9));
        cfg.fin_timeout = std::chrono::seconds{num("tcp_fin_timeout", 60)};
        cfg.rfc1337 = num("tcp_rfc1337", 0) != 0;
        const long ts = num("tcp_timestamps", 1);
        if (ts != 0 && ts != 1) unsupported("net.ipv4.tcp_timestamps=" + std::to_string(ts));
        cfg.timestamps = ts == 1;
        cfg.sack = num("tcp_sack", 1) != 0;
        cfg.window_scaling = num("tcp_window_scaling", 1) != 0;
        cfg.challenge_ack_limit = static_cast<std::uint32_t>(std::min<long>(num("tcp_challenge_ack_limit", 1000), 65535));
        if (const auto r = numbers(at_start["tcp_rmem"]); r.size() == 3) {
            cfg.receive_buffer = static_cast<std::uint32_t>(r[1]);
            cfg.receive_buffer_max = static_cast<std::uint32_t>(std::max<long>(r[2], core_sysctl("rmem_max", 0)));
        }
        if (const auto w = numbers(at_start["tcp_wmem"]); w.size() == 3) cfg.send_buffer = static_cast<std::uint32_t>(w[1]);
        if (const config_check c = validate(cfg); !c)
            unsupported(std::string("a configuration tcpcore refuses: ") + std::string(to_string(c.field)) + ": " +
                        std::string(c.message));

        socket_layer_options o;
        o.somaxconn = core_sysctl("somaxconn", o.somaxconn);
        o.wmem_max = core_sysctl("wmem_max", o.wmem_max);
        o.rmem_max = core_sysctl("rmem_max", o.rmem_max);
        o.notsent_lowat = static_cast<std::uint32_t>(num("tcp_notsent_lowat", 0xffffffffL));
        o.source_v4 = local4;
        o.source_v6 = local6;
        const long cookies = num("tcp_syncookies", 1);
        o.listen_defaults.syn_cookies = cookies == 0   ? syn_cookie_mode::off
                                        : cookies == 2 ? syn_cookie_mode::always
                                                       : syn_cookie_mode::when_backlog_full;
        o.listen_defaults.syn_backlog = static_cast<std::uint32_t>(num("tcp_max_syn_backlog", 256));
        typename layer_type::endpoint_type::parts parts;
        parts.clock = manual_clock{now};
        parts.io = queue_io{this};
        parts.options.max_time_wait = static_cast<std::uint32_t>(num("tcp_max_tw_buckets", 262144));
        layer.emplace(*check(cfg), std::move(parts), o, condition_waiter{this});
        return *layer;
    }

    // Moves virtual time to `t`, running every timer due on the way at its
    // own time, so what it sends carries that time.
    void advance_to(time_point t) {
        if (layer) {
            for (int guard = 0; guard < 1000000; ++guard) {
                const time_point d = layer->endpoint().next_deadline();
                if (d > t) break;
                if (d > now) now = d;
                layer->endpoint().clock().set(now);
                layer->sync();
            }
        }
        if (t > now) now = t;
        if (layer) {
            layer->endpoint().clock().set(now);
            layer->sync();
        }
        signal();
    }
    void signal() {
        ++generation;
        changed.notify_all();
    }
};

void queue_io::send_datagram(std::span<const std::uint8_t> datagram) {
    owner->out.push_back({{datagram.begin(), datagram.end()}, owner->now});
}

bool condition_waiter::wait_until(time_point) {
    if (held_lock == nullptr) return false;
    const std::uint64_t seen = owner->generation;
    ++owner->blocked;
    // packetdrill's thread calls in (gettimeofday, usleep, packets) all the
    // time while a call it expects to block waits; when it stops calling, it
    // is waiting for this call, which the script did not expect to block:
    // it can never return, so it gives up (EAGAIN) and the script fails
    // where Linux would have hung.
    const bool moved = owner->changed.wait_for(*held_lock, std::chrono::seconds{2},
                                               [&] { return owner->generation != seen; });
    --owner->blocked;
    if (!moved) {
        std::fprintf(stderr, "tcpcore adapter: a call blocked with nothing left to wake it (2 s of wall clock "
                             "without packetdrill calling in); it gives up with EAGAIN\n");
        return false;
    }
    owner->observed = owner->generation;
    owner->progress.notify_all();
    return true;
}

// Every entry point: the adapter, locked, with the lock visible to the waiter.
struct entry_guard {
    adapter& a;
    std::unique_lock<std::mutex> lock;
    std::unique_lock<std::mutex>* outer;
    explicit entry_guard(void* userdata)
        : a(*static_cast<adapter*>(userdata)), lock(a.mutex), outer(std::exchange(held_lock, &lock)) {}
    ~entry_guard() {
        held_lock = outer;
        a.signal();  // a call may have changed what a blocked call waits for
        // ... and it looks before this thread calls in again.
        a.progress.wait(lock, [this] { return a.blocked == 0 || a.observed == a.generation; });
    }
};

// -1 with errno, as a system call.
int fail(const std::error_code& e) {
    errno = e.value();
    return -1;
}
template <class T>
long answer(const expected<T, std::error_code>& r) {
    if (!r) return fail(r.error());
    return static_cast<long>(*r);
}
int answer(const std::error_code& e) { return e ? fail(e) : 0; }

// sockaddr <-> socket_address, with Linux's length and family checks.
expected<socket_address, std::error_code> address_of(const sockaddr* sa, socklen_t len, int family) {
    if (sa == nullptr) return unexpected{std::make_error_code(std::errc::bad_address)};
    if (family == AF_INET) {
        if (len < sizeof(sockaddr_in)) return unexpected{std::make_error_code(std::errc::invalid_argument)};
        sockaddr_in in;
        std::memcpy(&in, sa, sizeof in);
        if (in.sin_family != AF_INET) return unexpected{std::make_error_code(std::errc::address_family_not_supported)};
        return socket_address{ip_address::v4(ntohl(in.sin_addr.s_addr)), ntohs(in.sin_port)};
    }
    if (len < 24) return unexpected{std::make_error_code(std::errc::invalid_argument)};  // SIN6_LEN_RFC2133
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa, std::min<std::size_t>(len, sizeof in6));
    if (in6.sin6_family != AF_INET6) return unexpected{std::make_error_code(std::errc::address_family_not_supported)};
    std::uint8_t b[16];
    std::memcpy(b, &in6.sin6_addr, 16);
    return socket_address{ip_address::v6(std::span<const std::uint8_t, 16>(b)), ntohs(in6.sin6_port)};
}

void write_address(const socket_address& a, sockaddr* sa, socklen_t* len) {
    if (sa == nullptr || len == nullptr) return;
    sockaddr_storage st{};
    socklen_t n;
    if (a.address.is_v4()) {
        auto* in = reinterpret_cast<sockaddr_in*>(&st);
        in->sin_family = AF_INET;
        in->sin_port = htons(a.port);
        const auto b = a.address.wire_bytes();
        std::memcpy(&in->sin_addr, b.data(), 4);
        n = sizeof(sockaddr_in);
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&st);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(a.port);
        const auto b = a.address.wire_bytes();
        std::memcpy(&in6->sin6_addr, b.data(), 16);
        n = sizeof(sockaddr_in6);
    }
    std::memcpy(sa, &st, std::min(*len, n));
    *len = n;
}

int family_of(adapter& a, int fd) {
    int d = 0;
    const auto r = a.layer->getsockopt(fd, sock::sol_socket, sock::so_domain, std::as_writable_bytes(std::span(&d, 1)));
    return r ? d : -1;
}

// A user buffer as the kernel would see it: NULL with a length is EFAULT.
bool bad_buffer(const void* p, std::size_t n) { return p == nullptr && n != 0; }

std::vector<std::span<const std::uint8_t>> const_pieces(const iovec* iov, int n) {
    std::vector<std::span<const std::uint8_t>> v;
    for (int i = 0; i < n; ++i) v.emplace_back(static_cast<const std::uint8_t*>(iov[i].iov_base), iov[i].iov_len);
    return v;
}
std::vector<std::span<std::uint8_t>> pieces(const iovec* iov, int n) {
    std::vector<std::span<std::uint8_t>> v;
    for (int i = 0; i < n; ++i) v.emplace_back(static_cast<std::uint8_t*>(iov[i].iov_base), iov[i].iov_len);
    return v;
}
std::error_code check_iov(const iovec* iov, long n) {
    if (n < 0 || n > IOV_MAX) return std::make_error_code(std::errc::invalid_argument);
    if (n > 0 && iov == nullptr) return std::make_error_code(std::errc::bad_address);
    for (long i = 0; i < n; ++i)
        if (bad_buffer(iov[i].iov_base, iov[i].iov_len)) return std::make_error_code(std::errc::bad_address);
    return {};
}

// ---- The interface -----------------------------------------------------------------------------
layer_type* live(adapter& a) { return a.layer ? &*a.layer : nullptr; }

int pd_socket(void* u, int domain, int type, int protocol) {
    entry_guard g(u);
    const auto r = g.a.stack().socket(domain, type, protocol);
    if (!r) return fail(r.error());
    return g.a.show_fd(*r);
}

int pd_bind(void* u, int shown_fd, const sockaddr* addr, socklen_t len) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    const int family = family_of(g.a, fd);
    if (family < 0) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    const auto a = address_of(addr, len, family);
    if (!a) return fail(a.error());
    return answer(l->bind(fd, *a));
}

int pd_listen(void* u, int shown_fd, int backlog) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    g.a.stack();
    return answer(l->listen(fd, backlog));
}

int pd_accept(void* u, int shown_fd, sockaddr* addr, socklen_t* len) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    socket_address peer;
    const auto r = l->accept(fd, &peer);
    if (!r) return fail(r.error());
    write_address(peer, addr, len);
    return g.a.show_fd(*r);
}

int pd_connect(void* u, int shown_fd, const sockaddr* addr, socklen_t len) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    g.a.stack();
    const int family = family_of(g.a, fd);
    if (family < 0) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    const auto a = address_of(addr, len, family);
    if (!a) return fail(a.error());
    return answer(l->connect(fd, *a));
}

ssize_t do_recv(adapter& a, int fd, std::span<const std::span<std::uint8_t>> p, int flags, msghdr* msg = nullptr) {
    layer_type* l = live(a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    const auto r = l->recvv(fd, p, flags);
    if (!r) return fail(r.error());
    if (msg != nullptr) {
        msg->msg_flags = 0;
        std::size_t used = 0;
        if (r->inq && msg->msg_control != nullptr && msg->msg_controllen >= CMSG_SPACE(sizeof(int))) {
            cmsghdr* c = CMSG_FIRSTHDR(msg);
            c->cmsg_level = SOL_TCP;
            c->cmsg_type = TCP_CM_INQ;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            const int v = *r->inq;
            std::memcpy(CMSG_DATA(c), &v, sizeof v);
            used = CMSG_SPACE(sizeof(int));
        }
        msg->msg_controllen = used;
    }
    return static_cast<ssize_t>(r->bytes);
}

ssize_t do_send(adapter& a, int fd, std::span<const std::span<const std::uint8_t>> p, int flags) {
    layer_type* l = live(a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    return answer(l->sendv(fd, p, flags));
}

ssize_t pd_read(void* u, int shown_fd, void* buf, size_t n) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    if (bad_buffer(buf, n)) return fail(std::make_error_code(std::errc::bad_address));
    const std::span<std::uint8_t> one[1] = {{static_cast<std::uint8_t*>(buf), n}};
    return do_recv(g.a, fd, one, 0);
}
ssize_t pd_recv(void* u, int shown_fd, void* buf, size_t n, int flags) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    if (bad_buffer(buf, n)) return fail(std::make_error_code(std::errc::bad_address));
    const std::span<std::uint8_t> one[1] = {{static_cast<std::uint8_t*>(buf), n}};
    return do_recv(g.a, fd, one, flags);
}
ssize_t pd_recvfrom(void* u, int shown_fd, void* buf, size_t n, int flags, sockaddr* from, socklen_t* len) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    if (bad_buffer(buf, n)) return fail(std::make_error_code(std::errc::bad_address));
    const std::span<std::uint8_t> one[1] = {{static_cast<std::uint8_t*>(buf), n}};
    const ssize_t r = do_recv(g.a, fd, one, flags);
    if (r >= 0 && from != nullptr && len != nullptr)
        if (const auto p = g.a.layer->getpeername(fd)) write_address(*p, from, len);
    return r;
}
ssize_t pd_readv(void* u, int shown_fd, const iovec* iov, int n) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    if (const auto e = check_iov(iov, n)) return fail(e);
    const auto p = pieces(iov, n);
    return do_recv(g.a, fd, p, 0);
}
ssize_t pd_recvmsg(void* u, int shown_fd, msghdr* msg, int flags) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    if (msg == nullptr) return fail(std::make_error_code(std::errc::bad_address));
    if (const auto e = check_iov(msg->msg_iov, static_cast<long>(msg->msg_iovlen))) return fail(e);
    const auto p = pieces(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
    return do_recv(g.a, fd, p, flags, msg);
}

ssize_t pd_write(void* u, int shown_fd, const void* buf, size_t n) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    if (bad_buffer(buf, n)) return fail(std::make_error_code(std::errc::bad_address));
    const std::span<const std::uint8_t> one[1] = {{static_cast<const std::uint8_t*>(buf), n}};
    return do_send(g.a, fd, one, 0);
}
ssize_t pd_send(void* u, int shown_fd, const void* buf, size_t n, int flags) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    if (bad_buffer(buf, n)) return fail(std::make_error_code(std::errc::bad_address));
    const std::span<const std::uint8_t> one[1] = {{static_cast<const std::uint8_t*>(buf), n}};
    return do_send(g.a, fd, one, flags);
}
ssize_t pd_sendto(void* u, int shown_fd, const void* buf, size_t n, int flags, const sockaddr*, socklen_t) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    if (flags & MSG_FASTOPEN) return do_send(g.a, fd, {}, flags);  // the socket layer's answer to Fast Open
    if (bad_buffer(buf, n)) return fail(std::make_error_code(std::errc::bad_address));
    const std::span<const std::uint8_t> one[1] = {{static_cast<const std::uint8_t*>(buf), n}};
    return do_send(g.a, fd, one, flags);
}
ssize_t pd_writev(void* u, int shown_fd, const iovec* iov, int n) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    if (const auto e = check_iov(iov, n)) return fail(e);
    const auto p = const_pieces(iov, n);
    return do_send(g.a, fd, p, 0);
}
ssize_t pd_sendmsg(void* u, int shown_fd, const msghdr* msg, int flags) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    if (msg == nullptr) return fail(std::make_error_code(std::errc::bad_address));
    if (const auto e = check_iov(msg->msg_iov, static_cast<long>(msg->msg_iovlen))) return fail(e);
    const auto p = const_pieces(msg->msg_iov, static_cast<int>(msg->msg_iovlen));
    return do_send(g.a, fd, p, flags);
}

int pd_fcntl(void* u, int shown_fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    const int arg = (cmd == F_SETFL || cmd == F_SETFD) ? va_arg(ap, int) : 0;
    va_end(ap);
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    return static_cast<int>(answer(l->fcntl(fd, cmd, arg)));
}

int pd_ioctl(void* u, int shown_fd, unsigned long request, ...) {
    va_list ap;
    va_start(ap, request);
    int* out = va_arg(ap, int*);
    va_end(ap);
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    const auto r = l->ioctl(fd, request);
    if (!r) return fail(r.error());
    if (out == nullptr) return fail(std::make_error_code(std::errc::bad_address));
    *out = *r;
    return 0;
}

int pd_close(void* u, int shown_fd) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    const std::error_code r = l->close(fd);
    if (!r) g.a.forget_fd(shown_fd);
    return answer(r);
}

int pd_shutdown(void* u, int shown_fd, int how) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    return answer(l->shutdown(fd, how));
}

int pd_getsockopt(void* u, int shown_fd, int level, int name, void* value, socklen_t* len) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    if (len == nullptr) return fail(std::make_error_code(std::errc::bad_address));
    if (static_cast<int>(*len) < 0) return fail(std::make_error_code(std::errc::invalid_argument));
    if (value == nullptr && *len != 0) return fail(std::make_error_code(std::errc::bad_address));
    const auto r = l->getsockopt(fd, level, name, {static_cast<std::byte*>(value), *len});
    if (!r) return fail(r.error());
    *len = static_cast<socklen_t>(*r);
    return 0;
}

int pd_setsockopt(void* u, int shown_fd, int level, int name, const void* value, socklen_t len) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    if (static_cast<int>(len) < 0) return fail(std::make_error_code(std::errc::invalid_argument));
    if (value == nullptr && len != 0) return fail(std::make_error_code(std::errc::bad_address));
    return answer(l->setsockopt(fd, level, name, {static_cast<const std::byte*>(value), len}));
}

int pd_poll(void* u, pollfd* fds, nfds_t n, int timeout) {
    entry_guard g(u);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    std::vector<poll_request> req(n);
    // A negative descriptor is skipped, as poll(2) does; an unknown one is POLLNVAL.
    for (nfds_t i = 0; i < n; ++i)
        req[i] = {fds[i].fd < 0 ? -1 : g.a.layer_fd(fds[i].fd), static_cast<std::uint16_t>(fds[i].events), 0};
    const auto r = l->poll(req, timeout);
    if (!r) return fail(r.error());
    for (nfds_t i = 0; i < n; ++i) fds[i].revents = static_cast<short>(req[i].revents);
    return *r;
}

int pd_epoll_create(void* u, int size) {
    entry_guard g(u);
    const auto r = g.a.stack().epoll_create(size);
    if (!r) return fail(r.error());
    return g.a.show_fd(*r);
}
int pd_epoll_ctl(void* u, int epfd, int op, int shown_fd, epoll_event* ev) {
    entry_guard g(u);
    const int fd = g.a.layer_fd(shown_fd);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    epoll_item item;
    if (ev != nullptr) item = {ev->events, ev->data.u64};
    else if (op != EPOLL_CTL_DEL) return fail(std::make_error_code(std::errc::bad_address));
    return answer(l->epoll_ctl(g.a.layer_fd(epfd), op, fd, item));
}
int pd_epoll_wait(void* u, int epfd, epoll_event* events, int max, int timeout) {
    entry_guard g(u);
    layer_type* l = live(g.a);
    if (l == nullptr) return fail(std::make_error_code(std::errc::bad_file_descriptor));
    if (max <= 0) return fail(std::make_error_code(std::errc::invalid_argument));
    std::vector<epoll_item> items(static_cast<std::size_t>(max));
    const auto r = l->epoll_wait(g.a.layer_fd(epfd), items, timeout);
    if (!r) return fail(r.error());
    for (int i = 0; i < *r; ++i) {
        events[i].events = items[static_cast<std::size_t>(i)].events;
        events[i].data.u64 = items[static_cast<std::size_t>(i)].data;
    }
    return *r;
}

int pd_pipe(void*, int*) { unsupported("pipe(): a kernel facility the socket layer does not offer"); }
int pd_splice(void*, int, loff_t*, int, loff_t*, size_t, unsigned int) {
    unsupported("splice(): a kernel facility the socket layer does not offer");
}

// ---- Time and packets -----------------------------------------------------------------------------
// The wall clock packetdrill sees: virtual time from an arbitrary epoch.
constexpr long long epoch_usecs = 1'700'000'000LL * 1'000'000LL;
// Each reading moves time on a little, so packetdrill's spin-waits end.
constexpr auto reading_step = 10us;
// How long netdev_receive() lets time run for a packet before declaring
// that none will come.
constexpr auto give_up_after = std::chrono::hours{2};

int pd_gettimeofday(void* u, timeval* tv, void*) {
    entry_guard g(u);
    g.a.advance_to(g.a.now + reading_step);
    const long long us = epoch_usecs + std::chrono::duration_cast<std::chrono::microseconds>(g.a.now.time_since_epoch()).count();
    tv->tv_sec = us / 1000000;
    tv->tv_usec = us % 1000000;
    return 0;
}
int pd_gettimeofday_tz(void* u, timeval* tv, struct timezone*) { return pd_gettimeofday(u, tv, nullptr); }

int pd_usleep(void* u, useconds_t usec) {
    entry_guard g(u);
    g.a.advance_to(g.a.now + std::chrono::microseconds{usec});
    return 0;
}

int pd_netdev_send(void* u, const void* buf, size_t count) {
    entry_guard g(u);
    if (!g.a.layer) return 0;  // no stack yet: the packet is lost, as on a host with no socket
    g.a.layer->endpoint().receive_datagram({static_cast<const std::uint8_t*>(buf), count});
    g.a.layer->sync();
    return 0;
}

int pd_netdev_receive(void* u, void* buf, size_t* count, long long* time_usecs) {
    entry_guard g(u);
    adapter& a = g.a;
    const time_point started = a.now;
    while (a.out.empty()) {
        const time_point d = a.layer ? a.layer->endpoint().next_deadline() : never;
        if (d == never || d - started > give_up_after) {
            std::fprintf(stderr,
                         "tcpcore: the stack sent nothing and has nothing due within %lld s of virtual time "
                         "(packetdrill expects a packet here)\n",
                         static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(give_up_after).count()));
            // A packet of IP version 0 fails packetdrill's parser, which ends the script.
            static_cast<std::uint8_t*>(buf)[0] = 0;
            *count = 1;
            *time_usecs = epoch_usecs + std::chrono::duration_cast<std::chrono::microseconds>(a.now.time_since_epoch()).count();
            return 0;
        }
        a.advance_to(std::max(d, a.now));
    }
    outbound o = std::move(a.out.front());
    a.out.pop_front();
    const std::size_t n = std::min(*count, o.bytes.size());
    std::memcpy(buf, o.bytes.data(), n);
    *count = n;
    *time_usecs = epoch_usecs + std::chrono::duration_cast<std::chrono::microseconds>(o.at.time_since_epoch()).count();
    return 0;
}

// The adapter packetdrill is running, for the getsockopt() below.
std::atomic<adapter*> running{nullptr};

void pd_free(void* u) {
    adapter* expected_adapter = static_cast<adapter*>(u);
    running.compare_exchange_strong(expected_adapter, nullptr);
    delete static_cast<adapter*>(u);
}

ip_address parse_ip(const std::string& s) {
    std::uint8_t b[16];
    if (inet_pton(AF_INET, s.c_str(), b) == 1) return ip_address::v4(std::span<const std::uint8_t, 4>(b, 4));
    if (inet_pton(AF_INET6, s.c_str(), b) == 1) return ip_address::v6(std::span<const std::uint8_t, 16>(b));
    std::fprintf(stderr, "tcpcore adapter: bad address '%s'\n", s.c_str());
    std::exit(2);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void packetdrill_interface_init(const char* flags,
                                                                                 packetdrill_interface* ifc) {
    auto* a = new adapter;
    running = a;
    std::istringstream in(flags != nullptr ? flags : "");
    for (std::string item; std::getline(in, item, ',');) {
        const auto eq = item.find('=');
        const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
        if (key == "baseline") a->baseline = read_baseline(value);
        else if (key == "local4") a->local4 = parse_ip(value);
        else if (key == "local6") a->local6 = parse_ip(value);
    }
    ifc->userdata = a;
    ifc->free = pd_free;
    ifc->socket = pd_socket;
    ifc->bind = pd_bind;
    ifc->listen = pd_listen;
    ifc->accept = pd_accept;
    ifc->connect = pd_connect;
    ifc->read = pd_read;
    ifc->readv = pd_readv;
    ifc->recv = pd_recv;
    ifc->recvfrom = pd_recvfrom;
    ifc->recvmsg = pd_recvmsg;
    ifc->write = pd_write;
    ifc->writev = pd_writev;
    ifc->send = pd_send;
    ifc->sendto = pd_sendto;
    ifc->sendmsg = pd_sendmsg;
    ifc->fcntl = pd_fcntl;
    ifc->ioctl = pd_ioctl;
    ifc->close = pd_close;
    ifc->shutdown = pd_shutdown;
    ifc->getsockopt = pd_getsockopt;
    ifc->setsockopt = pd_setsockopt;
    ifc->poll = pd_poll;
    ifc->netdev_send = pd_netdev_send;
    ifc->netdev_receive = pd_netdev_receive;
    ifc->usleep = pd_usleep;
    ifc->gettimeofday = pd_gettimeofday_tz;
    ifc->epoll_create = pd_epoll_create;
    ifc->epoll_ctl = pd_epoll_ctl;
    ifc->epoll_wait = pd_epoll_wait;
    ifc->pipe = pd_pipe;
    ifc->splice = pd_splice;
}

// packetdrill reads struct tcp_info (and TCP_CC_INFO, SO_MEMINFO) for a
// script's %{ }% code blocks with libc's getsockopt() on the descriptor,
// not through the shared-object interface. The runner preloads this object
// (LD_PRELOAD), so this getsockopt() answers for the layer's descriptors
// and passes every other call on to libc's.
extern "C" __attribute__((visibility("default"))) int getsockopt(int fd, int level, int name, void* value,
                                                                 socklen_t* len) noexcept {
    if (adapter* a = running.load()) {
        bool ours;
        {
            const std::lock_guard<std::mutex> lock(a->mutex);
            ours = a->layer_fd_of.count(fd) != 0;
        }
        if (ours) return pd_getsockopt(a, fd, level, name, value, len);
    }
    using libc_getsockopt = int (*)(int, int, int, void*, socklen_t*);
    static const auto next = reinterpret_cast<libc_getsockopt>(::dlsym(RTLD_NEXT, "getsockopt"));
    if (next == nullptr) {
        errno = ENOSYS;
        return -1;
    }
    return next(fd, level, name, value, len);
}
