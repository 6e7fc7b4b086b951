"""Template rules users rely on, checked end to end with the ffmpeg tools as oracle."""
import json
import re
import os
import subprocess

import pytest

from conftest import BIN, decode_errors, decoded_frames, ffprobe, frame_md5s, media, psnr, run_gopcast, streams_of

SRC = "me-other-480p.mp4"  # 854x480, 30 fps, 11.2 s, mono AAC
FAST = ["--set", "video.preset=ultrafast"]


def short(derived, seconds=2):
    return derived(f"other-{seconds}s.mp4", ["-t", seconds, "-c", "copy"], source=SRC)


def video_of(path):
    v, = streams_of(path, "video")
    return v


def gray_rows(path, width, height, t=0.5):
    """Mean luma of each row of the frame at time t (by the ffmpeg tool)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(t), "-i", str(path), "-frames:v", "1", "-pix_fmt", "gray",
                          "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    assert len(raw) == width * height
    return [sum(raw[r * width:(r + 1) * width]) / width for r in range(height)]


def test_templates_list_and_show():
    listing = run_gopcast("templates", "list").stdout
    for name in ("android-mp4-720p", "ios-hls-480p", "pc-flv-360p", "audio-mp3-64k", "audio-aac-64k", "remux-mp4"):
        assert name in listing
    names = [t["name"] for t in json.loads(run_gopcast("templates", "list", "--json").stdout)]
    assert len(names) >= 30 and names == sorted(names)
    shown = run_gopcast("templates", "show", "android-mp4-720p").stdout
    assert "height = 720" in shown and "bitrate = 2000" in shown and "format = 'mp4'" in shown


def test_show_output_is_a_template_that_gives_the_same_result(tmp_path, derived, outdir):
    """`templates show` prints the resolved template; using that file gives identical video."""
    shown = run_gopcast("templates", "show", "android-mp4-360p", "--set", "video.preset=ultrafast").stdout
    (tmp_path / "resolved.toml").write_text(shown)
    src = short(derived)
    run_gopcast("transcode", "-q", src, "-o", outdir / "a.mp4", "-t", "android-mp4-360p", *FAST)
    run_gopcast("transcode", "-q", src, "-o", outdir / "b.mp4", "-t", tmp_path / "resolved.toml")
    assert frame_md5s(outdir / "a.mp4") == frame_md5s(outdir / "b.mp4")


@pytest.mark.parametrize("setting,size", [
    ("video.width=640", (640, 360)),
    ("video.height=360", (640, 360)),
    ("video.height=270", (480, 270)),
    ("video.width=427", (428, 240)),  # 427/ (854/480) = 240.0; width rounded to even for 4:2:0
    ("video.height=1080", (854, 480)),  # never upscale beyond the source
])
def test_one_dimension_follows_aspect(derived, outdir, setting, size):
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", short(derived), "-o", out, "--set", setting, *FAST)
    v = video_of(out)
    assert (v["width"], v["height"]) == size
    assert decode_errors(out) == ""


def test_upscale_when_allowed(derived, outdir):
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", short(derived), "-o", out, "--set", "video.height=720", "--set", "trans.no_upscale=false", *FAST)
    v = video_of(out)
    # 720 * 854/480 = 1281 rounds to 1282, as the ffmpeg tool's scale=-2:720 does.
    assert (v["width"], v["height"]) == (1282, 720)


@pytest.mark.parametrize("mode,upscale,size,bars", [
    ("pad", False, (640, 640), True),      # picture 640x360 on a 640x640 canvas
    ("crop", False, (640, 480), False),    # filling 640 high would enlarge a 480-line source
    ("crop", True, (640, 640), False),
    ("rescale", False, (640, 360), False),
    ("none", False, (640, 480), False),    # stretch, but never beyond the source per axis
    ("none", True, (640, 640), False),
])
def test_aspect_modes(derived, outdir, mode, upscale, size, bars):
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", short(derived), "-o", out, "--set", "video.width=640", "--set", "video.height=640",
                "--set", f"trans.aspect={mode}", "--set", f"trans.no_upscale={str(not upscale).lower()}", *FAST)
    v = video_of(out)
    assert (v["width"], v["height"]) == size
    rows = gray_rows(out, *size)
    top, middle = sum(rows[:100]) / 100, rows[size[1] // 2]
    if bars:
        assert top < 20 and middle > 20, (top, middle)  # black bars above a picture
    else:
        assert top > 20, top  # picture reaches the top edge


@pytest.mark.parametrize("pix_fmt,profile,expected", [
    ("", "", "yuv420p"),            # empty: the source's format
    ("yuv444p", "", "yuv444p"),     # valid for x264: used
    ("yuv444p", "high", "yuv420p"),  # not allowed by the profile: falls back
    ("rgb24", "", "yuv420p"),       # not an x264 input format: falls back
    ("yuv420p10le", "", "yuv420p10le"),
])
def test_pix_fmt_rules(derived, outdir, pix_fmt, profile, expected):
    out = outdir / "o.mp4"
    args = ["--set", f"video.pix_fmt={pix_fmt}", "--set", f"video.profile={profile}"]
    run_gopcast("transcode", "-q", short(derived), "-o", out, "-t", "default-mkv", "--set", "container.format=mp4", *args, *FAST)
    assert video_of(out)["pix_fmt"] == expected


def test_empty_pix_fmt_keeps_a_422_source(derived, outdir):
    src = derived("other-422.mkv", ["-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv422p", "-an"], source=SRC)
    out = outdir / "o.mkv"
    run_gopcast("transcode", "-q", src, "-o", out, "--set", "video.pix_fmt=", *FAST)
    assert video_of(out)["pix_fmt"] == "yuv422p"


@pytest.fixture(scope="module")
def two_audio(tmp_path_factory):
    """bbb video with two audio streams: 0:a:0 the 5.1 AAC, 0:a:1 a 1 kHz mono tone."""
    p = tmp_path_factory.mktemp("streams") / "two-audio.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(media("bbb-480p-30s.mp4")), "-f", "lavfi", "-i",
                    "sine=frequency=1000:sample_rate=22050:duration=3", "-t", "3", "-map", "0:v", "-map", "0:a", "-map", "1:a",
                    "-c:v", "copy", "-c:a:0", "copy", "-c:a:1", "pcm_s16le", str(p)], check=True)
    return p


def test_audio_stream_selection(two_audio, outdir):
    run_gopcast("transcode", "-q", two_audio, "-o", outdir / "default.m4a")
    run_gopcast("transcode", "-q", two_audio, "-o", outdir / "second.m4a", "--audio-stream", "0:a:1")
    first, = streams_of(outdir / "default.m4a", "audio")
    second, = streams_of(outdir / "second.m4a", "audio")
    assert (first["channels"], int(first["sample_rate"])) == (2, 48000)  # the best: 5.1 downmixed
    assert (second["channels"], int(second["sample_rate"])) == (1, 22050)
    # The tone's energy sits at 1 kHz: its loudness differs from the film's soundtrack.
    def mean_volume(p):
        err = subprocess.run(["ffmpeg", "-i", str(p), "-af", "volumedetect", "-f", "null", "-"], capture_output=True, text=True).stderr
        return float(err.split("mean_volume:")[1].split("dB")[0])
    assert abs(mean_volume(outdir / "second.m4a") - mean_volume(outdir / "default.m4a")) > 3


def test_placeholders_in_output_names(tmp_path):
    src = tmp_path / "clip.one.mp4"
    src.write_bytes(media(SRC).read_bytes())
    proc = run_gopcast("transcode", "-q", src, "-o", "{dir}/{name}-from-{ext}.mp3", "--json")
    out = tmp_path / "clip.one-from-mp4.mp3"
    assert json.loads(proc.stdout)["outputs"][0]["path"] == str(out)
    assert streams_of(out, "audio")[0]["codec_name"] == "mp3"


def test_job_with_several_outputs_overrides_and_user_data(tmp_path, derived):
    src = short(derived)
    job = tmp_path / "job.toml"
    job.write_text(f'''
[input]
path = "{src}"

[[outputs]]
path = "out/{{name}}-small.mp4"
template = "android-mp4-360p"
user_data = "small one"
[outputs.override.video]
preset = "ultrafast"

[[outputs]]
path = "out/{{name}}-crf.mkv"
user_data = "{{\\"k\\": 1}}"
[outputs.override.video]
crf = 30
preset = "ultrafast"
width = 320
''')
    (tmp_path / "out").mkdir()
    result = json.loads(run_gopcast("run", job, "--json").stdout)
    small, crf = result["outputs"]
    assert small["user_data"] == "small one" and crf["user_data"] == '{"k": 1}'
    assert small["path"] == str(tmp_path / "out" / "other-2s-small.mp4")
    assert (video_of(small["path"])["height"], video_of(crf["path"])["width"]) == (360, 320)
    assert decoded_frames(small["path"]) == decoded_frames(crf["path"]) == decoded_frames(src)
    # The media info in the result is the output's, as ffprobe sees it.
    assert small["media_info"]["streams"][0]["height"] == 360


def test_job_errors_name_the_job_file_and_key(tmp_path, outdir):
    job = tmp_path / "bad.toml"
    job.write_text(f'[input]\npath = "{media(SRC)}"\n[[outputs]]\npath = "{outdir}/o.mp4"\n[outputs.override.video]\ncrf = 80\n')
    proc = run_gopcast("run", job, check=False)
    assert proc.returncode == 5
    assert f"{job}:6:7: video.crf" in proc.stderr
    assert list(outdir.iterdir()) == []


def test_set_overrides_every_output_of_a_job(tmp_path, derived):
    job = tmp_path / "job.toml"
    job.write_text(f'[input]\npath = "{short(derived)}"\n[[outputs]]\npath = "a.mp4"\n[[outputs]]\npath = "b.mp4"\n')
    run_gopcast("run", "-q", job, "--set", "video.width=320", *FAST)
    assert video_of(tmp_path / "a.mp4")["width"] == video_of(tmp_path / "b.mp4")["width"] == 320


def test_rotation_metadata_is_honoured(derived, outdir):
    """A phone video stored sideways comes out upright, with no rotation left in the metadata."""
    src = derived("rotated.mp4", ["-t", "1", "-c", "copy", "-metadata:s:v", "rotate=90"], source=SRC)
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", src, "-o", out, "--set", "video.qp=0", *FAST)
    v = video_of(out)
    assert (v["width"], v["height"]) == (480, 854)
    assert not any("rotation" in sd for sd in v.get("side_data_list", []))
    # The ffmpeg tool autorotates the source on decode: the pictures must match.
    assert psnr(src, out) > 40


def test_progress_on_a_terminal_and_quiet_otherwise(derived, outdir):
    src = short(derived)
    piped = run_gopcast("transcode", src, "-o", outdir / "a.mp4", *FAST)
    assert piped.stderr == ""
    cmd = f"{BIN} transcode {src} -o {outdir / 'b.mp4'} --set video.preset=ultrafast"
    tty = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, env={**os.environ, "TERM": "xterm"})
    assert tty.returncode == 0
    assert "%" in tty.stdout and "ETA" in tty.stdout and "x " in tty.stdout
    # The estimate to the precision it has, never to the millisecond.
    etas = re.findall(r"ETA ([^\r\n\x1b]*)", tty.stdout)
    assert etas and all(re.fullmatch(r"--|< 10 s|\d+ s|\d+ min|\d+ h \d\d min", e.strip()) for e in etas), etas
    quiet = subprocess.run(["script", "-qec", cmd.replace("b.mp4", "c.mp4") + " -q", "/dev/null"], capture_output=True, text=True,
                           env={**os.environ, "TERM": "xterm"})
    assert quiet.returncode == 0 and "ETA" not in quiet.stdout and "\r" not in quiet.stdout.replace("\r\n", ""), quiet.stdout


@pytest.mark.parametrize("template", ["android-mp4-360p", "default-mp4"])
def test_same_command_gives_identical_video(derived, outdir, template):
    """Bitrate (VBV) and quality modes are both byte-reproducible run to run."""
    for name in ("a.mp4", "b.mp4"):
        run_gopcast("transcode", "-q", short(derived), "-o", outdir / name, "-t", template, *FAST)
    assert frame_md5s(outdir / "a.mp4") == frame_md5s(outdir / "b.mp4")
    packets = [subprocess.run(["ffmpeg", "-v", "error", "-i", str(outdir / n), "-map", "0:v", "-c", "copy", "-f", "md5", "-"],
                              capture_output=True, text=True, check=True).stdout for n in ("a.mp4", "b.mp4")]
    assert packets[0] == packets[1]


def test_json_result(derived, outdir):
    out = outdir / "o.mp4"
    result = json.loads(run_gopcast("transcode", short(derived), "-o", out, "--json", *FAST).stdout)
    assert result["schema"] == "gopcast.result/1"
    o, = result["outputs"]
    assert o["path"] == str(out) and o["template"] == "default-mp4"
    assert o["video_frames"] == decoded_frames(out)
    assert abs(o["media_info"]["format"]["duration"] - float(ffprobe(out)["format"]["duration"])) < 0.01


def test_docs_list_every_template_key():
    """docs/templates.md has a row for every key of the schema (`gopcast templates keys`),
    in its group's section, and names no key the schema lacks."""
    import re
    from conftest import ROOT
    keys = json.loads(run_gopcast("templates", "keys", "--json").stdout)
    docs = (ROOT / "docs" / "templates.md").read_text()
    # Sections "## `[video]`" ... up to the next "## ".
    sections = {m.group(1): m.start() for m in re.finditer(r"^## `\[(\w+)\]`", docs, re.M)}
    def section(group):
        start = sections[group]
        nxt = [s for s in sections.values() if s > start]
        return docs[start:min(nxt) if nxt else len(docs)]
    head = docs[:min(sections.values())]
    for k in keys:
        group, _, name = k["key"].rpartition(".")
        where = head if group in ("", "container") else section(group)
        assert re.search(rf"`{name}`|^{name} =", where, re.M), f"docs/templates.md does not list {k['key']}"
    schema = {k["key"] for k in keys}
    for group in sections:
        for row in re.findall(r"^\| `(\w+)`(?:, `(\w+)`)?", section(group), re.M):
            for name in filter(None, row):
                assert f"{group}.{name}" in schema, f"docs/templates.md lists {group}.{name}, which is no key"
