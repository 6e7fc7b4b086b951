"""Output users can trust (issue 18): a result that is not what was asked is never silent.

The cases, each derived at test time from the shared media:

  unusable audio  an MKV whose only audio track states 0 channels (the decoder cannot
                  open it): the output has no audio, and a warning names the file, the
                  stream and why; -q silences it
  bitrate cap     a 400 kbit/s source through cap_video_bitrate with an 800 kbit/s
                  target and with CRF 18 (which the cap used to ignore: 910 kbit/s), in
                  2 s and 10 s segments: the output's video bitrate never exceeds the
                  source's
  subtitle glyphs Chinese burned in draws glyphs (fonts-wqy-microhei is installed by the
                  project): its frame differs from one of four cuneiform signs, which no
                  font here has and which come out as the same empty boxes; only the
                  cuneiform gets the warning, naming the file and the code points
  loudness        a target the true-peak ceiling does not let the gain reach: a warning
                  names the output, the loudness reached and why (test_loudness.py)
"""
import pytest
import json
import subprocess

from conftest import ffprobe, frame_md5s, media, run_gopcast


def test_an_input_audio_track_that_cannot_be_decoded_is_named_not_dropped_silently(tmp_path):
    src = tmp_path / "src.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-t", "3", "-i", str(media("bbb-480p-30s.mp4")), "-vf", "scale=320:180",
                    "-c:v", "libx264", "-preset", "ultrafast", "-ac", "2", "-c:a", "pcm_s16le", str(src)], check=True)
    data = bytearray(src.read_bytes())
    at = data.find(b"\x9f\x81\x02")  # Matroska's Channels element: 1 byte, 2
    assert at > 0
    data[at + 2] = 0
    broken = tmp_path / "no-channels.mkv"
    broken.write_bytes(data)
    proc = run_gopcast("transcode", broken, "-o", tmp_path / "o.mp4")
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("gopcast: warning: ")]
    assert warnings == [f"gopcast: warning: {broken}: audio stream 1 (pcm_s16le) states no channel count and cannot be decoded: "
                        "the outputs have no audio"], proc.stderr
    assert [s["codec_type"] for s in ffprobe(tmp_path / "o.mp4")["streams"]] == ["video"]
    quiet = run_gopcast("transcode", broken, "-o", tmp_path / "q.mp4", "-q")
    assert quiet.stderr == ""
    # and in the result, for scripts and the job record
    result = json.loads(run_gopcast("transcode", broken, "-o", tmp_path / "j.mp4", "-q", "--json").stdout)
    assert result["warnings"] == [warnings[0][len("gopcast: warning: "):]]
    clean = json.loads(run_gopcast("transcode", src, "-o", tmp_path / "c.mp4", "-q", "--json").stdout)
    assert clean["warnings"] == []


@pytest.fixture(scope="module")
def low_rate(derived):
    return derived("qc-400k.mp4", ["-t", "20", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "400k", "-an"])


def video_bitrate(path):
    return int(next(s for s in ffprobe(path)["streams"] if s["codec_type"] == "video")["bit_rate"])


@pytest.mark.parametrize("rate", ["video.bitrate=800", "video.crf=18"])
@pytest.mark.parametrize("segment", ["2", "10"])
def test_the_bitrate_cap_holds_in_every_rate_mode(low_rate, tmp_path, rate, segment):
    out = tmp_path / "o.mp4"
    run_gopcast("transcode", low_rate, "-o", out, "-q", "--set", rate, "--set", "trans.cap_video_bitrate=true",
                "--set", "video.preset=veryfast", "--segment-seconds", segment)
    assert video_bitrate(out) <= video_bitrate(low_rate), (video_bitrate(out), video_bitrate(low_rate))


def srt(path, text):
    path.write_text(f"1\n00:00:00,000 --> 00:00:03,000\n{text}\n", encoding="utf-8")
    return path


def test_burned_subtitles_draw_chinese_and_say_which_glyphs_no_font_has(tmp_path, derived):
    clip = derived("qc-subs.mp4", ["-t", "2", "-vf", "scale=640:360", "-c:v", "libx264", "-preset", "ultrafast", "-an"])
    frames = {}
    for name, text in (("zh", "你好世界"), ("cuneiform", "\U00012000\U00012001\U00012002\U00012003")):
        subs = srt(tmp_path / f"{name}.srt", text)
        out = tmp_path / f"{name}.mp4"
        proc = run_gopcast("transcode", clip, "-o", out, "--subtitles", f"{subs}:mode=burn", "--set", "video.crf=0",
                           "--set", "video.preset=ultrafast")
        warnings = [line for line in proc.stderr.splitlines() if line.startswith("gopcast: warning: ")]
        if name == "zh":
            assert warnings == [], warnings
        else:
            assert len(warnings) == 1 and f"{subs}: 4 characters no installed font has a glyph for (U+12000" in warnings[0], warnings
            assert "empty boxes" in warnings[0]
        frames[name] = frame_md5s(out)[24]
    assert frames["zh"] != frames["cuneiform"], "the Chinese text was drawn as the same empty boxes"
