// Runs a fuzz target's LLVMFuzzerTestOneInput on saved inputs, without
// libFuzzer: so that g++ builds, sanitizer builds and ctest replay the corpora
// (and any crash file) as ordinary tests.
//
//   fuzz_replay_connection fuzz/corpus/fuzz_connection crash-1234   # directories and files
//   fuzz_replay_connection < input                                  # or stdin
//
// Directories are walked recursively in name order, so runs are repeatable.
// A failing input aborts (its name is printed first); otherwise the exit
// status is 0, or 1 when a path could not be read.

#include "fuzz_support.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <system_error>
#include <vector>

namespace {

bool read_file(const std::filesystem::path& path, std::vector<std::uint8_t>& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

void run_one(const std::vector<std::uint8_t>& bytes, const std::string& name) {
    // Printed before the run, so that an abort names the input that caused it.
    if (tcpcore::fuzz::tracing()) std::fprintf(stderr, "--- %s (%zu bytes)\n", name.c_str(), bytes.size());
    std::fflush(stderr);
    // A copy the size of the input exactly: ASan then catches reads past it,
    // as libFuzzer's own copy does.
    std::vector<std::uint8_t> copy(bytes);
    LLVMFuzzerTestOneInput(copy.empty() ? nullptr : copy.data(), copy.size());
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t inputs = 0, total_bytes = 0;
    bool failed = false;
    std::vector<std::uint8_t> bytes;

    if (argc < 2) {
        bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        run_one(bytes, "<stdin>");
        std::printf("replayed 1 input (%zu bytes) from stdin\n", bytes.size());
        return 0;
    }

    for (int a = 1; a < argc; ++a) {
        const std::filesystem::path arg(argv[a]);
        std::error_code ec;
        std::vector<std::filesystem::path> files;
        if (std::filesystem::is_directory(arg, ec)) {
            for (const auto& e : std::filesystem::recursive_directory_iterator(arg, ec))
                if (e.is_regular_file()) files.push_back(e.path());
            std::sort(files.begin(), files.end());
        } else {
            files.push_back(arg);
        }
        if (ec) {
            std::fprintf(stderr, "cannot read %s: %s\n", argv[a], ec.message().c_str());
            failed = true;
            continue;
        }
        for (const auto& f : files) {
            if (!read_file(f, bytes)) {
                std::fprintf(stderr, "cannot read %s\n", f.string().c_str());
                failed = true;
                continue;
            }
            run_one(bytes, f.string());
            ++inputs;
            total_bytes += bytes.size();
        }
    }
    std::printf("replayed %zu inputs (%zu bytes)\n", inputs, total_bytes);
    // An empty corpus replays nothing and proves nothing.
    return failed || inputs == 0 ? 1 : 0;
}
