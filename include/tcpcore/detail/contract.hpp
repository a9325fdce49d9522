#pragma once
// The one way tcpcore stops a program: a caller broke a documented contract
// (read the value of an error, say) and carrying on would be undefined
// behaviour. Checked in every build mode; not for user input, which gets a
// typed error instead. In a constant expression the call is not constant, so
// the misuse is a compile error there.

#include <cstdio>
#include <cstdlib>

namespace tcpcore::detail {

[[noreturn]] inline void contract_violation(const char* what) noexcept {
    std::fputs(what, stderr);
    std::fputc('\n', stderr);
    std::abort();
}

}  // namespace tcpcore::detail
