#!/usr/bin/python3
"""The coordinator on simulated ranks (`gopcast simulate`, sched/simulate.hpp).

    /usr/bin/python3 bench/sim_bench.py [--build DIR] [--repeat N]

Two tables, in Markdown:
- growth: 1,000 ranks with 10^3, 10^4 and 10^5 segments, writing the manifest as a
  real run does; the coordinator's CPU per segment, its peak RSS, and one manifest
  write's time. Each run is a process of its own (peak RSS is that run's); medians of
  --repeat runs. Flat per-segment figures mean no step is quadratic.
- Amdahl: a 4-hour input (1,440 segments of 10 s) on 1 to 1,000 ranks, with the audio
  as today's one serial task at 9% of the video's CPU (the issue's 480p veryfast
  measurement: AAC 2.1 s against x264 20.4 s per 2 minutes) and without audio; the
  simulated speed-up, efficiency and when the first segment is written.
"""
import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def simulate(binary, *args):
    out = subprocess.run([str(binary), "simulate", "--json", "-q", *map(str, args)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", type=Path, default=ROOT / "build")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    binary = a.build / "src" / "gopcast"

    print("| segments | ranks | coordinator CPU s | us per segment | peak RSS MiB | KiB per segment over 10^3 | manifest write ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    base_rss = None
    with tempfile.TemporaryDirectory() as tmp:
        for segments in (1000, 10000, 100000):
            runs = [simulate(binary, "--ranks", 1000, "--segments", segments, "--manifest", Path(tmp) / "m.h5")
                    for _ in range(a.repeat)]
            assert all(r["ok"] for r in runs)
            cpu = statistics.median(r["coordinator_cpu_seconds"] for r in runs)
            rss = statistics.median(r["peak_rss_kib"] for r in runs)
            write = statistics.median(r["manifest_write_seconds"] for r in runs)
            base_rss = base_rss if base_rss is not None else (rss, segments)
            per = (rss - base_rss[0]) / (segments - base_rss[1]) if segments > base_rss[1] else 0
            print(f"| {segments} | 1000 | {cpu:.3f} | {cpu / segments * 1e6:.2f} | {rss / 1024:.0f} | "
                  f"{per:.2f} | {write * 1e3:.1f} |")
    print()
    print("| ranks | speed-up, serial audio | efficiency | first segment at (% of job) | speed-up, no audio | efficiency |")
    print("|---:|---:|---:|---:|---:|---:|")
    for ranks in (1, 2, 4, 8, 16, 64, 256, 1000):
        with_audio = simulate(binary, "--ranks", ranks, "--segments", 1440, "--audio-fraction", 0.09)
        without = simulate(binary, "--ranks", ranks, "--segments", 1440)
        first = 100 * with_audio["first_segment_seconds"] / with_audio["makespan_seconds"]
        print(f"| {ranks} | {with_audio['speedup']:.1f} | {with_audio['efficiency']:.2f} | {first:.0f}% | "
              f"{without['speedup']:.1f} | {without['efficiency']:.2f} |")


if __name__ == "__main__":
    main()
