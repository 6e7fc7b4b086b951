#!/usr/bin/env python3
"""Play while transcoding: how soon a live (EVENT) HLS playlist is playable, next to the
time the whole job takes, with the ffmpeg tool's own EVENT-playlist HLS encode of the same
input and encoder settings as the yardstick.

    /usr/bin/python3 bench/hls_live_bench.py [--minutes 5] [--repeat 3] [--workers N]

Prints a Markdown table of medians for docs/benchmarks.md.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("GOPCAST_BIN", ROOT / "build" / "src" / "gopcast"))
SOURCE = ROOT.parent / "shared" / "media" / "bbb-480p-30s.mp4"
SEGMENT = 6
PRESET, CRF = "veryfast", 23


def run_live(source, out, workers):
    playlist = out / "live.m3u8"
    start = time.perf_counter()
    proc = subprocess.Popen([str(BIN), "transcode", str(source), "-o", str(playlist), "-n", str(workers),
                             "--set", f"video.preset={PRESET}", "--set", f"video.crf={CRF}",
                             "--set", f"mux.hls_segment_seconds={SEGMENT}", "--set", "hls.playlist=event", "-q"],
                            stdout=subprocess.DEVNULL)
    first = None
    while proc.poll() is None:
        if first is None and playlist.exists() and "#EXTINF" in playlist.read_text():
            first = time.perf_counter() - start
        time.sleep(0.02)
    total = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("gopcast failed")
    return first, total


def run_ffmpeg(source, out):
    playlist = out / "ff.m3u8"
    start = time.perf_counter()
    proc = subprocess.Popen(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(source), "-c:v", "libx264", "-preset", PRESET,
                             "-crf", str(CRF), "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT})", "-c:a", "aac",
                             "-f", "hls", "-hls_time", str(SEGMENT), "-hls_playlist_type", "event", str(playlist)])
    first = None
    while proc.poll() is None:
        if first is None and playlist.exists() and "#EXTINF" in playlist.read_text():
            first = time.perf_counter() - start
        time.sleep(0.02)
    if proc.returncode != 0:
        raise SystemExit("ffmpeg failed")
    return first, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gopcast-live-bench-"))
    try:
        source = work / "long.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-stream_loop", str(args.minutes * 2 - 1), "-i", str(SOURCE),
                        "-c", "copy", str(source)], check=True)
        firsts, totals, ff_firsts, ff_totals = [], [], [], []
        for _ in range(args.repeat):  # rounds: the tools take turns on a shared machine
            out = work / "out"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            f, t = run_live(source, out, args.workers)
            firsts.append(f)
            totals.append(t)
            shutil.rmtree(out)
            out.mkdir()
            f, t = run_ffmpeg(source, out)
            ff_firsts.append(f)
            ff_totals.append(t)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    print(f"Machine: {platform.node()}, {os.cpu_count()} cores; {args.minutes} min of 854x480 H.264, x264 {PRESET} CRF {CRF}, "
          f"{SEGMENT} s segments, {args.workers} workers, median of {args.repeat}\n")
    print("| | first playable segment | whole job |\n|---|---|---|")
    print(f"| gopcast, live EVENT playlist | {med(firsts):.1f} s ({med(firsts) / med(totals):.1%} of the job) | {med(totals):.1f} s |")
    print(f"| ffmpeg tool, EVENT playlist | {med(ff_firsts):.1f} s ({med(ff_firsts) / med(ff_totals):.1%} of the job) | "
          f"{med(ff_totals):.1f} s |")


if __name__ == "__main__":
    main()
