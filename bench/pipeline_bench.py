#!/usr/bin/env python3
"""Pipeline and job-store scale on the dev Slurm cluster: how long submissions,
listings and a batch take as the store grows. Nothing is transcoded: the pipeline is
paused, so Slurm holds every job, and the jobs are cancelled in Slurm at the end.

    bash slurm/dev-cluster.sh up
    /usr/bin/python3 bench/pipeline_bench.py [--jobs 200] [--batch 1000]

Prints a Markdown table (medians where a step repeats) for docs/benchmarks.md.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchlib import paused_store

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("GOPCAST_BIN", ROOT / "build" / "src" / "gopcast"))
MEDIA = ROOT.parent / "shared" / "media" / "me-other-480p.mp4"


def timed(cmd, env):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))}: {proc.stderr}")
    return time.perf_counter() - start, proc.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=200, help="single submissions")
    ap.add_argument("--batch", type=int, default=1000, help="inputs in one batch")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gopcast-pipeline-bench-"))
    home, env = paused_store(work, "bench")
    out = work / "out"
    out.mkdir()
    job = work / "job.toml"
    job.write_text(f'[input]\npath = "{MEDIA}"\n[[outputs]]\npath = "{out}/{{name}}.mp4"\n')
    rows = []
    try:
        submit = [timed([BIN, "submit", job, "--pipeline", "bench"], env)[0] for _ in range(args.jobs)]
        rows.append((f"`gopcast submit` (store growing 0 to {args.jobs})", f"{statistics.median(submit) * 1000:.0f} ms median, "
                     f"{max(submit) * 1000:.0f} ms max"))
        inputs = work / "inputs"
        inputs.mkdir()
        for i in range(args.batch):
            (inputs / f"clip{i:05d}.mp4").symlink_to(MEDIA)
        t, text = timed([BIN, "submit", "--batch", inputs, job, "--pipeline", "bench", "--json"], env)
        arrays = json.loads(text)["slurm_array_ids"]
        rows.append((f"`gopcast submit --batch` of {args.batch} inputs", f"{t:.2f} s ({len(arrays)} Slurm array(s))"))
        total = args.jobs + args.batch
        lists = [timed([BIN, "jobs", "list", "--json"], env)[0] for _ in range(5)]
        rows.append((f"`gopcast jobs list` over {total} held jobs", f"{statistics.median(lists):.2f} s median of 5"))
        ids = json.loads(timed([BIN, "jobs", "list", "--json"], env)[1])
        show = [timed([BIN, "jobs", "show", ids[k]["id"]], env)[0] for k in range(0, len(ids), max(1, len(ids) // 20))]
        rows.append((f"`gopcast jobs show` (store of {total})", f"{statistics.median(show) * 1000:.0f} ms median"))
        t, _ = timed([BIN, "pipelines", "show", "bench"], env)
        rows.append((f"`gopcast pipelines show` ({total} held in Slurm)", f"{t * 1000:.0f} ms"))
    finally:
        subprocess.run(["scancel", "--name", "gopcast-bench"], env=env)
        shutil.rmtree(work, ignore_errors=True)
    print(f"Machine: {platform.node()}, {os.cpu_count()} cores, Slurm dev cluster (slurm/dev-cluster.sh)\n")
    print("| step | time |\n|---|---|")
    for step, t in rows:
        print(f"| {step} | {t} |")


if __name__ == "__main__":
    main()
