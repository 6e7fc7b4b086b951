"""gopcast.snapshot: in-memory RGB frames, compared with what the ffmpeg tool decodes at
the same time (`ffmpeg -ss T -i FILE -frames:v 1 -f rawvideo -pix_fmt rgb24 -`)."""
import json
import subprocess

import numpy as np
import pytest

import gopcast
from conftest import BIN, media


def ffmpeg_frame(path, t, width, height, scale=None):
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-ss", str(t), "-i", str(path), "-frames:v", "1"]
    if scale:
        cmd += ["-vf", f"scale={scale}"]
    raw = subprocess.run(cmd + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


# bbb's keyframes are at 0, 10.4, 11.9, 15.75 and 23.0 s: most of these are deep inside a GOP.
@pytest.mark.parametrize("name, times", [
    ("bbb-480p-30s.mp4", [0.0, 2.51, 9.99, 11.9, 14.2, 22.5, 29.9]),
    ("me-echo-hereweare-vp8.webm", [1.0, 30.3]),
    ("me-xbox-wmv3.wmv", [47.0]),
])
def test_frames_are_the_ffmpeg_tools(name, times):
    path = media(name)
    info = gopcast.probe(path)
    video = next(s for s in info["streams"] if s["type"] == "video")
    frames = gopcast.snapshot(path, times)
    assert isinstance(frames, list) and len(frames) == len(times)
    for t, frame in zip(times, frames):
        assert frame.shape == (video["height"], video["width"], 3) and frame.dtype == np.uint8
        expected = ffmpeg_frame(path, t, video["width"], video["height"])
        # The same frame through the same conversion: identical, not merely close (a
        # neighbouring frame would still score 30-45 dB).
        assert np.array_equal(frame, expected), (name, t, psnr(frame, expected))


def test_one_time_one_picture_and_its_time():
    path = media("bbb-480p-30s.mp4")
    frame, shown = gopcast.snapshot(path, 14.2, return_times=True)
    assert frame.shape == (480, 854, 3)
    assert 14.2 <= shown < 14.2 + 1 / 24  # the first frame at or after the time
    frames, times = gopcast.snapshot(path, [20.0, 14.2], return_times=True)
    assert np.array_equal(frames[1], frame) and times[1] == shown and times[0] >= 20.0
    assert not np.array_equal(frames[0], frame)


def test_width_only_keeps_the_aspect_ratio():
    path = media("bbb-480p-30s.mp4")
    small = gopcast.snapshot(path, 12.0, width=320)
    assert small.shape == (180, 320, 3)  # 320 * 480 / 854 = 179.9
    expected = ffmpeg_frame(path, 12.0, 320, 180, scale="320:180")
    assert psnr(small, expected) > 40
    assert gopcast.snapshot(path, 12.0, height=100).shape == (100, 178, 3)
    assert gopcast.snapshot(path, 12.0, width=64, height=64).shape == (64, 64, 3)


def test_bad_times_and_sizes_are_value_errors():
    path = media("bbb-480p-30s.mp4")
    for bad in (-0.5, 30.5, float("nan")):
        with pytest.raises(ValueError) as caught:
            gopcast.snapshot(path, [1.0, bad])
        assert isinstance(caught.value, gopcast.OutOfRange) and "bbb-480p-30s.mp4" in str(caught.value)
    with pytest.raises(gopcast.OutOfRange, match="width"):
        gopcast.snapshot(path, 1.0, width=0)
    with pytest.raises(FileNotFoundError):
        gopcast.snapshot(path.parent / "nope.mp4", 1.0)


def test_rotated_video_comes_out_upright_as_ffmpeg_turns_it(derived):
    # A phone-style file: the picture stored sideways with a display matrix saying so.
    rotated = derived("py-rotated.mp4", ["-t", "2", "-c", "copy", "-metadata:s:v:0", "rotate=90"], source="me-other-480p.mp4")
    stream = gopcast.probe(rotated)["streams"][0]
    assert (stream["width"], stream["height"]) == (854, 480) and stream["rotation"] in (90, 270)
    frame = gopcast.snapshot(rotated, 1.0)
    assert frame.shape == (854, 480, 3)
    assert np.array_equal(frame, ffmpeg_frame(rotated, 1.0, 480, 854))
    assert gopcast.snapshot(rotated, 1.0, width=120).shape == (214, 120, 3)


def test_cover_is_the_commands_pick_and_the_frame_at_its_time(tmp_path):
    picture, info = gopcast.cover(media("bbb-480p-30s.mp4"), candidates=12, width=320)
    assert picture.shape == (180, 320, 3) and picture.dtype == np.uint8
    assert len(info["candidates"]) >= 6
    best = max(c["score"]["total"] for c in info["candidates"])
    assert info["score"]["total"] == best and 0 < best <= 1
    # The same pick as the command line's.
    out = tmp_path / "cover.jpg"
    cli = json.loads(subprocess.run([str(BIN), "cover", str(media("bbb-480p-30s.mp4")), "-o", str(out), "--candidates", "12",
                                     "--json"], capture_output=True, text=True, check=True).stdout)
    assert abs(cli["time"] - info["time"]) < 1e-6
    assert info["score"] == cli["score"] and "measures" in info["score"]  # the same dict as --json
    # The picture is the ffmpeg tool's frame at that time.
    assert psnr(picture, ffmpeg_frame(media("bbb-480p-30s.mp4"), info["time"], 320, 180, scale="320:180")) > 35
    with pytest.raises(gopcast.OutOfRange, match="candidates"):
        gopcast.cover(media("bbb-480p-30s.mp4"), candidates=0)
