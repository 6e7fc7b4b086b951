#!/usr/bin/python3
"""Cuts at any frame: what segments that start inside long GOPs gain and cost.

    /usr/bin/python3 bench/gop_bench.py --baseline OTHER_BUILD [--minutes 5] [--segment-seconds 10]
                                        [--preset veryfast] [--repeat 2] [--ranks 16]

Two inputs made once into --work by the ffmpeg tool from bbb-480p-30s.mp4 looped to
--minutes: H.264 with a 10-s GOP and H.264 with a single keyframe (x264 veryfast,
scenecut off). Each is transcoded with the default-mp4 template (x264 --preset, CRF 23,
AAC) by this build and by --baseline (a build that cuts only at the input's keyframes),
with 1 and with every core, in alternating rounds; medians. Printed per input:

  - wall and CPU seconds of each run, and the ffmpeg tool's with the same settings;
  - the speed-up of this build's parallel run over the baseline's single worker;
  - the extra CPU of decoding from the keyframe before each cut (this build's single
    worker against the baseline's), and per second of video decoded and dropped;
  - from the manifest's plan (h5py) and those per-second costs: the speed-up 16 ranks
    would reach, bounded by the longest segment's decode-and-encode (a projection, not a
    measurement: this machine has 2 cores).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py

from benchlib import x264_asm
from segment_bench import ffmpeg_cmd, gopcast_cmd, machine, run_measured

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("GOPCAST_MEDIA", ROOT.parent / "shared" / "media"))
GOPCAST = Path(os.environ.get("GOPCAST_BUILD", ROOT / "build")) / "src" / "gopcast"
GOPS = {"10-s GOP": "keyint=240:min-keyint=240:scenecut=0", "one keyframe": "keyint=infinite:scenecut=0"}


def derive(work, minutes, label, params):
    out = work / f"bbb-{minutes:g}min-{label.replace(' ', '-')}.mp4"
    if not out.exists():
        print(f"bench: deriving {out.name} (once)", file=sys.stderr)
        part = out.with_suffix(".part.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", str(max(1, round(minutes * 2)) - 1), "-i",
                        str(MEDIA / "bbb-480p-30s.mp4"), "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                        "-x264-params", params, "-c:a", "copy", str(part)], check=True)
        part.rename(out)
    return out


def plan_of(manifest):
    """(lead seconds, length seconds) per segment: what is decoded before its cut, and its length."""
    with h5py.File(manifest, "r", locking=False) as f:
        kf, seg = f["keyframes"][:], f["segments"][:]
        tb = f["keyframes"].attrs["time_base_num"] / f["keyframes"].attrs["time_base_den"]
    keys = [int(p) for p, b in zip(kf["pts"], kf["byte_pos"]) if b >= 0]
    out = []
    for s in seg:
        start, end = int(s["start_pts"]), int(s["end_pts"])
        key = max(k for k in keys if k <= start)
        out.append(((start - key) * tb, (end - start) * tb))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", type=Path, required=True, help="a build's folder (src/gopcast) cutting at keyframes only")
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--segment-seconds", type=float, default=10)
    ap.add_argument("--preset", default="veryfast")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--ranks", type=int, default=16, help="the rank count of the projection")
    ap.add_argument("--work", type=Path, default=Path("/tmp/gopcast-bench"))
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    old = args.baseline / "src" / "gopcast"
    asm = x264_asm(GOPCAST)
    print(f"# gopcast cuts at any frame\n\nmachine: {machine()}\nx264 {args.preset} CRF 23 asm={asm}, AAC 128k; "
          f"{args.segment_seconds:g} s segments; medians of {args.repeat} rounds\n")
    with tempfile.TemporaryDirectory(prefix="gopcast-gop-bench-") as tmp:
        out = Path(tmp) / "o.mp4"
        for label, params in GOPS.items():
            src = derive(args.work, args.minutes, label, params)
            commands = {
                "this build, 1 worker": [str(GOPCAST), *gopcast_cmd(src, out, args.preset, 1, args.segment_seconds)[1:]],
                f"this build, {cores} workers": [str(GOPCAST), *gopcast_cmd(src, out, args.preset, cores, args.segment_seconds)[1:]],
                "keyframe cuts only, 1 worker": [str(old), *gopcast_cmd(src, out, args.preset, 1, args.segment_seconds)[1:]],
                f"keyframe cuts only, {cores} workers": [str(old), *gopcast_cmd(src, out, args.preset, cores, args.segment_seconds)[1:]],
                "ffmpeg tool, default threads": ffmpeg_cmd(src, out, args.preset, asm, None),
            }
            runs = {name: [] for name in commands}
            segments = {}
            for _ in range(args.repeat):
                for name, cmd in commands.items():
                    out.unlink(missing_ok=True)
                    r = run_measured(cmd)
                    runs[name].append(r)
                    if name.startswith("this build, 1"):
                        plan = plan_of(out.parent / f"{out.name}.manifest.h5")
                    if "gopcast" in str(cmd[0]):
                        segments[name] = json.loads(r["stdout"])["parallel"]["segments"]
            wall = {n: statistics.median(x["wall"] for x in r) for n, r in runs.items()}
            cpu = {n: statistics.median(x["cpu"] for x in r) for n, r in runs.items()}
            print(f"## {args.minutes:g} min, {label} ({src.name})\n")
            print("| run | segments | wall s | CPU s |")
            print("|---|---:|---:|---:|")
            for n in commands:
                print(f"| {n} | {segments.get(n, '')} | {wall[n]:.1f} | {cpu[n]:.1f} |")
            this1, thisn = "this build, 1 worker", f"this build, {cores} workers"
            old1, oldn = "keyframe cuts only, 1 worker", f"keyframe cuts only, {cores} workers"
            lead = sum(l for l, _ in plan)
            extra = cpu[this1] - cpu[old1]
            per_lead = max(extra, 0) / lead if lead > 0 else 0
            per_video = cpu[old1] / (args.minutes * 60)
            print(f"\n- speed-up on {cores} cores: this build {wall[this1] / wall[thisn]:.2f}x, keyframe cuts only "
                  f"{wall[old1] / wall[oldn]:.2f}x; this build's {cores} workers against the other's: "
                  f"{wall[oldn] / wall[thisn]:.2f}x faster")
            print(f"- extra decoding: {lead:.0f} s of video decoded and dropped before cuts; "
                  f"CPU {cpu[this1] / cpu[old1]:.3f}x the keyframe-cut run's "
                  f"({per_lead * 1000:.1f} ms CPU per second dropped, the transcode {per_video * 1000:.0f} ms per second)")
            total = sum(l * per_lead + s * per_video for l, s in plan)
            longest = max(l * per_lead + s * per_video for l, s in plan)
            bound = total / max(total / args.ranks, longest)
            print(f"- projected at {args.ranks} ranks (no audio, no gather): speed-up <= {cpu[old1] / max(total / args.ranks, longest):.1f}x "
                  f"over one worker cutting at keyframes; the longest segment takes {longest:.1f} CPU s of "
                  f"{total:.1f}; efficiency <= {bound / args.ranks:.2f}\n", flush=True)


if __name__ == "__main__":
    main()
