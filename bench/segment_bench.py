#!/usr/bin/python3
"""Segment-parallel engine against the ffmpeg command-line tool, identical x264 settings.

    /usr/bin/python3 bench/segment_bench.py [--minutes 5] [--preset veryfast] [--repeat 3]

For each input (N minutes of bbb-480p-30s.mp4 looped, and the same upscaled to 1080p)
it prints wall time, CPU time and peak memory (medians of --repeat runs) for:
  - ffmpeg -threads 1        vs  gopcast with 1 worker     (engine overhead; goal <= 1.03)
  - ffmpeg default threading vs  gopcast with every core   (goal: gopcast faster)
  - gopcast-mpi with 1, 2, 4, 8, 16 ranks where the machine has the cores: parallel
    efficiency T1 / (n * Tn), and the serial fraction (index + gather + mux) / T1.
Then rank 0's peak memory for a 2- and a 20-minute input (--memory-minutes).

Both tools get the same encoder settings: libx264 at the same preset and CRF 23,
yuv420p, the same x264 CPU flags, cpu-independent=1 and stitchable=1 (see docs/benchmarks.md),
AAC 128 kbit/s stereo, MP4 with the index at the front. Derived inputs are cached in
--work (default /tmp/gopcast-bench). Machines here are shared and noisy: the script
runs the tools in rounds (one run of each per round) and reports medians and ratios.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import x264_asm

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("GOPCAST_MEDIA", ROOT.parent / "shared" / "media"))
BUILD = Path(os.environ.get("GOPCAST_BUILD", ROOT / "build"))
GOPCAST = BUILD / "src" / "gopcast"
GOPCAST_MPI = BUILD / "mpi" / "gopcast-mpi"
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]


def run_measured(cmd):
    """Wall, CPU (user+sys) and peak RSS (MiB) of cmd, by GNU time (its largest process)."""
    stats = Path(os.environ.get("TMPDIR", "/tmp")) / f"gopcast-bench-time-{os.getpid()}.txt"
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(stats), *map(str, cmd)], capture_output=True, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    user, system, maxrss = stats.read_text().split()[-3:]
    stats.unlink()
    return {"wall": wall, "cpu": float(user) + float(system), "rss": int(maxrss) / 1024, "stdout": proc.stdout}


def derive_inputs(work, minutes, with_1080p):
    work.mkdir(parents=True, exist_ok=True)
    loops = max(1, round(minutes * 60 / 30)) - 1
    small = work / f"bbb-{minutes}min-480p.mp4"
    if not small.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", str(loops), "-i", str(MEDIA / "bbb-480p-30s.mp4"),
                        "-c", "copy", str(small)], check=True)
    inputs = [("480p", small)]
    if with_1080p:
        big = work / f"bbb-{minutes}min-1080p.mp4"
        if not big.exists():
            print(f"bench: deriving {big.name} (upscale, once)", file=sys.stderr)
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(small), "-vf", "scale=1920:1080:flags=bicubic",
                            "-c:v", "libx264", "-preset", "ultrafast", "-crf", "14", "-g", "240", "-c:a", "copy", str(big)],
                           check=True)
        inputs.append(("1080p", big))
    return inputs


def ffmpeg_cmd(src, out, preset, asm, threads):
    t = [] if threads is None else ["-threads", str(threads)]
    return ["ffmpeg", "-v", "error", "-nostdin", "-y", *t, "-i", str(src), "-map", "0:v:0", "-map", "0:a:0",
            "-c:v", "libx264", "-preset", preset, "-crf", "23", "-pix_fmt", "yuv420p", "-x264-params", f"asm={asm}:cpu-independent=1:stitchable=1", *t,
            "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-movflags", "+faststart", str(out)]


def gopcast_cmd(src, out, preset, workers, segment_seconds):
    return [str(GOPCAST), "transcode", str(src), "-o", str(out), "-t", "default-mp4", "--set", f"video.preset={preset}",
            "-n", str(workers), "--segment-seconds", str(segment_seconds), "--json", "-q"]


def mpi_job(work, src, out, segment_seconds):
    job = work / f"{out.stem}.toml"
    job.write_text(f'[input]\npath = "{src}"\n[[outputs]]\npath = "{out}"\ntemplate = "default-mp4"\n'
                   f"[parallel]\nsegment_seconds = {segment_seconds}\n")
    return job


def clean(out):
    for p in out.parent.glob(out.name + "*"):
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()


def median_runs(make_cmd, out, repeat):
    runs = []
    for _ in range(repeat):
        clean(out)
        runs.append(run_measured(make_cmd()))
    return summarise(runs)


def summarise(runs):
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    rss = max(r["rss"] for r in runs)
    return wall, cpu, runs[-1]["stdout"], rss


def interleaved(commands, out, repeat):
    """Runs each command once per round, round after round, so that a machine that
    speeds up or slows down meanwhile affects every command alike; medians per command."""
    runs = {name: [] for name in commands}
    for _ in range(repeat):
        for name, make_cmd in commands.items():
            clean(out)
            runs[name].append(run_measured(make_cmd()))
    return {name: summarise(r) for name, r in runs.items()}


def machine():
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--segment-seconds", type=float, default=10)
    ap.add_argument("--ranks", default="1,2,4,8,16")
    ap.add_argument("--inputs", default="480p,1080p", help="which derived inputs to run (480p, 1080p)")
    ap.add_argument("--memory-minutes", default="2,20", help="input lengths for rank 0's peak memory ('' to skip)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/gopcast-bench"))
    ap.add_argument("--baseline", type=Path, help="another build (its folder, with src/gopcast) run in the same rounds: "
                    "the new/old ratios show whether a change made the engine slower")
    args = ap.parse_args()

    cores = os.cpu_count() or 1
    asm = x264_asm(GOPCAST)
    print(f"# gopcast segment benchmark\n\nmachine: {machine()}\n"
          f"settings: x264 preset {args.preset}, CRF 23, asm={asm}, AAC 128k stereo, MP4 faststart; "
          f"segments {args.segment_seconds:g} s; medians of {args.repeat} runs\n")
    wanted = set(args.inputs.split(","))
    for label, src in derive_inputs(args.work, args.minutes, "1080p" in wanted):
        if label not in wanted:
            continue
        out = args.work / "out" / f"{label}.mp4"
        out.parent.mkdir(parents=True, exist_ok=True)
        rows = []
        commands = {"f1": lambda: ffmpeg_cmd(src, out, args.preset, asm, 1),
                    "g1": lambda: gopcast_cmd(src, out, args.preset, 1, args.segment_seconds),
                    "fa": lambda: ffmpeg_cmd(src, out, args.preset, asm, None),
                    "ga": lambda: gopcast_cmd(src, out, args.preset, cores, args.segment_seconds)}
        if args.baseline:
            old = args.baseline / "src" / "gopcast"
            commands["b1"] = lambda: [str(old), *gopcast_cmd(src, out, args.preset, 1, args.segment_seconds)[1:]]
            commands["ba"] = lambda: [str(old), *gopcast_cmd(src, out, args.preset, cores, args.segment_seconds)[1:]]
        r = interleaved(commands, out, args.repeat)
        f1, g1, fa, ga = r["f1"], r["g1"], r["fa"], r["ga"]
        g1_json = json.loads(g1[2])
        print(f"## {args.minutes:g} min {label} ({src.name})\n")
        print("| run | wall s | CPU s | peak RSS MiB | wall ratio gopcast/ffmpeg | CPU ratio |")
        print("|---|---:|---:|---:|---:|---:|")
        print(f"| ffmpeg -threads 1 | {f1[0]:.1f} | {f1[1]:.1f} | {f1[3]:.0f} | | |")
        print(f"| gopcast 1 worker | {g1[0]:.1f} | {g1[1]:.1f} | {g1[3]:.0f} | {g1[0] / f1[0]:.3f} | {g1[1] / f1[1]:.3f} |")
        print(f"| ffmpeg default threads | {fa[0]:.1f} | {fa[1]:.1f} | {fa[3]:.0f} | | |")
        print(f"| gopcast {cores} workers | {ga[0]:.1f} | {ga[1]:.1f} | {ga[3]:.0f} | {ga[0] / fa[0]:.3f} | {ga[1] / fa[1]:.3f} |")
        if args.baseline:
            b1, ba = r["b1"], r["ba"]
            print(f"| baseline build, 1 worker | {b1[0]:.1f} | {b1[1]:.1f} | {b1[3]:.0f} | this/baseline {g1[0] / b1[0]:.3f} | {g1[1] / b1[1]:.3f} |")
            print(f"| baseline build, {cores} workers | {ba[0]:.1f} | {ba[1]:.1f} | {ba[3]:.0f} | this/baseline {ga[0] / ba[0]:.3f} | {ga[1] / ba[1]:.3f} |")
        print(f"\n{g1_json['parallel']['segments']} segments; output sizes: gopcast {g1_json['outputs'][0]['bytes']} bytes\n")

        ranks = [int(r) for r in args.ranks.split(",") if int(r) <= cores]
        print("| ranks | wall s | speed-up | parallel efficiency | serial fraction of T1 |")
        print("|---:|---:|---:|---:|---:|")
        t1 = None
        for n in ranks:
            job = mpi_job(args.work, src, out, args.segment_seconds)
            w, _, stdout, _ = median_runs(lambda: [*MPIRUN, "-n", str(n), str(GOPCAST_MPI), str(job), "--json", "-q",
                                                   "--set", f"video.preset={args.preset}"], out, args.repeat)
            phases = json.loads(stdout)["parallel"]["phases"]
            if t1 is None:
                t1 = w
                serial = (phases["index"] + phases["gather"] + phases["mux"]) / t1
            print(f"| {n} | {w:.1f} | {t1 / w:.2f} | {t1 / (n * w):.2f} | {serial:.4f} |" if n == ranks[0] else
                  f"| {n} | {w:.1f} | {t1 / w:.2f} | {t1 / (n * w):.2f} | |")
        print()
        clean(out)

    if args.memory_minutes:
        print("## rank 0 peak memory (gopcast-mpi -n 2, x264 ultrafast)\n")
        print("| input | rank 0 peak RSS MiB | segments |")
        print("|---|---:|---:|")
        for m in [float(x) for x in args.memory_minutes.split(",")]:
            (src_label, src), = derive_inputs(args.work, m, False)
            out = args.work / "out" / f"mem-{m:g}.mp4"
            job = mpi_job(args.work, src, out, args.segment_seconds)
            clean(out)
            r = run_measured([*MPIRUN, "-n", "2", str(GOPCAST_MPI), str(job), "--json", "-q", "--set", "video.preset=ultrafast"])
            p = json.loads(r["stdout"])["parallel"]
            print(f"| {m:g} min 480p | {p['coordinator_peak_rss_kib'] / 1024:.0f} | {p['segments']} |")
            clean(out)


if __name__ == "__main__":
    main()
