"""`gopcast probe` agrees with ffprobe on every file of the shared media."""
import json
import subprocess

import pytest

from conftest import MEDIA, ffprobe, media, run_gopcast

FILES = ["bbb-480p-30s.mp4", "me-other-480p.mp4", "me-echo-hereweare-vp8.webm", "me-grampa-vp6.flv", "me-xbox-wmv3.wmv",
         "me-echo-poster.jpg"]


def probe(path):
    return json.loads(run_gopcast("probe", "--json", path).stdout)


def rate(text):
    num, den = map(int, text.split("/"))
    return None if num == 0 or den == 0 else f"{num}/{den}"


@pytest.mark.parametrize("name", FILES)
def test_probe_matches_ffprobe(name):
    ours, theirs = probe(media(name)), ffprobe(media(name))
    assert ours["schema"] == "gopcast.probe/1"
    f, tf = ours["format"], theirs["format"]
    assert f["name"] == tf["format_name"]
    assert f["size"] == int(tf["size"]) == media(name).stat().st_size
    if "duration" in tf:
        assert abs(f["duration"] - float(tf["duration"])) < 0.05
    assert abs(f["start_time"] - float(tf.get("start_time", 0))) < 0.001
    if "bit_rate" in tf:
        assert f["bit_rate"] == int(tf["bit_rate"])
    assert len(ours["streams"]) == len(theirs["streams"])
    for s, t in zip(ours["streams"], theirs["streams"]):
        assert (s["index"], s["type"], s["codec"]) == (t["index"], t["codec_type"], t["codec_name"])
        if "profile" in t and t["profile"] != "unknown":
            assert s["profile"] == t["profile"]
        if "bit_rate" in t:
            assert s["bit_rate"] == int(t["bit_rate"])
        if "nb_frames" in t:
            assert s["frame_count"] == int(t["nb_frames"])
        assert s["language"] == t.get("tags", {}).get("language")
        if t["codec_type"] == "video":
            assert (s["width"], s["height"], s["pix_fmt"]) == (t["width"], t["height"], t["pix_fmt"])
            assert s["avg_frame_rate"] == rate(t["avg_frame_rate"])
            assert s["real_frame_rate"] == rate(t["r_frame_rate"])
            if "sample_aspect_ratio" in t:
                assert s["sample_aspect_ratio"] == t["sample_aspect_ratio"].replace(":", "/")
                assert s["display_aspect_ratio"] == t["display_aspect_ratio"].replace(":", "/")
            if "level" in t and t["level"] > 0:
                assert s["level"] == t["level"]
        if t["codec_type"] == "audio":
            assert (s["sample_rate"], s["channels"]) == (int(t["sample_rate"]), t["channels"])
            if t.get("channel_layout"):
                assert s["channel_layout"] == t["channel_layout"]


def test_human_table():
    out = run_gopcast("probe", media("bbb-480p-30s.mp4")).stdout
    for text in ("mov,mp4,m4a,3gp,3g2,mj2", "00:00:30.022", "video h264 (High)", "854x480", "24 fps", "audio aac (LC)",
                 "48000 Hz, 6 ch (5.1)", "720 frames"):
        assert text in out, text


def test_probe_missing_file():
    proc = run_gopcast("probe", MEDIA / "nope.mp4", check=False)
    assert proc.returncode == 3
    assert proc.stderr.strip().count("\n") == 0 and "nope.mp4" in proc.stderr


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotation_agrees_with_the_display_matrix(tmp_path, angle):
    out = tmp_path / f"rot{angle}.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(media("me-other-480p.mp4")), "-t", "1", "-c", "copy",
                    "-metadata:s:v", f"rotate={angle}", str(out)], check=True)
    ours, = [s for s in probe(out)["streams"] if s["type"] == "video"]
    theirs, = [s for s in ffprobe(out)["streams"] if s["codec_type"] == "video"]
    matrix, = [d for d in theirs["side_data_list"] if "rotation" in d]
    # ffprobe gives the matrix's counter-clockwise angle; gopcast the clockwise turn the ffmpeg
    # tool's autorotation applies to display it upright.
    assert ours["rotation"] == (-matrix["rotation"]) % 360
    assert ours["rotation"] in (90, 180, 270)
