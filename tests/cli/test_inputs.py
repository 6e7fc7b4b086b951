"""Every input container/codec of the product sheet that Debian's FFmpeg decodes,
transcoded to the default MP4 and checked by the ffmpeg tools.

The inputs are derived from the shared media at test time with the ffmpeg tool (short
cuts, so the file runs quickly), plus the shared files as they were published. For
each one the output must decode cleanly as H.264/AAC at the source's size, keep every
video frame (no fps set: nothing dropped or duplicated) at the source's timestamps,
last as long as the source's video and keep audio and video ending where they ended
relative to each other in the source.

AMR input is covered by test_input_amr.py (Debian's ffmpeg cannot encode AMR)."""
import json
import subprocess

import pytest

from conftest import audio_span, decode_errors, decoded_frames, frame_times, media, run_gopcast, streams_of, video_span

FAST = ["--set", "video.preset=ultrafast"]
BBB, OTHER = "bbb-480p-30s.mp4", "me-other-480p.mp4"

# A source cut re-encoded with B-frames (a stream-copy cut of bbb could end on
# B-frames whose forward reference was left out).
X264_BF = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-crf", "26"]

# file name -> (ffmpeg arguments that derive it, source, expected video codec, expected audio codec)
DERIVED = {
    # 3GP as phones wrote it: H.263 at CIF size, AAC.
    "h263-aac.3gp": (["-t", "4", "-c:v", "h263", "-s", "352x288", "-q:v", "5", "-c:a", "aac", "-b:a", "64k"],
                     OTHER, "h263", "aac"),
    # AVI: MPEG-4 part 2 + MP3.
    "mpeg4-mp3.avi": (["-t", "4", "-c:v", "mpeg4", "-q:v", "5", "-c:a", "libmp3lame", "-ac", "2", "-b:a", "128k"],
                      BBB, "mpeg4", "mp3"),
    # FLV: H.264 (with B-frames) + AAC 5.1.
    "h264-aac.flv": (["-t", "4", *X264_BF, "-c:a", "aac", "-b:a", "192k"], BBB, "h264", "aac"),
    # MPG: MPEG-1 video + MP2 in an MPEG program stream.
    "mpeg1-mp2.mpg": (["-t", "4", "-c:v", "mpeg1video", "-q:v", "5", "-c:a", "mp2", "-b:a", "128k", "-f", "mpeg"],
                      OTHER, "mpeg1video", "mp2"),
    # MPEG-2 video + MP2 in a DVD-style program stream.
    "mpeg2-mp2.vob": (["-t", "4", "-c:v", "mpeg2video", "-q:v", "5", "-c:a", "mp2", "-ac", "2", "-b:a", "192k",
                       "-f", "vob"], BBB, "mpeg2video", "mp2"),
    # MPEG-2 video + AC-3 5.1 in MPEG-TS (as broadcast).
    "mpeg2-ac3.ts": (["-t", "4", "-c:v", "mpeg2video", "-q:v", "5", "-c:a", "ac3", "-b:a", "384k"],
                     BBB, "mpeg2video", "ac3"),
    # TS: H.264 + AC-3.
    "h264-ac3.ts": (["-t", "4", *X264_BF, "-c:a", "ac3", "-b:a", "384k"], BBB, "h264", "ac3"),
    # ASF/WMV: Windows Media Video 8 + WMA v2.
    "wmv2-wmav2.wmv": (["-t", "4", "-c:v", "wmv2", "-q:v", "5", "-c:a", "wmav2", "-b:a", "64k"],
                       OTHER, "wmv2", "wmav2"),
    # MKV: VP9 + Opus (Opus always decodes at 48 kHz).
    "vp9-opus.mkv": (["-t", "3", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "600k",
                      "-c:a", "libopus", "-b:a", "64k"], OTHER, "vp9", "opus"),
    # MKV: VP9 + Vorbis.
    "vp9-vorbis.mkv": (["-t", "3", "-s", "480x270", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                        "-b:v", "400k", "-c:a", "libvorbis", "-ac", "2", "-q:a", "3"], BBB, "vp9", "vorbis"),
    # MOV: Motion JPEG + PCM s16le 5.1.
    "mjpeg-pcm.mov": (["-t", "3", "-c:v", "mjpeg", "-q:v", "5", "-c:a", "pcm_s16le"], BBB, "mjpeg", "pcm_s16le"),
    # MSMPEG4 (v3, "DivX ;-)") in AVI.
    "msmpeg4v3-mp3.avi": (["-t", "4", "-c:v", "msmpeg4", "-q:v", "5", "-c:a", "libmp3lame", "-b:a", "64k"],
                          OTHER, "msmpeg4v3", "mp3"),
    # MSMPEG4 v2 + IMA ADPCM (adpcm_ima_wav) in AVI.
    "msmpeg4v2-adpcm.avi": (["-t", "4", "-c:v", "msmpeg4v2", "-q:v", "5", "-c:a", "adpcm_ima_wav", "-ac", "2"],
                            BBB, "msmpeg4v2", "adpcm_ima_wav"),
    # MKV whose audio starts 0.5 s after the video and stops 0.5 s before it ("@bbb" is
    # the shared bbb file): the output must keep both gaps.
    "late-audio.mkv": (["-t", "4", "-i", "@bbb", "-itsoffset", "0.5", "-t", "3", "-i", "@bbb", "-map", "0:v",
                        "-map", "1:a", *X264_BF, "-c:a", "aac", "-ac", "2"], None, "h264", "aac"),
}

# The shared media as published: (expected video codec, expected audio codec).
SHARED = {
    "bbb-480p-30s.mp4": ("h264", "aac"),                # AAC 5.1 48 kHz
    "me-other-480p.mp4": ("h264", "aac"),               # AAC mono 44.1 kHz
    "me-echo-hereweare-vp8.webm": ("vp8", "vorbis"),    # WebM
    "me-grampa-vp6.flv": ("vp6f", "mp3"),               # 1 ms time base, variable frame rate
    "me-xbox-wmv3.wmv": ("wmv3", "wmav2"),              # ASF, WMV9 + WMA v2 mono 16 kHz
}


def display_aspect(stream):
    """Width / height as shown: the storage size times the sample aspect ratio."""
    num, den = map(int, stream.get("sample_aspect_ratio", "1:1").split(":"))
    return stream["width"] * (num if num and den else 1) / (stream["height"] * (den if num and den else 1))


def source_video(path):
    videos = [s for s in streams_of(path, "video") if s.get("disposition", {}).get("attached_pic", 0) == 0]
    assert videos, f"no video stream in {path}"
    return videos[0]


def check_mp4_of(src, out):
    """The oracle's view of one transcode of `src` into the default MP4 `out`."""
    assert decode_errors(out) == ""
    sv, sa = source_video(src), streams_of(src, "audio")[0]
    ov, = streams_of(out, "video")
    oa, = streams_of(out, "audio")
    assert (ov["codec_name"], oa["codec_name"]) == ("h264", "aac")
    # The source's size (rounded down to even for 4:2:0).
    assert (ov["width"], ov["height"]) == (sv["width"] // 2 * 2, sv["height"] // 2 * 2)
    # ... shown at the source's display aspect ratio (a CIF H.263 picture has non-square pixels).
    assert abs(display_aspect(ov) / display_aspect(sv) - 1) < 0.01, (
        ov.get("sample_aspect_ratio"), sv.get("sample_aspect_ratio"))
    # Audio: the source's rate, at most two channels.
    assert oa["channels"] == min(sa["channels"], 2)
    assert int(oa["sample_rate"]) == int(sa["sample_rate"])

    # No fps set: every decoded source frame is encoded exactly once ...
    src_count = decoded_frames(src)
    assert decoded_frames(out) == src_count
    # ... at the source's timestamps (relative to the first frame): VFR stays VFR.
    st, s_start, s_end, step = video_span(src)
    ot, o_start, o_end, _ = video_span(out)
    assert len(st) == len(ot) == src_count
    shifts = [abs((o - o_start) - (s - s_start)) for s, o in zip(st, ot)]
    worst = max(range(len(shifts)), key=shifts.__getitem__)
    assert shifts[worst] < min(step / 2, 0.01), (
        f"frame {worst}: source at {st[worst] - s_start:.4f} s, output at {ot[worst] - o_start:.4f} s")
    # The video lasts as long as the source's, within one source frame.
    assert abs((o_end - o_start) - (s_end - s_start)) <= step + 1e-3, (o_end - o_start, s_end - s_start)

    # A/V sync: audio starts and ends where it did relative to the video, within 50 ms
    # + one AAC frame.
    tolerance = 0.05 + 1024 / int(oa["sample_rate"])
    (sa_start, sa_end), (oa_start, oa_end) = audio_span(src), audio_span(out)
    assert abs((oa_end - o_end) - (sa_end - s_end)) <= tolerance, {
        "output audio end - video end": oa_end - o_end, "source": sa_end - s_end}
    assert abs((oa_start - o_start) - (sa_start - s_start)) <= tolerance, {
        "output audio start - video start": oa_start - o_start, "source": sa_start - s_start}


@pytest.mark.parametrize("name", sorted(DERIVED))
def test_derived_input_to_mp4(derived, outdir, name):
    args, source, vcodec, acodec = DERIVED[name]
    src = derived(name, [str(media(BBB)) if a == "@bbb" else a for a in args], source=source)
    # The derived file is what it claims to be (guards the derivation, not gopcast).
    assert (source_video(src)["codec_name"], streams_of(src, "audio")[0]["codec_name"]) == (vcodec, acodec)
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", src, "-o", out, *FAST)
    check_mp4_of(src, out)


@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_input_to_mp4(outdir, name):
    src = media(name)
    vcodec, acodec = SHARED[name]
    assert (source_video(src)["codec_name"], streams_of(src, "audio")[0]["codec_name"]) == (vcodec, acodec)
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", src, "-o", out, *FAST)
    check_mp4_of(src, out)


def test_local_m3u8_playlist_input(derived, outdir):
    """A local HLS playlist of TS segments, as the ffmpeg tool's hls muxer writes it
    (2 s segments, H.264 keyframes every 2 s): gopcast reads it as one continuous input."""
    playlist = derived("hls-in.m3u8", ["-t", "6", *X264_BF, "-g", "48", "-c:a", "aac", "-ac", "2", "-f", "hls",
                                       "-hls_time", "2", "-hls_playlist_type", "vod"], source=BBB)
    text = playlist.read_text()
    segments = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(segments) == 3 and all((playlist.parent / s).exists() for s in segments), text
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", playlist, "-o", out, *FAST)
    check_mp4_of(playlist, out)
    assert decoded_frames(out) == 144  # 6 s at 24 fps, across the three segments


def test_vfr_flv_keeps_every_timestamp(outdir):
    """The VP6 FLV has a 1 ms time base and irregular frame spacing: each output frame
    sits at its source frame's time (to the millisecond), so the output is VFR too."""
    src = media("me-grampa-vp6.flv")
    out = outdir / "o.mp4"
    run_gopcast("transcode", "-q", src, "-o", out, *FAST)
    st, ot = sorted(frame_times(src)), sorted(frame_times(out))
    steps = {round(b - a, 3) for a, b in zip(st, st[1:])}
    assert len(steps) > 2, steps  # the source really is VFR
    assert len(ot) == len(st)
    assert max(abs((o - ot[0]) - (s - st[0])) for s, o in zip(st, ot)) <= 0.0015
    # The video still starts 40 ms after the audio, as in the source.
    assert abs((ot[0] - frame_times(out, "a:0")[0]) - (st[0] - frame_times(src, "a:0")[0])) <= 0.0015 + 1024 / 44100
