#!/usr/bin/env bash
# The main job on real media, from nothing: installs what is missing, builds,
# runs jobs/bbb-android.toml and prints where the outputs are and what they are.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/.ci/install-deps.sh"
build=$(bash "$root/.ci/build.sh")
mkdir -p "$root/out"
"$build/src/gopcast" run "$root/jobs/bbb-android.toml"
