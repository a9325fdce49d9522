#pragma once
// Segments a real Linux 6.18 kernel sent, read off a TUN device inside a
// network namespace with connect() to a closed address. They are the
// known-answer vectors for parsing, checksums and Linux's option layout.

#include <string_view>

namespace tcpcore::test {

// 10.9.0.1:53070 -> 10.9.0.2:8080 SYN, IPv4 header included.
// IP:  45 00 003c c988 4000 40 06 5d1f 0a090001 0a090002
// TCP: cf4e 1f90 seq fc9d4ff8 ack 0 doff 10 flags S win 64240 csum df73
//      options: mss 1460, sackOK + TS (val b680678e, ecr 0), nop, wscale 10
inline constexpr std::string_view linux_syn_ipv4 =
    "4500003c c9884000 40065d1f 0a090001 0a090002"
    "cf4e1f90 fc9d4ff8 00000000 a002faf0 df730000"
    "020405b4 0402080a b680678e 00000000 0103030a";

// [fd00::1]:34916 -> [fd00::2]:8080 SYN, IPv6 header included.
// IP:  6 00 9c398 len 0028 nh 06 hop 40 fd00::1 fd00::2
// TCP: 8864 1f90 seq 718e11ff ack 0 doff 10 flags S win 64800 csum 794a
//      options: mss 1440, sackOK + TS (val cd3edee0, ecr 0), nop, wscale 10
inline constexpr std::string_view linux_syn_ipv6 =
    "6009c398 00280640"
    "fd000000 00000000 00000000 00000001"
    "fd000000 00000000 00000000 00000002"
    "88641f90 718e11ff 00000000 a002fd20 794a0000"
    "020405a0 0402080a cd3edee0 00000000 0103030a";

}  // namespace tcpcore::test
