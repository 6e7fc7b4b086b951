"""Retries and clean failure, on real runs: GOPCAST_FAILPOINT makes a segment (or the
audio) fail part-way through its encode, once or on every attempt.

A transient failure is retried and the output is byte-identical to a clean run's, on
local threads and on MPI ranks; a segment that fails every attempt fails the job with
its index, time range and the last error, keeps the manifest (attempts recorded, h5py
as the oracle) for a resume, and leaves nothing at the output path.
"""
import hashlib
import json
import os
import subprocess
from pathlib import Path

import h5py
import pytest

from conftest import BIN, run_gopcast

MPI_BIN = Path(os.environ.get("GOPCAST_MPI_BIN", BIN.parent.parent / "mpi" / "gopcast-mpi"))
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]
FAST = ["--set", "video.preset=ultrafast"]


@pytest.fixture(scope="module")
def clip(derived):
    """8 s with audio, a keyframe every second: 4 segments of 2 s."""
    return derived("retry-8s.mp4", ["-t", "8", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast", "-g", "24",
                                    "-c:a", "aac", "-b:a", "64k"])


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def transcode(src, out, failpoint=None, *extra):
    env = dict(os.environ)
    if failpoint:
        env["GOPCAST_FAILPOINT"] = failpoint
    return run_gopcast("transcode", src, "-o", out, "-n", "2", "--segment-seconds", "2", *FAST, "--json", *extra, env=env,
                       check=False)


def attempts(manifest):
    with h5py.File(manifest, "r", locking=False) as m:
        return [int(a) for a in m["segments"]["attempts"][()]], m.attrs["state"]


@pytest.fixture(scope="module")
def clean(clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("retry-clean") / "out.mp4"
    r = transcode(clip, out)
    assert r.returncode == 0, r.stderr
    return sha256(out)


@pytest.mark.parametrize("failpoint", ["segment:2:once", "segment:0:once", "audio:once"])
def test_a_transient_failure_is_retried_and_the_output_is_the_same(clip, clean, tmp_path, failpoint):
    out = tmp_path / "out.mp4"
    r = transcode(clip, out, failpoint)
    assert r.returncode == 0, r.stderr
    assert sha256(out) == clean
    assert "trying again" in r.stderr and "failpoint" in r.stderr
    result = json.loads(r.stdout)
    tries, state = attempts(result["parallel"]["manifest"])
    assert state in ("done", b"done")
    if failpoint.startswith("segment"):
        k = int(failpoint.split(":")[1])
        assert tries == [2 if i == k else 1 for i in range(len(tries))]
        assert result["parallel"]["retried_segments"] == 1
    else:
        assert tries == [1] * len(tries)
    assert not list(tmp_path.glob(".out.mp4*")), "work or staging folders left"


def test_a_transient_failure_on_mpi_ranks_gives_the_same_bytes(clip, clean, tmp_path):
    out = tmp_path / "out.mp4"
    job = tmp_path / "job.toml"
    job.write_text(f'[input]\npath = "{clip}"\n[parallel]\nsegment_seconds = 2\n'
                   f'[[outputs]]\npath = "{out}"\n[outputs.override.video]\npreset = "ultrafast"\n')
    env = dict(os.environ, GOPCAST_FAILPOINT="segment:1:once")
    r = subprocess.run([*MPIRUN, "-n", "3", str(MPI_BIN), str(job), "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert sha256(out) == clean
    tries, _ = attempts(json.loads(r.stdout)["parallel"]["manifest"])
    assert tries[1] == 2 and sum(tries) == len(tries) + 1


def test_a_segment_that_always_fails_fails_the_job_and_keeps_the_manifest(clip, tmp_path):
    out = tmp_path / "out.mp4"
    r = transcode(clip, out, "segment:1:always", "--max-attempts", "2")
    assert r.returncode == 20, r.stderr
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "InternalError.TranscodeFailed"
    assert "segment 1 (frames 48..95, 2.000-4.000 s) failed on attempt 2 of 2" in err["message"]
    assert "failpoint" in err["message"]
    assert len(r.stderr.strip().splitlines()) <= 3  # the retry warning, the error
    assert not out.exists()
    tries, state = attempts(out.with_name("out.mp4.manifest.h5"))
    assert state in ("failed", b"failed") and tries[1] == 2
    # Without the fault the same command resumes: only what was not done is encoded.
    r = transcode(clip, out)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["parallel"]["resumed_segments"] >= 1


def test_max_attempts_from_the_job_and_its_range(clip, tmp_path):
    job = tmp_path / "job.toml"
    job.write_text(f'[input]\npath = "{clip}"\n[parallel]\nsegment_seconds = 2\nmax_attempts = 1\n'
                   f'[[outputs]]\npath = "{tmp_path / "o.mp4"}"\n[outputs.override.video]\npreset = "ultrafast"\n')
    env = dict(os.environ, GOPCAST_FAILPOINT="segment:0:once")
    r = run_gopcast("run", job, "-n", "2", env=env, check=False)
    assert r.returncode == 20 and "failed on attempt 1 of 1" in r.stderr, r.stderr
    bad = run_gopcast("run", job, "--max-attempts", "0", check=False)
    assert bad.returncode == 5 and "--max-attempts: 0 is out of range 1..100" in bad.stderr, bad.stderr
    job.write_text(job.read_text().replace("max_attempts = 1", "max_attempts = 101"))
    bad = run_gopcast("run", job, check=False)
    assert bad.returncode == 5 and "parallel.max_attempts" in bad.stderr, bad.stderr


def test_a_malformed_failpoint_is_a_usage_error(clip, tmp_path):
    r = transcode(clip, tmp_path / "o.mp4", "segment:one:once")
    assert r.returncode == 2 and "GOPCAST_FAILPOINT" in r.stderr, r.stderr
    assert not list(tmp_path.iterdir())
