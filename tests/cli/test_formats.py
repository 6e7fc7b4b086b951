"""Every input container/codec of the product sheet, and every output kind, checked by
the ffmpeg tools: decodes cleanly, right codecs/sizes/rates/channels, every frame kept,
durations within one frame, audio and video still in sync."""
import json
import struct
import subprocess

import pytest

from conftest import (decode_errors, decoded_frames, ffprobe, frame_md5s, media, run_gopcast, stream_duration, stream_end,
                      streams_of)

FAST = ["--set", "video.preset=ultrafast"]
BBB, OTHER = "bbb-480p-30s.mp4", "me-other-480p.mp4"

# name -> (ffmpeg arguments deriving it, source)
INPUTS = {
    "h263-aac.3gp": (["-t", "4", "-c:v", "h263", "-s", "352x288", "-c:a", "aac", "-ar", "16000", "-ac", "1"], OTHER),
    "mpeg4-mp3.avi": (["-t", "4", "-c:v", "mpeg4", "-q:v", "4", "-c:a", "libmp3lame"], OTHER),
    "msmpeg4-adpcm.avi": (["-t", "4", "-c:v", "msmpeg4", "-q:v", "4", "-c:a", "adpcm_ima_wav"], OTHER),
    "h264-aac.flv": (["-t", "4", "-c", "copy"], BBB),
    "mpeg1-mp2.mpg": (["-t", "4", "-c:v", "mpeg1video", "-q:v", "4", "-c:a", "mp2", "-f", "mpeg"], OTHER),
    "mpeg2-ac3.ts": (["-t", "4", "-c:v", "mpeg2video", "-q:v", "4", "-c:a", "ac3"], BBB),
    "h264-ac3.ts": (["-t", "4", "-c:v", "copy", "-c:a", "ac3"], BBB),
    "wmv2-wmav2.wmv": (["-t", "4", "-c:v", "wmv2", "-q:v", "4", "-c:a", "wmav2"], OTHER),
    "vp9-opus.mkv": (["-t", "3", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k",
                      "-c:a", "libopus"], OTHER),
    "mjpeg-pcm.mov": (["-t", "3", "-c:v", "mjpeg", "-q:v", "4", "-c:a", "pcm_s16le"], OTHER),
    "h264-wma.asf": (["-t", "4", "-c:v", "copy", "-c:a", "wmav2"], OTHER),
}
SHARED = ["bbb-480p-30s.mp4", "me-other-480p.mp4", "me-echo-hereweare-vp8.webm", "me-grampa-vp6.flv", "me-xbox-wmv3.wmv"]


def end_offset(path):
    """Audio end minus video end (seconds), from decoded frames: the A/V relation."""
    return stream_end(path, "a:0") - stream_end(path, "v:0")


def check_transcode(src, out):
    assert decode_errors(out) == ""
    sv, = [s for s in streams_of(src, "video") if s.get("disposition", {}).get("attached_pic", 0) == 0]
    ov, = streams_of(out, "video")
    oa, = streams_of(out, "audio")
    assert (ov["codec_name"], oa["codec_name"]) == ("h264", "aac")
    assert (ov["width"], ov["height"]) == (sv["width"] // 2 * 2, sv["height"] // 2 * 2)
    # No fps set: every source frame is encoded exactly once.
    assert decoded_frames(out) == decoded_frames(src)
    frame = 1 / eval(sv["avg_frame_rate"]) if sv["avg_frame_rate"] != "0/0" else 0.1
    assert abs(stream_duration(out, "v:0") - stream_duration(src, "v:0")) <= frame + 1e-3
    # A/V sync: the audio ends where it ended relative to the video, within 50 ms + one AAC frame.
    sa = streams_of(src, "audio")[0]
    aac_frame = 1024 / int(oa["sample_rate"])
    assert abs(end_offset(out) - end_offset(src)) <= 0.05 + aac_frame, (end_offset(out), end_offset(src), sa["codec_name"])


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_derived_inputs(derived, outdir, name):
    args, source = INPUTS[name]
    src = derived(name, args, source=source)
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", src, "-o", out, *FAST)
    check_transcode(src, out)


@pytest.mark.parametrize("name", SHARED)
def test_shared_media_inputs(outdir, name):
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", media(name), "-o", out, *FAST)
    check_transcode(media(name), out)


def test_local_m3u8_playlist_input(tmp_path, outdir):
    playlist = tmp_path / "in.m3u8"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(media(OTHER)), "-t", "6", "-c", "copy", "-f", "hls",
                    "-hls_time", "2", "-hls_playlist_type", "vod", str(playlist)], check=True)
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", playlist, "-o", out, *FAST)
    assert decode_errors(out) == ""
    assert decoded_frames(out) == decoded_frames(playlist)
    assert abs(stream_duration(out, "v:0") - stream_duration(playlist, "v:0")) <= 1 / 30 + 1e-3


def top_level_boxes(path):
    boxes, data, pos = [], path.read_bytes(), 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        boxes.append(kind.decode())
        if size == 0:
            break
        pos += size
    return boxes


# output name -> (extra args, video codec or None, audio codec or None)
OUTPUTS = {
    "o.mp4": ([], "h264", "aac"),
    "o.mov": ([], "h264", "aac"),
    "o.mkv": ([], "h264", "aac"),
    "o.flv": ([], "h264", "aac"),
    "o.ts": ([], "h264", "aac"),
    "h265.mp4": (["-t", "android-mp4-720p-h265"], "hevc", "aac"),
    "mp3-in.mp4": (["--set", "audio.codec=mp3"], "h264", "mp3"),
    "o.mp3": ([], None, "mp3"),
    "o.m4a": ([], None, "aac"),
    "o.ogg": ([], None, "vorbis"),
    "flac.ogg": (["-t", "audio-ogg-flac"], None, "flac"),
    "o.flac": ([], None, "flac"),
}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """4 s of bbb (5.1 AAC at 48 kHz, 24 fps): exactly 96 frames on the 1/24 s grid
    (re-encoded: a stream-copy cut keeps a whole GOP and a timestamp gap at the edit)."""
    p = tmp_path_factory.mktemp("clip") / "bbb-4s.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(media(BBB)), "-t", "4", "-c:v", "libx264", "-preset",
                    "ultrafast", "-crf", "18", "-c:a", "copy", str(p)], check=True)
    return p


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_output_kinds(clip, outdir, name):
    extra, vcodec, acodec = OUTPUTS[name]
    out = outdir / name
    run_gopcast("transcode", "-q", clip, "-o", out, *extra, *FAST)
    assert decode_errors(out) == ""
    videos, audios = streams_of(out, "video"), streams_of(out, "audio")
    assert [v["codec_name"] for v in videos] == ([vcodec] if vcodec else [])
    a, = audios
    assert a["codec_name"] == acodec
    assert a["channels"] == 2 and int(a["sample_rate"]) in (44100, 48000)  # 5.1 downmixed; mp3/vorbis keep 48 kHz
    assert abs(stream_duration(out, "a:0") - stream_duration(clip, "a:0")) < 0.1
    if vcodec:
        assert (videos[0]["width"], videos[0]["height"]) == (854 if vcodec == "h264" else 854, 480)
        assert decoded_frames(out) == decoded_frames(clip) == 96
        assert abs(stream_duration(out, "v:0") - stream_duration(clip, "v:0")) <= 1 / 24 + 1e-3
        assert abs(end_offset(out) - end_offset(clip)) <= 0.05 + 1024 / int(a["sample_rate"])
    if vcodec == "hevc":
        assert videos[0]["codec_tag_string"] == "hvc1"
    if name.endswith((".mp4", ".mov", ".m4a")):
        boxes = top_level_boxes(out)
        assert boxes.index("moov") < boxes.index("mdat"), boxes  # playable while downloading


def test_hls_output(clip, outdir):
    out = outdir / "live.m3u8"
    run_gopcast("transcode", "-q", clip, "-o", out, "--set", "mux.hls_segment_seconds=1", *FAST)
    lines = out.read_text().splitlines()
    assert lines[0] == "#EXTM3U" and "#EXT-X-ENDLIST" in lines and "#EXT-X-PLAYLIST-TYPE:VOD" in lines
    segments = [l for l in lines if l and not l.startswith("#")]
    durations = [float(l.split(":")[1].rstrip(",")) for l in lines if l.startswith("#EXTINF")]
    assert len(segments) == 4 and all(abs(d - 1.0) < 1e-3 for d in durations)
    for seg in segments:
        path = outdir / seg
        assert path.exists() and "/" not in seg  # relative names next to the playlist
        first = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=flags",
                                "-read_intervals", "%+#1", "-of", "csv=p=0", str(path)], capture_output=True, text=True).stdout
        assert first.startswith("K"), (seg, first)  # every segment starts on a keyframe
    assert decode_errors(out) == ""
    assert decoded_frames(out) == 96
    assert sorted(p.name for p in outdir.iterdir()) == sorted(["live.m3u8", *segments])


def test_gif_output(clip, outdir):
    out = outdir / "o.gif"
    run_gopcast("transcode", "-q", clip, "-o", out, "--set", "mux.gif_loop=3")
    v, = streams_of(out, "video")
    assert (v["codec_name"], v["width"], v["height"]) == ("gif", 480, 270)
    assert decoded_frames(out) == 40  # 4 s at 10 fps, as the ffmpeg tool's fps=10 gives
    assert decode_errors(out) == ""
    data = out.read_bytes()
    i = data.index(b"NETSCAPE2.0")
    assert data[i + 11:i + 13] == b"\x03\x01"  # sub-block of 3 bytes, id 1: the loop count follows
    assert struct.unpack("<H", data[i + 13:i + 15])[0] == 3


def test_remux_keeps_every_packet(derived, outdir):
    src = derived("other.mkv", ["-c", "copy"], source=OTHER)
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", src, "-o", out, "-t", "remux-mp4")
    assert frame_md5s(out) == frame_md5s(src)
    assert [s["codec_name"] for s in ffprobe(out)["streams"]] == ["h264", "aac"]


@pytest.mark.parametrize("template,height,kbps", [("android-mp4-360p", 360, 600), ("pc-flv-480p", 480, 1000),
                                                 ("ios-hls-720p", 480, 2000)])
def test_device_presets(derived, outdir, template, height, kbps):
    src = derived("bbb-10s.mp4", ["-t", "10", "-c", "copy"], source=BBB)
    out = outdir / ("o.m3u8" if "hls" in template else "o.flv" if "flv" in template else "o.mp4")
    run_gopcast("transcode", "-q", src, "-o", out, "-t", template, *FAST)
    v, = streams_of(out, "video")
    assert v["height"] == height  # 720p on a 480p source stays 480p
    assert v["width"] == {360: 640, 480: 854}[height]
    if not template.startswith("ios"):
        rate = int(v.get("bit_rate") or ffprobe(out)["format"]["bit_rate"]) / 1000
        assert 0.6 * kbps < rate < 1.3 * kbps, rate


def test_two_pass_hits_the_bitrate(derived, outdir):
    src = derived("bbb-10s.mp4", ["-t", "10", "-c", "copy"], source=BBB)
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", src, "-o", out, "--set", "trans.mode=twopass", "--set", "video.bitrate=500",
                "--set", "video.preset=veryfast")
    rate = int(streams_of(out, "video")[0]["bit_rate"]) / 1000
    assert abs(rate - 500) < 0.1 * 500, rate
    assert list(p.name for p in outdir.iterdir()) == ["o.mp4"]  # no pass logs left behind


def test_cbr_keeps_the_rate_steady(derived, outdir):
    src = derived("bbb-10s.mp4", ["-t", "10", "-c", "copy"], source=BBB)
    out = outdir / "o.ts"
    run_gopcast("transcode", "-q", src, "-o", out, "--set", "trans.mode=cbr", "--set", "video.bitrate=800", *FAST)
    # Bytes per second of video stay close to 800 kbit/s in every second after the first.
    packets = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                                         "packet=pts_time,size", "-of", "json", str(out)],
                                        capture_output=True, text=True, check=True).stdout)["packets"]
    per_second = {}
    for p in packets:
        t = int(float(p["pts_time"]) - 1.4)  # MPEG-TS starts at 1.4 s
        per_second[t] = per_second.get(t, 0) + int(p["size"])
    rates = [8 * per_second[s] / 1000 for s in sorted(per_second) if 1 <= s < 9]
    assert all(400 < r < 1200 for r in rates), rates
