// Regenerates docs/state-machine.md from the transition table.
// Usage: tcpcore_update_docs <path to docs/state-machine.md>

#include <tcpcore/rules/diagram.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <path to docs/state-machine.md>\n", argv[0]);
        return 2;
    }
    std::FILE* f = std::fopen(argv[1], "wb");
    if (f == nullptr) {
        std::perror(argv[1]);
        return 1;
    }
    tcpcore::write_state_machine_doc([f](std::string_view text) { std::fwrite(text.data(), 1, text.size(), f); });
    return std::fclose(f) == 0 ? 0 : 1;
}
