#pragma once
// The numbers of the socket API, with Linux's values: address families,
// socket types, option levels and names, message flags, shutdown modes,
// poll/epoll event bits, fcntl and ioctl requests. The socket layer takes
// and gives these, so a program written against <sys/socket.h> on Linux
// passes its own constants unchanged (tests/socket/socket_layer_test.cpp
// checks every value against the system headers), while the core needs no
// system header and builds where there is none.

#include <cstdint>

namespace tcpcore::sock {

// Address families and socket types (socket(2)).
inline constexpr int af_unspec = 0;
inline constexpr int af_inet = 2;
inline constexpr int af_inet6 = 10;
inline constexpr int sock_stream = 1;
inline constexpr int sock_dgram = 2;
inline constexpr int sock_packet = 10;  // the last type (SOCK_MAX - 1)
inline constexpr int sock_nonblock = 04000;
inline constexpr int sock_cloexec = 02000000;
inline constexpr int ipproto_ip = 0;
inline constexpr int ipproto_tcp = 6;

// Option levels.
inline constexpr int sol_socket = 1;
inline constexpr int sol_tcp = ipproto_tcp;

// SOL_SOCKET options.
inline constexpr int so_reuseaddr = 2;
inline constexpr int so_type = 3;
inline constexpr int so_error = 4;
inline constexpr int so_sndbuf = 7;
inline constexpr int so_rcvbuf = 8;
inline constexpr int so_keepalive = 9;
inline constexpr int so_linger = 13;
inline constexpr int so_reuseport = 15;
inline constexpr int so_rcvlowat = 18;
inline constexpr int so_sndlowat = 19;
inline constexpr int so_rcvtimeo = 20;  // the old (struct timeval) form, as glibc's SO_RCVTIMEO on 64-bit
inline constexpr int so_sndtimeo = 21;
inline constexpr int so_acceptconn = 30;
inline constexpr int so_protocol = 38;
inline constexpr int so_domain = 39;
inline constexpr int so_meminfo = 55;

// SOL_TCP options.
inline constexpr int tcp_nodelay = 1;
inline constexpr int tcp_maxseg = 2;
inline constexpr int tcp_cork = 3;
inline constexpr int tcp_keepidle = 4;
inline constexpr int tcp_keepintvl = 5;
inline constexpr int tcp_keepcnt = 6;
inline constexpr int tcp_syncnt = 7;
inline constexpr int tcp_linger2 = 8;
inline constexpr int tcp_window_clamp = 10;
inline constexpr int tcp_info = 11;
inline constexpr int tcp_quickack = 12;
inline constexpr int tcp_congestion = 13;
inline constexpr int tcp_user_timeout = 18;
inline constexpr int tcp_fastopen = 23;
inline constexpr int tcp_notsent_lowat = 25;
inline constexpr int tcp_fastopen_connect = 30;
inline constexpr int tcp_cc_info = 26;
inline constexpr int tcp_inq = 36;

// Message flags (send(2), recv(2)).
inline constexpr int msg_oob = 0x1;
inline constexpr int msg_peek = 0x2;
inline constexpr int msg_trunc = 0x20;
inline constexpr int msg_dontwait = 0x40;
inline constexpr int msg_eor = 0x80;
inline constexpr int msg_waitall = 0x100;
inline constexpr int msg_errqueue = 0x2000;
inline constexpr int msg_nosignal = 0x4000;
inline constexpr int msg_more = 0x8000;
inline constexpr int msg_zerocopy = 0x4000000;
inline constexpr int msg_fastopen = 0x20000000;

// shutdown(2).
inline constexpr int shut_rd = 0;
inline constexpr int shut_wr = 1;
inline constexpr int shut_rdwr = 2;

// poll(2) and epoll(7) event bits (the same numbers in both).
inline constexpr std::uint32_t pollin = 0x001;
inline constexpr std::uint32_t pollpri = 0x002;
inline constexpr std::uint32_t pollout = 0x004;
inline constexpr std::uint32_t pollerr = 0x008;
inline constexpr std::uint32_t pollhup = 0x010;
inline constexpr std::uint32_t pollnval = 0x020;
inline constexpr std::uint32_t pollrdnorm = 0x040;
inline constexpr std::uint32_t pollrdband = 0x080;
inline constexpr std::uint32_t pollwrnorm = 0x100;
inline constexpr std::uint32_t pollwrband = 0x200;
inline constexpr std::uint32_t pollrdhup = 0x2000;
inline constexpr std::uint32_t epollexclusive = 1u << 28;
inline constexpr std::uint32_t epollwakeup = 1u << 29;
inline constexpr std::uint32_t epolloneshot = 1u << 30;
inline constexpr std::uint32_t epollet = 1u << 31;
inline constexpr int epoll_ctl_add = 1;
inline constexpr int epoll_ctl_del = 2;
inline constexpr int epoll_ctl_mod = 3;

// fcntl(2).
inline constexpr int f_getfd = 1;
inline constexpr int f_setfd = 2;
inline constexpr int f_getfl = 3;
inline constexpr int f_setfl = 4;
inline constexpr int o_rdwr = 02;
inline constexpr int o_nonblock = 04000;
inline constexpr int fd_cloexec = 1;

// ioctl(2) requests of TCP sockets.
inline constexpr unsigned long siocinq = 0x541B;      // FIONREAD: bytes readable
inline constexpr unsigned long siocoutq = 0x5411;     // TIOCOUTQ: bytes not yet acknowledged
inline constexpr unsigned long siocoutqnsd = 0x894B;  // bytes not yet sent

// Linux's socket-level limits (net.core.*, include/net/sock.h).
inline constexpr int default_wmem_max = 212992;  // net.core.wmem_max
inline constexpr int default_rmem_max = 212992;  // net.core.rmem_max
inline constexpr int min_sndbuf = 4608;          // SOCK_MIN_SNDBUF on 64-bit
inline constexpr int min_rcvbuf = 2304;          // SOCK_MIN_RCVBUF on 64-bit
inline constexpr int default_somaxconn = 4096;   // net.core.somaxconn
inline constexpr int max_window_clamp_floor = 1152;  // SOCK_MIN_RCVBUF / 2: TCP_WINDOW_CLAMP's floor

}  // namespace tcpcore::sock
