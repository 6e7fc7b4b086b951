#!/usr/bin/env python3
"""Concatenating many short inputs of different sizes, frame rates and audio layouts:
`gopcast transcode IN1 ... IN50 -o OUT.mp4` (every input normalised to the output,
segments encoded in parallel) against the ffmpeg tool's concat filter with the same
normalisation and identical x264/AAC settings, in alternating rounds.

    /usr/bin/python3 bench/concat_bench.py [--inputs 50] [--seconds 3] [--preset medium] [--repeat 3]

Prints a Markdown table of medians (wall time, CPU time of the command and its
children, output frames) and the gopcast/ffmpeg ratios, for docs/benchmarks.md.

The inputs are cut from bbb-480p-30s.mp4 at different offsets, each a whole number of
frames lasting exactly --seconds: 854x480, 640x360, 480x270, 4:3 320x240 and portrait
360x640 pictures at 24, 25 and 30 fps, with the clip's audio as 5.1 48 kHz, stereo
44.1 kHz or mono 22.05 kHz. The first is 854x480 24 fps 5.1, so both outputs are
854x480 at 24 fps, yuv420p, AAC stereo 48 kHz: every other input is scaled to fit,
padded with black bars, converted to 24 fps and its audio resampled.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from benchlib import timed, frames, x264_asm

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(os.environ.get("GOPCAST_BIN", ROOT / "build" / "src" / "gopcast"))
SOURCE = Path(os.environ.get("GOPCAST_MEDIA", ROOT.parent / "shared" / "media")) / "bbb-480p-30s.mp4"

# What the default .mp4 template (templates/default-mp4.toml, docs/templates.md) encodes
# with, passed to the ffmpeg tool as well: libx264 preset medium (overridable on both
# sides with --preset), CRF 23 (the template's default rate control), the encoder's
# default profile (the template's profile is ""), yuv420p; AAC at 128 kbit/s, the
# channels of the first input capped at 2 (5.1 is downmixed), its sample rate; MP4 with
# the index at the front (mux.faststart).
CRF, AUDIO_BITRATE = 23, "128k"
SIZES = [(854, 480), (640, 360), (480, 270), (320, 240), (360, 640)]
RATES = [24, 25, 30]
AUDIO = [("5.1", 48000), ("stereo", 44100), ("mono", 22050)]


def derive_inputs(work, count, seconds):
    """count inputs of `seconds` each, cached in `work`; returns [(path, w, h, fps)]."""
    work.mkdir(parents=True, exist_ok=True)
    inputs = []
    for i in range(count):
        w, h = SIZES[i % len(SIZES)]
        fps = RATES[(i // 2) % len(RATES)]
        layout, rate = AUDIO[(i // 3) % len(AUDIO)]
        if i == 0:
            (w, h), fps, (layout, rate) = SIZES[0], 24, AUDIO[0]
        path = work / f"in{i:02d}-{w}x{h}-{fps}-{layout}-{seconds:g}s.mp4"
        if not path.exists():
            # The picture cut to the target's aspect from the centre, then scaled.
            crop = f"crop='min(iw,ih*{w}/{h})':'min(ih,iw*{h}/{w})'"
            start = (i * 0.53) % max(0.1, 30 - seconds - 0.5)
            tmp = path.with_name("tmp-" + path.name)
            subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-ss", f"{start:.2f}", "-i", str(SOURCE),
                            "-vf", f"fps={fps},{crop},scale={w}:{h},setsar=1", "-frames:v", str(int(fps * seconds)),
                            "-af", f"aresample={rate},aformat=channel_layouts={layout}", "-t", str(seconds),
                            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", str(2 * fps),
                            "-c:a", "aac", "-b:a", "192k", str(tmp)], check=True)
            tmp.rename(path)
        inputs.append((path, w, h, fps))
    return inputs


def gopcast_cmd(inputs, out, preset):
    # Default workers: one per core, each segment encoder with one x264 thread (the
    # template's video.threads = 0 means 1 per segment), default 10 s segments, so the
    # short inputs are one segment each.
    return [str(BIN), "transcode", *[str(p) for p, *_ in inputs], "-o", str(out), "--set", f"video.preset={preset}", "-q"]


def ffmpeg_cmd(inputs, out, preset, asm, threads):
    """The ffmpeg tool's concat filter over the same normalisation as gopcast's: each
    input fitted into the first one's size with centred black bars, SAR 1, its rate,
    yuv420p; its audio resampled to the first one's rate, stereo."""
    _, w, h, fps = inputs[0]
    rate, channels = 48000, "stereo"
    chains, pads = [], []
    for i, _ in enumerate(inputs):
        chains.append(f"[{i}:v:0]scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:black,"
                      f"setsar=1,fps={fps},format=yuv420p[v{i}]")
        chains.append(f"[{i}:a:0]aresample={rate},aformat=sample_fmts=fltp:sample_rates={rate}:channel_layouts={channels}[a{i}]")
        pads.append(f"[v{i}][a{i}]")
    graph = ";".join(chains) + ";" + "".join(pads) + f"concat=n={len(inputs)}:v=1:a=1[v][a]"
    # Threads: the ffmpeg tool at its defaults already uses every core: libx264 with
    # frame threads (threads=auto, 1.5 per core: x264's own choice for throughput), each
    # decoder with its automatic threads and the filter graph with one thread per core.
    # That is the fair match for gopcast's default of one worker per core, so the wall
    # times compare both tools using the whole machine and the CPU times what each
    # spends for it. --ffmpeg-threads N pins libx264 to N threads instead (N=1 with
    # gopcast -n 1 isolates the engine's overhead, as bench/segment_bench.py does).
    t = [] if threads is None else ["-threads:v", str(threads)]
    return ["ffmpeg", "-v", "error", "-nostdin", "-y", *[a for p, *_ in inputs for a in ("-i", str(p))],
            "-filter_complex", graph, "-map", "[v]", "-map", "[a]",
            "-c:v", "libx264", "-preset", preset, "-crf", str(CRF), "-pix_fmt", "yuv420p",
            # The same CPU flags, cpu-independent=1 and stitchable=1 as gopcast's x264 (docs/benchmarks.md).
            "-x264-params", f"asm={asm}:cpu-independent=1:stitchable=1", *t,
            "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-movflags", "+faststart", str(out)]


def clean(out):
    """Removes an output, its manifest and work folder (a finished job is not resumed,
    but each round should start from nothing)."""
    for p in (out, out.with_name(out.name + ".manifest.h5"), out.with_name(f".{out.name}.gopcast-work")):
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--preset", default="medium", help="x264 preset on both sides (the template's: medium)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ffmpeg-threads", type=int, default=None, help="libx264 threads for the ffmpeg tool (default: auto)")
    ap.add_argument("--work", type=Path, default=None, help="folder to keep the derived inputs in (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gopcast-concat-bench-") as tmp:
        tmp = Path(tmp)
        inputs = derive_inputs(args.work or tmp / "inputs", args.inputs, args.seconds)
        asm = x264_asm(BIN)
        g_out, f_out = tmp / "g.mp4", tmp / "f.mp4"
        g, f = [], []
        for _ in range(args.repeat):  # alternating rounds: a machine that drifts affects both alike
            clean(g_out)
            g.append(timed(gopcast_cmd(inputs, g_out, args.preset)))
            clean(f_out)
            f.append(timed(ffmpeg_cmd(inputs, f_out, args.preset, asm, args.ffmpeg_threads)))
        gm, fm = statistics.median(w for w, _ in g), statistics.median(w for w, _ in f)
        gc, fc = statistics.median(c for _, c in g), statistics.median(c for _, c in f)
        cores = os.cpu_count()
        threads = "auto" if args.ffmpeg_threads is None else args.ffmpeg_threads
        print(f"Machine: {platform.node()}, {cores} cores; {len(inputs)} inputs of {args.seconds:g} s cut from "
              f"{SOURCE.name} (sizes {', '.join(f'{w}x{h}' for w, h in SIZES)}; {'/'.join(map(str, RATES))} fps; "
              f"audio 5.1 48 kHz, stereo 44.1 kHz, mono 22.05 kHz) into 854x480 24 fps; x264 {args.preset} CRF {CRF} "
              f"asm={asm} cpu-independent stitchable, AAC {AUDIO_BITRATE} stereo 48 kHz, MP4 faststart; median of {args.repeat}\n")
        print("| | wall time | CPU time | frames |")
        print("|---|---|---|---|")
        print(f"| gopcast, default workers ({cores}) | {gm:.2f} s | {gc:.2f} s | {frames(g_out)} |")
        print(f"| ffmpeg tool, concat filter (x264 threads {threads}) | {fm:.2f} s | {fc:.2f} s | {frames(f_out)} |")
        print(f"| ratio gopcast / ffmpeg | {gm / fm:.2f} | {gc / fc:.2f} | |")


if __name__ == "__main__":
    main()
