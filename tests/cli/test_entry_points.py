"""One way to run a job: the same job file (an MP4 with a watermark, an HLS output and
still images) through every entry point — `gopcast run`, `mpirun -n 2 gopcast-mpi`, the
Slurm runner inside an allocation on the dev cluster (its in-process "threads" launcher
and its "mpirun" one) and `gopcast.run()` from Python — gives the same output bytes,
the same still images and the same manifest rows.

The oracle is sha256 over the files written and h5py for the manifest (the rows'
plan and sizes, not their timings, ranks or hosts).
"""
import hashlib
import json
import os
import subprocess
from pathlib import Path

import h5py
import pytest

from conftest import BIN
from test_slurm import Home, slurm_conf  # noqa: F401  (the dev cluster fixture)

MPI_BIN = Path(os.environ.get("GOPCAST_MPI_BIN", BIN.parent.parent / "mpi" / "gopcast-mpi"))
PYTHONPATH = BIN.parent.parent / "python-bindings"
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]
ENTRY_POINTS = ["cli", "mpi", "slurm-threads", "slurm-mpirun", "python"]


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """A 6 s input with audio and keyframes every second, and a watermark image."""
    d = tmp_path_factory.mktemp("entry-media")
    src = d / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(BIN.parents[2].parent / "shared" / "media" / "bbb-480p-30s.mp4"),
                    "-t", "6", "-vf", "scale=424:240", "-c:v", "libx264", "-preset", "ultrafast", "-g", "24",
                    "-c:a", "aac", "-b:a", "64k", str(src)], check=True)
    logo = d / "logo.png"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=yellow:s=48x24", "-frames:v", "1", str(logo)],
                   check=True)
    return src, logo


def write_job(folder, src, logo):
    out = folder / "out"
    out.mkdir(parents=True)
    job = folder / "job.toml"
    job.write_text(
        f'[input]\npath = {json.dumps(str(src))}\n'
        f'[parallel]\nsegment_seconds = 2\n'
        f'[[outputs]]\npath = {json.dumps(str(out / "{name}.mp4"))}\ntemplate = "default-mp4"\n'
        f'[outputs.override.video]\npreset = "ultrafast"\n'
        f'[[outputs.watermarks]]\nimage = {json.dumps(str(logo))}\nposition = "top-right"\n'
        f'[[outputs]]\npath = {json.dumps(str(out / "{name}.m3u8"))}\ntemplate = "ios-hls-360p"\n'
        f'[outputs.override.video]\npreset = "ultrafast"\n'
        f'[outputs.override.mux]\nhls_segment_seconds = 2\n'
        f'[[snapshots]]\npath = {json.dumps(str(out / "shot-%02d.jpg"))}\ntimes = [0.5, 4.25]\nwidth = 160\n')
    return job, out


def run_entry(kind, job, tmp_path, slurm_home=None):
    """Runs `job` through one entry point; returns the manifest's path."""
    if kind == "cli":
        proc = subprocess.run([str(BIN), "run", str(job), "-n", "2", "--json"], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["parallel"]["manifest"]
    if kind == "mpi":
        proc = subprocess.run([*MPIRUN, "-n", "2", str(MPI_BIN), str(job), "--json"], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["parallel"]["manifest"]
    if kind == "python":
        code = ("import gopcast, json, sys\n"
                "r = gopcast.run(sys.argv[1], workers=2)\n"
                "print(json.dumps(r.to_dict()))\n")
        env = dict(os.environ, PYTHONPATH=str(PYTHONPATH))
        proc = subprocess.run(["/usr/bin/python3", "-c", code, str(job)], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["parallel"]["manifest"]
    launcher = kind.split("-", 1)[1]
    pipeline = slurm_home.pipeline(f"entry{launcher}", ranks=2, launcher=launcher)
    rec = slurm_home.submit(job, pipeline)
    proc, done = slurm_home.wait(rec["id"])
    assert proc.returncode == 0 and done["state"] == "TranscodeSuccess", done
    return done["manifest"]


def written(out):
    """sha256 of every file in the output folder (outputs, HLS segments, snapshots) but the
    manifest, which records timings and hosts: its rows are compared on their own."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())
            if p.is_file() and not p.name.endswith(".manifest.h5")}


def manifest_rows(path):
    with h5py.File(path, "r", locking=False) as m:
        seg = m["segments"]
        cols = ["index", "first_frame", "last_frame", "start_pts", "end_pts", "bytes", "status"]
        rows = list(zip(*[[v.decode() if isinstance(v, bytes) else int(v) for v in seg[c][()]] for c in cols]))
        state = m.attrs["state"]
        return rows, [int(k) for k in m["keyframes"]["pts"][()]], state.decode() if isinstance(state, bytes) else state


@pytest.fixture(scope="module")
def reference(material, tmp_path_factory):
    folder = tmp_path_factory.mktemp("entry-cli")
    job, out = write_job(folder, *material)
    manifest = run_entry("cli", job, folder)
    return written(out), manifest_rows(manifest)


@pytest.mark.parametrize("kind", ENTRY_POINTS[1:])
def test_every_entry_point_writes_the_same_job(kind, material, reference, tmp_path, request):
    slurm_home = None
    if kind.startswith("slurm"):
        slurm_home = Home(tmp_path / "gopcast home", request.getfixturevalue("slurm_conf"))
    job, out = write_job(tmp_path, *material)
    manifest = run_entry(kind, job, tmp_path, slurm_home)
    files, rows = reference
    got = written(out)
    # The same files: two outputs (the HLS one with its segments) and both snapshots.
    assert sorted(got) == sorted(files), kind
    assert {"shot-01.jpg", "shot-02.jpg", "clip.mp4", "clip.m3u8"} <= set(got)
    assert got == files, kind
    assert manifest_rows(manifest) == rows
