#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test.
#   bash tests/run.sh             unit tests (ctest) and media/CLI tests (pytest)
#   bash tests/run.sh --sanitize  the same, built with AddressSanitizer + UBSan
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/.ci/install-deps.sh"
build=$(bash "$root/.ci/build.sh" "$@")
if [ "${1:-}" = "--sanitize" ]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS="suppressions=$root/.ci/lsan.supp:print_suppressions=0"
fi
echo "== unit tests (ctest)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
echo "== dev Slurm cluster (slurm/dev-cluster.sh)"
# The pipeline tests run against real Slurm daemons; stop them afterwards if we started them.
if ! bash "$root/slurm/dev-cluster.sh" status >/dev/null 2>&1; then
  trap 'bash "$root/slurm/dev-cluster.sh" down >/dev/null 2>&1 || true' EXIT
fi
bash "$root/slurm/dev-cluster.sh" up
echo "== media and CLI tests (pytest)"
export GOPCAST_BIN="$build/src/gopcast"
export GOPCAST_MPI_BIN="$build/mpi/gopcast-mpi"
cd "$root"
/usr/bin/python3 -m pytest -q -n "$(nproc)" tests/cli
