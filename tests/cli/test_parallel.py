"""The segment-parallel engine (`transcode/run -n N --segment-seconds S`), checked by the
ffmpeg tools: segments join frame-exactly and seamlessly, the output does not depend on
the number of workers, costs no size or quality against a single-pass encode, the HDF5
manifest describes the plan, an interrupted job resumes to the same bytes, and bad
input fails cleanly before anything is left behind."""
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import time
from functools import lru_cache
from pathlib import Path

import h5py
import pytest

from conftest import (BIN, audio_span, decode_errors, decoded_frames, ffprobe, frame_md5s, media, psnr, run_gopcast, streams_of,
                      video_span)

BBB = "bbb-480p-30s.mp4"  # H.264 854x480 24 fps, keyframes at 0, 10.4, 11.9, 15.75, 23.0 s
LOSSLESS = ["--set", "video.qp=0", "--set", "video.preset=ultrafast"]


# --- helpers -------------------------------------------------------------------------------

def parallel_run(src, out, *args, cwd=None):
    """Runs `gopcast transcode ... --json` (in `cwd`, if given); returns the "parallel" object."""
    proc = run_in(cwd, "transcode", src, "-o", out, *args, "--json")
    result = json.loads(proc.stdout)
    assert "parallel" in result, result
    return result["parallel"]


def run_in(cwd, *args, check=True):
    """Runs gopcast in a folder (None: this one), so that two runs in two folders can use
    the very same command line."""
    cmd = [str(BIN), *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"(in {cwd}) {' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def error_table():
    return {e["code"]: e["exit_status"] for e in json.loads(run_gopcast("errors", "--json").stdout)}


def video_packets(path):
    """ffprobe's video packets in file (decode) order: dicts with pts, dts, flags."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,dts,flags",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["packets"]


@lru_cache(maxsize=None)
def keyframe_pts(path):
    """pts of the video packets flagged as keyframes (K), in file order."""
    return [int(p["pts"]) for p in video_packets(path) if "K" in p["flags"]]


def leading_pictures(path):
    """Keyframes (not the first) whose next packet in decode order is shown before them:
    the pictures of an open GOP that reference the previous GOP."""
    pkts = video_packets(path)
    return sum(1 for k, nxt in zip(pkts[1:], pkts[2:]) if "K" in k["flags"] and int(nxt["pts"]) < int(k["pts"]))


src_frame_md5s = lru_cache(maxsize=None)(frame_md5s)


def video_md5(path):
    """MD5 of the video stream's packets (ffmpeg's md5 muxer over a stream copy)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "md5",
                          "-"], capture_output=True, text=True, check=True).stdout
    return out.strip()


def decode_warnings(path):
    """What `ffmpeg -v warning -i OUT -f null -` prints (nothing on a clean file)."""
    proc = subprocess.run(["ffmpeg", "-v", "warning", "-nostdin", "-i", str(path), "-f", "null", "-"],
                          capture_output=True, text=True)
    return proc.stdout.strip() + proc.stderr.strip() + ("" if proc.returncode == 0 else f"(exit {proc.returncode})")


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def open_manifest(path):
    # The writer replaces the file by rename; never take HDF5's lock on a reader's copy.
    return h5py.File(path, "r", locking=False)


def work_folder(out):
    return out.parent / f".{out.name}.gopcast-work"


def manifest_of(out):
    return out.parent / f"{out.name}.manifest.h5"


# --- derived inputs ---------------------------------------------------------------------------

def mpeg2_open_gop(derived):
    """MPEG-2 in MPEG-TS, 12-frame GOPs with 2 B-frames; open GOP is mpeg2video's default."""
    return derived("open-gop-mpeg2.ts", ["-t", 20, "-c:v", "mpeg2video", "-g", 12, "-bf", 2, "-q:v", 5, "-c:a", "mp2",
                                         "-f", "mpegts"], source=BBB)


def h264_pyramid_open_gop(derived):
    """H.264 with a B-pyramid of 3 B-frames, open GOPs every 40 frames."""
    return derived("open-gop-pyramid-h264.mp4", ["-t", 20, "-c:v", "libx264", "-preset", "veryfast", "-x264-params",
                                                 "bframes=3:b-pyramid=normal:keyint=40:open-gop=1", "-c:a", "copy"],
                   source=BBB)


def h264_long_gop(derived):
    """H.264 with 10-s GOPs (a screen recording's or a broadcast master's), open, B-pyramid."""
    return derived("long-gop-h264.mp4", ["-t", 20, "-vf", "scale=426:-2", "-c:v", "libx264", "-preset", "veryfast",
                                         "-x264-params", "keyint=240:min-keyint=240:scenecut=0:bframes=3:b-pyramid=normal:"
                                         "open-gop=1", "-c:a", "copy"], source=BBB)


def h264_one_keyframe(derived):
    """H.264 with a single keyframe (the first frame): no keyframe cut exists at all."""
    return derived("one-keyframe-h264.mp4", ["-t", 12, "-vf", "scale=426:-2", "-c:v", "libx264", "-preset", "veryfast",
                                             "-x264-params", "keyint=infinite:scenecut=0:bframes=2", "-c:a", "copy"],
                   source=BBB)


def bbb_loop(derived, loops):
    """bbb played `loops` times, stream-copied: 30 s * loops with bbb's keyframes in each loop."""
    return derived(f"bbb-loop{loops}.mp4", ["-stream_loop", loops - 1, "-i", media(BBB), "-c", "copy"], source=None)


INPUTS = {
    BBB: lambda derived: media(BBB),
    "me-grampa-vp6.flv": lambda derived: media("me-grampa-vp6.flv"),  # VFR, 1 ms time base
    "me-xbox-wmv3.wmv": lambda derived: media("me-xbox-wmv3.wmv"),
    "me-echo-hereweare-vp8.webm": lambda derived: media("me-echo-hereweare-vp8.webm"),
    "me-other-480p.mp4": lambda derived: media("me-other-480p.mp4"),
    "mpeg2-open-gop.ts": mpeg2_open_gop,
    "h264-pyramid-open-gop.mp4": h264_pyramid_open_gop,
    "h264-long-gop.mp4": h264_long_gop,
    "h264-one-keyframe.mp4": h264_one_keyframe,
}


# --- 1. frame-exact ---------------------------------------------------------------------------

# input -> (--segment-seconds, worker counts)
FRAME_EXACT = {
    BBB: (4, (1, 2, 3, 5)),
    "mpeg2-open-gop.ts": (4, (1, 2, 3, 5)),
    "h264-pyramid-open-gop.mp4": (4, (1, 2, 3, 5)),
    "me-grampa-vp6.flv": (2, (1, 3)),
    "me-xbox-wmv3.wmv": (10, (1, 3)),
    "me-echo-hereweare-vp8.webm": (8, (1, 3)),
    "me-other-480p.mp4": (3, (1, 3)),
    "h264-long-gop.mp4": (3, (1, 2, 3)),
    "h264-one-keyframe.mp4": (2, (1, 3)),
}


@pytest.mark.parametrize("name,workers", [(name, n) for name, (_, ns) in FRAME_EXACT.items() for n in ns])
def test_lossless_segments_decode_to_the_input_frames(derived, outdir, name, workers):
    src = INPUTS[name](derived)
    seconds, _ = FRAME_EXACT[name]
    if "open-gop" in name:
        # The input really has what the case is about: GOPs whose leading pictures
        # reference the previous GOP, so a cut at a keyframe must not drop or garble them.
        assert leading_pictures(src) >= 2, f"{src} has no open GOPs"
    out = outdir / "o.mkv"
    par = parallel_run(src, out, *LOSSLESS, "-n", workers, "--segment-seconds", seconds)
    assert (par["engine"], par["workers"]) == ("local", workers), par
    # Several segments, so there are joins to check, also where the input has one or two
    # keyframes (me-other-480p: 0 and 8.3 s): segments start inside long GOPs too.
    assert par["segments"] >= 3, (par, keyframe_pts(src))
    expected, got = src_frame_md5s(src), frame_md5s(out)
    assert len(got) == len(expected), (len(got), len(expected))
    bad = [i for i, (a, b) in enumerate(zip(expected, got)) if a != b]
    assert not bad, f"{len(bad)} of {len(expected)} frames differ, first at frame {bad[0]}"
    assert not work_folder(out).exists()


# --- 2. deterministic -------------------------------------------------------------------------

@pytest.mark.parametrize("template,codec", [(None, "h264"), ("android-mp4-720p-h265", "hevc")],
                         ids=["default-h264", "android-h265"])
def test_video_does_not_depend_on_the_worker_count(tmp_path, template, codec):
    extra = [] if template is None else ["-t", template]
    md5s = {}
    for n in (1, 2, 3):
        d = tmp_path / f"n{n}"
        d.mkdir()
        out = d / "o.mp4"
        par = parallel_run(media(BBB), out, *extra, "-n", n, "--segment-seconds", 4)
        assert par["segments"] >= 3 and par["workers"] == n, par
        assert streams_of(out, "video")[0]["codec_name"] == codec
        md5s[n] = video_md5(out)
    assert len(set(md5s.values())) == 1, md5s


# --- 3. seamless ------------------------------------------------------------------------------

def check_seamless(parallel, single, frame):
    """Packets in order, same duration, same A/V ends and no decoder complaints."""
    pkts = video_packets(parallel)
    dts = [int(p["dts"]) for p in pkts]
    pts = [int(p["pts"]) for p in pkts]
    assert all(a < b for a, b in zip(dts, dts[1:])), "video dts not strictly increasing"
    assert all(p >= d for p, d in zip(pts, dts)), "a video packet shown before it is decoded"
    assert len(set(pts)) == len(pts), "two video packets share a pts"
    assert len(pkts) == len(video_packets(single))
    assert decoded_frames(parallel) == decoded_frames(single)
    d_par, d_single = (float(ffprobe(p)["format"]["duration"]) for p in (parallel, single))
    assert abs(d_par - d_single) <= frame + 1e-6, (d_par, d_single)
    # Stream ends as the ffmpeg tools see them: last frame's time plus its duration (video:
    # one average frame, as MP4's demuxer gives B-frame packets no duration).
    skew_par = audio_span(parallel)[1] - video_span(parallel)[2]
    skew_single = audio_span(single)[1] - video_span(single)[2]
    assert abs(skew_par - skew_single) <= 0.020, {"audio end - video end": skew_par, "single-pass": skew_single}
    assert decode_warnings(parallel) == ""


def test_segments_join_seamlessly(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "s").mkdir()
    par, single = tmp_path / "p" / "o.mp4", tmp_path / "s" / "o.mp4"
    assert parallel_run(media(BBB), par, "-n", 2, "--segment-seconds", 4)["segments"] >= 3
    assert parallel_run(media(BBB), single, "-n", 1, "--segment-seconds", 0)["segments"] == 1
    check_seamless(par, single, 1 / 24)


def hls_playlist(path):
    """(EXTINF durations, segment names) of a media playlist."""
    lines = path.read_text().splitlines()
    assert lines[0] == "#EXTM3U" and "#EXT-X-ENDLIST" in lines, lines
    durations = [float(l.split(":", 1)[1].split(",")[0]) for l in lines if l.startswith("#EXTINF:")]
    segments = [l for l in lines if l and not l.startswith("#")]
    assert len(durations) == len(segments)
    return durations, segments


def test_hls_segments_join_seamlessly_on_the_grid(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "s").mkdir()
    par, single = tmp_path / "p" / "o.m3u8", tmp_path / "s" / "o.m3u8"
    run = parallel_run(media(BBB), par, "-t", "ios-hls-360p", "-n", 2, "--segment-seconds", 4)
    assert run["segments"] >= 3, run
    parallel_run(media(BBB), single, "-t", "ios-hls-360p", "-n", 1, "--segment-seconds", 0)
    check_seamless(par, single, 1 / 24)
    durations, segments = hls_playlist(par)
    assert (durations, segments) == hls_playlist(single)
    assert len(segments) >= 3
    assert all(abs(d - 6.0) < 0.01 for d in durations[:-1]), durations
    assert 0 < durations[-1] <= 6.01, durations
    for name in segments:
        first = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
                                "-show_entries", "frame=key_frame", "-of", "csv=p=0", str(par.parent / name)],
                               capture_output=True, text=True, check=True).stdout.split()
        assert first and first[0].startswith("1"), (name, first)
    # The engine's segments are whole HLS segments: they start on the 6 s grid.
    assert Path(run["manifest"]).resolve() == manifest_of(par).resolve(), run
    with open_manifest(manifest_of(par)) as m:
        assert m.attrs["grid_seconds"] == 6.0
        starts = m["segments"]["start_seconds"]
        assert len(starts) == run["segments"]
        assert all(abs(s / 6.0 - round(s / 6.0)) < 1e-6 for s in starts), starts


@pytest.mark.parametrize("ext,codec", [("flv", "flv"), ("ts", "mpegts"), ("mov", "mov,mp4,m4a,3gp,3g2,mj2")])
def test_gather_writes_every_container(tmp_path, ext, codec):
    """The gather is a remux into the output's own muxer: FLV (1 ms time base, global
    headers), MPEG-TS (headers in band) and MOV each hold every frame once, start
    with a keyframe, decode without errors, and the video is the same for 1 and 3 workers."""
    src = media(BBB)
    digests = []
    for workers in (1, 3):
        out = tmp_path / f"n{workers}" / f"o.{ext}"
        out.parent.mkdir()
        run = parallel_run(src, out, "--set", "video.preset=ultrafast", "-n", workers, "--segment-seconds", 4)
        assert run["segments"] >= 4
        assert ffprobe(out)["format"]["format_name"] == codec
        assert decoded_frames(out) == 720
        assert decode_errors(out) == ""
        first = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags",
                                "-of", "csv=p=0", "-read_intervals", "%+#1", str(out)], capture_output=True, text=True,
                               check=True).stdout.split()[0]
        assert first.startswith("K"), first
        digests.append(video_md5(out))
    assert digests[0] == digests[1]


# --- 4. efficiency ----------------------------------------------------------------------------

def test_parallel_costs_no_size_or_quality(derived, tmp_path):
    src = bbb_loop(derived, 10)  # 5 minutes
    (tmp_path / "p").mkdir()
    (tmp_path / "s").mkdir()
    par, single = tmp_path / "p" / "o.mp4", tmp_path / "s" / "o.mp4"
    fast = ["--set", "video.preset=veryfast"]
    run = parallel_run(src, par, *fast, "-n", 2, "--segment-seconds", 10)
    assert run["segments"] >= 10, run
    assert parallel_run(src, single, *fast, "-n", 1, "--segment-seconds", 0)["segments"] == 1
    size_par, size_single = par.stat().st_size, single.stat().st_size
    psnr_par, psnr_single = psnr(src, par), psnr(src, single)
    print(f"\nefficiency: {run['segments']} segments; size parallel {size_par} B, single-pass {size_single} B, "
          f"ratio {size_par / size_single:.5f}; PSNR parallel {psnr_par:.4f} dB, single-pass {psnr_single:.4f} dB, "
          f"delta {psnr_par - psnr_single:+.4f} dB")
    assert abs(size_par / size_single - 1) <= 0.01, (size_par, size_single)
    assert abs(psnr_par - psnr_single) <= 0.05, (psnr_par, psnr_single)


# --- 5. manifest ------------------------------------------------------------------------------

def test_manifest_describes_the_plan(outdir):
    src = media(BBB)
    out = outdir / "o.mp4"
    run = parallel_run(src, out, "--set", "video.preset=ultrafast", "-n", 2, "--segment-seconds", 4)
    path = manifest_of(out)
    assert path.exists() and Path(run["manifest"]).resolve() == path.resolve(), run
    total = decoded_frames(src)
    stream, = streams_of(src, "video")
    with open_manifest(path) as m:
        assert m.attrs["schema"] == "gopcast.manifest/1"
        assert m.attrs["state"] == "done"
        assert m.attrs["engine"] == "local" and m.attrs["workers"] == 2
        assert m.attrs["segment_seconds"] == 4.0
        assert [Path(p).resolve() for p in m.attrs["outputs"]] == [out.resolve()]
        seg = m["segments"][:]
        assert len(seg) == run["segments"] >= 3
        assert list(seg["index"]) == list(range(len(seg)))
        assert seg["first_frame"][0] == 0 and seg["last_frame"][-1] == total - 1, (seg, total)
        for a, b in zip(seg[:-1], seg[1:]):
            assert b["first_frame"] == a["last_frame"] + 1, (a, b)
            assert b["start_pts"] == a["end_pts"], (a, b)
        assert list(seg["frames"]) == list(seg["last_frame"] - seg["first_frame"] + 1)
        assert [s.rstrip(b"\0") for s in seg["status"]] == [b"done"] * len(seg)
        assert all(b > 0 for b in seg["bytes"]), seg["bytes"]
        kf = m["keyframes"]
        tb = f"{kf.attrs['time_base_num']}/{kf.attrs['time_base_den']}"
        assert tb == stream["time_base"], (tb, stream["time_base"])
        # The input's keyframes (with their byte positions), and cuts (byte_pos -1) inside
        # GOPs longer than twice the segment target, each part at least the target long.
        keys = keyframe_pts(src)
        assert [int(p) for p, b in zip(kf["pts"], kf["byte_pos"]) if b >= 0] == keys
        cuts = [int(p) for p, b in zip(kf["pts"], kf["byte_pos"]) if b < 0]
        rate = 1 / float(kf.attrs["time_base_num"] / kf.attrs["time_base_den"])
        gops = list(zip(keys, keys[1:] + [None]))
        long_gops = [(a, b) for a, b in gops if b is not None and (b - a) / rate >= 8]
        assert cuts and all(any(a < c < b for a, b in long_gops) for c in cuts), (cuts, keys)
        entries = [int(p) for p in kf["pts"]]
        parts = [(a, b) for a, b in zip(entries, entries[1:]) if a in cuts or b in cuts]
        assert all((b - a) / rate >= 4 for a, b in parts), parts
        assert kf.attrs["total_frames"] == total
        assert sum(kf["frames"]) == total
        # Every segment starts at an entry of the index: a keyframe or a cut inside a long GOP.
        assert set(seg["start_pts"]) <= set(kf["pts"])
        assert set(cuts) <= set(seg["start_pts"]), "bbb's 10.4 s GOP is cut"
        assert {"index", "encode", "gather", "mux"} <= set(m["phases"].attrs), dict(m["phases"].attrs)


# --- 6. resume --------------------------------------------------------------------------------

RESUME_ARGS = ["--set", "video.preset=veryfast", "-n", 2, "--segment-seconds", 5]


@pytest.fixture(scope="session")
def resume_reference(derived, tmp_path_factory):
    """(input, sha256 of an uninterrupted run's output): made once per test run, shared by
    the xdist workers under a lock like the derived media."""
    src = bbb_loop(derived, 4)  # 2 minutes
    base = Path(tmp_path_factory.getbasetemp())
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "resume-reference"
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared.parent / "resume-reference.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "sha256"
        if not done.exists():
            par = parallel_run(src, "o.mp4", *RESUME_ARGS, cwd=shared)
            assert par["resumed_segments"] == 0 and par["segments"] >= 10, par
            done.write_text(sha256(shared / "o.mp4"))
    return src, done.read_text()


def done_rows(manifest):
    """(job state, segments recorded done), or None while the manifest is not there yet."""
    try:
        with open_manifest(manifest) as m:
            return m.attrs["state"], sum(1 for s in m["segments"]["status"] if s.rstrip(b"\0") == b"done")
    except (OSError, KeyError):
        return None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_interrupted_job_resumes_to_the_same_bytes(resume_reference, tmp_path, sig):
    src, reference = resume_reference
    out = tmp_path / "o.mp4"  # same file name as the reference: the name is part of the job
    proc = subprocess.Popen([str(BIN), "transcode", str(src), "-o", "o.mp4", *map(str, RESUME_ARGS)], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, "the job finished before two segments could be seen done"
            assert time.monotonic() < deadline, "no segment recorded done in 300 s"
            seen = done_rows(manifest_of(out))
            if seen and seen[0] == "running" and seen[1] >= 2:
                break
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sig == signal.SIGTERM:
        assert proc.returncode == error_table()["Cancelled"], err
    else:
        assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    assert work_folder(out).is_dir()
    state, done = done_rows(manifest_of(out))
    assert state == ("cancelled" if sig == signal.SIGTERM else "running"), state
    assert done >= 2

    par = parallel_run(src, "o.mp4", *RESUME_ARGS, cwd=tmp_path)
    if sig == signal.SIGTERM:
        # Only what the manifest did not record as done is encoded again.
        assert par["resumed_segments"] == done >= 2, (par, done)
    else:
        assert par["resumed_segments"] > 0, par
    assert sha256(out) == reference, "resumed output differs from an uninterrupted run's"
    assert not work_folder(out).exists()
    assert done_rows(manifest_of(out)) == ("done", par["segments"])
    # The manifest says what was reused, and no phase is negative (issue 17 item 8).
    with open_manifest(manifest_of(out)) as m:
        assert int(m.attrs["resumed_segments"]) == par["resumed_segments"]
        phases = {name: float(v) for name, v in m["phases"].attrs.items()}
    assert set(phases) == {"index", "encode", "gather", "mux"} and min(phases.values()) >= 0, phases
    assert all(v >= 0 for v in par["phases"].values()), par["phases"]


# --- 7. bad input through the parallel path ----------------------------------------------------

@pytest.fixture
def half_mp4(tmp_path):
    """bbb cut in half with head -c: the index (moov) at its end is gone."""
    path = tmp_path / "half.mp4"
    size = media(BBB).stat().st_size
    subprocess.run(f"head -c {size // 2} {media(BBB)} > {path}", shell=True, check=True)
    return path


@pytest.mark.parametrize("case,code", [
    ("missing input", "InvalidParameter.ResourceNotFound"),
    ("truncated input", "InvalidParameter.ResourceContentBad"),
    ("missing output folder", "InvalidParameter.OutputNotWritable"),
])
def test_bad_input_fails_before_encoding_and_leaves_nothing(tmp_path, half_mp4, case, code):
    outdir = tmp_path / "out"
    outdir.mkdir()
    src = {"missing input": tmp_path / "missing.mp4", "truncated input": half_mp4}.get(case, media(BBB))
    out = (tmp_path / "no-such-folder" / "o.mp4") if case == "missing output folder" else outdir / "o.mp4"
    proc = run_gopcast("transcode", src, "-o", out, "-n", 2, "--segment-seconds", 4, check=False)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"gopcast: error: {code}: "), proc.stderr
    assert proc.returncode == error_table()[code]
    assert not out.exists()
    # Nothing at the output path, and neither a manifest nor a work folder anywhere.
    assert list(outdir.iterdir()) == []
    left = [p for p in tmp_path.rglob("*") if "manifest" in p.name or "gopcast-work" in p.name]
    assert left == [], left


def test_input_truncated_mid_stream_fails_cleanly(tmp_path, outdir):
    """A faststart MP4 cut in half reads as media until the data runs out part-way."""
    fs = tmp_path / "faststart.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(media(BBB)), "-c", "copy", "-movflags", "+faststart",
                    str(fs)], check=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(fs.read_bytes()[: fs.stat().st_size // 2])
    out = outdir / "o.mp4"
    proc = run_gopcast("transcode", cut, "-o", out, "-n", 2, "--segment-seconds", 4, check=False)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    code = "InvalidParameter.ResourceContentBad"
    assert len(lines) == 1 and lines[0].startswith(f"gopcast: error: {code}: "), proc.stderr
    assert "truncated" in lines[0]
    assert proc.returncode == error_table()[code]
    # Bad input has nothing to resume: no output, no manifest, no work folder.
    assert list(outdir.iterdir()) == []
