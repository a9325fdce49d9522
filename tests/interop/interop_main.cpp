// The interop runner: enters a network namespace of its own before Catch2
// runs any test, so the TUN device, its addresses and every kernel socket stay
// inside it and vanish with the process.
//
// Needs root (CAP_NET_ADMIN) and /dev/net/tun; without them each test exits
// 77, which ctest reports as skipped, with the reason printed.
//
// A translation unit of its own because it carries Catch2's implementation
// (and with it <regex>), which GCC 12 at -O1 under ASan warns about from
// inside libstdc++; the build silences that one warning for this file only.

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

int main(int argc, char** argv) {
    bool listing = false;
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]).rfind("--list", 0) == 0) listing = true;
    if (!listing) {
        if (::geteuid() != 0) {
            std::puts("interop tests skipped: they need root (CAP_NET_ADMIN) to create a network namespace and a TUN device");
            return 77;
        }
        struct stat st{};
        if (::stat("/dev/net/tun", &st) != 0) {
            std::puts("interop tests skipped: /dev/net/tun does not exist here");
            return 77;
        }
        if (::unshare(CLONE_NEWNET) != 0) {
            std::printf("interop tests skipped: unshare(CLONE_NEWNET) failed: %s\n", std::strerror(errno));
            return 77;
        }
    }
    return Catch::Session().run(argc, argv);
}
