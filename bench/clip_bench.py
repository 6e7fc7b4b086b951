#!/usr/bin/env python3
"""Clips from deep inside a long input: gopcast's frame-exact clip (keyframe index read
only around the clip, segments encoded in parallel) against the ffmpeg tool's
`-ss START -t LENGTH -i` (input seeking, accurate) with identical x264 settings, in
alternating rounds.

    /usr/bin/python3 bench/clip_bench.py [--minutes 20] [--start 1080] [--length 60] [--repeat 3] [--workers 2]

Prints a Markdown table of medians for docs/benchmarks.md.
"""
import argparse
import os
import platform
import statistics
import subprocess
import tempfile
from pathlib import Path

from benchlib import timed, frames

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("GOPCAST_BIN", ROOT / "build" / "src" / "gopcast"))
SOURCE = ROOT.parent / "shared" / "media" / "bbb-480p-30s.mp4"
PRESET, CRF = "veryfast", 23


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=20)
    ap.add_argument("--start", type=float, default=1080)
    ap.add_argument("--length", type=float, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gopcast-clip-bench-") as tmp:
        tmp = Path(tmp)
        long_input = tmp / "long.mp4"
        loops = max(1, args.minutes * 2 - 1)
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-stream_loop", str(loops), "-i", str(SOURCE), "-c", "copy",
                        str(long_input)], check=True)
        g, f = [], []
        for _ in range(args.repeat):
            g.append(timed([str(BIN), "transcode", str(long_input), "-o", str(tmp / "g.mp4"), "--start", str(args.start),
                            "--duration", str(args.length), "-n", str(args.workers), "--set", f"video.preset={PRESET}",
                            "--set", f"video.crf={CRF}", "-q"]))
            f.append(timed(["ffmpeg", "-v", "error", "-nostdin", "-y", "-ss", str(args.start), "-t", str(args.length), "-i",
                            str(long_input), "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-c:a", "aac",
                            str(tmp / "f.mp4")]))
        gm, fm = statistics.median(w for w, _ in g), statistics.median(w for w, _ in f)
        gc, fc = statistics.median(c for _, c in g), statistics.median(c for _, c in f)
        print(f"Machine: {platform.node()}, {os.cpu_count()} cores; input {args.minutes} min 854x480 24 fps; "
              f"clip {args.length:g} s from {args.start:g} s; x264 {PRESET} CRF {CRF}; median of {args.repeat}\n")
        print("| | wall time | CPU time | frames |")
        print("|---|---|---|---|")
        print(f"| gopcast, {args.workers} workers | {gm:.2f} s | {gc:.2f} s | {frames(tmp / 'g.mp4')} |")
        print(f"| ffmpeg tool, `-ss -t -i` | {fm:.2f} s | {fc:.2f} s | {frames(tmp / 'f.mp4')} |")
        print(f"| ratio gopcast / ffmpeg | {gm / fm:.2f} | {gc / fc:.2f} | |")


if __name__ == "__main__":
    main()
