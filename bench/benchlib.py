"""What the benchmark scripts share: timing a command with its children's CPU time,
counting an output's video frames, the x264 CPU flags gopcast runs with, and a job store
with a paused pipeline on the dev Slurm cluster."""
import json
import os
import resource
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd):
    """(wall seconds, CPU seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def frames(path):
    """Video frames (packets) of a file, as ffprobe counts them."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
                          "stream=nb_read_packets", "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0].split(",")[0])


def x264_asm(gopcast):
    """The x264 CPU flags gopcast runs with (it leaves out AVX-512): the ffmpeg tool gets the same."""
    return json.loads(subprocess.run([str(gopcast), "version", "--json"], capture_output=True, text=True,
                                     check=True).stdout)["x264_asm"]


def paused_store(work, pipeline):
    """A job store (GOPCAST_HOME) under `work` with one paused pipeline on the dev Slurm
    cluster (`slurm/dev-cluster.sh up`), so Slurm holds every job: returns (home, env)."""
    conf = subprocess.run(["bash", str(ROOT / "slurm" / "dev-cluster.sh"), "env"], capture_output=True, text=True,
                          check=True).stdout.strip().split("=", 1)[1].strip("'\"")
    home = Path(work) / "home"
    (home / "pipelines").mkdir(parents=True)
    (home / "pipelines" / f"{pipeline}.toml").write_text('state = "paused"\n[slurm]\npartition = "debug"\n')
    return home, dict(os.environ, GOPCAST_HOME=str(home), SLURM_CONF=conf)
