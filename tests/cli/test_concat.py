"""Concatenation: `gopcast transcode IN1 IN2 ... -o OUT` (with --intro, --outro, --list,
--fill-silence) and [input.concat] jobs put many inputs of different sizes, frame
rates, pixel formats, containers and audio layouts on one timeline, each normalised to
the output's template, encoded segment-parallel.

The oracle is the ffmpeg tool, never gopcast's reader:
  - pictures: each input's output window against the ffmpeg tool's own normalisation of
    that input alone (scaled to fit with its display aspect, sides rounded to even as
    gopcast plans them, centred black pad, setsar=1, fps=R, format), frame by frame (PSNR, from raw frames in numpy), and the
    black bars where the fitted picture leaves them;
  - sound: every input's audio is a pure sine at a frequency of its own (lavfi), so the
    dominant frequency of the output's audio in each window (numpy FFT) says whose
    audio plays there;
  - counts, sizes, rates and formats from ffprobe; decode errors from the ffmpeg tool.

The inputs are derived from ../shared/media into the shared derived-media folder: 52
main pieces of 0.5-1 s with exact frame counts (every piece lasts a whole number of
output frame periods, so the output has exactly sum(L_k) * R frames and every join is
on a frame), an intro and an outro, plus pieces for the special cases. Encodes use x264
ultrafast to stay cheap on two cores.
"""
import fcntl
import json
import math
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import audio_span, decode_errors, decoded_frames, ffprobe as ffprobe_json, media, run_gopcast, streams_of

FAST = ["--set", "video.preset=ultrafast"]
# The output of the main concatenation: the default .mp4 template (H.264 yuv420p, AAC
# 128k) leaves size and frame rate to the first main input (640x360, 24 fps) and the
# audio rate and channels to it too (AAC 5.1 48 kHz: 48 kHz, downmixed to stereo).
W, H, R = 640, 360, 24
AUDIO_RATE, AUDIO_CHANNELS = 48000, 2

# Bounds on the pictures (see test_every_window_is_the_ffmpeg_normalisation_of_its_input).
MEAN_PSNR_DB = 33.0  # mean over an input's window
MIN_PSNR_DB = 28.0   # any single frame
MARGIN = 0.05        # seconds left out of each audio window at the joins (AAC frames overlap them)
SILENCE_DBFS = -60.0


# --- the pieces ----------------------------------------------------------------------------

SOURCES = {  # shared media: file, stored width and height, seconds from which a cut may start
    "bbb": ("bbb-480p-30s.mp4", 854, 480, 27.0),
    "other": ("me-other-480p.mp4", 854, 480, 9.5),
    "echo": ("me-echo-hereweare-vp8.webm", 480, 270, 42.0),
    "xbox": ("me-xbox-wmv3.wmv", 320, 240, 93.0),
}
PAN = {"5.1": "pan=5.1|FL=c0|FR=c0|FC=c0", "stereo": "pan=stereo|FL=c0|FR=c0", "mono": "anull"}


@dataclass(frozen=True)
class Piece:
    name: str             # file name; the extension picks the container
    source: str           # key of SOURCES
    start: float          # where the picture is cut from, seconds
    w: int
    h: int
    fps: int
    frames: int
    pix_fmt: str = "yuv420p"
    vcodec: str = "libx264"
    sar: tuple = (1, 1)
    audio: tuple = None   # (layout, sample rate, codec, seconds), None: no audio stream
    freq: int = 0         # the sine's frequency

    @property
    def seconds(self):
        """L: the end of its last frame; every piece starts at zero."""
        return Fraction(self.frames, self.fps)

    @property
    def display_w(self):
        return self.w * self.sar[0] // self.sar[1]


def even(x):
    return int(round(x / 2)) * 2


@lru_cache(maxsize=None)
def encoder_delay(codec, rate, layout):
    """Samples an audio encoder's first packet starts before zero (its priming), as the
    ffmpeg tool reports it (framecrc keeps the encoder's timestamps)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", f"sine=sample_rate={rate}:duration=0.2",
                          "-af", PAN[layout], "-c:a", codec, "-f", "framecrc", "-"], capture_output=True, text=True,
                         check=True).stdout
    first = next(line for line in out.splitlines() if line and not line.startswith("#"))
    return max(0, -int(first.split(",")[1]))


def piece_args(p):
    """ffmpeg arguments that make piece p (the picture cut to its display aspect from the
    centre of the source, then scaled; a sine of its own as its audio)."""
    src, sw, sh, _ = SOURCES[p.source]
    dar = Fraction(p.display_w, p.h)
    cw, ch = (even(sh * dar), sh) if Fraction(sw, sh) > dar else (sw, even(sw / dar))
    args = ["-ss", f"{p.start:.3f}", "-i", media(src)]
    if p.audio:
        layout, rate, codec, seconds = p.audio
        if not p.name.endswith((".mp4", ".mov")):
            # An audio encoder's first packet starts before zero by its delay (AAC: 1024
            # samples); MPEG-TS and Matroska cannot hold that, so the muxer would shift
            # every stream later and the video would start after the container does.
            # Starting the sine that much later keeps both streams at the container's start.
            args += ["-itsoffset", f"{encoder_delay(codec, rate, layout) / rate:.9f}"]
        args += ["-f", "lavfi", "-i", f"sine=frequency={p.freq}:sample_rate={rate}:duration={seconds}"]
    args += ["-map", "0:v:0"] + (["-map", "1:a:0"] if p.audio else [])
    args += ["-vf", f"setpts=PTS-STARTPTS,fps={p.fps},crop={cw}:{ch},scale={p.w}:{p.h},setsar={p.sar[0]}/{p.sar[1]},"
                    f"format={p.pix_fmt}",
             "-frames:v", p.frames, "-map_metadata", "-1"]
    gop = max(2, p.fps // 2)  # keyframes about every half second: concat segments are cut at them
    if p.vcodec == "libx264":
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-g", gop, "-keyint_min", gop,
                 "-sc_threshold", "0"]
    elif p.vcodec == "mpeg2video":
        args += ["-c:v", "mpeg2video", "-q:v", "2", "-g", gop]
    elif p.vcodec == "libvpx":
        args += ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1500k", "-g", gop]
    if p.audio:
        layout, rate, codec, _ = p.audio
        args += ["-af", PAN[layout], "-c:a", codec]
        if codec in ("aac", "mp2"):
            args += ["-b:a", "64k" if layout == "mono" else "160k"]
        elif codec == "libvorbis":
            args += ["-q:a", "4"]
    return args


SIZES = [(854, 480), (640, 360), (320, 240), (360, 640), (426, 240), (480, 270)]
RATES = [24, 25, 30, 15]
PIX_FMTS = ["yuv420p", "yuv422p", "yuv444p", "yuvj420p"]
CONTAINERS = ["mp4", "mov", "ts", "mkv"]
LAYOUTS = [("5.1", 48000), ("stereo", 44100), ("mono", 22050), ("mono", 16000)]
FRAMES = {24: [24, 12, 18], 25: [25], 30: [30, 15], 15: [15, 10]}  # each a whole number of 1/24 s


def freq(slot):
    """The sine of timeline slot `slot` (0 = intro, 1.. main, 53 = outro): 31 Hz apart."""
    return 220 + 31 * slot


def main_piece(m):
    """Main input m (0-based): sizes, rates, pixel formats, containers and audio layouts
    cycle with different periods so that their combinations vary; a few are special."""
    if m == 0:  # the first main input decides what the template leaves to the source
        return Piece("m00.mp4", "bbb", 3.0, W, H, R, 24, audio=("5.1", 48000, "aac", 1.0), freq=freq(1))
    w, h = SIZES[m % len(SIZES)]
    fps = RATES[m % len(RATES)]
    ext = CONTAINERS[(m // 4 + m) % len(CONTAINERS)]
    pix_fmt = PIX_FMTS[(m // 2) % len(PIX_FMTS)]
    layout, rate = LAYOUTS[(m // 2 + m // 5) % len(LAYOUTS)]
    vcodec, sar = "libx264", (1, 1)
    if ext == "mkv":
        fps = 25  # Matroska's 1 ms time base holds 25 fps exactly, not 24, 30 or 15
    acodec = {"mkv": "libvorbis", "mov": "pcm_s16le" if rate == 16000 else "aac"}.get(ext, "aac")
    if m == 5:  # VP8 + Vorbis in WebM
        ext, fps, vcodec, pix_fmt, layout, rate, acodec = "webm", 25, "libvpx", "yuv420p", "stereo", 44100, "libvorbis"
    if m == 11:  # MPEG-2 + MP2 in MPEG-TS
        ext, vcodec, pix_fmt, layout, rate, acodec = "ts", "mpeg2video", "yuv420p", "stereo", 44100, "mp2"
    if m == 17:  # anamorphic: 480x360 stored, 640x360 shown
        w, h, sar = 480, 360, (4, 3)
    frames = FRAMES[fps][m % len(FRAMES[fps])]
    audio_seconds = float(Fraction(frames, fps))
    if m == 23:  # audio half as long as the picture: silence pads its window
        fps, frames, ext, acodec = 24, 24, "mp4", "aac"
        audio_seconds = 0.5
    if m == 29:  # audio twice as long: cut at the window's end
        fps, frames, ext, acodec = 30, 30, "mp4", "aac"
        audio_seconds = 2.0
    src = ["bbb", "other", "echo", "xbox"][(m // 3) % 4]
    start = round((m * 1.37) % SOURCES[src][3], 2)
    return Piece(f"m{m:02d}.{ext}", src, start, w, h, fps, frames, pix_fmt, vcodec, sar,
                 (layout, rate, acodec, audio_seconds), freq(m + 1))


MAINS = [main_piece(m) for m in range(52)]
# Neither decides anything: another size, rate and pixel format, and audio at 44.1 kHz.
INTRO = Piece("intro.mov", "bbb", 20.0, 854, 480, 30, 30, audio=("stereo", 44100, "aac", 1.0), freq=freq(0))
OUTRO = Piece("outro.mkv", "other", 5.0, 854, 480, 25, 25, "yuv444p", audio=("mono", 22050, "libvorbis", 1.0),
              freq=freq(53))
EXTRA = [
    Piece("silent-a.mp4", "bbb", 12.0, 640, 360, 24, 24),                # no audio stream
    Piece("silent-b.ts", "xbox", 40.0, 320, 240, 15, 15),
    Piece("tone-b.mp4", "echo", 10.0, 480, 270, 30, 30, audio=("stereo", 44100, "aac", 1.0), freq=1500),
    Piece("rot-base.mp4", "bbb", 16.0, 640, 360, 24, 24, audio=("stereo", 48000, "aac", 1.0), freq=700),
    Piece("first444.mp4", "xbox", 60.0, 320, 240, 15, 15, "yuv444p", audio=("mono", 16000, "aac", 1.0), freq=900),
]


def derive_all(derived):
    """{name: path} of every piece, derived (once per test run) two at a time."""
    pieces = [INTRO, OUTRO, *MAINS, *EXTRA]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        paths = dict(zip((p.name for p in pieces), pool.map(lambda p: derived(p.name, piece_args(p), source=None), pieces)))
    base = paths["rot-base.mp4"]
    for degrees in (90, 180):  # a display matrix as phones write it, pixels untouched
        paths[f"rot{degrees}.mp4"] = derived(f"rot{degrees}.mp4", ["-c", "copy", "-metadata:s:v:0", f"rotate={degrees}"],
                                             source=base)
    paths["audio-only.m4a"] = derived("audio-only.m4a", ["-f", "lavfi", "-i", "sine=frequency=500:duration=1",
                                                         "-c:a", "aac"], source=None)
    paths["subs-only.mkv"] = derived("subs-only.mkv", ["-f", "srt", "-i", media("me-subs-en.srt"), "-map", "0",
                                                       "-c:s", "srt"], source=None)
    return paths


@pytest.fixture(scope="session")
def pieces(derived):
    return derive_all(derived)


# --- oracle helpers ------------------------------------------------------------------------

def timeline_of(entries):
    """[(piece, start)] with exact starts (Fractions) for pieces in timeline order."""
    out, t = [], Fraction(0)
    for p in entries:
        out.append((p, t))
        t += p.seconds
    return out


def display_size(path):
    """(width, height) of a file's picture as shown: stored width times its SAR, sides
    swapped for a quarter turn of its rotation metadata."""
    v = next(st for st in ffprobe_json(path)["streams"] if st["codec_type"] == "video")
    w, h = v["width"], v["height"]
    num, den = (int(x) for x in v.get("sample_aspect_ratio", "1:1").replace("0:1", "1:1").split(":"))
    rotation = int(v.get("tags", {}).get("rotate", 0))
    for side in v.get("side_data_list", []):
        rotation = int(side.get("rotation", rotation))
    dw, dh = w * num / den, h
    return (dh, dw) if rotation % 180 else (dw, dh)


def even(x):
    """The nearest multiple of 2, ties up: how gopcast rounds every planned side
    (plan/output.hpp), where the ffmpeg tool's force_original_aspect_ratio rounds down
    and leaves odd sizes (a 426x240 input fits 640x360 as 639x360 there, 640x360 here)."""
    return int(x / 2 + 0.5) * 2


def fit_chain(w, h, aspect, dw, dh):
    """The ffmpeg tool's chain fitting a dw x dh (display) picture into w x h with the
    sizes gopcast plans: fitted and centred on black, covering and centre-cropped, or
    stretched."""
    if aspect == "none":
        return f"scale={w}:{h}"
    if aspect == "pad":
        s = min(w / dw, h / dh)
        sw, sh = min(even(dw * s), w), min(even(dh * s), h)
        return f"scale={sw}:{sh},pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:black"
    s = max(w / dw, h / dh)
    return f"scale={even(dw * s)}:{even(dh * s)},crop={w}:{h}"


def normalised(path, piece, w=W, h=H, rate=R, aspect="pad", autorotate=True):
    """The ffmpeg tool's normalisation of one input alone: fitted into w x h (its own
    autorotation first), SAR 1, the output rate (fps filter), yuv420p; an array
    (frames, w*h*3/2) of raw yuv420p frames."""
    dw, dh = display_size(path) if autorotate else (piece.display_w, piece.h)
    vf = fit_chain(w, h, aspect, dw, dh) + f",setsar=1,fps={rate},format=yuv420p"
    cmd = ["ffmpeg", "-v", "error", "-nostdin"] + ([] if autorotate else ["-noautorotate"])
    raw = subprocess.run(cmd + ["-i", str(path), "-map", "0:v:0", "-vf", vf, "-f", "rawvideo", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, w * h * 3 // 2)


class RawFrames:
    """The decoded video of a file as yuv420p frames, read from one ffmpeg process in order."""

    def __init__(self, path, w=W, h=H):
        self.size = w * h * 3 // 2
        self.proc = subprocess.Popen(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0",
                                      "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                                     stdout=subprocess.PIPE)

    def take(self, n):
        data = self.proc.stdout.read(n * self.size)
        assert len(data) == n * self.size, f"the output ran out: wanted {n} frames, got {len(data) / self.size:.1f}"
        return np.frombuffer(data, dtype=np.uint8).reshape(n, self.size)

    def rest(self):
        left = len(self.proc.stdout.read())
        self.proc.wait()
        return left // self.size

    def close(self):
        self.proc.kill()
        self.proc.wait()


def psnr_per_frame(ref, got):
    """PSNR (dB) of each frame over all three planes (the weighting of ffmpeg's psnr
    filter's 'average'), capped at 100 for identical frames."""
    d = ref.astype(np.int32) - got
    mse = (d * d).mean(axis=1)
    return np.minimum(100.0, 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10)))


def bar_columns(ref, w=W, h=H):
    """Columns (of luma) that are the pad's black in every row of every reference frame."""
    y = ref[:, :w * h].reshape(-1, h, w)
    return np.where((y == 16).all(axis=(0, 1)))[0]


def compare_windows(out, timeline, w=W, h=H, rate=R, aspect="pad", margin_px=16):
    """{piece name: (mean PSNR, min PSNR, bar check, frames nearer a neighbour)} of every
    window of `out` against the normalisation of its input; also checks that nothing
    follows the last window.
    The bar check is None where the fitted picture leaves no bars, else (width of the
    bars found in the reference; of the output there: mean and 99th percentile of the
    luma, mean and 99th percentile of the chroma's distance from 128), with `margin_px`
    next to the picture left out (an encoder's ringing around the picture's edge)."""
    frames = RawFrames(out, w, h)
    result = {}
    try:
        for piece, path, start in timeline:
            ref = normalised(path, piece, w, h, rate, aspect)
            expected = int(piece.seconds * rate)
            assert len(ref) == expected, (piece.name, len(ref), expected)  # the oracle's own count
            got = frames.take(expected)
            p = psnr_per_frame(ref, got)
            # Which source frame each output frame shows: where the reference's neighbours
            # differ clearly from it, the output must be nearer to it than to them.
            wrong = 0
            for nb in (-1, 1):
                a, b = max(0, -nb), expected - max(0, nb)  # frames n with a neighbour n+nb
                if b <= a:
                    continue
                distinct = psnr_per_frame(ref[a:b], ref[a + nb:b + nb]) < 30
                nearer = psnr_per_frame(ref[a + nb:b + nb], got[a:b]) < p[a:b] - 1
                wrong += int((distinct & ~nearer).sum())
            bars = bar_columns(ref, w, h)
            check = None
            if len(bars) >= 2 * margin_px + 4:
                # Bars on both sides: keep the columns at least margin_px from any picture column.
                picture = np.setdiff1d(np.arange(w), bars)
                keep = [c for c in bars if np.abs(picture - c).min() > margin_px]
                y = got[:, :w * h].reshape(-1, h, w)[:, :, keep]
                u = got[:, w * h:w * h * 5 // 4].reshape(-1, h // 2, w // 2)[:, :, [c // 2 for c in keep]]
                v = got[:, w * h * 5 // 4:].reshape(-1, h // 2, w // 2)[:, :, [c // 2 for c in keep]]
                chroma = np.abs(np.concatenate([u.ravel(), v.ravel()]).astype(int) - 128)
                check = (len(bars), float(y.mean()), float(np.percentile(y, 99)), float(chroma.mean()),
                         float(np.percentile(chroma, 99)))
            result[piece.name] = (float(p.mean()), float(p.min()), check, wrong)
        assert frames.rest() == 0, "frames after the last window"
    finally:
        frames.close()
    return result


def decoded_audio(path, rate):
    """(time of the first sample, mono float32 samples at `rate`) of the first audio stream."""
    start, _ = audio_span(path)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate),
                          "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return start, np.frombuffer(raw, dtype=np.float32)


def window(audio, rate, lo, hi):
    start, samples = audio
    a, b = int(round((lo - start) * rate)), int(round((hi - start) * rate))
    assert 0 <= a < b <= len(samples), (lo, hi, start, len(samples) / rate)
    return samples[a:b].astype(np.float64)


def dominant(samples, rate):
    """(dominant frequency in Hz, share of the energy within 15 Hz of it)."""
    x = samples * np.hanning(len(samples))
    n = max(len(x), rate)  # zero-padded to bins of at most 1 Hz
    spectrum = np.abs(np.fft.rfft(x, n)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / rate)
    k = int(spectrum.argmax())
    near = np.abs(freqs - freqs[k]) <= 15
    return float(freqs[k]), float(spectrum[near].sum() / spectrum.sum())


def dbfs(samples):
    rms = float(np.sqrt(np.mean(samples ** 2)))
    return 20 * np.log10(rms) if rms > 0 else -200.0


def assert_tone(audio, rate, lo, hi, expected, label):
    f, share = dominant(window(audio, rate, lo, hi), rate)
    assert abs(f - expected) <= 3 and share > 0.9, f"{label}: [{lo:.3f}, {hi:.3f}) s: {f:.1f} Hz " \
                                                   f"(share {share:.3f}), expected {expected} Hz"


def assert_silence(audio, rate, lo, hi, label):
    level = dbfs(window(audio, rate, lo, hi))
    assert level < SILENCE_DBFS, f"{label}: [{lo:.3f}, {hi:.3f}) s is at {level:.1f} dBFS, not silence"


def video_md5(path):
    """MD5 of the video stream's packets."""
    return subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "md5", "-"],
                          capture_output=True, text=True, check=True).stdout.strip()


def audio_md5(path):
    """MD5 of the audio stream's packets."""
    return subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "md5", "-"],
                          capture_output=True, text=True, check=True).stdout.strip()


def frame_md5s(path):
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def video_stream(path):
    return streams_of(path, "video")[0]


def concat_args(paths, intro=None, outro=None):
    args = [*map(str, paths)]
    if intro:
        args += ["--intro", intro]
    if outro:
        args += ["--outro", outro]
    return args


def shared_folder(tmp_path_factory, name):
    """A folder shared by the xdist workers of one run (like conftest's derived media)."""
    base = Path(tmp_path_factory.getbasetemp())
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def error_table():
    return {e["code"]: e["exit_status"] for e in json.loads(run_gopcast("errors", "--json").stdout)}


# --- the main concatenation: 52 main inputs, an intro and an outro ------------------------

@pytest.fixture(scope="session")
def main_run(pieces, tmp_path_factory):
    """(output, the --json result, [(piece, path, start)]): run once per test run, shared
    by the xdist workers under a lock."""
    folder = shared_folder(tmp_path_factory, "concat-main")
    out = folder / "main.mp4"
    result_file = folder / "result.json"
    with open(folder.parent / "concat-main.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result_file.exists():
            proc = run_gopcast("transcode", *concat_args([pieces[p.name] for p in MAINS], pieces[INTRO.name],
                                                         pieces[OUTRO.name]),
                               "-o", out, *FAST, "-n", 2, "--json")
            result_file.write_text(proc.stdout)
    timeline = [(p, pieces[p.name], start) for p, start in timeline_of([INTRO, *MAINS, OUTRO])]
    return out, json.loads(result_file.read_text()), timeline


def test_the_main_concatenation_has_the_template_format_and_every_frame(main_run):
    out, result, timeline = main_run
    v = video_stream(out)
    # Size and frame rate from the first main input (not the intro: 854x480 at 30 fps),
    # pixel format from the template.
    assert (v["codec_name"], v["width"], v["height"], v["pix_fmt"]) == ("h264", W, H, "yuv420p"), v
    assert v["r_frame_rate"] == f"{R}/1" and v.get("sample_aspect_ratio", "1:1") in ("1:1", "N/A"), v
    a, = streams_of(out, "audio")
    # Audio rate from the first main input (48 kHz, not the intro's 44.1 kHz), 5.1 downmixed.
    assert (a["codec_name"], int(a["sample_rate"]), a["channels"]) == ("aac", AUDIO_RATE, AUDIO_CHANNELS), a
    total = sum(p.seconds for p, _, _ in timeline)
    assert decoded_frames(out) == total * R == 1178  # 49.083 s
    assert decode_errors(out) == ""
    # Audio lasts as long as the video, within one AAC frame.
    a0, a1 = audio_span(out)
    assert abs((a1 - a0) - float(total)) <= 1024 / AUDIO_RATE + 1e-3, (a0, a1, float(total))


def test_the_result_lists_the_timeline(main_run):
    out, result, timeline = main_run
    entries = result["timeline"]
    assert len(entries) == len(timeline) == 54
    for entry, (piece, path, start) in zip(entries, timeline):
        assert Path(entry["input"]).resolve() == path.resolve(), (entry, path)
        assert abs(entry["start"] - float(start)) < 1e-3, (entry, float(start))
        assert abs(entry["duration"] - float(piece.seconds)) < 1e-3, (entry, float(piece.seconds))
        assert entry["audio"] == "source", entry
    # Segments never straddle two inputs: at least one per input.
    assert result["parallel"]["segments"] >= len(timeline), result["parallel"]


def test_every_window_is_the_ffmpeg_normalisation_of_its_input(main_run):
    """Each input's window against the ffmpeg tool's normalisation of that input alone.

    The bounds. The pieces are x264 CRF 16 (MPEG-2 q 2, VP8 1.5 Mbit/s) and both sides
    normalise the same decoded pictures, so what separates them is gopcast's one x264
    encode (ultrafast, CRF 23) plus any difference in scaling and in rounding the fitted
    size. The ffmpeg tool itself, concatenating these pieces with exactly the reference
    chains and encoding at gopcast's settings, measured 39.6-52.3 dB per window (worst
    frame 35.9 dB); with a bilinear scaler and fitted sizes rounded to even pixels
    instead, 36.3-49.8 dB (worst frame 34.9 dB). Broken normalisations measured:
    full-range input taken as limited range 27.3-31.8 dB on the yuvj420p windows; a
    stretched instead of a padded picture 6.7-18.7 dB on the 4:3 and portrait windows;
    a frame of the neighbouring input at a join 6-30 dB (median 16). Hence a mean of
    33 dB per window and 28 dB for any frame: 3 dB and 7 dB under the worst correct
    encode, above every broken one but the rare join whose neighbours look alike.
    A one-frame slip inside a window can score well (consecutive frames of these pieces
    are 25-61 dB apart), so each output frame must also be nearer to its own reference
    frame than to that frame's neighbours wherever those differ by more than 30 dB: an
    fps conversion rounding down instead of to the nearest fails 134 such frames."""
    out, result, timeline = main_run
    windows = compare_windows(out, timeline)
    print("\nmean/min PSNR per window:", {n: (round(m, 1), round(lo, 1)) for n, (m, lo, _, _) in windows.items()})
    bad = {n: (round(m, 1), round(lo, 1)) for n, (m, lo, _, _) in windows.items() if m < MEAN_PSNR_DB or lo < MIN_PSNR_DB}
    assert not bad, f"windows below {MEAN_PSNR_DB} dB mean or {MIN_PSNR_DB} dB in a frame: {bad}"
    slipped = {n: wrong for n, (_, _, _, wrong) in windows.items() if wrong}
    assert not slipped, f"output frames nearer to another frame of their input than to their own: {slipped}"
    # Pillarboxes: the 4:3 (320x240 -> 480x360: 80 px each side) and the portrait pieces
    # (360x640 -> 203x360: about 218 px each side) have black bars, and the output is
    # limited-range black there (Y 16, U and V 128) but for the encoder's noise.
    barred = {n: c for n, (_, _, c, _) in windows.items() if c}
    kinds = {p.name: (p.display_w, p.h) for p, _, _ in timeline}
    assert {n for n, k in kinds.items() if k in ((320, 240), (360, 640))} == set(barred)
    for name, (bars, mean_y, p99_y, chroma, p99_chroma) in barred.items():
        assert bars >= 150 and 15.5 <= mean_y <= 17 and p99_y <= 20 and chroma <= 1 and p99_chroma <= 4, \
            (name, bars, mean_y, p99_y, chroma, p99_chroma)


def test_every_window_has_its_own_tone(main_run):
    out, result, timeline = main_run
    audio = decoded_audio(out, AUDIO_RATE)
    for piece, path, start in timeline:
        lo, hi = float(start), float(start + piece.seconds)
        seconds = piece.audio[3]
        if seconds < float(piece.seconds):  # shorter audio: its tone, then silence to the window's end
            assert_tone(audio, AUDIO_RATE, lo + MARGIN, lo + seconds - MARGIN, piece.freq, piece.name)
            assert_silence(audio, AUDIO_RATE, lo + seconds + MARGIN, hi - MARGIN, piece.name)
        else:  # as long or longer (cut): its tone only, up to the next window
            assert_tone(audio, AUDIO_RATE, lo + MARGIN, hi - MARGIN, piece.freq, piece.name)


# --- the same bytes for any number of workers and ranks; segments per input --------------

DETERMINISM = MAINS[:10]


def test_the_same_bytes_for_one_and_three_workers_and_three_mpi_ranks(pieces, tmp_path):
    from test_mpi import mpirun
    inputs = [pieces[p.name] for p in DETERMINISM]
    outs = {}
    for n in (1, 3):
        (tmp_path / f"n{n}").mkdir()
        outs[n] = tmp_path / f"n{n}" / "out.mp4"
        proc = run_gopcast("transcode", *concat_args(inputs, pieces[INTRO.name], pieces[OUTRO.name]), "-o", outs[n], *FAST,
                           "-n", n, "--segment-seconds", 0.5, "--json")
        assert json.loads(proc.stdout)["parallel"]["workers"] == n
    assert outs[1].read_bytes() == outs[3].read_bytes()
    (tmp_path / "mpi").mkdir()
    job = tmp_path / "mpi" / "job.toml"
    job.write_text("[input.concat]\n"
                   f"inputs = [{', '.join(json.dumps(str(p)) for p in inputs)}]\n"
                   f"intro = {json.dumps(str(pieces[INTRO.name]))}\noutro = {json.dumps(str(pieces[OUTRO.name]))}\n"
                   "[parallel]\nsegment_seconds = 0.5\n"
                   f'[[outputs]]\npath = "out.mp4"\ntemplate = "default-mp4"\n[outputs.override.video]\npreset = "ultrafast"\n')
    proc = mpirun(3, job, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["parallel"]["engine"] == "mpi"
    mpi_out = tmp_path / "mpi" / "out.mp4"
    assert video_md5(mpi_out) == video_md5(outs[1]) and audio_md5(mpi_out) == audio_md5(outs[1])


def test_segments_are_cut_per_input_and_never_straddle_two(pieces, tmp_path):
    entries = [INTRO, *DETERMINISM, OUTRO]
    out = tmp_path / "out.mp4"
    proc = run_gopcast("transcode", *concat_args([pieces[p.name] for p in DETERMINISM], pieces[INTRO.name],
                                                 pieces[OUTRO.name]),
                       "-o", out, *FAST, "-n", 2, "--segment-seconds", 0.4, "--json")
    result = json.loads(proc.stdout)
    timeline = timeline_of(entries)
    with h5py.File(tmp_path / "out.mp4.manifest.h5", "r", locking=False) as m:
        rows = m["segments"][:]
    assert len(rows) == result["parallel"]["segments"] > len(entries), (len(rows), len(entries))
    entry = [int(e) for e in rows["entry"]]
    assert entry == sorted(entry) and set(entry) == set(range(len(entries))), entry
    # The manifest counts the inputs' own frames (what the workers decode); the output
    # has the timeline's frames at its rate.
    assert int(rows["frames"].sum()) == sum(p.frames for p in entries)
    assert decoded_frames(out) == sum(p.seconds for p in entries) * R
    for row in rows:
        piece, start = timeline[int(row["entry"])]
        lo, hi = float(start), float(start + piece.seconds)
        assert abs(row["entry_offset_us"] / 1e6 - lo) < 1e-3, (row, lo)
        assert lo - 1e-3 <= row["start_seconds"] < row["end_seconds"] <= hi + 1e-3, (row, lo, hi)
    # Every input is cut where it has keyframes (every 0.47-0.5 s): 0.4 s segments end on
    # the first keyframe at or after 0.4 s, and a short tail joins the segment before it.
    per_entry = np.bincount(entry)
    assert (per_entry >= 1).all() and (per_entry[[i for i, p in enumerate(entries) if p.seconds >= 1]] >= 2).all(), per_entry


# --- list files and job files ---------------------------------------------------------------

def test_a_list_file_and_a_job_file_give_the_frames_of_the_command_line(pieces, tmp_path):
    mains = [pieces[p.name] for p in MAINS[10:16]]
    intro, outro = pieces[INTRO.name], pieces[OUTRO.name]
    cli = tmp_path / "cli.mp4"
    run_gopcast("transcode", *concat_args(mains, intro, outro), "-o", cli, *FAST, "-n", 2)
    reference = frame_md5s(cli)
    rate = MAINS[10].fps  # the first main input's
    assert len(reference) == sum(p.seconds for p in [INTRO, *MAINS[10:16], OUTRO]) * rate == 220
    # A list in another folder: relative paths relative to it, comments and blank lines
    # skipped, one absolute path; its inputs come after the positional ones.
    lists = tmp_path / "lists" / "deeper"
    lists.mkdir(parents=True)
    listing = lists / "inputs.txt"
    rel = [os.path.relpath(p, lists) for p in mains[2:]]
    listing.write_text(f"# the rest of the inputs\n{rel[0]}\n\n  # indented comment\n{rel[1]}\n{mains[4]}\n\n{rel[3]}\n")
    via_list = tmp_path / "list.mp4"
    run_gopcast("transcode", *map(str, mains[:2]), "--list", listing, "--intro", intro, "--outro", outro, "-o", via_list,
                *FAST, "-n", 2)
    assert frame_md5s(via_list) == reference
    # A job: [input] path first, then [input.concat] inputs, then its list; intro and
    # outro relative to the job's folder.
    jobdir = tmp_path / "job"
    jobdir.mkdir()
    job = jobdir / "job.toml"
    job.write_text(f"[input]\npath = {json.dumps(str(mains[0]))}\n"
                   "[input.concat]\n"
                   f"inputs = [{json.dumps(str(mains[1]))}]\n"
                   f"list = {json.dumps(os.path.relpath(listing, jobdir))}\n"
                   f"intro = {json.dumps(os.path.relpath(intro, jobdir))}\n"
                   f"outro = {json.dumps(os.path.relpath(outro, jobdir))}\n"
                   "[[outputs]]\npath = \"job.mp4\"\n[outputs.override.video]\npreset = \"ultrafast\"\n")
    run_gopcast("run", job, "-n", 2)
    assert frame_md5s(jobdir / "job.mp4") == reference
    assert audio_md5(jobdir / "job.mp4") == audio_md5(cli) == audio_md5(via_list)


# --- HLS --------------------------------------------------------------------------------------

def test_a_concatenation_into_hls(pieces, tmp_path):
    entries = [INTRO, *MAINS[20:28], OUTRO]
    out = tmp_path / "cat.m3u8"
    run_gopcast("transcode", *concat_args([pieces[p.name] for p in MAINS[20:28]], pieces[INTRO.name], pieces[OUTRO.name]),
                "-o", out, *FAST, "--set", "mux.hls_segment_seconds=2", "-n", 2)
    frames = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                             "stream=nb_read_frames", "-of", "csv=p=0", str(out)], capture_output=True, text=True,
                            check=True).stdout
    assert int(frames.split()[0].split(",")[0]) == sum(p.seconds for p in entries) * MAINS[20].fps
    errors = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(out), "-f", "null", "-"], capture_output=True,
                            text=True)
    assert errors.returncode == 0 and errors.stderr.strip() == "", errors.stderr
    assert len(list(tmp_path.glob("cat_*.ts"))) >= 3


# --- two-pass ------------------------------------------------------------------------------

def test_a_two_pass_concatenation_decodes_cleanly_and_joins_exactly(pieces, tmp_path):
    """Two-pass segments have no lookahead tail: each input's spans end where the next
    frame (or the input's end) is, and every segment's encoder must write the headers the
    first one's MP4 configuration record holds (x264 stitchable): without it, segments of
    unlike content (the FLV's still faces, the cartoon) chose their own initial QP and
    decoded with errors from the second segment on."""
    flv = media("me-grampa-vp6.flv")
    mains = [flv, *(pieces[p.name] for p in MAINS[30:33])]
    outs, results = [], []
    for workers in (1, 2):
        out = tmp_path / f"two-pass-{workers}.mp4"
        results.append(json.loads(run_gopcast("transcode", *mains, "-o", out, "--set", "trans.mode=twopass", "--set",
                                              "video.bitrate=400", "-n", workers, "--segment-seconds", 0.5,
                                              "--json").stdout))
        outs.append(out)
    assert decode_errors(outs[0]) == ""
    end = sum(e["duration"] for e in results[0]["timeline"])
    rate = Fraction(streams_of(outs[0], "video")[0]["r_frame_rate"])
    # Output frame n (at n/rate) exists for every n/rate before the timeline's end.
    assert decoded_frames(outs[0]) == math.ceil(Fraction(end).limit_denominator(10**6) * rate)
    assert outs[0].read_bytes() == outs[1].read_bytes()


# --- rotation, aspect handling and what the template leaves to the first input -----------

def test_rotated_inputs_come_out_upright(pieces, tmp_path):
    base = next(p for p in EXTRA if p.name == "rot-base.mp4")
    names = ["rot-base.mp4", "rot90.mp4", "rot180.mp4"]
    out = tmp_path / "rot.mp4"
    run_gopcast("transcode", *[pieces[n] for n in names], "-o", out, *FAST, "-n", 2)
    assert (video_stream(out)["width"], video_stream(out)["height"]) == (W, H)
    timeline = [(Piece(n, base.source, base.start, base.w, base.h, base.fps, base.frames), pieces[n], i * base.seconds)
                for i, n in enumerate(names)]
    windows = compare_windows(out, timeline)  # against the ffmpeg tool's autorotated pictures
    for name, (mean, low, bars, wrong) in windows.items():
        assert mean > MEAN_PSNR_DB and low > MIN_PSNR_DB and wrong == 0, (name, mean, low, wrong)
    assert windows["rot90.mp4"][2] is not None  # upright it is portrait: pillarboxed
    # The check tells the turns apart: the same window against the stored pixels fails.
    frames = RawFrames(out)
    try:
        frames.take(base.frames)
        for n in names[1:]:
            sideways = normalised(pieces[n], timeline[0][0], autorotate=False)
            assert psnr_per_frame(sideways, frames.take(base.frames)).mean() < 20, n
    finally:
        frames.close()


@pytest.mark.parametrize("aspect", ["crop", "none"])
def test_crop_and_stretch_instead_of_bars(pieces, tmp_path, aspect):
    w, h = 320, 180
    entries = [MAINS[0], MAINS[2], MAINS[3]]  # 16:9, 4:3 and 9:16
    assert [(p.w, p.h) for p in entries] == [(640, 360), (320, 240), (360, 640)]
    out = tmp_path / f"{aspect}.mp4"
    run_gopcast("transcode", *[pieces[p.name] for p in entries], "-o", out, *FAST, "--set", f"video.width={w}",
                "--set", f"video.height={h}", "--set", f"trans.aspect={aspect}", "-n", 2)
    assert (video_stream(out)["width"], video_stream(out)["height"]) == (w, h)
    timeline = [(p, pieces[p.name], start) for p, start in timeline_of(entries)]
    for name, (mean, low, bars, wrong) in compare_windows(out, timeline, w, h, aspect=aspect).items():
        assert mean > MEAN_PSNR_DB and low > MIN_PSNR_DB and wrong == 0 and bars is None, (name, mean, low, bars, wrong)


def test_what_the_template_leaves_comes_from_the_first_main_input(pieces, tmp_path):
    # The intro is 854x480 30 fps yuv420p; the first main input 320x240 15 fps yuv444p.
    entries = ["first444.mp4", MAINS[1].name]
    out = tmp_path / "src.mp4"
    run_gopcast("transcode", *[pieces[n] for n in entries], "--intro", pieces[INTRO.name], "-o", out, *FAST,
                "--set", 'video.pix_fmt=""', "-n", 2)
    v = video_stream(out)
    assert (v["width"], v["height"], v["r_frame_rate"], v["pix_fmt"]) == (320, 240, "15/1", "yuv444p"), v
    assert int(streams_of(out, "audio")[0]["sample_rate"]) == 16000
    assert decoded_frames(out) == (INTRO.seconds + 1 + MAINS[1].seconds) * 15
    # What the template says wins over the first main input.
    out = tmp_path / "tpl.mp4"
    run_gopcast("transcode", *[pieces[n] for n in entries], "--intro", pieces[INTRO.name], "-o", out, *FAST,
                "--set", "video.width=160", "--set", "video.height=120", "--set", "video.fps=10",
                "--set", "audio.sample_rate=22050", "-n", 2)
    v = video_stream(out)
    assert (v["width"], v["height"], v["r_frame_rate"], v["pix_fmt"]) == (160, 120, "10/1", "yuv420p"), v
    assert int(streams_of(out, "audio")[0]["sample_rate"]) == 22050
    assert decoded_frames(out) == (INTRO.seconds + 1 + MAINS[1].seconds) * 10


# --- silence for inputs without audio ---------------------------------------------------------

def test_fill_silence_puts_silence_exactly_in_the_silent_windows(pieces, tmp_path):
    tone_a, tone_b = MAINS[0], next(p for p in EXTRA if p.name == "tone-b.mp4")
    names = [tone_a.name, "silent-a.mp4", tone_b.name, "silent-b.ts"]
    lengths = [Fraction(1)] * 4
    out = tmp_path / "fill.mp4"
    proc = run_gopcast("transcode", *[pieces[n] for n in names], "-o", out, *FAST, "--fill-silence", "-n", 2, "--json")
    assert [e["audio"] for e in json.loads(proc.stdout)["timeline"]] == ["source", "silence", "source", "silence"]
    assert int(streams_of(out, "audio")[0]["sample_rate"]) == AUDIO_RATE  # the first main input's
    assert decoded_frames(out) == 4 * R
    audio = decoded_audio(out, AUDIO_RATE)
    assert_tone(audio, AUDIO_RATE, 0 + MARGIN, 1 - MARGIN, tone_a.freq, names[0])
    assert_silence(audio, AUDIO_RATE, 1 + MARGIN, 2 - MARGIN, names[1])
    assert_tone(audio, AUDIO_RATE, 2 + MARGIN, 3 - MARGIN, tone_b.freq, names[2])
    assert_silence(audio, AUDIO_RATE, 3 + MARGIN, 4 - MARGIN, names[3])
    a0, a1 = audio_span(out)
    assert abs((a1 - a0) - sum(lengths)) <= 1024 / AUDIO_RATE + 1e-3, (a0, a1)
    # A job file says the same with fill_silence = true.
    job = tmp_path / "job.toml"
    job.write_text("[input.concat]\n"
                   f"inputs = [{', '.join(json.dumps(str(pieces[n])) for n in names)}]\nfill_silence = true\n"
                   f'[[outputs]]\npath = "job.mp4"\n[outputs.override.video]\npreset = "ultrafast"\n')
    run_gopcast("run", job, "-n", 2)
    assert audio_md5(tmp_path / "job.mp4") == audio_md5(out) and video_md5(tmp_path / "job.mp4") == video_md5(out)


def test_audio_comes_from_the_first_main_input_that_has_audio(pieces, tmp_path):
    tone_b = next(p for p in EXTRA if p.name == "tone-b.mp4")
    names = ["silent-a.mp4", tone_b.name, MAINS[0].name]
    out = tmp_path / "first-audio.mp4"
    run_gopcast("transcode", *[pieces[n] for n in names], "-o", out, *FAST, "--fill-silence", "-n", 2)
    a, = streams_of(out, "audio")
    assert (int(a["sample_rate"]), a["channels"]) == (44100, 2), a  # tone-b's, not m00's 48 kHz
    audio = decoded_audio(out, 44100)
    assert_silence(audio, 44100, MARGIN, 1 - MARGIN, names[0])
    assert_tone(audio, 44100, 1 + MARGIN, 2 - MARGIN, tone_b.freq, names[1])
    assert_tone(audio, 44100, 2 + MARGIN, 3 - MARGIN, MAINS[0].freq, names[2])


# --- errors ---------------------------------------------------------------------------------

def error_cases(pieces, inputs_dir):
    m0, m1, intro = pieces[MAINS[0].name], pieces[MAINS[1].name], pieces[INTRO.name]
    bad_list = inputs_dir / "bad-list.txt"
    bad_list.write_text(f"{m1}\nmissing-in-list.mp4\n")
    job = inputs_dir / "missing.toml"
    job.write_text(f"[input.concat]\ninputs = [{json.dumps(str(m0))}, \"missing-in-job.mp4\"]\n"
                   "[[outputs]]\npath = \"{out}\"\n")
    srt = media("me-subs-en.srt")
    rnf, bad, usage, incompatible = ("InvalidParameter.ResourceNotFound", "InvalidParameter.ResourceContentBad",
                                     "InvalidParameter.Usage", "InvalidParameter.Incompatible")
    # (arguments after "transcode" with {out} for the output, or ("run", job), code, words the line names)
    return {
        "missing input": ([m0, inputs_dir / "missing.mp4", m1, "-o", "{out}/o.mp4"], rnf, ["missing.mp4"]),
        "missing intro": ([m0, "--intro", inputs_dir / "no-intro.mp4", "-o", "{out}/o.mp4"], rnf, ["no-intro.mp4"]),
        "missing list": ([m0, "--list", inputs_dir / "no-list.txt", "-o", "{out}/o.mp4"], rnf, ["no-list.txt"]),
        "missing list entry": ([m0, "--list", bad_list, "-o", "{out}/o.mp4"], rnf, ["missing-in-list.mp4"]),
        "missing job input": (["run", job], rnf, ["missing-in-job.mp4"]),
        "subtitles file": ([m0, srt, m1, "-o", "{out}/o.mp4"], bad, ["me-subs-en.srt"]),
        "subtitles only": ([m0, pieces["subs-only.mkv"], "-o", "{out}/o.mp4"], bad, ["subs-only.mkv"]),
        "audio only": ([m0, pieces["audio-only.m4a"], "-o", "{out}/o.mp4"], bad, ["audio-only.m4a"]),
        "no audio": ([m0, pieces["silent-a.mp4"], m1, "-o", "{out}/o.mp4"], bad, ["silent-a.mp4", "fill-silence"]),
        "no audio intro": ([m0, "--intro", pieces["silent-b.ts"], "-o", "{out}/o.mp4"], bad, ["silent-b.ts", "fill-silence"]),
        "start": ([m0, m1, "--start", 0.5, "-o", "{out}/o.mp4"], usage, ["--start"]),
        "duration": ([m0, "--intro", intro, "--duration", 0.5, "-o", "{out}/o.mp4"], usage, ["--duration"]),
        "end offset": ([m0, m1, "--end-offset", 0.2, "-o", "{out}/o.mp4"], usage, ["--end-offset"]),
        "gif": ([m0, m1, "-o", "{out}/o.gif"], incompatible, []),
        "video copy": ([m0, m1, "-o", "{out}/o.mp4", "--set", "video.codec=copy"], incompatible, []),
        "audio only output": ([m0, m1, "-o", "{out}/o.m4a"], incompatible, []),
    }


ERROR_CASES = ["missing input", "missing intro", "missing list", "missing list entry", "missing job input", "subtitles file",
               "subtitles only", "audio only", "no audio", "no audio intro", "start", "duration", "end offset", "gif",
               "video copy", "audio only output"]


@pytest.mark.parametrize("case", ERROR_CASES)
def test_bad_concatenations_are_one_clear_error_and_leave_nothing(pieces, tmp_path, case):
    inputs_dir, outdir = tmp_path / "in", tmp_path / "out"
    inputs_dir.mkdir()
    outdir.mkdir()
    args, code, mentions = error_cases(pieces, inputs_dir)[case]
    if args[0] == "run":
        job = args[1]
        job.write_text(job.read_text().replace("{out}", str(outdir / "o.mp4")))
        proc = run_gopcast("run", job, "-n", 2, check=False)
    else:
        args = [str(a).replace("{out}", str(outdir)) for a in args]
        proc = run_gopcast("transcode", *args, "-n", 2, check=False)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"gopcast: error: {code}: "), proc.stderr
    for m in mentions:
        assert m in lines[0], (m, lines[0])
    assert proc.returncode == error_table()[code], (proc.returncode, code)
    # Nothing at the output path: no output, no manifest, no work folder.
    assert list(outdir.iterdir()) == []
    left = [p for p in tmp_path.rglob("*") if "manifest" in p.name or "gopcast-work" in p.name]
    assert left == [], left
