#!/usr/bin/python3
"""The architecture as a test (docs/architecture.md): which module may include which,
and the one place each outside library is included from. Fails, listing every include
that breaks a rule, when a change lets an arrow point the wrong way.

    /usr/bin/python3 tests/check_layers.py [SOURCE_DIR]
"""
import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])

# Module -> the modules it may include (besides itself). Everything may use core.
ALLOWED = {
    "core": set(),
    "crypto": set(),
    "av": set(),
    "spec": {"crypto"},
    "plan": {"spec", "crypto"},
    "manifest": {"plan", "spec"},
    "sched": {"plan", "spec", "manifest"},
    "ops": {"av", "spec", "plan", "crypto"},
    "engine": {"av", "spec", "plan", "crypto"},
    "notify": {"crypto"},
    "slurm": {"spec", "notify", "jobs/state.hpp"},
    "jobs": {"spec", "slurm", "notify", "crypto", "app", "plan"},
    "app": {"av", "spec", "plan", "sched", "engine", "ops", "manifest", "crypto"},
    "serve": {"plan"},
    "cli": {"av", "spec", "plan", "app", "ops", "jobs", "serve", "slurm", "manifest", "notify", "sched/simulate.hpp"},
    # gopcast-mpi and the Python module are thin callers of app/ and the public API:
    # never the engine, the scheduler's insides, libav's or MPI's types.
    "mpi": {"app", "spec", "sched/transport.hpp", "sched/codec.hpp", "sched/scheduler.hpp", "av/check.hpp", "ops/stills.hpp"},
    "python": {"app", "spec", "jobs", "manifest", "ops", "av/check.hpp", "av/probe.hpp", "plan/output.hpp"},
}

# Outside libraries: the one folder (or file) that includes each.
LIBRARIES = [
    (re.compile(r"<(libav\w*|libsw\w*)/|<x264\.h>"), ["src/av/"]),
    (re.compile(r"<hdf5\.h>"), ["src/manifest/"]),
    (re.compile(r"<curl/"), ["src/notify/"]),
    (re.compile(r"<openssl/"), ["src/crypto/"]),
    (re.compile(r"<mpi\.h>"), ["mpi/comm.cpp"]),
    (re.compile(r"<fontconfig/"), ["src/ops/font.cpp"]),
    (re.compile(r"<sqlite3\.h>"), ["src/core/sqlite.cpp"]),
    (re.compile(r"<pybind11/"), ["python-bindings/"]),
    (re.compile(r"<CLI/"), ["src/cli/", "mpi/main.cpp"]),
]

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"][^>"]+[>"])', re.M)


def module_of(path):
    rel = path.relative_to(ROOT).as_posix()
    if rel.startswith("src/"):
        return rel.split("/")[1]
    if rel.startswith("mpi/"):
        return "mpi"
    if rel.startswith("python-bindings/src/"):
        return "python"
    return None


def main():
    problems = []
    files = [p for d in ("src", "mpi", "python-bindings/src", "tests/unit") for p in (ROOT / d).rglob("*")
             if p.suffix in (".cpp", ".hpp", ".h")]
    for path in sorted(files):
        rel = path.relative_to(ROOT).as_posix()
        mod = module_of(path)
        for inc in INCLUDE.findall(path.read_text(errors="replace")):
            for pattern, homes in LIBRARIES:
                if pattern.search(inc) and not any(rel.startswith(h) for h in homes):
                    problems.append(f"{rel}: includes {inc}, which only {' or '.join(homes)} may")
            if mod is None or not inc.startswith('"'):
                continue
            target = inc.strip('"')
            if "/" not in target:
                continue  # a file of its own folder
            other = target.split("/")[0]
            if other not in ALLOWED or other in (mod, "core"):
                continue
            allowed = ALLOWED[mod]
            if other in allowed or target in allowed:
                continue
            problems.append(f"{rel}: {mod}/ may not include {target} (docs/architecture.md)")
    if problems:
        print("\n".join(problems))
        print(f"{len(problems)} include(s) break the layering")
        return 1
    print(f"layering holds over {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
