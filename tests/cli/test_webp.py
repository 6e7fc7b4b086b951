"""Animated WebP: frame rate, size, loop count and final delay, read back from the RIFF
chunks themselves, and pixels through libwebp's own tools (webpmux extracts a frame,
dwebp decodes it): the ffmpeg tool cannot decode animated WebP.
"""
import struct
import subprocess

import pytest

from conftest import media, psnr, run_gopcast

BBB = "bbb-480p-30s.mp4"


def webp_chunks(path):
    """(canvas (w, h), loop count, frame durations in ms) from the file's chunks."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    off, canvas, loop, durations = 12, None, None, []
    while off + 8 <= len(data):
        kind, size = data[off:off + 4], struct.unpack("<I", data[off + 4:off + 8])[0]
        body = data[off + 8:off + 8 + size]
        if kind == b"VP8X":
            canvas = (1 + int.from_bytes(body[4:7], "little"), 1 + int.from_bytes(body[7:10], "little"))
        elif kind == b"ANIM":
            loop = struct.unpack("<H", body[4:6])[0]
        elif kind == b"ANMF":
            durations.append(int.from_bytes(body[12:15], "little"))
        off += 8 + size + (size & 1)
    return canvas, loop, durations


def test_an_animated_webp_of_a_clip(tmp_path):
    out = tmp_path / "a.webp"
    run_gopcast("transcode", media(BBB), "-o", out, "--start", 12, "--duration", 3, "--set", "video.width=200")
    canvas, loop, durations = webp_chunks(out)
    assert canvas == (200, 112)                     # 854x480 at 200 wide, even height
    assert loop == 0                                # forever
    assert sum(durations) == 3000 and all(d == 100 for d in durations)  # 10 fps, identical frames merged at most
    # The first frame is the input's frame at 12 s.
    subprocess.run(["webpmux", "-get", "frame", "1", str(out), "-o", str(tmp_path / "f1.webp")], check=True, capture_output=True)
    subprocess.run(["dwebp", str(tmp_path / "f1.webp"), "-o", str(tmp_path / "f1.png")], check=True, capture_output=True)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-ss", "12", "-i", str(media(BBB)), "-vf", "scale=200:112",
                    "-frames:v", "1", str(tmp_path / "ref.png")], check=True)
    assert psnr(tmp_path / "ref.png", tmp_path / "f1.png") > 26
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-ss", "13.5", "-i", str(media(BBB)), "-vf", "scale=200:112",
                    "-frames:v", "1", str(tmp_path / "other.png")], check=True)
    assert psnr(tmp_path / "other.png", tmp_path / "f1.png") < psnr(tmp_path / "ref.png", tmp_path / "f1.png") - 3


def test_webp_loop_count_frame_rate_and_final_delay(tmp_path):
    out = tmp_path / "b.webp"
    run_gopcast("transcode", media(BBB), "-o", out, "--start", 12, "--duration", 2, "--set", "video.width=160",
                "--set", "video.fps=5", "--set", "mux.gif_loop=2", "--set", "mux.gif_final_delay=150")
    _, loop, durations = webp_chunks(out)
    assert loop == 3                                # repeated twice = played three times
    assert durations[:-1] == [200] * (len(durations) - 1)
    # The last frame held 1.5 s longer, in whole frames of the output's rate (8 x 200 ms).
    assert durations[-1] == 200 + 1600
    assert sum(durations) == 2000 + 1600


def test_webp_needs_video(tmp_path):
    audio = tmp_path / "a.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(media(BBB)), "-t", "2", "-vn", "-c:a", "aac", str(audio)], check=True)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = run_gopcast("transcode", audio, "-o", out_dir / "x.webp", check=False)
    assert proc.returncode != 0 and "WebP" in proc.stderr.replace("webp", "WebP") and len(proc.stderr.strip().splitlines()) == 1
    assert list(out_dir.iterdir()) == []
