"""HLS delivery: AES-128 encryption (keys, IVs, rotation) and the live-growing EVENT
playlist. The oracles are the openssl and ffmpeg/ffprobe tools: every segment is
decrypted with `openssl enc -d` and compared with the same job's unencrypted segment,
and the playlists are decoded by ffmpeg.
"""
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, media, run_gopcast, streams_of

BBB = "bbb-480p-30s.mp4"  # 854x480 24 fps, 720 frames
FAST = ["--set", "video.preset=ultrafast"]
KEY_RE = re.compile(r'#EXT-X-KEY:METHOD=AES-128,URI="([^"]+)",IV=0x([0-9a-f]{32})')


def hls_frames(playlist):
    """Frames ffprobe decodes from a playlist (keys allowed, as a player would fetch them)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-allowed_extensions", "ALL", "-select_streams", "v:0", "-count_frames",
                          "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(playlist)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0].split(",")[0])


def hls_decode_errors(playlist):
    proc = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-allowed_extensions", "ALL", "-i", str(playlist),
                           "-f", "null", "-"], capture_output=True, text=True)
    return proc.stderr.strip()


def entries(playlist):
    """(segment, key uri, iv) per segment of a media playlist, in order."""
    key, iv, out = None, None, []
    for line in playlist.read_text().splitlines():
        m = KEY_RE.match(line)
        if m:
            key, iv = m.group(1), m.group(2)
        elif line and not line.startswith("#"):
            out.append((line, key, iv))
    return out


def decrypt(segment, key_file, iv, dest):
    subprocess.run(["openssl", "enc", "-d", "-aes-128-cbc", "-K", key_file.read_bytes().hex(), "-iv", iv,
                    "-in", str(segment), "-out", str(dest)], check=True)
    return dest.read_bytes()


def test_encrypted_segments_decrypt_to_the_plain_job(tmp_path):
    plain_dir, enc_dir = tmp_path / "plain", tmp_path / "enc"
    plain_dir.mkdir()
    enc_dir.mkdir()
    run_gopcast("transcode", media(BBB), "-o", plain_dir / "v.m3u8", *FAST, "--json")
    run_gopcast("transcode", media(BBB), "-o", enc_dir / "v.m3u8", *FAST, "--set", "hls.encryption=aes-128",
                "--set", "hls.key_rotation=2", "--json")
    plain = entries(plain_dir / "v.m3u8")
    enc = entries(enc_dir / "v.m3u8")
    assert [s for s, _, _ in enc] == [s for s, _, _ in plain] and len(enc) == 5
    assert all(k is None for _, k, _ in plain)
    # A key per two segments, a fresh IV per segment.
    assert [k for _, k, _ in enc] == ["v-0.key", "v-0.key", "v-1.key", "v-1.key", "v-2.key"]
    assert len({iv for _, _, iv in enc}) == 5
    keys = sorted(enc_dir.glob("*.key"))
    assert [k.name for k in keys] == ["v-0.key", "v-1.key", "v-2.key"]
    assert len({k.read_bytes() for k in keys}) == 3 and all(len(k.read_bytes()) == 16 for k in keys)
    assert all(stat.S_IMODE(k.stat().st_mode) == 0o600 for k in keys)
    for segment, key, iv in enc:
        assert (enc_dir / segment).read_bytes() != (plain_dir / segment).read_bytes()
        assert decrypt(enc_dir / segment, enc_dir / key, iv, tmp_path / "dec.ts") == (plain_dir / segment).read_bytes()
    # The encrypted stream plays in the ffmpeg tool given the keys.
    assert hls_frames(enc_dir / "v.m3u8") == 720
    assert hls_decode_errors(enc_dir / "v.m3u8") == ""


def test_a_given_key_and_a_key_folder_and_uri_template(tmp_path):
    out, keys = tmp_path / "out", tmp_path / "keys"
    out.mkdir()
    keys.mkdir()
    key = "000102030405060708090a0b0c0d0e0f"
    run_gopcast("transcode", media(BBB), "-o", out / "v.m3u8", *FAST, "--set", "hls.encryption=aes-128",
                "--set", f"hls.key={key}", "--set", f"hls.key_dir={keys}",
                "--set", "hls.key_uri=https://keys.example.org/vod/{index}/{key}")
    assert sorted(p.name for p in keys.iterdir()) == ["v-0.key"]
    assert (keys / "v-0.key").read_bytes().hex() == key
    assert stat.S_IMODE((keys / "v-0.key").stat().st_mode) == 0o600
    assert not list(out.glob("*.key"))  # away from the media
    enc = entries(out / "v.m3u8")
    assert {k for _, k, _ in enc} == {"https://keys.example.org/vod/0/v-0.key"}
    for segment, _, iv in enc:  # the given key opens every segment
        data = decrypt(out / segment, keys / "v-0.key", iv, tmp_path / "dec.ts")
        assert data[0] == 0x47  # an MPEG-TS sync byte


@pytest.mark.parametrize("sets, status, needle", [
    (["hls.encryption=aes-256"], 5, "hls.encryption"),
    (["hls.encryption=aes-128", "hls.key=abc"], 5, "hls.key"),
    (["hls.encryption=aes-128", "hls.key=000102030405060708090a0b0c0d0e0f", "hls.key_rotation=2"], 10, "hls.key_rotation"),
    (["hls.encryption=aes-128", "hls.key_uri=a\"b"], 5, "hls.key_uri"),
    (["hls.encryption=aes-128", "hls.key_dir=/nonexistent/keys"], 12, "key_dir"),
])
def test_bad_hls_settings_are_one_clear_error(tmp_path, sets, status, needle):
    args = [x for s in sets for x in ("--set", s)]
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "v.m3u8", *FAST, *args, check=False)
    assert proc.returncode == status, proc.stderr
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_encryption_needs_an_hls_output_with_video(tmp_path):
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "v.mp4", "--set", "hls.encryption=aes-128", check=False)
    assert proc.returncode == 10 and "m3u8" in proc.stderr
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "v.m3u8", "-t", "remux-m3u8",
                       "--set", "hls.encryption=aes-128", check=False)
    assert proc.returncode == 10 and "re-encoded video" in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def long_input(tmp_path_factory):
    """A minute of small video (the BBB clip twice at 320x180), long enough to watch a playlist grow."""
    path = tmp_path_factory.mktemp("live") / "minute.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-stream_loop", "1", "-i", str(media(BBB)), "-vf", "scale=320:180",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(path)], check=True)
    return path


def hls_frames_of(text, folder):
    """Frames of a playlist as it was read at one moment: a copy, since the live one moves on,
    ended there, since ffprobe would otherwise wait for the live playlist to grow."""
    snapshot = folder / ".snapshot.m3u8"
    snapshot.write_text(text + "#EXT-X-ENDLIST\n")
    try:
        return hls_frames(snapshot)
    finally:
        snapshot.unlink()


def test_live_playlist_grows_while_the_job_runs(tmp_path, long_input):
    out = tmp_path / "live.m3u8"
    # A slower preset on one worker: the job takes long enough to watch it.
    proc = subprocess.Popen([str(BIN), "transcode", str(long_input), "-o", str(out), "--set", "video.preset=medium", "-n", "1",
                             "--segment-seconds", "4", "--set", "mux.hls_segment_seconds=2", "--set", "hls.playlist=event",
                             "--set", "hls.encryption=aes-128", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = None
    try:
        deadline = time.time() + 120
        while proc.poll() is None and time.time() < deadline:
            if out.exists():
                text = out.read_text()
                segs = [line for line in text.splitlines() if line and not line.startswith("#")]
                if len(segs) >= 2 and "#EXT-X-ENDLIST" not in text:
                    running = proc.poll() is None
                    seen = (text, segs)
                    # Playable now: every listed segment is there and decodes (keys included).
                    frames = hls_frames_of(text, tmp_path)
                    break
            time.sleep(0.05)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert seen is not None, "the playlist never showed up before the job ended"
    text, segs = seen
    assert running, "the job had ended when the growing playlist was read"
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text
    assert all((tmp_path / s).exists() for s in segs)
    assert frames == 48 * len(segs)  # whole 2 s segments at 24 fps
    final = out.read_text()
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in final and final.rstrip().endswith("#EXT-X-ENDLIST")
    assert final.startswith(text.split("#EXTINF")[0])  # the header never changed while it grew
    assert hls_frames(out) == 1440 and hls_decode_errors(out) == ""


def test_live_playlist_of_a_cancelled_job_leaves_nothing(tmp_path, long_input):
    out = tmp_path / "live.m3u8"
    proc = subprocess.Popen([str(BIN), "transcode", str(long_input), "-o", str(out), *FAST, "-n", "1",
                             "--segment-seconds", "4", "--set", "mux.hls_segment_seconds=2", "--set", "hls.playlist=event",
                             "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not out.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert out.exists(), "no live playlist appeared"
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    left = [p.name for p in tmp_path.iterdir() if not p.name.endswith(".manifest.h5") and not p.name.endswith(".gopcast-work")]
    assert left == [], left


# --- bitrate ladders -----------------------------------------------------------------

def master_variants(master):
    """(attributes dict, uri) per EXT-X-STREAM-INF of a master playlist."""
    lines = master.read_text().splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1]))
            out.append(({k: v.strip('"') for k, v in attrs.items()}, lines[i + 1]))
    return out


def segment_starts(playlist):
    """Presentation time of the first video frame of every segment of a media playlist."""
    starts = []
    for seg, _, _ in entries(playlist):
        out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
                              "-show_entries", "frame=pts_time,key_frame", "-of", "csv=p=0", str(playlist.parent / seg)],
                             capture_output=True, text=True, check=True).stdout.split()[0].split(",")
        starts.append((round(float(out[1]), 3), out[0]))
    return starts


def test_ladder_renditions_are_aligned_and_the_master_is_right(tmp_path):
    out = tmp_path / "film.m3u8"
    proc = run_gopcast("transcode", media(BBB), "-o", out, "--ladder", "hls-1080p", *FAST, "--json")
    result = __import__("json").loads(proc.stdout)
    # Conditional transcoding: a 480p source gets no 720p or 1080p rendition.
    assert [Path(o["path"]).name for o in result["outputs"]] == ["film_480p.m3u8", "film_360p.m3u8", "film.m3u8"]
    variants = master_variants(out)
    assert [uri for _, uri in variants] == ["film_480p.m3u8", "film_360p.m3u8"]
    for attrs, uri in variants:
        rendition = tmp_path / uri
        video = streams_of(sorted(tmp_path.glob(rendition.stem + "_*.ts"))[0], "video")[0]
        assert attrs["RESOLUTION"] == f"{video['width']}x{video['height']}"
        assert attrs["FRAME-RATE"] == "24.000"
        profile = {"Main": "4d", "High": "64", "Constrained Baseline": "42"}[video["profile"]]
        assert attrs["CODECS"].split(",")[0].startswith(f"avc1.{profile}")
        assert attrs["CODECS"].split(",")[0].endswith(f"{video['level']:02x}")
        assert attrs["CODECS"].split(",")[1] == "mp4a.40.2"
        # BANDWIDTH is the peak segment rate, AVERAGE-BANDWIDTH the mean, both from the files.
        segs = entries(rendition)
        durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", rendition.read_text())]
        sizes = [(tmp_path / s).stat().st_size for s, _, _ in segs]
        peak = max(b * 8 / d for b, d in zip(sizes, durations))
        mean = sum(sizes) * 8 / sum(durations)
        assert abs(int(attrs["BANDWIDTH"]) - peak) <= 1 and abs(int(attrs["AVERAGE-BANDWIDTH"]) - mean) <= 1
        assert hls_frames(rendition) == 720 and hls_decode_errors(rendition) == ""
    # Every rendition cuts at the same times, each segment starting with a keyframe.
    starts = [segment_starts(tmp_path / uri) for _, uri in variants]
    assert starts[0] == starts[1] and all(key == "1" for _, key in starts[0]) and len(starts[0]) == 5
    assert hls_frames(out) == 720  # ffmpeg plays the master (its first variant)


def test_a_ladder_is_decoded_once_per_segment(tmp_path):
    """Both renditions of a segment come from one task (one decode), as the manifest shows:
    one row per segment, not one per rendition."""
    import h5py
    out = tmp_path / "film.m3u8"
    run_gopcast("transcode", media(BBB), "-o", out, "--ladder", "hls-1080p", *FAST, "--segment-seconds", "12")
    with h5py.File(tmp_path / "film_480p.m3u8.manifest.h5", "r", locking=False) as m:
        rows = len(m["segments"]["index"])
    assert rows == 3  # 30 s in 12 s segments (on the 6 s grid), for two renditions


def test_ladder_errors(tmp_path):
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "film.m3u8", "--ladder", "nope", check=False)
    assert proc.returncode == 6 and "nope" in proc.stderr
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "film.mp4", "--ladder", "hls-1080p", check=False)
    assert proc.returncode == 10 and "m3u8" in proc.stderr
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "film.m3u8", "--ladder", "hls-1080p", "-t", "ios-hls-360p",
                       check=False)
    assert proc.returncode == 2
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "film.m3u8", "--ladder", "hls-1080p",
                       "--set", "hls.playlist=event", check=False)
    assert proc.returncode == 10 and "event" in proc.stderr
    assert list(tmp_path.iterdir()) == []
