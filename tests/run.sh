#!/usr/bin/env bash
# Runs tcpcore's whole test suite: built and run with g++ 12, with clang 14,
# and with g++ under AddressSanitizer + UndefinedBehaviorSanitizer; then the
# fuzz targets under libFuzzer (clang, ASan + UBSan), about a minute each.
# Missing Debian packages are installed when run as root; otherwise the exact
# apt-get line is printed. .ci/run runs this same script.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ clang libclang-rt-14-dev catch2 librapidcheck-dev libbenchmark-dev
          tshark iproute2 libasio-dev ccache)
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
for preset in "${presets[@]}"; do
  echo "::: tcpcore: workflow '$preset'"
  start=$SECONDS
  cmake --workflow --preset "$preset"
  echo "::: tcpcore: workflow '$preset' passed in $((SECONDS - start)) s"
done
