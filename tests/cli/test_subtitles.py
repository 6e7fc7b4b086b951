"""External subtitles: burned into the picture and soft (mov_text in MP4, ASS in MKV,
WebVTT in HLS), from SRT/WebVTT/ASS files in declared charsets.

The oracle is the ffmpeg tool: decoded pictures (rawvideo into numpy) for burn-in, the
cues it reads back (-f srt) for soft subtitles. Short clips at small sizes, lossless
where pixels are compared, so the whole file runs in well under a minute on 2 cores.
"""
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import ffprobe, media, run_gopcast
from test_mpi import MPIRUN, MPI_BIN

W, H, FPS = 320, 180, 24

# A cue across the segment cut at 2 s (between frames: active from frame 37 to 83), and
# one inside the last segment.
CUES = [(1.52, 3.48, "Across the cut"), (4.52, 5.48, "<i>Second</i> cue")]


def srt_time(t):
    ms = round(t * 1000)
    return f"{ms // 3600000:02}:{ms // 60000 % 60:02}:{ms // 1000 % 60:02},{ms % 1000:03}"


def write_srt(path, cues, encoding="utf-8"):
    text = "".join(f"{i + 1}\n{srt_time(a)} --> {srt_time(b)}\n{t}\n\n" for i, (a, b, t) in enumerate(cues))
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture(scope="module")
def clip(derived):
    """6 s of bbb at 320x180, 24 fps, a keyframe every second (segments cut at 2 and 4 s), AAC."""
    return derived("subs-clip.mp4", ["-t", "6", "-vf", f"scale={W}:{H}", "-r", str(FPS), "-c:v", "libx264", "-preset",
                                     "ultrafast", "-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0",
                                     "-c:a", "aac", "-ac", "2"])


def frames(path):
    """Every decoded picture as a (n, H, W) luma array (the ffmpeg tool's rawvideo)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
                          "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W)


def cues_read_back(path, stream="0:s:0", fmt=None):
    """(start, end, text) of every cue the ffmpeg tool reads from one subtitle stream."""
    args = ["ffmpeg", "-v", "error", "-nostdin", *(["-f", fmt] if fmt else []), "-i", str(path), "-map", stream, "-f", "srt", "-"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    cues = []
    for block in re.split(r"\n\s*\n", out.strip()):
        lines = block.splitlines()
        if len(lines) < 2:
            continue
        a, b = (srt_seconds(x) for x in lines[1].split(" --> "))
        cues.append((a, b, re.sub(r"</?[ibu]>", "", "\n".join(lines[2:]))))
    return cues


def srt_seconds(text):
    h, m, s = text.strip().replace(",", ".").split(":")
    return round(int(h) * 3600 + int(m) * 60 + float(s), 3)


def encode(clip, out, *args, workers=3, segment_seconds=2):
    return run_gopcast("transcode", clip, "-o", out, "--set", "video.qp=0", "--set", "video.preset=ultrafast", "-n", workers,
                       "--segment-seconds", segment_seconds, "-q", *args)


# --- burned in ---------------------------------------------------------------------

def test_burned_subtitles_change_pixels_only_while_a_cue_is_active(clip, tmp_path):
    subs = write_srt(tmp_path / "cues.srt", CUES)
    encode(clip, tmp_path / "plain.mp4")
    encode(clip, tmp_path / "burned.mp4", "--subtitles", f"{subs}:mode=burn")
    plain, burned = frames(tmp_path / "plain.mp4"), frames(tmp_path / "burned.mp4")
    assert plain.shape == burned.shape and len(plain) == 6 * FPS
    for i in range(len(plain)):
        t = i / FPS
        active = any(a <= t < b for a, b, _ in CUES)
        diff = np.abs(plain[i].astype(int) - burned[i].astype(int)) > 0
        assert diff.any() == active, f"frame {i} ({t:.3f} s): changed={diff.any()}, cue active={active}"
        if active:
            rows = np.nonzero(diff.any(axis=1))[0]
            assert rows.min() > H // 2, f"frame {i}: text drawn at row {rows.min()}, expected the bottom half"
            assert diff.sum() > 200  # a line of text, not a stray pixel


def test_a_cue_across_a_segment_cut_gives_the_same_pixels_on_any_number_of_workers_and_mpi(clip, tmp_path):
    subs = write_srt(tmp_path / "cues.srt", CUES)
    # One segment in one worker (a single pass) against 2 s segments on three workers.
    encode(clip, tmp_path / "one.mp4", "--subtitles", f"{subs}:mode=burn,font_size=20", workers=1, segment_seconds=0)
    encode(clip, tmp_path / "three.mp4", "--subtitles", f"{subs}:mode=burn,font_size=20", workers=3, segment_seconds=2)
    one, three = frames(tmp_path / "one.mp4"), frames(tmp_path / "three.mp4")
    assert np.array_equal(one, three)
    # The cue is really on both sides of the cut at 2 s (frames 47 and 48).
    plain_t = 47 / FPS
    assert CUES[0][0] < plain_t < 2 < CUES[0][1]

    out = tmp_path / "mpi"
    out.mkdir()
    job = tmp_path / "job.toml"
    job.write_text(f'[input]\npath = "{clip}"\n[parallel]\nsegment_seconds = 2\n[[outputs]]\npath = "{out / "mpi.mp4"}"\n'
                   f'[outputs.override.video]\nqp = 0\npreset = "ultrafast"\n'
                   f'[[outputs.subtitles]]\npath = "{subs}"\nmode = "burn"\nfont_size = 20\n')
    r = subprocess.run([*MPIRUN, "-n", "3", str(MPI_BIN), str(job)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(frames(out / "mpi.mp4"), three)


def test_ass_styles_are_burned_as_written(clip, tmp_path):
    ass = tmp_path / "styled.ass"
    ass.write_text("[Script Info]\nScriptType: v4.00+\nPlayResX: 320\nPlayResY: 180\n\n[V4+ Styles]\n"
                   "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
                   "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
                   "MarginR, MarginV, Encoding\n"
                   "Style: Top,DejaVu Sans,30,&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,0,8,10,10,10,1\n\n"
                   "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
                   "Dialogue: 0,0:00:00.52,0:00:01.48,Top,,0,0,0,,On top\n")
    encode(clip, tmp_path / "plain.mp4", segment_seconds=0, workers=1)
    encode(clip, tmp_path / "ass.mp4", "--subtitles", f"{ass}:mode=burn", segment_seconds=0, workers=1)
    plain, styled = frames(tmp_path / "plain.mp4"), frames(tmp_path / "ass.mp4")
    diff = np.abs(plain[24].astype(int) - styled[24].astype(int)) > 0
    rows = np.nonzero(diff.any(axis=1))[0]
    assert len(rows) and rows.max() < H // 2  # the style's top alignment, not the default bottom
    assert np.array_equal(plain[48:], styled[48:])


# --- soft --------------------------------------------------------------------------

EN_FIRST = (0.1, 4.0, "HTML5 <video> and <audio> was supposed to be awesome, powerful, and fun.")
EN_LAST = (42.0, 45.0, "Hope you like it.\nCome follow me at twitter.com/johndyer")
ES_FIRST_TEXT = "HTML5 & lt; de vídeo & gt; y & lt; audio & gt; se suponía que iba a ser impresionante, potente y divertido."


@pytest.fixture(scope="module")
def echo_soft(tmp_path_factory):
    """The shared WebM with both shared .srt files as mov_text tracks (the ffmpeg tool reads no cue from them)."""
    out = tmp_path_factory.mktemp("soft") / "echo.mp4"
    run_gopcast("transcode", media("me-echo-hereweare-vp8.webm"), "-o", out, "--set", "video.preset=ultrafast",
                "--set", "video.width=160", "-q", "--subtitles", f"{media('me-subs-en.srt')}:lang=eng",
                "--subtitles", f"{media('me-subs-es.srt')}:lang=spa")
    return out


def test_both_shared_srt_files_give_their_real_cues_as_mov_text(echo_soft):
    subs = [s for s in ffprobe(echo_soft)["streams"] if s["codec_type"] == "subtitle"]
    assert [(s["codec_name"], s["tags"]["language"]) for s in subs] == [("mov_text", "eng"), ("mov_text", "spa")]
    en = cues_read_back(echo_soft, "0:s:0")
    assert len(en) == 15
    assert en[0] == EN_FIRST
    assert en[1] == (4.0, 7.0, "But browser vendors couldn't agree on a codec")
    assert en[-1] == EN_LAST
    es = cues_read_back(echo_soft, "0:s:1")
    assert len(es) == 15
    assert es[0] == (0.1, 4.0, ES_FIRST_TEXT)
    assert es[-1] == (42.0, 45.0, "Espero te guste.\nVen y sígueme en  twitter.com/johndyer")


def test_soft_subtitles_join_a_stream_copy(tmp_path):
    """The single-pass path (a remux copies video and audio): the cues still come back as mov_text."""
    source = tmp_path / "echo.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(media("me-echo-hereweare-vp8.webm")), "-t", "20",
                    "-c:v", "libx264", "-preset", "ultrafast", "-vf", "scale=160:-2", "-c:a", "aac", str(source)], check=True)
    out = tmp_path / "remux.mp4"
    run_gopcast("transcode", source, "-o", out, "-t", "remux-mp4", "--subtitles", f"{media('me-subs-en.srt')}:lang=eng")
    def video_md5(path):
        return subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-f", "md5", "-"],
                              capture_output=True, text=True, check=True).stdout
    assert video_md5(out) == video_md5(source)  # the video is the source's, untouched
    en = cues_read_back(out, "0:s:0")
    assert en[0] == EN_FIRST and en[1] == (4.0, 7.0, "But browser vendors couldn't agree on a codec")
    assert all(b <= 20.5 for _, b, _ in en[:5])


def test_hls_gets_webvtt_renditions_in_a_master_playlist(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    run_gopcast("transcode", media("me-echo-hereweare-vp8.webm"), "-o", out / "film.m3u8", "--set", "video.preset=ultrafast",
                "--set", "video.width=160", "--set", "mux.hls_segment_seconds=6", "-q",
                "--subtitles", f"{media('me-subs-en.srt')}:lang=eng", "--subtitles", f"{media('me-subs-es.srt')}:lang=spa")
    master = (out / "film.m3u8").read_text()
    assert '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=YES' in master
    assert 'NAME="Español",LANGUAGE="es"' in master
    assert 'SUBTITLES="subs"\nfilm_media.m3u8' in master
    # The variant still plays: video and audio from the TS segments.
    kinds = sorted(s["codec_type"] for s in ffprobe(out / "film_media.m3u8")["streams"])
    assert kinds == ["audio", "video"]

    uri = re.search(r'NAME="English".*URI="([^"]+)"', master).group(1)
    playlist = (out / uri).read_text()
    segments = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    video_segments = [line for line in (out / "film_media.m3u8").read_text().splitlines() if line.endswith(".ts")]
    assert len(segments) == len(video_segments)
    cues = []
    for seg in segments:
        text = (out / seg).read_text()
        assert text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:")
        for cue in cues_read_back(out / seg, fmt="webvtt"):
            if cue not in cues:  # a cue across a segment boundary is in both, whole
                cues.append(cue)
    assert len(cues) == 15
    assert cues[0] == EN_FIRST and cues[-1] == EN_LAST


CHARSETS = [  # (charset as declared, Python codec, language, text)
    ("gbk", "gbk", "chi", "简体中文字幕：你好，世界"),
    ("big5", "big5", "chi", "繁體中文字幕：你好，世界"),
    ("shift-jis", "shift_jis", "jpn", "日本語の字幕です"),
    ("latin-1", "latin-1", "spa", "¿Qué tal? Año, canción"),
]


def test_declared_charsets_come_out_as_utf8(clip, tmp_path):
    args = []
    for i, (charset, codec, lang, text) in enumerate(CHARSETS):
        f = write_srt(tmp_path / f"s{i}.srt", [(0.5, 2.0, text), (3.0, 4.25, text[::-1])], encoding=codec)
        args += ["--subtitles", f"{f}:charset={charset},lang={lang}"]
    run_gopcast("transcode", clip, "-o", tmp_path / "multi.mp4", "--set", "video.preset=ultrafast", "-q", *args)
    for i, (_, _, _, text) in enumerate(CHARSETS):
        assert cues_read_back(tmp_path / "multi.mp4", f"0:s:{i}") == [(0.5, 2.0, text), (3.0, 4.25, text[::-1])]


def test_a_clip_gets_the_cues_of_its_window_on_its_own_timeline(clip, tmp_path):
    subs = write_srt(tmp_path / "cues.srt", CUES)
    run_gopcast("transcode", clip, "-o", tmp_path / "clip.mp4", "--start", "1", "--duration", "3", "--set",
                "video.preset=ultrafast", "-q", "--subtitles", str(subs))
    assert cues_read_back(tmp_path / "clip.mp4") == [(0.52, 2.48, "Across the cut")]


def test_webvtt_and_ass_inputs_as_soft_subtitles_in_mkv(clip, tmp_path):
    vtt = tmp_path / "in.vtt"
    vtt.write_text("WEBVTT\n\nNOTE made at test time\n\nfirst\n00:00.500 --> 00:02.000\n<v Ann>Hello &amp; welcome\n\n"
                   "00:00:03.000 --> 00:00:04.000 align:start\nBye\n")
    ass = tmp_path / "in.ass"
    ass.write_text("[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, "
                   "MarginV, Effect, Text\nDialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\b1}Bold{\\b0} words\n")
    run_gopcast("transcode", clip, "-o", tmp_path / "out.mkv", "--set", "video.preset=ultrafast", "-q",
                "--subtitles", f"{vtt}:lang=eng", "--subtitles", f"{ass}:lang=fre")
    codecs = [s["codec_name"] for s in ffprobe(tmp_path / "out.mkv")["streams"] if s["codec_type"] == "subtitle"]
    assert codecs == ["subrip", "ass"]
    # Matroska moves every stream later by what the audio starts before zero (AAC priming):
    # cues keep their place against the video.
    video_start = float(next(s for s in ffprobe(tmp_path / "out.mkv")["streams"] if s["codec_type"] == "video")["start_time"])
    against_video = [[(round(a - video_start, 3), round(b - video_start, 3), t) for a, b, t in cues_read_back(tmp_path / "out.mkv", f"0:s:{i}")]
                     for i in range(2)]
    assert against_video == [[(0.5, 2.0, "Hello & welcome"), (3.0, 4.0, "Bye")], [(1.0, 2.5, "Bold words")]]


# --- errors: one line naming the file and the reason, nothing at the output path -----

def fails(clip, out, sub_arg, code, *needles, output="out.mp4"):
    r = run_gopcast("transcode", clip, "-o", out / output, "--set", "video.preset=ultrafast", "--subtitles", sub_arg, check=False)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f".{code}: " in lines[0], r.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    assert os.listdir(out) == [], f"left behind: {os.listdir(out)}"


def test_subtitle_errors_leave_nothing(clip, tmp_path, outdir):
    gbk = write_srt(tmp_path / "zh.srt", [(0.5, 2.0, "简体中文")], encoding="gbk")
    fails(clip, outdir, f"{gbk}:charset=utf-8", "ResourceContentBad", "zh.srt", "UTF-8")
    fails(clip, outdir, str(gbk), "ResourceContentBad", "zh.srt", "utf-8")  # UTF-8 is the default
    fails(clip, outdir, f"{tmp_path / 'missing.srt'}:lang=eng", "ResourceNotFound", "missing.srt")
    fails(clip, outdir, str(media("me-echo-poster.jpg")), "ResourceContentBad", "me-echo-poster.jpg", "not a subtitle file")
    notes = tmp_path / "notes.srt"
    notes.write_text("shopping list\neggs\n")
    fails(clip, outdir, str(notes), "ResourceContentBad", "notes.srt", "not a subtitle file")
    good = write_srt(tmp_path / "en.srt", CUES)
    fails(clip, outdir, str(good), "Incompatible", "en.srt", "flv", output="out.flv")
    fails(clip, outdir, str(good), "Incompatible", "en.srt", "gif", output="out.gif")
    fails(clip, outdir, f"{good}:lang=english", "OutOfRange", "lang")
    # Burning in works where soft subtitles cannot go.
    run_gopcast("transcode", clip, "-o", outdir / "ok.flv", "--set", "video.preset=ultrafast", "-q",
                "--subtitles", f"{good}:mode=burn")
    assert sorted(os.listdir(outdir)) == ["ok.flv", "ok.flv.manifest.h5"]
