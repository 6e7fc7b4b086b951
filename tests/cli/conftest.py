"""Shared fixtures for the media and CLI tests.

The oracle is the ffmpeg/ffprobe command-line tools, never gopcast's own reader.
Real media come from ../shared/media; variants (other containers and codecs) are
derived at test time with the ffmpeg tool into a temporary folder shared by the
pytest-xdist workers of one run.
"""
import fcntl
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEDIA = Path(os.environ.get("GOPCAST_MEDIA", ROOT.parent / "shared" / "media"))
BIN = Path(os.environ.get("GOPCAST_BIN", ROOT / "build" / "src" / "gopcast"))


def run_gopcast(*args, check=True, env=None, timeout=600):
    """Runs the gopcast command; returns the CompletedProcess (text mode)."""
    cmd = [str(BIN), *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def ffprobe(path, *extra):
    """ffprobe's JSON view of a file (format and streams)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", *extra, str(path)],
        capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def streams_of(path, kind):
    return [s for s in ffprobe(path)["streams"] if s["codec_type"] == kind]


def decoded_frames(path, selector="v:0"):
    """Frames the ffmpeg tool decodes from one stream."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", selector, "-count_frames", "-show_entries",
         "stream=nb_read_frames", "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout
    # MPEG-TS repeats the stream once per program: the first count is the stream's.
    return int(out.split()[0].split(",")[0])


def frame_times(path, selector="v:0"):
    """Presentation times (seconds) of every decoded frame of one stream."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", selector, "-show_entries", "frame=pts_time,best_effort_timestamp_time",
         "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout
    times = []
    for line in out.split():
        fields = [f for f in line.split(",") if f and f != "N/A"]
        if fields:
            times.append(float(fields[0]))
    return times


def stream_end(path, selector="v:0"):
    """End time of a stream: last decoded frame's time plus one (average) frame."""
    times = frame_times(path, selector)
    if len(times) < 2:
        return times[0] if times else 0.0
    step = (times[-1] - times[0]) / (len(times) - 1)
    return times[-1] + step


def stream_duration(path, selector="v:0"):
    """How long a stream plays: from its first decoded frame to the end of its last."""
    times = frame_times(path, selector)
    return stream_end(path, selector) - (times[0] if times else 0.0)


def decode_errors(path):
    """What the ffmpeg tool reports at level 'error' while decoding every stream.

    `-enc_time_base -1` keeps the input's time base in ffmpeg's own (null) encoding
    stage: otherwise it rounds 1 ms container time bases (FLV, MKV) to the frame rate
    and reports its own collisions, even on files the ffmpeg tool wrote itself."""
    proc = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0", "-enc_time_base", "-1",
                           "-f", "null", "-"],
                          capture_output=True, text=True)
    return proc.stderr.strip() + ("" if proc.returncode == 0 else f"\n(exit {proc.returncode})")


def frame_md5s(path, selector="0:v:0", pix_fmt=None):
    """Per-frame MD5 of the decoded pictures (ffmpeg's framemd5 muxer)."""
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", selector, "-fps_mode", "passthrough"]
    if pix_fmt:
        cmd += ["-pix_fmt", pix_fmt]
    cmd += ["-f", "framemd5", "-"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split(",")[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def psnr(reference, distorted, scale=None):
    """Average PSNR (dB) of `distorted` against `reference`, by the ffmpeg tool."""
    chain = f"[1:v]scale={scale}[d];[0:v][d]psnr" if scale else "[0:v][1:v]psnr"
    proc = subprocess.run(["ffmpeg", "-nostdin", "-i", str(reference), "-i", str(distorted), "-lavfi", chain,
                           "-f", "null", "-"], capture_output=True, text=True, check=True)
    for line in proc.stderr.splitlines():
        if "PSNR" in line and "average:" in line:
            value = line.split("average:")[1].split()[0]
            return float("inf") if value == "inf" else float(value)
    raise AssertionError("no PSNR line from ffmpeg:\n" + proc.stderr[-2000:])


def media(name):
    path = MEDIA / name
    assert path.exists(), f"shared media missing: {path}"
    return path


@pytest.fixture(scope="session")
def derived(tmp_path_factory):
    """derived(name, ffmpeg_args, source=...) -> path of a variant made by the ffmpeg tool.

    Cached across the run (and across xdist workers) in one folder, under a lock.
    """
    base = Path(tmp_path_factory.getbasetemp())
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "derived-media"
    shared.mkdir(parents=True, exist_ok=True)

    def make(name, args, source="bbb-480p-30s.mp4"):
        out = shared / name
        with open(shared / (name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not out.exists():
                tmp = shared / ("tmp-" + name)
                inputs = [] if source is None else ["-i", str(source if isinstance(source, Path) else media(source))]
                cmd = ["ffmpeg", "-v", "error", "-nostdin", "-y", *inputs, *map(str, args), str(tmp)]
                subprocess.run(cmd, check=True, capture_output=True)
                tmp.rename(out)
        return out

    return make


@pytest.fixture
def outdir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


def audio_span(path, selector="a:0"):
    """(start, end) of one audio stream: its first decoded frame's time, and its last
    frame's time plus that frame's duration (the packet's, which a container trims at
    the end of the stream; else its samples)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", selector, "-show_entries",
                          "frame=best_effort_timestamp_time,pkt_duration_time,nb_samples", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    frames = [f for f in json.loads(out)["frames"] if f.get("best_effort_timestamp_time", "N/A") != "N/A"]
    assert frames, f"no decoded audio frames in {path}"
    last = frames[-1]
    duration = float(last["pkt_duration_time"]) if last.get("pkt_duration_time", "N/A") != "N/A" else 0.0
    if duration <= 0:
        duration = int(last["nb_samples"]) / int(streams_of(path, "audio")[0]["sample_rate"])
    return float(frames[0]["best_effort_timestamp_time"]), float(last["best_effort_timestamp_time"]) + duration


def video_span(path, selector="v:0"):
    """(sorted frame times, start, end, one average frame) of one video stream; the end
    is the last frame's time plus one average frame, as conftest.stream_end has it."""
    times = sorted(frame_times(path, selector))
    assert len(times) >= 2, f"fewer than two decoded video frames in {path}"
    step = (times[-1] - times[0]) / (len(times) - 1)
    return times, times[0], times[-1] + step, step
