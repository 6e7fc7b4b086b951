"""Rotation: a video stored sideways (display-matrix metadata, as phones write it)
comes out upright, and `video.rotate` turns the picture 90, 180 or 270 degrees
clockwise after that. The oracle is the ffmpeg tool: its own autorotation and its
transpose/flip filters, compared frame by frame on lossless encodes.
"""
import subprocess

import pytest

from conftest import media, run_gopcast, streams_of

BBB = "bbb-480p-30s.mp4"
LOSSLESS = ["--set", "video.qp=0", "--set", "video.preset=ultrafast", "--set", "audio.remove=true"]
TURN = {90: "transpose=clock", 180: "hflip,vflip", 270: "transpose=cclock"}


def md5s(path, vf=None, noautorotate=False):
    cmd = ["ffmpeg", "-v", "error", "-nostdin"] + (["-noautorotate"] if noautorotate else []) + ["-i", str(path), "-map", "0:v"]
    if vf:
        cmd += ["-vf", vf]
    cmd += ["-pix_fmt", "yuv420p", "-fps_mode", "passthrough", "-f", "framemd5", "-"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split(",")[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def sideways(tmp_path_factory):
    """Two seconds of the BBB clip stored as a phone stores portrait video: the pixels
    as they are, and a display matrix saying "turn me" (ffprobe: rotation 90)."""
    path = tmp_path_factory.mktemp("rot") / "sideways.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-t", "2", "-i", str(media(BBB)), "-c", "copy",
                    "-metadata:s:v:0", "rotate=90", str(path)], check=True)
    return path


def size(path):
    v = streams_of(path, "video")[0]
    return v["width"], v["height"]


def test_a_sideways_video_comes_out_upright(tmp_path, sideways):
    out = tmp_path / "upright.mp4"
    run_gopcast("transcode", sideways, "-o", out, *LOSSLESS, "-n", 2, "--segment-seconds", 1)
    assert size(out) == (480, 854)
    got = md5s(out)
    assert len(got) >= 48 and got == md5s(sideways)  # the ffmpeg tool's autorotated picture
    assert got != md5s(sideways, noautorotate=True, vf="scale=480:854")
    # Upright pixels carry no rotation of their own any more.
    assert not any("rotation" in str(sd) for sd in streams_of(out, "video")[0].get("side_data_list", []))


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotate_turns_the_picture_clockwise(tmp_path, degrees):
    out = tmp_path / f"r{degrees}.mp4"
    run_gopcast("transcode", media(BBB), "-o", out, "--duration", 2, *LOSSLESS, "--set", f"video.rotate={degrees}")
    assert size(out) == ((854, 480) if degrees == 180 else (480, 854))
    reference = md5s(media(BBB), vf=f"trim=duration=2,{TURN[degrees]}")
    assert md5s(out) == reference


def test_rotate_adds_to_the_metadata_rotation(tmp_path, sideways):
    out = tmp_path / "both.mp4"
    run_gopcast("transcode", sideways, "-o", out, *LOSSLESS, "--set", "video.rotate=180")
    assert size(out) == (480, 854)
    assert md5s(out) == md5s(sideways, vf="hflip,vflip")  # after the tool's autorotation


def test_sizes_apply_to_the_turned_picture(tmp_path):
    out = tmp_path / "small.mp4"
    run_gopcast("transcode", media(BBB), "-o", out, "--duration", 1, "--set", "video.rotate=90", "--set", "video.width=240",
                "--set", "video.preset=ultrafast")
    w, h = size(out)
    assert w == 240 and abs(h - 240 * 854 / 480) <= 2


@pytest.mark.parametrize("value", ["45", "360", "-90"])
def test_a_rotation_that_is_not_a_quarter_turn_is_refused(tmp_path, value):
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "x.mp4", "--set", f"video.rotate={value}", check=False)
    assert proc.returncode == 5 and "video.rotate" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert list(tmp_path.iterdir()) == []
