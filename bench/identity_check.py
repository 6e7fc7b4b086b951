#!/usr/bin/python3
"""Output bytes of the benchmarks' jobs, to compare two builds of gopcast.

    /usr/bin/python3 bench/identity_check.py [--build DIR] [--work DIR] [--json OUT]

Runs a fixed set of jobs (the segment benchmark's MP4 encode, a clip from the clip
benchmark, a concatenation of unlike inputs, a ladder over HLS on MPI ranks, and a job
with a watermark, snapshots and HLS) with the build's gopcast and gopcast-mpi, and
prints the sha256 of every file each job writes (HLS segments and playlists included;
the manifest is left out: it records timings and host names). Run it with the old and
the new build and compare: a refactoring that changes no behaviour gives the same
digests. AES-128 HLS is left out on purpose (every segment gets a random IV).

GOPCAST_TEMPLATE_PATH may point at the old build's templates so that both builds read
the templates they shipped with.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("GOPCAST_MEDIA", ROOT.parent / "shared" / "media"))
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digests(folder):
    """Every file the job wrote, but the manifest, by name."""
    return {p.name: sha256(p) for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.endswith(".manifest.h5") and not p.name.startswith(".")}


def derive(work):
    src = MEDIA / "bbb-480p-30s.mp4"
    long = work / "bbb-2min.mp4"
    if not long.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "3", "-i", str(src), "-c", "copy", str(long)], check=True)
    small = work / "other-360p.mov"
    if not small.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(MEDIA / "me-other-480p.mp4"), "-t", "6", "-vf", "scale=640:360,fps=25",
                        "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", "-ac", "1", str(small)], check=True)
    return src, long, small


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", type=Path, default=ROOT / "build")
    ap.add_argument("--gopcast", type=Path, help="the gopcast program (default: BUILD/src/gopcast)")
    ap.add_argument("--gopcast-mpi", type=Path, help="the gopcast-mpi program (default: BUILD/mpi/gopcast-mpi)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/gopcast-identity"))
    ap.add_argument("--json", type=Path, help="also write the digests here")
    args = ap.parse_args()
    gopcast = str(args.gopcast or args.build / "src" / "gopcast")
    gopcast_mpi = str(args.gopcast_mpi or args.build / "mpi" / "gopcast-mpi")
    args.work.mkdir(parents=True, exist_ok=True)
    src, long, small = derive(args.work)
    logo = args.work / "logo.png"
    if not logo.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=64x32", "-frames:v", "1", str(logo)],
                       check=True)

    jobs = {}

    def fresh(name):
        out = args.work / name
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        return out

    def run(name, cmd):
        out = fresh(name)
        cmd = [c.replace("@OUT@", str(out)) for c in cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"identity: {name}: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        jobs[name] = digests(out)

    # bench/segment_bench.py's encode: 2 minutes, veryfast, 2 workers, 10 s segments.
    run("segments", [gopcast, "transcode", str(long), "-o", "@OUT@/bbb.mp4", "-t", "default-mp4", "--set", "video.preset=veryfast",
                     "-n", "2", "--segment-seconds", "10", "-q"])
    # bench/clip_bench.py's kind of clip: frame-exact, from inside a GOP.
    run("clip", [gopcast, "transcode", str(long), "-o", "@OUT@/clip.mp4", "--start", "47.3", "--duration", "20", "--set",
                 "video.preset=veryfast", "-n", "2", "-q"])
    # bench/concat_bench.py's kind of join: unlike inputs with an intro.
    run("concat", [gopcast, "transcode", str(src), str(small), str(MEDIA / "me-xbox-wmv3.wmv"), "--intro", str(small), "-o",
                   "@OUT@/joined.mp4", "--set", "video.preset=veryfast", "-q"])
    # A ladder over HLS, on two MPI ranks.
    out = fresh("ladder-mpi")
    job = out.parent / "ladder-mpi.toml"
    job.write_text(f'[input]\npath = "{long}"\n[parallel]\nsegment_seconds = 12\n'
                   f'[[outputs]]\npath = "{out}/master.m3u8"\nladder = "hls-1080p"\n'
                   f'[outputs.override.video]\npreset = "veryfast"\n')
    proc = subprocess.run([*MPIRUN, "-n", "2", gopcast_mpi, str(job), "-q"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"identity: ladder-mpi failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    jobs["ladder-mpi"] = digests(out)
    # A job with a watermark, snapshots and an fMP4 HLS output besides an MP4.
    out = fresh("job")
    job = out.parent / "job.toml"
    job.write_text(f'[input]\npath = "{src}"\n[parallel]\nsegment_seconds = 8\n'
                   f'[[outputs]]\npath = "{out}/{{name}}.mp4"\ntemplate = "android-mp4-480p"\n'
                   f'[outputs.override.video]\npreset = "veryfast"\n'
                   f'[[outputs.watermarks]]\nimage = "{logo}"\nposition = "top-right"\n'
                   f'[[outputs]]\npath = "{out}/{{name}}.m3u8"\ntemplate = "ios-hls-360p"\n'
                   f'[outputs.override.hls]\nsegments = "fmp4"\ndash = true\n'
                   f'[[snapshots]]\npath = "{out}/shot-%02d.jpg"\ntimes = [1.5, 12.25]\nwidth = 320\n')
    proc = subprocess.run([gopcast, "run", str(job), "-n", "2", "-q"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"identity: job failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    jobs["job"] = digests(out)

    for name, files in jobs.items():
        for f, d in files.items():
            print(f"{d}  {name}/{f}")
    if args.json:
        args.json.write_text(json.dumps(jobs, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
