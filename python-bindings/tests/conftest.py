"""Shared fixtures for the Python module's tests.

The module under test is the one on PYTHONPATH (tests/run.sh points it at
<build>/python-bindings), else build/python-bindings of this checkout. The oracles are
the ffmpeg/ffprobe tools and h5py, as in tests/cli, whose helpers (ffprobe,
decoded_frames, the `derived` media fixture...) are reused from tests/cli/conftest.py.
"""
import fcntl
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
try:
    import gopcast  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "build" / "python-bindings"))
    import gopcast  # noqa: F401

_spec = importlib.util.spec_from_file_location("cli_helpers", ROOT / "tests" / "cli" / "conftest.py")
cli = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cli)

# Fixtures of tests/cli, for these tests too.
derived = cli.derived
outdir = cli.outdir

MEDIA = cli.MEDIA
media = cli.media
ffprobe = cli.ffprobe
decoded_frames = cli.decoded_frames
decode_errors = cli.decode_errors
# The gopcast program of the same build (the CLI is compared with, and submit runs it).
BIN = Path(os.environ.get("GOPCAST_BIN", ROOT / "build" / "src" / "gopcast"))
DEV_CLUSTER = ROOT / "slurm" / "dev-cluster.sh"


def cli_error(*args, env=None):
    """(code, message) of a failing gopcast command: its "gopcast: error: CODE: MESSAGE" line."""
    proc = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, env=env)
    assert proc.returncode != 0, proc.stdout
    line = proc.stderr.strip().splitlines()[-1]
    prefix = "gopcast: error: "
    assert line.startswith(prefix), line
    code, message = line[len(prefix):].split(": ", 1)
    return code, message


@pytest.fixture(scope="session")
def clip(derived):
    """A small input (4 s, 320x180, a keyframe every second) so that runs are quick but real."""
    return derived("py-small.mp4", ["-t", "4", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast",
                                    "-g", "24", "-c:a", "aac", "-b:a", "64k"])


@pytest.fixture(scope="session")
def slurm_conf():
    """The dev Slurm cluster (slurm/dev-cluster.sh), brought up once, under the lock the CLI tests use."""
    with open("/tmp/gopcast-dev-cluster.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(["bash", str(DEV_CLUSTER), "up"], check=True, capture_output=True, text=True, timeout=180)
        env_line = subprocess.run(["bash", str(DEV_CLUSTER), "env"], check=True, capture_output=True, text=True).stdout
    return env_line.strip().split("=", 1)[1].strip("'\"")


@pytest.fixture
def home(tmp_path, slurm_conf, monkeypatch):
    """A job store of its own; the module's Slurm commands find the dev cluster through SLURM_CONF."""
    monkeypatch.setenv("SLURM_CONF", slurm_conf)
    path = tmp_path / "gopcast home"
    (path / "pipelines").mkdir(parents=True)
    return path


def write_pipeline(home, name, state="active"):
    """A pipeline whose jobs run on the local engine's threads (no MPI, no license pool)."""
    (home / "pipelines" / f"{name}.toml").write_text(
        f'description = "python tests"\nstate = "{state}"\n'
        '[slurm]\npartition = "debug"\nranks = 1\nlauncher = "threads"\nmax_concurrent = 0\n')
    return name


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, clip):
    """One segment-parallel run of `clip` (1 s segments, 2 workers), shared by the tests
    that read its output, progress and manifest: (job, result, progress values)."""
    out = tmp_path_factory.mktemp("small-run")
    job = gopcast.Job(clip, segment_seconds=1)
    job.add_output(out / "{name}.mp4", overrides={"video.preset": "ultrafast"}, user_data="py test")
    seen = []
    result = gopcast.run(job, workers=2, progress=seen.append)
    return job, result, seen
