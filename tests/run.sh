#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test.
#   bash tests/run.sh             unit tests (ctest), media/CLI tests and the Python module's tests (pytest)
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
echo "== Python module tests (pytest)"
# The gopcast package of this build, for Debian's python3. An ASan-built module needs
# the sanitizer runtimes loaded before the interpreter starts, and Python's own
# allocations at exit are not leaks to report.
py_env=(PYTHONPATH="$build/python-bindings")
if [ "${1:-}" = "--sanitize" ]; then
  py_env+=(LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
           ASAN_OPTIONS=detect_leaks=0:abort_on_error=1)
fi
env "${py_env[@]}" /usr/bin/python3 -m pytest -q -n "$(nproc)" python-bindings/tests
