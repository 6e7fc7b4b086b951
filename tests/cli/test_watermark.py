"""Watermarks (image and text) and logo removal, checked on the decoded pixels.

Every encode is lossless (qp 0), so an output decodes to exactly the pictures the
filter graph made: a watermark must change the frame only inside its rectangle and
only within its time window, compared with the same encode without it. The source is
a short, small cut of the shared Big Buck Bunny clip with a keyframe every second, so
the segment-parallel engine cuts it into 1 s segments and windows cross the cuts.
"""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import BIN, run_gopcast

W, H, FPS, SECONDS = 256, 144, 24, 6
LOSSLESS = ["--set", "video.qp=0", "--set", "video.preset=ultrafast", "--set", "audio.remove=true"]
MPI_BIN = Path(os.environ.get("GOPCAST_MPI_BIN", BIN.parent.parent / "mpi" / "gopcast-mpi"))


@pytest.fixture(scope="module")
def clip(derived):
    return derived("wm-clip-256x144.mp4", ["-t", SECONDS, "-vf", f"scale={W}:{H},setsar=1", "-an", "-c:v", "libx264",
                                            "-preset", "ultrafast", "-g", FPS, "-keyint_min", FPS, "-sc_threshold", 0])


def make_image(path, spec, size, fmt="rgba"):
    """A still made by the ffmpeg tool, e.g. spec "red@0.5" with size "64x32"."""
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", f"color={spec}:s={size},format={fmt}",
                    "-frames:v", "1", "-update", "1", str(path)], check=True)
    return path


def luma(path):
    """The decoded pictures: array (frames, 3, H, W) of Y, U and V, the chroma planes
    repeated to the luma grid (a chroma sample covers 2x2 pixels)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
                          "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"], capture_output=True, check=True).stdout
    frame = W * H * 3 // 2
    a = np.frombuffer(raw, dtype=np.uint8)
    assert a.size % frame == 0
    a = a.reshape(-1, frame).astype(np.int16)
    y = a[:, :W * H].reshape(-1, H, W)
    def up(plane):
        return plane.reshape(-1, H // 2, W // 2).repeat(2, axis=1).repeat(2, axis=2)
    return np.stack([y, up(a[:, W * H:W * H * 5 // 4]), up(a[:, W * H * 5 // 4:])], axis=1)


def encode(src, out, *args, workers=2, seconds=1):
    run_gopcast("transcode", src, "-o", out, *LOSSLESS, "-n", workers, "--segment-seconds", seconds, *args)
    return luma(out)


def in_window(i, start, duration):
    t = i / FPS
    return start <= t < start + duration


def check_rects(base, marked, rects):
    """rects: [(x, y, w, h, start, duration)]: pixels change inside each rect while it is
    shown, and nowhere else (frames outside every window equal the base)."""
    assert marked.shape == base.shape
    diff = np.abs(marked - base)
    chroma = diff[:, 1:].max(axis=1)
    diff = diff[:, 0]  # luma decides where a mark is (chroma cells straddle odd edges)
    for i in range(base.shape[0]):
        outside = np.ones((H, W), dtype=bool)
        for (x, y, w, h, start, duration) in rects:
            if in_window(i, start, duration):
                outside[y:y + h, x:x + w] = False
                inside = np.maximum(diff[i, y:y + h, x:x + w], chroma[i, y:y + h, x:x + w])
                assert (inside > 3).mean() > 0.9, f"frame {i}: rect {x},{y} {w}x{h} barely changed"
        assert diff[i][outside].max(initial=0) == 0, f"frame {i} ({i / FPS:.3f} s) changed outside the rectangles"
        if outside.all():
            assert chroma[i].max() == 0, f"frame {i} ({i / FPS:.3f} s): colour changed outside every window"


@pytest.fixture(scope="module")
def base(clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("wm-base") / "base.mp4"
    return encode(clip, out)


def test_image_watermark_changes_only_its_rectangle_within_its_window(clip, base, tmp_path, outdir):
    logo = make_image(tmp_path / "logo.png", "red@0.5", "64x32")
    marked = encode(clip, outdir / "o.mp4", "--watermark", f"{logo},position=bottom-right,dx=16,dy=8,start=2,duration=2")
    check_rects(base, marked, [(W - 64 - 16, H - 32 - 8, 64, 32, 2, 2)])
    assert sum(in_window(i, 2, 2) for i in range(base.shape[0])) == 2 * FPS


def test_windows_stay_on_the_input_timeline_when_the_output_is_a_clip(clip, tmp_path, outdir):
    logo = make_image(tmp_path / "logo.png", "red@0.5", "64x32")
    cut = ["--start", 2, "--duration", 3]
    plain = encode(clip, outdir / "plain.mp4", *cut)
    marked = encode(clip, outdir / "o.mp4", *cut, "--watermark", f"{logo},start=3,duration=1")
    assert plain.shape[0] == 3 * FPS
    check_rects(plain, marked, [(0, 0, 64, 32, 1, 1)])  # input 3..4 s is the clip's 1..2 s


def test_job_file_template_percentages_and_odd_file_names(clip, base, tmp_path, outdir):
    # A name the filter graph parser would choke on, if it were ever spelled into the graph.
    logo = make_image(tmp_path / "it's a [logo], v1; 50%.png", "blue", "64x32", fmt="rgb24")
    job = tmp_path / "job.toml"
    job.write_text(f"""
[input]
path = "{clip}"
[[outputs]]
path = "{outdir / 'o.mp4'}"
[outputs.override.video]
qp = 0
preset = "ultrafast"
[[outputs.watermarks]]
template = "corner-logo"          # top-right, dx = dy = "2%", width = "12%"
image = "{logo.name}"
start = 0.5
[[outputs.watermarks]]
image = "{logo.name}"
position = "centre"
height = "25%"
dy = "10%"
duration = 1
""")
    run_gopcast("run", job, "-n", 2, "--segment-seconds", 1)
    marked = luma(outdir / "o.mp4")
    # corner-logo: width 12% of 256 = 30.72 -> 31 px, height follows the aspect (15.5 -> 16);
    # x = 256 - 31 - 5.12 = 219.88 and y = 2.88, rounded down to even: 218, 2.
    # centre: height 25% of 144 = 36, width 72; x = (256 - 72) / 2 = 92, y = (144 - 36) / 2 + 14.4 = 68.4 -> 68.
    check_rects(base, marked, [(218, 2, 31, 16, 0.5, 1e9), (92, 68, 72, 36, 0, 1)])


def test_twenty_four_watermarks_on_one_output(clip, base, tmp_path, outdir):
    colours = ["red", "lime", "blue", "yellow", "magenta", "cyan"]
    args, rects = [], []
    for k in range(24):
        row, col = divmod(k, 6)
        ext = "jpg" if k % 4 == 3 else "png"
        img = make_image(tmp_path / f"m{k}.{ext}", colours[col] + ("" if ext == "jpg" else "@0.7"), "16x16",
                         fmt="yuvj420p" if ext == "jpg" else "rgba")
        x, y = 8 + 40 * col, 8 + 30 * row
        start, duration = (k % 5) * 0.75, 1.5 + (k % 3)
        args += ["--watermark", f"{img},dx={x},dy={y},start={start},duration={duration}"]
        rects.append((x, y, 16, 16, start, duration))
    marked = encode(clip, outdir / "o.mp4", *args)
    check_rects(base, marked, rects)


def write_job(folder, clip, out, segment_seconds, marks):
    job = folder / f"job-{out.stem}.toml"
    job.write_text(f"""
[input]
path = "{clip}"
[parallel]
segment_seconds = {segment_seconds}
[[outputs]]
path = "{out}"
[outputs.override.video]
qp = 0
preset = "ultrafast"
{marks}
""")
    return job


MARKS = """
[[outputs.watermarks]]
image = "logo.png"
position = "top-left"
dx = 20
dy = 20
start = 1.5
duration = 2.5
[[outputs.watermarks]]
text = "gopcast"
position = "bottom-right"
start = 0.9
duration = 3.2
[[outputs.delogo]]
x = 150
y = 20
w = 40
h = 30
start = 2.5
duration = 1
"""


def test_windows_across_segment_cuts_give_the_same_frames_for_any_worker_count(clip, base, tmp_path):
    make_image(tmp_path / "logo.png", "white@0.6", "48x24")
    one = tmp_path / "one.mp4"
    run_gopcast("run", write_job(tmp_path, clip, one, 0, MARKS), "-n", 1)  # one segment: the single-pass picture
    three = tmp_path / "three.mp4"
    run_gopcast("run", write_job(tmp_path, clip, three, 1, MARKS), "-n", 3)  # six 1 s segments on 3 workers
    a, b = luma(one), luma(three)
    assert a.shape == b.shape == base.shape
    assert np.array_equal(a, b), "watermark windows differ between a single segment and 1 s segments"
    # The windows really cross the cuts at 1, 2, 3 and 4 s: shown from frame 36 to 95.
    changed = [bool(np.abs(b[i, :, 20:44, 20:68] - base[i, :, 20:44, 20:68]).max() > 3) for i in range(b.shape[0])]
    assert changed == [in_window(i, 1.5, 2.5) for i in range(b.shape[0])]


@pytest.mark.skipif(not MPI_BIN.exists(), reason="gopcast-mpi not built")
def test_mpirun_three_ranks_draws_the_same_frames(clip, tmp_path):
    make_image(tmp_path / "logo.png", "white@0.6", "48x24")
    local = tmp_path / "local.mp4"
    run_gopcast("run", write_job(tmp_path, clip, local, 1, MARKS), "-n", 1)
    ranks = tmp_path / "ranks.mp4"
    job = write_job(tmp_path, clip, ranks, 1, MARKS)
    p = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "3", str(MPI_BIN), str(job)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert np.array_equal(luma(local), luma(ranks))


def test_text_watermark_changes_pixels_only_in_its_corner(clip, base, outdir):
    marked = encode(clip, outdir / "o.mp4", "--text-watermark",
                    "Hi: it's 100%\\, [ok],font=DejaVu Sans,size=20,color=yellow,position=bottom-left,dx=10,dy=6,start=1,duration=2")
    diff = np.abs(marked - base).max(axis=1)
    for i in range(base.shape[0]):
        ys, xs = np.nonzero(diff[i])
        if not in_window(i, 1, 2):
            assert ys.size == 0, f"frame {i}: text outside its window"
            continue
        assert ys.size > 200, f"frame {i}: no text drawn"
        # Drawn from x = 10 with its bottom 6 px above the frame's, 20 px type: 13 characters < 200 px.
        assert xs.min() >= 9 and xs.max() < 10 + 200 and ys.max() <= H - 6 and ys.min() >= H - 6 - 30


def test_delogo_changes_only_its_rectangle_within_its_window(clip, base, outdir):
    marked = encode(clip, outdir / "o.mp4", "--delogo", "40,30,48,32,1,2")
    diff = np.abs(marked - base).max(axis=1)
    changed_frames = 0
    for i in range(base.shape[0]):
        outside = np.ones((H, W), dtype=bool)
        outside[30:62, 40:88] = False
        assert diff[i][outside].max() == 0, f"frame {i} changed outside the rectangle"
        if in_window(i, 1, 2):
            changed_frames += diff[i, 30:62, 40:88].max() > 0
        else:
            assert diff[i].max() == 0, f"frame {i}: delogo outside its window"
    assert changed_frames == 2 * FPS


@pytest.mark.parametrize("case, arg, code, words", [
    ("missing image", "--watermark={dir}/nope.png", "ResourceNotFound", "nope.png"),
    ("not an image", "--watermark={dir}/notes.png", "ResourceContentBad", "not an image"),
    ("larger than the frame", "--watermark={dir}/big.png", "OutOfRange", "larger than the 256x144"),
    ("bad position", "--watermark={dir}/logo.png,position=middle", "OutOfRange", "position"),
    ("negative offset", "--watermark={dir}/logo.png,dx=-4", "OutOfRange", "dx"),
    ("pushed out of the frame", "--watermark={dir}/logo.png,dx=250", "OutOfRange", "outside the 256x144"),
    ("start beyond the end", "--watermark={dir}/logo.png,start=60", "OutOfRange", "beyond the end"),
    ("missing font", "--text-watermark=hello,font=No Such Font Family", "ResourceNotFound", "No Such Font Family"),
    ("missing font file", "--text-watermark=hello,font=/no/such.ttf", "ResourceNotFound", "/no/such.ttf"),
    ("delogo outside the picture", "--delogo=240,100,40,20", "OutOfRange", "not inside"),
])
def test_errors_are_one_line_and_leave_nothing(clip, tmp_path, outdir, case, arg, code, words):
    make_image(tmp_path / "logo.png", "red", "32x16")
    make_image(tmp_path / "big.png", "red", "512x64")
    (tmp_path / "notes.png").write_text("not a picture\n")
    arg = arg.format(dir=tmp_path)
    p = run_gopcast("transcode", clip, "-o", outdir / "o.mp4", *LOSSLESS, "-n", 2, arg, check=False)
    assert p.returncode != 0, case
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and code in lines[0] and words in lines[0], p.stderr
    assert list(outdir.iterdir()) == [], "something was left at the output path"
