#!/usr/bin/env python3
"""The job store at 10^3, 10^4 and 10^5 jobs on the dev Slurm cluster: how long a batch
submission takes, how long and how much memory `jobs list` (all, and filtered by state and
batch) and `jobs show` need, and how long the listing takes that settles every job
Slurm cancelled behind gopcast's back (one squeue call for all of them).

Records are made by the product itself: `gopcast submit --batch` to a paused pipeline,
so Slurm holds every array task and nothing is transcoded. The dev cluster takes 50000
jobs (MaxJobCount), so 10^5 records are the 10^4 batch's rows copied ten times under new
ids in the same database (with Python's sqlite3); every copy has ended, as Slurm's
cancel left them, so listing them asks Slurm nothing.

    bash slurm/dev-cluster.sh up
    /usr/bin/python3 bench/store_bench.py [--sizes 1000 10000] [--copies 10] [--repeat 3]

Prints a Markdown table for docs/benchmarks.md.
"""
import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchlib import paused_store

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("GOPCAST_BIN", ROOT / "build" / "src" / "gopcast"))
MEDIA = ROOT.parent / "shared" / "media" / "me-other-480p.mp4"


def measured(cmd, env):
    """(wall seconds, stdout) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))}: {err.decode()}")
    return wall, out


def peak_rss(cmd, env):
    """Peak RSS (MiB) of one run, as GNU time reports it (a fork of this script would count
    the script's own memory before the exec)."""
    with tempfile.NamedTemporaryFile(mode="r") as f:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name, *map(str, cmd)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(f.read().split()[-1]) / 1024


def median_run(cmd, env, repeat):
    times = []
    out = b""
    for _ in range(repeat):
        t, out = measured(cmd, env)
        times.append(t)
    return statistics.median(times), peak_rss(cmd, env), out


def squeue_empty(env, name):
    out = subprocess.run(["squeue", "--noheader", "--name", name], env=env, capture_output=True, text=True).stdout
    return not out.strip()


def copy_rows(db_path, copies):
    """Copies every row `copies` times under new ids (suffix -rK), JSON id included."""
    db = sqlite3.connect(db_path)
    with db:
        for k in range(1, copies):
            db.execute("INSERT INTO jobs SELECT id || ?1, pipeline, state, final, batch_id || ?1, slurm_job_id, priority, input, "
                       "json_set(record, '$.id', json_extract(record, '$.id') || ?1, '$.batch_id', "
                       "json_extract(record, '$.batch_id') || ?1), job FROM jobs WHERE id NOT LIKE '%-r%'", (f"-r{k}",))
    n = db.execute("SELECT count(*) FROM jobs").fetchone()[0]
    db.close()
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="batch sizes submitted to Slurm")
    ap.add_argument("--copies", type=int, default=10, help="the last batch's rows times this for the largest store")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        work = Path(tempfile.mkdtemp(prefix="gopcast-store-bench-"))
        home, env = paused_store(work, "storebench")
        inbox = work / "inbox"
        inbox.mkdir()
        for i in range(n):
            (inbox / f"c{i:06d}.mp4").symlink_to(MEDIA)
        job = work / "job.toml"
        job.write_text(f'[[outputs]]\npath = "{work}/out/{{name}}.mp4"\n')
        arrays = []
        try:
            t, out = measured([BIN, "submit", "--batch", inbox, job, "--pipeline", "storebench", "--json"], env)
            batch = json.loads(out)
            arrays = batch["slurm_array_ids"]
            rows.append((n, "`submit --batch` (Slurm holds every task)", f"{t:.2f} s", "", f"{len(arrays)} array(s)"))
            t, rss, out = median_run([BIN, "jobs", "list", "--json"], env, args.repeat)
            assert len(json.loads(out)) == n
            rows.append((n, "`jobs list --json` (all held: one squeue for them)", f"{t:.2f} s", f"{rss:.0f}", ""))
            # Slurm cancels them behind gopcast's back; the next listing settles all of them.
            subprocess.run(["scancel", *arrays], env=env, check=True)
            deadline = time.time() + 120
            while not squeue_empty(env, "gopcast-storebench") and time.time() < deadline:
                time.sleep(0.5)
            t, out = measured([BIN, "jobs", "list", "--state", "TranscodeCancelled", "--json"], env)
            assert len(json.loads(out)) == n, "not every job was settled"
            rows.append((n, "`jobs list` that settles all n cancelled in Slurm", f"{t:.2f} s", "", "one squeue, one commit"))
            rounds = 2 if n == args.sizes[-1] and args.copies > 1 else 1
            for k in range(rounds):
                copied = k == 1
                total = copy_rows(home / "jobs.db", args.copies) if copied else n
                label = f"{total} (copies)" if copied else n
                t, rss, out = median_run([BIN, "jobs", "list", "--json"], env, args.repeat)
                assert len(json.loads(out)) == total, (len(json.loads(out)), total)
                rows.append((label, "`jobs list --json` (all ended)", f"{t:.2f} s", f"{rss:.0f}", ""))
                t, rss, _ = median_run([BIN, "jobs", "list"], env, args.repeat)
                rows.append((label, "`jobs list` (table)", f"{t:.2f} s", f"{rss:.0f}", ""))
                t, rss, out = median_run([BIN, "jobs", "list", "--state", "TranscodeFail", "--json"], env, args.repeat)
                rows.append((label, "`jobs list --state TranscodeFail` (none match)", f"{t * 1000:.0f} ms", f"{rss:.0f}", ""))
                t, rss, out = median_run([BIN, "jobs", "list", "--batch", batch["batch_id"], "--json"], env, args.repeat)
                rows.append((label, f"`jobs list --batch` ({n} match)", f"{t:.2f} s", f"{rss:.0f}", ""))
                t, rss, _ = median_run([BIN, "jobs", "show", batch["jobs"][len(batch["jobs"]) // 2]], env, args.repeat)
                rows.append((label, "`jobs show`", f"{t * 1000:.0f} ms", f"{rss:.0f}", ""))
        finally:
            if arrays:
                subprocess.run(["scancel", *arrays], env=env)
            shutil.rmtree(work, ignore_errors=True)
    print(f"Machine: {platform.node()}, {os.cpu_count()} cores, Slurm dev cluster (slurm/dev-cluster.sh), "
          f"{time.strftime('%Y-%m-%d')}\n")
    print("| jobs | step | time (median of {}) | peak RSS MiB | note |\n|---:|---|---:|---:|---|".format(args.repeat))
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")


if __name__ == "__main__":
    main()
