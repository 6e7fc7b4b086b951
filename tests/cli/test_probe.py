"""`gopcast probe` agrees with ffprobe on every file of the shared media.

The oracle is ffprobe's JSON (-show_format -show_streams). docs/probe-json.md maps
its fields: format.name = format_name, real_frame_rate = r_frame_rate, rates as
"num/den" (null when ffprobe says 0/0), unknown values null, and rotation = the
opposite of ffprobe's display-matrix "rotation", normalised to 0..359.

The JPEG poster is probed like ffprobe sees it: a one-picture image2 "video" (MJPEG,
full-range yuvj420p, no audio). gopcast takes MJPEG input, so refusing it would be
wrong, and reporting anything ffprobe does not would break the schema's promise.
"""
import json
import subprocess

import pytest

from conftest import MEDIA, ffprobe, media, run_gopcast

SHARED = sorted(p.name for p in MEDIA.iterdir() if p.suffix in (".mp4", ".webm", ".flv", ".wmv", ".jpg"))
EXPECTED = {"bbb-480p-30s.mp4", "me-other-480p.mp4", "me-echo-hereweare-vp8.webm", "me-grampa-vp6.flv",
            "me-xbox-wmv3.wmv", "me-echo-poster.jpg"}

SRT = "1\n00:00:00,500 --> 00:00:01,500\nHello\n\n2\n00:00:01,600 --> 00:00:01,900\nWorld\n\n"


def probe(path):
    proc = run_gopcast("probe", "--json", path)
    return json.loads(proc.stdout)


def rate(text):
    """ffprobe's "30000:1001"-style or "30000/1001" rate as gopcast writes it (None for 0/0)."""
    num, den = map(int, text.replace(":", "/").split("/"))
    return None if num == 0 or den == 0 else f"{num}/{den}"


def ratio(text):
    return None if text is None else text.replace(":", "/")


def rotation_of(ff_stream):
    for side in ff_stream.get("side_data_list", []):
        if "rotation" in side:
            return int(round(-float(side["rotation"]))) % 360
    return 0


def hms(seconds):
    ms = int(round(seconds * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def close(ours, theirs, tolerance):
    """None on both sides, or both numbers within `tolerance`."""
    if theirs is None:
        return ours is None
    return ours is not None and abs(ours - float(theirs)) <= tolerance


class Mismatches:
    """Collects every difference, so one failure lists them all."""

    def __init__(self, path):
        self.path, self.found = path, []

    def same(self, what, ours, theirs):
        if ours != theirs:
            self.found.append(f"{what}: gopcast {ours!r}, ffprobe {theirs!r}")

    def near(self, what, ours, theirs, tolerance):
        if not close(ours, theirs, tolerance):
            self.found.append(f"{what}: gopcast {ours!r}, ffprobe {theirs!r} (tolerance {tolerance})")

    def check(self):
        assert not self.found, f"{self.path.name} differs from ffprobe:\n  " + "\n  ".join(self.found)


def assert_matches_ffprobe(path):
    ours, theirs = probe(path), ffprobe(path)
    m = Mismatches(path)
    m.same("schema", ours["schema"], "gopcast.probe/1")
    m.same("path", ours["path"], str(path))
    f, tf = ours["format"], theirs["format"]
    m.same("format.name", f["name"], tf["format_name"])
    m.same("format.long_name", f["long_name"], tf.get("format_long_name", ""))
    m.same("format.size", f["size"], int(tf["size"]))
    m.same("format.size (file)", f["size"], path.stat().st_size)
    m.near("format.duration", f["duration"], tf.get("duration", 0), 0.05)
    m.near("format.start_time", f["start_time"], tf.get("start_time", 0), 0.001)
    m.same("format.bit_rate", f["bit_rate"], int(tf.get("bit_rate", 0)))
    m.same("format.tags", f["tags"], tf.get("tags", {}))
    m.same("number of streams", len(ours["streams"]), tf["nb_streams"])
    m.same("number of streams listed", len(ours["streams"]), len(theirs["streams"]))

    for s, t in zip(ours["streams"], theirs["streams"]):
        w = f"stream {t['index']}"
        tags, disposition = t.get("tags", {}), t.get("disposition", {})
        m.same(f"{w} index", s["index"], t["index"])
        m.same(f"{w} type", s["type"], t["codec_type"])
        m.same(f"{w} codec", s["codec"], t["codec_name"])
        m.same(f"{w} codec_long", s["codec_long"], t.get("codec_long_name", ""))
        m.same(f"{w} profile", s["profile"], t.get("profile"))
        level = t.get("level")
        m.same(f"{w} level", s["level"], level if level is not None and level > 0 else None)
        m.near(f"{w} start_time", s["start_time"], t.get("start_time"), 0.001)
        m.near(f"{w} duration", s["duration"], t.get("duration"), 0.001)
        m.same(f"{w} bit_rate", s["bit_rate"], int(t["bit_rate"]) if "bit_rate" in t else None)
        # frame_count only where the container states it (ffprobe's nb_frames).
        m.same(f"{w} frame_count", s["frame_count"], int(t["nb_frames"]) if "nb_frames" in t else None)
        m.same(f"{w} language", s["language"], tags.get("language"))
        m.same(f"{w} default", s["default"], bool(disposition.get("default")))
        m.same(f"{w} attached_picture", s["attached_picture"], bool(disposition.get("attached_pic")))
        if t["codec_type"] == "video":
            m.same(f"{w} size", (s["width"], s["height"]), (t["width"], t["height"]))
            m.same(f"{w} pix_fmt", s["pix_fmt"], t.get("pix_fmt"))
            m.same(f"{w} avg_frame_rate", s["avg_frame_rate"], rate(t["avg_frame_rate"]))
            m.same(f"{w} real_frame_rate", s["real_frame_rate"], rate(t["r_frame_rate"]))
            m.same(f"{w} sample_aspect_ratio", s["sample_aspect_ratio"], ratio(t.get("sample_aspect_ratio")))
            m.same(f"{w} display_aspect_ratio", s["display_aspect_ratio"], ratio(t.get("display_aspect_ratio")))
            m.same(f"{w} color", s["color"], {"range": t.get("color_range"), "space": t.get("color_space"),
                                              "transfer": t.get("color_transfer"), "primaries": t.get("color_primaries")})
            m.same(f"{w} rotation", s["rotation"], rotation_of(t))
        elif t["codec_type"] == "audio":
            m.same(f"{w} sample_rate", s["sample_rate"], int(t["sample_rate"]))
            m.same(f"{w} channels", s["channels"], t["channels"])
            m.same(f"{w} channel_layout", s["channel_layout"], t.get("channel_layout"))
            m.same(f"{w} sample_fmt", s["sample_fmt"], t.get("sample_fmt"))
    m.check()
    return ours


def test_the_shared_media_are_all_here():
    assert EXPECTED <= set(SHARED)


@pytest.mark.parametrize("name", SHARED)
def test_probe_matches_ffprobe(name):
    assert_matches_ffprobe(media(name))


def test_known_facts_of_the_shared_media():
    """What docs/probe-json.md and the media README state, independent of ffprobe."""
    bbb = probe(media("bbb-480p-30s.mp4"))
    v, a = bbb["streams"]
    assert bbb["format"]["name"] == "mov,mp4,m4a,3gp,3g2,mj2"
    assert abs(bbb["format"]["duration"] - 30.022) < 0.001
    assert (v["codec"], v["profile"], v["width"], v["height"]) == ("h264", "High", 854, 480)
    assert (v["avg_frame_rate"], v["frame_count"], v["rotation"]) == ("24/1", 720, 0)
    assert (a["codec"], a["sample_rate"], a["channels"], a["channel_layout"]) == ("aac", 48000, 6, "5.1")

    flv = probe(media("me-grampa-vp6.flv"))
    assert [s["type"] for s in flv["streams"]] == ["audio", "video"]
    assert flv["streams"][1]["codec"] == "vp6f"
    assert flv["streams"][1]["real_frame_rate"] == "1000/1"  # the 1 ms time base

    wmv = probe(media("me-xbox-wmv3.wmv"))
    assert wmv["format"]["name"] == "asf"
    assert wmv["streams"][1]["avg_frame_rate"] is None  # ffprobe: 0/0
    assert wmv["streams"][0]["channel_layout"] is None  # ffprobe gives none

    webm = probe(media("me-echo-hereweare-vp8.webm"))
    assert [s["language"] for s in webm["streams"]] == ["eng", "eng"]
    assert webm["streams"][0]["frame_count"] is None  # Matroska states no frame count


def test_the_jpeg_poster_is_one_still_picture():
    info = probe(media("me-echo-poster.jpg"))
    assert info["format"]["name"] == "image2"
    (s,) = info["streams"]
    assert (s["type"], s["codec"], s["width"], s["height"]) == ("video", "mjpeg", 640, 360)
    assert s["pix_fmt"] == "yuvj420p"
    assert s["color"]["range"] == "pc"  # JPEG is full range
    assert s["attached_picture"] is False
    assert abs(info["format"]["duration"] - 0.04) < 0.001  # one frame at image2's 25 fps
    out = run_gopcast("probe", media("me-echo-poster.jpg")).stdout
    assert "mjpeg" in out and "640x360" in out and "image2" in out


@pytest.fixture(scope="module")
def variants(derived, tmp_path_factory):
    """Containers the shared media lack, made by the ffmpeg tool."""
    srt = tmp_path_factory.mktemp("srt") / "subs.srt"
    srt.write_text(SRT)
    return {
        "multi.mkv": derived("probe-multi.mkv", [
            "-i", srt, "-t", "2", "-map", "0:v", "-map", "0:a", "-map", "0:a", "-map", "1", "-c", "copy", "-c:s", "srt",
            "-metadata:s:a:0", "language=fre", "-metadata:s:a:1", "language=ger", "-metadata:s:s:0", "language=eng",
            "-disposition:a:1", "0"]),
        "cut.ts": derived("probe-cut.ts", ["-t", "2", "-c", "copy", "-f", "mpegts"]),
        "audio.mp3": derived("probe-audio.mp3", ["-map", "0:a", "-c", "copy"], source="me-grampa-vp6.flv"),
        "cover.m4a": derived("probe-cover.m4a", [
            "-i", media("me-echo-poster.jpg"), "-t", "2", "-map", "0:a", "-map", "1", "-c", "copy",
            "-disposition:v:0", "attached_pic"]),
    }


@pytest.mark.parametrize("name", ["multi.mkv", "cut.ts", "audio.mp3", "cover.m4a"])
def test_probe_matches_ffprobe_on_derived_containers(variants, name):
    info = assert_matches_ffprobe(variants[name])
    if name == "multi.mkv":
        assert [s["type"] for s in info["streams"]] == ["video", "audio", "audio", "subtitle"]
        assert [s["language"] for s in info["streams"][1:]] == ["fre", "ger", "eng"]
        assert [s["default"] for s in info["streams"][1:3]] == [True, False]
    if name == "cut.ts":
        assert info["format"]["start_time"] > 1.0  # MPEG-TS starts at its own clock
    if name == "cover.m4a":
        assert info["streams"][1]["attached_picture"] is True


def test_human_table_names_codecs_sizes_and_durations():
    for name in SHARED:
        path = media(name)
        out = run_gopcast("probe", path).stdout
        theirs = ffprobe(path)
        assert theirs["format"]["format_name"] in out, name
        assert hms(float(theirs["format"]["duration"])) in out, name
        for t in theirs["streams"]:
            assert f"{t['codec_type']} {t['codec_name']}" in out, (name, t["codec_name"])
            if t["codec_type"] == "video":
                assert f"{t['width']}x{t['height']}" in out, name
            if t["codec_type"] == "audio":
                assert f"{t['sample_rate']} Hz, {t['channels']} ch" in out, name
    out = run_gopcast("probe", media("bbb-480p-30s.mp4")).stdout
    for text in ("00:00:30.022", "video h264 (High)", "854x480", "24 fps", "audio aac (LC)", "48000 Hz, 6 ch (5.1)",
                 "720 frames"):
        assert text in out, text


def test_missing_file_exits_3_with_one_line_naming_it():
    missing = MEDIA / "nope.mp4"
    proc = run_gopcast("probe", missing, check=False)
    assert proc.returncode == 3
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "nope.mp4" in lines[0]
    assert "InvalidParameter.ResourceNotFound" in lines[0]

    proc = run_gopcast("probe", "--json", missing, check=False)
    assert proc.returncode == 3
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "InvalidParameter.ResourceNotFound"
    assert error["exit_status"] == 3
    assert "nope.mp4" in error["message"]


@pytest.mark.parametrize("content", [b"", b"just some text, not media\n" * 20])
def test_files_that_are_not_media_exit_4(tmp_path, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    assert subprocess.run(["ffprobe", "-v", "error", str(bad)], capture_output=True).returncode != 0
    proc = run_gopcast("probe", bad, check=False)
    assert proc.returncode == 4, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.mp4" in lines[0] and "InvalidParameter.ResourceContentBad" in lines[0], proc.stderr


def test_json_has_the_documented_schema():
    info = probe(media("bbb-480p-30s.mp4"))
    assert info["schema"] == "gopcast.probe/1"
    assert set(info) == {"schema", "path", "format", "streams"}
    assert set(info["format"]) == {"name", "long_name", "duration", "start_time", "size", "bit_rate", "tags"}
    common = {"index", "type", "codec", "codec_long", "profile", "level", "start_time", "duration", "bit_rate",
              "frame_count", "language", "default", "attached_picture"}
    v, a = info["streams"]
    assert set(v) == common | {"width", "height", "sample_aspect_ratio", "display_aspect_ratio", "avg_frame_rate",
                               "real_frame_rate", "pix_fmt", "color", "rotation"}
    assert set(v["color"]) == {"range", "space", "transfer", "primaries"}
    assert set(a) == common | {"sample_rate", "channels", "channel_layout", "sample_fmt"}


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotation_agrees_with_the_display_matrix(tmp_path, angle):
    # Debian's ffmpeg 5.1 has no -display_rotation (FFmpeg 6); the MP4 muxer turns a
    # "rotate" stream tag into a display matrix.
    out = tmp_path / f"rot{angle}.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(media("me-other-480p.mp4")), "-t", "1", "-c", "copy",
                    "-metadata:s:v", f"rotate={angle}", str(out)], check=True)
    ours = [s for s in probe(out)["streams"] if s["type"] == "video"]
    theirs = [s for s in ffprobe(out)["streams"] if s["codec_type"] == "video"]
    assert len(ours) == len(theirs) == 1
    matrix = [d for d in theirs[0].get("side_data_list", []) if "rotation" in d]
    assert len(matrix) == 1, "ffmpeg wrote no display matrix"
    # ffprobe gives the matrix's counter-clockwise angle; gopcast the clockwise turn that
    # displays the picture upright.
    assert ours[0]["rotation"] == int(round(-float(matrix[0]["rotation"]))) % 360
    assert ours[0]["rotation"] in (90, 180, 270)
    assert (ours[0]["width"], ours[0]["height"]) == (854, 480)  # stored size, not turned
    assert_matches_ffprobe(out)


def test_unrotated_video_has_rotation_0():
    for name in ("bbb-480p-30s.mp4", "me-other-480p.mp4"):
        (v,) = [s for s in probe(media(name))["streams"] if s["type"] == "video"]
        assert v["rotation"] == 0
