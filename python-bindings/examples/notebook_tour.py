#!/usr/bin/env python3
"""A tour of gopcast from Python, cell by cell as in a notebook: probe a file, build and
run a job with a progress bar, read its segment manifest and plot the encode time of
every segment (with a strip of snapshots) to a PNG.

    PYTHONPATH=build/python-bindings python3 python-bindings/examples/notebook_tour.py \\
        [INPUT] [OUTPUT_FOLDER]

INPUT defaults to ../shared/media/bbb-480p-30s.mp4, OUTPUT_FOLDER to out/. The plot
needs matplotlib (Debian: python3-matplotlib); without it the tour says so and skips it.
"""
import sys
from pathlib import Path

import gopcast

HERE = Path(__file__).resolve().parent
DEFAULT_INPUT = HERE.parents[1].parent / "shared" / "media" / "bbb-480p-30s.mp4"


def show_progress(p):
    bar = "#" * int(p.fraction * 30)
    print(f"\r  [{bar:<30}] {p.fraction:6.1%}  {p.frames} frames", end="", flush=True)


def main(argv):
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_INPUT
    out = Path(argv[2]) if len(argv) > 2 else Path("out")
    out.mkdir(parents=True, exist_ok=True)

    # 1. What is in the file?
    info = gopcast.probe(source)
    video = next(s for s in info["streams"] if s["type"] == "video")
    print(f"{source.name}: {info['format']['duration']:.1f} s, {video['codec']} {video['width']}x{video['height']} "
          f"at {video['avg_frame_rate']} fps, {len(info['streams'])} streams")

    # 2. A job: one 480p output for Android, a little faster than the shipped preset.
    job = gopcast.Job(source, segment_seconds=2)
    output = job.add_output(out / "{name}-tour.mp4", template="android-mp4-480p", user_data="notebook tour")
    output.overrides["video.preset"] = "veryfast"
    print(f"job: {job}")

    # 3. Run it on this machine's cores, with a progress bar.
    result = gopcast.run(job, progress=show_progress)
    print()
    written = result.outputs[0]
    print(f"wrote {written.path} ({written.bytes / 1e6:.2f} MB, {written.video_frames} frames) in {result.seconds:.1f} s "
          f"({result.speed:.1f}x real time) with {result.workers} workers")
    print("phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(result.timings.items())))

    # 4. The manifest: one row per segment.
    manifest = gopcast.Manifest(result.manifest)
    seg = manifest.segments
    print(f"manifest {manifest.path}: {len(manifest)} segments, state {manifest.state}")
    for i in range(len(manifest)):
        print(f"  segment {seg['index'][i]:3d}  {seg['start_seconds'][i]:6.2f}-{seg['end_seconds'][i]:6.2f} s  "
              f"{seg['frames'][i]:4d} frames  {seg['encode_seconds'][i]:5.2f} s on worker {seg['rank'][i]}")

    # 5. Plot encode time per segment, and what the segments show.
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (Debian: apt-get install python3-matplotlib): skipping the plot")
        return 0
    middles = [(a + b) / 2 for a, b in zip(seg["start_seconds"], seg["end_seconds"])]
    middles = middles[::max(1, -(-len(middles) // 8))]  # at most 8 thumbnails
    pictures = gopcast.snapshot(written.path, middles, width=160)
    fig = plt.figure(figsize=(10, 5.5))
    grid = fig.add_gridspec(2, len(pictures), height_ratios=[3, 1], hspace=0.35)
    ax = fig.add_subplot(grid[0, :])
    ax.bar(seg["index"], seg["encode_seconds"], color="tab:blue")
    ax.set_xticks(seg["index"])
    ax.set_xlabel("segment")
    ax.set_ylabel("encode seconds")
    ax.set_title(f"{source.name}: encode time per segment ({result.workers} workers)")
    for i, picture in enumerate(pictures):
        thumb = fig.add_subplot(grid[1, i])
        thumb.imshow(picture)
        thumb.set_axis_off()
        thumb.set_title(f"{middles[i]:.1f} s", fontsize=8)
    png = out / f"{source.stem}-segments.png"
    fig.savefig(png, dpi=100, bbox_inches="tight")
    print(f"plot: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
