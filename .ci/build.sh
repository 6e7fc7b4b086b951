#!/usr/bin/env bash
# Configures and builds gopcast. Usage: .ci/build.sh [--sanitize]
# Normal builds go to build/, sanitizer builds (ASan + UBSan) to build-asan/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build"
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  build="$root/build-asan"
  flags=(-DCMAKE_BUILD_TYPE=Debug -DGOPCAST_SANITIZE=ON)
fi
cmake -S "$root" -B "$build" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$build" -j "$(nproc)" >&2
echo "$build"
