#!/usr/bin/env bash
# Runs tcpcore's whole test suite: built and run with g++ 12, with clang 14,
# and with g++ under AddressSanitizer + UndefinedBehaviorSanitizer; then the
# fuzz targets under libFuzzer (clang, ASan + UBSan), about a minute each.
# Missing Debian packages are installed when run as root; otherwise the exact
# apt-get line is printed. .ci/run runs this same script.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ clang libclang-rt-14-dev catch2 librapidcheck-dev libbenchmark-dev
          tshark iproute2 libasio-dev ccache bison flex python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    echo "tcpcore: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "tcpcore: the tests need packages that are not installed. Run:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

# ccache (when installed) keys on paths relative to the checkout and ignores
# the build folder, so a fresh clone reuses what an earlier build compiled.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

presets=("$@")
((${#presets[@]})) || presets=(dev clang asan fuzz)
# Interop tests need root and /dev/net/tun; elsewhere ctest reports them
# skipped (under CI, where CI is set, a skip is a failure instead). Either
# way the run ends by saying how many were skipped and why.
skip_reason="they need root (CAP_NET_ADMIN) and /dev/net/tun"
if [ "$(id -u)" -ne 0 ]; then
  skip_reason="this run is not root; they need CAP_NET_ADMIN for a network namespace and a TUN device"
elif [ ! -c /dev/net/tun ]; then
  skip_reason="/dev/net/tun does not exist here"
fi
# The conformance run (packetdrill's scripts, dev preset only) has the same
# needs, and a packetdrill snapshot beside the checkout.
packetdrill_dir=${TCPCORE_PACKETDRILL_DIR:-$PWD/../shared/packetdrill}
conformance="not run (only the dev preset runs it)"
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
skipped_total=0
for preset in "${presets[@]}"; do
  echo "::: tcpcore: workflow '$preset'"
  start=$SECONDS
  cmake --workflow --preset "$preset" 2>&1 | tee "$log_dir/$preset.log"
  skipped=$(grep -c '\*\*\*Skipped' "$log_dir/$preset.log" || true)
  if grep -q 'conformance: packetdrill .*\*\*\*Skipped' "$log_dir/$preset.log"; then
    skipped=$((skipped - 1))
    conformance="skipped: $skip_reason"
    [ -d "$packetdrill_dir/gtests/net/packetdrill" ] ||
      conformance="skipped: no packetdrill snapshot at $packetdrill_dir (set TCPCORE_PACKETDRILL_DIR)"
  elif grep -q 'conformance: packetdrill .*Passed' "$log_dir/$preset.log"; then
    conformance="passed: outcomes as tests/conformance/expected_failures.txt and docs/conformance.md say"
  fi
  skipped_total=$((skipped_total + skipped))
  note=""
  ((skipped)) && note=", $skipped skipped"
  echo "::: tcpcore: workflow '$preset' passed in $((SECONDS - start)) s$note"
done
if ((skipped_total)); then
  echo "::: tcpcore: $skipped_total tests skipped (interop with the Linux kernel): $skip_reason"
else
  echo "::: tcpcore: no interop test skipped"
fi
echo "::: tcpcore: conformance (packetdrill): $conformance"
