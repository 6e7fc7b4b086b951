#!/usr/bin/env bash
# The main job on real media, from nothing: installs what is missing, builds, runs
# jobs/bbb-android.toml on the segment-parallel engine across MPI ranks (one per core)
# and prints where the outputs are, what they are, and the segment manifest's path.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/.ci/install-deps.sh"
build=$(bash "$root/.ci/build.sh")
mkdir -p "$root/out"
as_root=()
[ "$(id -u)" -ne 0 ] || as_root=(--allow-run-as-root)
mpirun "${as_root[@]}" --oversubscribe -n "$(nproc)" "$build/mpi/gopcast-mpi" "$root/jobs/bbb-android.toml"
for f in "$root"/out/bbb-480p-30s-android-480p.mp4 "$root"/out/bbb-480p-30s-ios-360p.m3u8; do
  echo
  "$build/src/gopcast" probe "$f"
done
