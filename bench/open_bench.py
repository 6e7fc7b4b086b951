#!/usr/bin/python3
"""What opening the input costs per segment, for short and very long inputs.

    /usr/bin/python3 bench/open_bench.py [--lengths 2,60,600] [--clip 120] [--segment-seconds 6]
                                         [--repeat 3] [--baseline OTHER_BUILD]

An MP4's demuxer reads the file's whole sample table when it opens it: the longer the
input, the more an open costs (CPU and memory). For each input length (minutes of
bbb-480p-30s.mp4 looped with `-c copy`, derived once into --work) the script cuts the
same `--clip` seconds from the middle of the input, in segments of `--segment-seconds`
(x264 ultrafast at 320 px wide, 2 workers: the encode is small, so what opening costs
shows), and prints CPU seconds per segment and the process's peak RSS (medians of
--repeat runs). Goal: flat in the input's length.

With --baseline (another build's folder, with src/gopcast) the other build runs in the
same rounds, alternating: a build that opens the input for every segment against one
that opens it once per worker. The script also times `ffprobe` opening each input
(the tool's own open, no gopcast code) and projects the open cost of a whole 10-hour
job with 10-s segments (2,401 segments in the issue's measurement).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import timed
from segment_bench import machine, run_measured

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("GOPCAST_MEDIA", ROOT.parent / "shared" / "media"))
GOPCAST = Path(os.environ.get("GOPCAST_BUILD", ROOT / "build")) / "src" / "gopcast"
WORKERS = 2


def derive(work, minutes):
    out = work / f"bbb-{minutes:g}min-480p.mp4"
    if not out.exists():
        print(f"bench: deriving {out.name} (once)", file=sys.stderr)
        part = out.with_suffix(".part.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", str(max(1, round(minutes * 2)) - 1), "-i",
                        str(MEDIA / "bbb-480p-30s.mp4"), "-c", "copy", str(part)], check=True)
        part.rename(out)
    return out


def clip_cmd(binary, src, out, start, args):
    return [str(binary), "transcode", str(src), "-o", str(out), "--start", f"{start:g}", "--duration", f"{args.clip:g}",
            "-n", str(WORKERS), "--segment-seconds", f"{args.segment_seconds:g}", "--set", "video.preset=ultrafast",
            "--set", "video.width=320", "--json", "-q"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lengths", default="2,60,600", help="input lengths in minutes")
    ap.add_argument("--clip", type=float, default=120)
    ap.add_argument("--segment-seconds", type=float, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/gopcast-bench"))
    ap.add_argument("--baseline", type=Path, help="another build's folder (with src/gopcast), run in the same rounds")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    builds = {"this build": GOPCAST}
    if args.baseline:
        builds["baseline"] = args.baseline / "src" / "gopcast"
    print(f"# gopcast open cost per segment\n\nmachine: {machine()}\n"
          f"a {args.clip:g} s clip from the middle of each input, {args.segment_seconds:g} s segments, {WORKERS} workers, "
          f"x264 ultrafast 320 px; medians of {args.repeat} runs\n")
    print("| input | build | segments | CPU s | CPU s per segment | peak RSS MiB | ffprobe open CPU s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    per_open = {}
    rows = {}
    with tempfile.TemporaryDirectory(prefix="gopcast-open-bench-") as tmp:
        out = Path(tmp) / "clip.mp4"
        for minutes in [float(m) for m in args.lengths.split(",")]:
            src = derive(args.work, minutes)
            start = max(0.0, minutes * 30 - args.clip / 2)
            runs = {name: [] for name in builds}
            probe = []
            for _ in range(args.repeat):
                for name, binary in builds.items():
                    out.unlink(missing_ok=True)
                    runs[name].append(run_measured(clip_cmd(binary, src, out, start, args)))
                probe.append(timed(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(src)])[1])
            per_open[minutes] = statistics.median(probe)
            for name, r in runs.items():
                cpu = statistics.median(x["cpu"] for x in r)
                rss = max(x["rss"] for x in r)
                segments = json.loads(r[-1]["stdout"])["parallel"]["segments"]
                rows[(minutes, name)] = (cpu, segments)
                print(f"| {minutes:g} min | {name} | {segments} | {cpu:.2f} | {cpu / segments:.3f} | {rss:.0f} | "
                      f"{per_open[minutes]:.3f} |", flush=True)
    longest = max(per_open)
    print(f"\nOpening the {longest:g}-min input costs the ffmpeg tool {per_open[longest]:.3f} CPU s. A job over all of it "
          f"with 10-s segments has about {round(longest * 6)} segments: opened once per segment that is "
          f"{per_open[longest] * round(longest * 6):.0f} CPU s; once per worker at 16 ranks, {per_open[longest] * 16:.1f} CPU s.")
    if args.baseline and (longest, "baseline") in rows:
        (new, n), (old, _) = rows[(longest, "this build")], rows[(longest, "baseline")]
        print(f"On the {longest:g}-min input this build spends {new / old:.2f}x the baseline's CPU; the difference per "
              f"segment is {(old - new) / n:.3f} CPU s.")


if __name__ == "__main__":
    main()
