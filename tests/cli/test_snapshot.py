"""gopcast snapshot, sprite and cover, and [[snapshots]] in jobs, checked on pixels.

The oracle for a picture is the ffmpeg tool: `ffmpeg -ss T -i IN -frames:v 1` (accurate
seek: the first frame at or after T) written as PNG. A PNG snapshot is the same frame
through the same conversion, so it must match far above what a neighbouring frame
reaches (PSNR >= 50 dB; the frame next to it scores 25-45 dB); a JPEG one is lossy
(PSNR >= 30 dB at the default quality 90).
"""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, ffprobe, media, psnr, run_gopcast

MPI_BIN = Path(os.environ.get("GOPCAST_MPI_BIN", BIN.parent.parent / "mpi" / "gopcast-mpi"))
PNG_BOUND = 50.0
JPG_BOUND = 30.0


def ffmpeg_frame(src, t, out, scale=None):
    """The frame the ffmpeg tool decodes at t (accurate seek), as PNG."""
    vf = ["-vf", f"scale={scale}:flags=bicubic"] if scale else []
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-ss", str(t), "-i", str(src), "-frames:v", "1", *vf, str(out)],
                   check=True, capture_output=True)
    return out


def size_of(image):
    s = ffprobe(image)["streams"][0]
    return s["width"], s["height"]


def keyframe_times(src):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
                          "-of", "csv=p=0", str(src)], capture_output=True, text=True, check=True).stdout
    return sorted(float(line.split(",")[0]) for line in out.split() if "K" in line.split(",")[1])


def luma_mean(image):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(image), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout
    return sum(raw) / len(raw)


def snapshot_json(*args):
    return json.loads(run_gopcast("snapshot", *args, "--json").stdout)


@pytest.fixture(scope="module")
def vfr(derived):
    # Variable frame rate: 6 of every 10 frames kept with their own times (gaps of 1/30 and 5/30 s).
    return derived("snap-vfr.mkv", ["-t", "6", "-vf", "select='lt(mod(n\\,10)\\,6)'", "-fps_mode", "vfr", "-c:v", "libx264",
                                    "-preset", "ultrafast", "-g", "40", "-an"], source="me-other-480p.mp4")


@pytest.mark.parametrize("name,t,ext", [
    ("bbb-480p-30s.mp4", 14.02, "png"),         # inside an irregular 3.9 s GOP
    ("bbb-480p-30s.mp4", 21.5, "jpg"),
    ("me-echo-hereweare-vp8.webm", 17.3, "png"),
    ("me-grampa-vp6.flv", 3.0, "jpg"),          # VP6 in FLV, 1 ms time base
    ("vfr", 2.45, "png"),                        # variable frame rate, between two kept frames
])
def test_a_snapshot_is_the_frame_the_ffmpeg_tool_decodes_at_that_time(name, t, ext, outdir, vfr):
    src = vfr if name == "vfr" else media(name)
    out = outdir / f"shot.{ext}"
    r = snapshot_json(src, "-o", out, "--time", t)
    [image] = r["images"]
    assert image["path"] == str(out) and out.exists()
    assert image["requested"] == pytest.approx(t)
    assert t - 1e-6 <= image["time"] < t + 0.2
    ref = ffmpeg_frame(src, t, outdir / "ref.png")
    assert size_of(out) == size_of(ref)
    bound = PNG_BOUND if ext == "png" else JPG_BOUND
    match = psnr(ref, out)
    assert match >= bound
    # The check can fail: the ffmpeg tool's picture half a second later is further away.
    later = ffmpeg_frame(src, t + 0.5, outdir / "later.png")
    assert psnr(later, out) < (bound if ext == "png" else match - 3)


def test_keyframe_mode_gives_the_nearest_keyframe_and_its_picture(outdir):
    src = media("bbb-480p-30s.mp4")
    keys = keyframe_times(src)  # 0, 10.42, 11.88, 15.75, 23.04
    times = [4.0, 6.0, 11.0, 14.0, 29.0]
    r = snapshot_json(src, "-o", outdir / "k-%d.png", "--times", ",".join(map(str, times)), "--mode", "keyframe")
    assert [i["path"] for i in r["images"]] == [str(outdir / f"k-{n}.png") for n in range(1, 6)]
    for t, image in zip(times, r["images"]):
        nearest = min(keys, key=lambda k: (abs(k - t), k))
        assert image["time"] == pytest.approx(nearest, abs=1e-3), t
        ref = ffmpeg_frame(src, nearest, outdir / "ref.png")
        assert psnr(ref, image["path"]) >= PNG_BOUND, t
    # 6.0 is nearer 10.42 than 0: the keyframe after it, not a decode to 6.0.
    assert r["images"][1]["time"] == pytest.approx(keys[1], abs=1e-3)


def test_one_side_given_the_other_follows_the_display_aspect_ratio(outdir):
    r = snapshot_json(media("bbb-480p-30s.mp4"), "-o", outdir / "w.png", "--time", 3, "--width", 320)
    assert size_of(outdir / "w.png") == (320, 180)  # 320 * 480 / 854 = 179.9
    assert (r["images"][0]["width"], r["images"][0]["height"]) == (320, 180)
    run_gopcast("snapshot", media("me-grampa-vp6.flv"), "-o", outdir / "h.jpg", "--time", 3, "--height", 100)
    assert size_of(outdir / "h.jpg") == (122, 100)  # 352x288 shown at 100 high
    ref = ffmpeg_frame(media("bbb-480p-30s.mp4"), 3, outdir / "ref.png", scale="320:180")
    assert psnr(ref, outdir / "w.png") >= 40  # the same frame, scaled the same way


def test_every_and_count_give_the_right_number_of_images_at_the_right_times(outdir):
    src = media("bbb-480p-30s.mp4")
    duration = float(ffprobe(src)["format"]["duration"])
    r = snapshot_json(src, "-o", outdir / "e-%05d.jpg", "--every", 7, "--width", 160)
    assert [i["requested"] for i in r["images"]] == pytest.approx([0, 7, 14, 21, 28])
    assert sorted(p.name for p in outdir.iterdir()) == [f"e-{n:05d}.jpg" for n in range(1, 6)]
    for i in r["images"]:
        assert i["requested"] - 1e-6 <= i["time"] < i["requested"] + 1 / 24 + 1e-3

    folder = outdir / "count"
    folder.mkdir()
    r = snapshot_json(src, "-o", folder, "--count", 4, "--format", "png", "--width", 160)
    expected = [(k + 0.5) * duration / 4 for k in range(4)]
    assert [i["requested"] for i in r["images"]] == pytest.approx(expected, abs=1e-6)
    assert sorted(p.name for p in folder.iterdir()) == [f"bbb-480p-30s-{n:05d}.png" for n in range(1, 5)]
    # Each numbered file holds its own time's picture.
    ref = ffmpeg_frame(src, expected[2], outdir / "ref.png", scale="160:90")
    assert psnr(ref, folder / "bbb-480p-30s-00003.png") >= 40
    assert psnr(ref, folder / "bbb-480p-30s-00002.png") < 30


def parse_vtt(text):
    assert text.startswith("WEBVTT\n\n")
    cues = []
    for block in text.strip().split("\n\n")[1:]:
        timing, target = block.split("\n")
        m = re.fullmatch(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)", timing)
        assert m, timing
        v = list(map(int, m.groups()))
        start = v[0] * 3600 + v[1] * 60 + v[2] + v[3] / 1000
        end = v[4] * 3600 + v[5] * 60 + v[6] + v[7] / 1000
        url, xywh = target.split("#xywh=")
        cues.append((start, end, url, tuple(map(int, xywh.split(",")))))
    return cues


def crop(sheet, x, y, w, h, out):
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(sheet), "-vf", f"crop={w}:{h}:{x}:{y}", str(out)],
                   check=True, capture_output=True)
    return out


def test_sprite_sheet_layout_tiles_and_webvtt_index(outdir):
    src = media("bbb-480p-30s.mp4")
    duration = float(ffprobe(src)["format"]["duration"])
    r = json.loads(run_gopcast("sprite", src, "-o", outdir / "sheet.png", "--count", 7, "--columns", 3, "--width", 128,
                               "--padding", 4, "--margin", 6, "--vtt", outdir / "index.vtt", "--json").stdout)
    # 3 columns x 3 rows of 128x72 tiles: margins + tiles + padding, exactly.
    assert size_of(outdir / "sheet.png") == (6 + 3 * 128 + 2 * 4 + 6, 6 + 3 * 72 + 2 * 4 + 6)
    cues = parse_vtt((outdir / "index.vtt").read_text())
    assert len(cues) == 7
    assert cues[0][0] == 0 and cues[-1][1] == pytest.approx(duration, abs=1e-3)
    for a, b in zip(cues, cues[1:]):
        assert a[1] == b[0]  # contiguous
    for k, (start, end, url, (x, y, w, h)) in enumerate(cues):
        assert url == "sheet.png"
        assert (x, y, w, h) == (6 + (k % 3) * 132, 6 + (k // 3) * 76, 128, 72)
        assert start == pytest.approx(k * duration / 7, abs=1e-3)
    # Each tile is the snapshot of its time range's middle (checked on three tiles).
    for k in (0, 4, 6):
        t = r["images"][k]["requested"]
        assert t == pytest.approx((k + 0.5) * duration / 7, abs=1e-6)
        run_gopcast("snapshot", src, "-o", outdir / f"tile{k}.png", "--time", t, "--width", 128)
        x, y, w, h = cues[k][3]
        assert psnr(outdir / f"tile{k}.png", crop(outdir / "sheet.png", x, y, w, h, outdir / "cut.png")) >= PNG_BOUND, k
    # The unused cells and the margins stay black.
    assert luma_mean(crop(outdir / "sheet.png", 6 + 2 * 132, 6 + 2 * 76, 128, 72, outdir / "empty.png")) < 1


def test_sprite_sets_spill_onto_numbered_sheets(outdir):
    src = media("me-other-480p.mp4")
    run_gopcast("sprite", src, "-o", outdir / "s.jpg", "--every", 2, "--columns", 2, "--rows", 2, "--height", 60,
                "--vtt", outdir / "vtt" / "s.vtt", check=False)  # folder missing: refused
    assert list(outdir.iterdir()) == []
    (outdir / "vtt").mkdir()
    run_gopcast("sprite", src, "-o", outdir / "s.jpg", "--every", 2, "--columns", 2, "--rows", 2, "--height", 60,
                "--vtt", outdir / "vtt" / "s.vtt")
    assert sorted(p.name for p in outdir.iterdir()) == ["s-1.jpg", "s-2.jpg", "vtt"]  # 6 tiles, 4 per sheet
    cues = parse_vtt((outdir / "vtt" / "s.vtt").read_text())
    assert [c[2] for c in cues] == ["../s-1.jpg"] * 4 + ["../s-2.jpg"] * 2
    assert [c[0] for c in cues] == [0, 2, 4, 6, 8, 10]
    assert size_of(outdir / "s-2.jpg") == size_of(outdir / "s-1.jpg") == (2 * 107, 2 * 60)


@pytest.fixture(scope="module")
def fades(derived):
    # Black 0-3 s, shot A 3-6 s, a cross-fade into shot B 6-8 s, B 8-9.5 s, a fade to black 9.5-11 s.
    graph = ("color=black:s=854x480:r=24:d=3,format=yuv420p,setsar=1[k];"
             "[0:v]trim=16:21,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[a];"
             "[0:v]trim=24:29,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[b];"
             "[k][a]concat=n=2:v=1:a=0,settb=1/24[ka];"
             "[ka]fps=24[ka2];[b]fps=24[b2];"
             "[ka2][b2]xfade=transition=fade:duration=2:offset=6,fade=t=out:st=9.5:d=1.5[v]")
    return derived("snap-fades.mp4", ["-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast",
                                      "-crf", "18", "-an"])


def test_cover_avoids_black_fades_and_cross_fades(fades, outdir):
    r = json.loads(run_gopcast("cover", fades, "-o", outdir / "cover.jpg", "--json").stdout)
    t = r["time"]
    assert 3.0 <= t < 6.0 or 8.0 <= t < 9.5, t
    assert 40 < luma_mean(outdir / "cover.jpg") < 220
    assert r["score"]["total"] == max(c["score"]["total"] for c in r["candidates"])
    ref = ffmpeg_frame(fades, t, outdir / "ref.png")
    assert psnr(ref, outdir / "cover.jpg") >= JPG_BOUND
    by_time = {c["time"]: c["score"] for c in r["candidates"]}
    # The components tell why: black frames are unexposed, cross-fade frames are transitions.
    assert all(s["exposure"] == 0 and s["total"] == 0 for tt, s in by_time.items() if tt < 2.8)
    mixed = [s for tt, s in by_time.items() if 6.3 < tt < 7.7]
    assert mixed and all(s["transition"] > 0.5 for s in mixed)
    clean = [s for tt, s in by_time.items() if 3.3 < tt < 5.7]
    assert clean and all(s["transition"] < 0.5 for s in clean)


def test_cover_text_output_names_the_time_and_score(outdir):
    out = run_gopcast("cover", media("me-other-480p.mp4"), "-o", outdir / "c.png", "--candidates", 6, "--width", 200).stdout
    assert re.fullmatch(r".*c\.png  frame=\d+\.\d{3} s  200x\d+  score=0\.\d{3}\n", out), out


@pytest.mark.parametrize("args,code,status,words", [
    (["snapshot", "MISSING", "-o", "OUT/a.jpg", "--time", "1"], "ResourceNotFound", 3, ["nope.mp4"]),
    (["snapshot", "IN", "-o", "OUT/a.jpg", "--time", "31"], "OutOfRange", 5, ["31", "30.0"]),
    (["snapshot", "IN", "-o", "OUT/a.jpg", "--time", "-1"], "OutOfRange", 5, ["-1", "negative"]),
    (["snapshot", "IN", "-o", "OUT/a.jpg", "--time", "1", "--width", "0"], "OutOfRange", 5, ["width", "0"]),
    (["snapshot", "IN", "-o", "OUT/nofolder/a.jpg", "--time", "1"], "OutputNotWritable", 12, ["nofolder"]),
    (["snapshot", "IN", "-o", "OUT/a.jpg", "--count", "0"], "OutOfRange", 5, ["count", "0"]),
    (["snapshot", "IN", "-o", "OUT/a.jpg", "--count", "3"], "Usage", 2, ["%d"]),
    (["snapshot", "IN", "-o", "OUT/a.bmp", "--time", "1"], "OutOfRange", 5, [".png"]),
    (["snapshot", "IN", "-o", "OUT/a-%d.jpg", "--times", "1,40"], "OutOfRange", 5, ["40"]),
    (["sprite", "IN", "-o", "OUT/s.jpg", "--count", "4", "--columns", "0"], "OutOfRange", 5, ["columns", "0"]),
    (["sprite", "IN", "-o", "OUT/s.jpg", "--count", "4", "--columns", "2", "--vtt", "OUT/no/s.vtt"], "OutputNotWritable", 12,
     ["no"]),
    (["cover", "IN", "-o", "OUT/c.jpg", "--candidates", "0"], "OutOfRange", 5, ["candidates"]),
    (["cover", "IN", "-o", "OUT/c.jpg", "--video-stream", "0:v:2"], "StreamNotFound", 11, ["0:v:2"]),
])
def test_errors_are_one_line_and_leave_nothing(args, code, status, words, outdir):
    subst = {"IN": str(media("bbb-480p-30s.mp4")), "MISSING": str(outdir.parent / "nope.mp4")}
    argv = [subst.get(a, a.replace("OUT", str(outdir))) for a in args]
    r = run_gopcast(*argv, check=False)
    assert r.returncode == status, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"gopcast: error: InvalidParameter.{code}: "), r.stderr
    for w in words:
        assert w in lines[0]
    assert list(outdir.iterdir()) == []  # no image, no staging folder


def write_job(path, src, outdir, snapshots):
    path.write_text(f"""[input]
path = "{src}"
[[outputs]]
path = "{outdir}/{{name}}.mp4"
[outputs.override.video]
preset = "ultrafast"
{snapshots}""")
    return path


SNAPSHOT_TABLES = """
[[snapshots]]
path = "{out}/{{name}}-%02d.png"
times = [1.0, 2.5]
width = 160
[[snapshots]]
kind = "sprite"
path = "{out}/{{name}}-sprite.jpg"
count = 4
columns = 2
vtt = "{out}/{{name}}-sprite.vtt"
[[snapshots]]
kind = "cover"
path = "{out}/{{name}}-cover.jpg"
candidates = 4
"""


@pytest.fixture(scope="module")
def short(derived):
    return derived("snap-short.mp4", ["-t", "4", "-c", "copy"], source="me-other-480p.mp4")


@pytest.mark.parametrize("engine", ["run", "mpi"])
def test_a_job_writes_its_snapshots_with_its_outputs(engine, short, outdir, tmp_path):
    if engine == "mpi" and not MPI_BIN.exists():
        pytest.skip("gopcast-mpi not built")
    job = write_job(tmp_path / "job.toml", short, outdir, SNAPSHOT_TABLES.format(out=outdir))
    if engine == "run":
        r = json.loads(run_gopcast("run", job, "--json", "-n", "2").stdout)
    else:
        proc = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "2", str(MPI_BIN), str(job), "--json"],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        r = json.loads(proc.stdout)
    assert [s["kind"] for s in r["snapshots"]] == ["frames", "sprite", "cover"]
    names = sorted(p.name for p in outdir.iterdir())
    assert names == ["snap-short-01.png", "snap-short-02.png", "snap-short-cover.jpg", "snap-short-sprite.jpg",
                     "snap-short-sprite.vtt", "snap-short.mp4", "snap-short.mp4.manifest.h5"], names
    ref = ffmpeg_frame(short, 2.5, tmp_path / "ref.png", scale="160:90")
    assert psnr(ref, outdir / "snap-short-02.png") >= PNG_BOUND
    assert len(parse_vtt((outdir / "snap-short-sprite.vtt").read_text())) == 4


def test_a_job_with_a_bad_snapshot_fails_before_encoding_and_leaves_nothing(short, outdir, tmp_path):
    job = write_job(tmp_path / "job.toml", short, outdir, SNAPSHOT_TABLES.format(out=outdir).replace("[1.0, 2.5]", "[1.0, 9.0]"))
    r = run_gopcast("run", job, check=False)
    assert r.returncode == 5 and "9" in r.stderr and "OutOfRange" in r.stderr, r.stderr
    assert list(outdir.iterdir()) == []
    bad = write_job(tmp_path / "bad.toml", short, outdir, "[[snapshots]]\npath = \"x.jpg\"\ncount = 0\n")
    r = run_gopcast("run", bad, check=False)
    assert r.returncode == 5 and "bad.toml" in r.stderr and "snapshots[0].count" in r.stderr, r.stderr
