"""Background audio mixed under the input's audio track ([input.mix], --mix): its
level, its length (first or longest), its start at the output's start, the same bytes
for any worker count. The oracle is the ffmpeg tool: the RMS level of the output's audio
in a narrow band around the test tone (bandpass + astats) and ffprobe durations.
"""
import re
import subprocess

import pytest

from conftest import media, run_gopcast

BBB = "bbb-480p-30s.mp4"
FAST = ["--set", "video.preset=ultrafast"]


def tone_level(path, start=0.0, duration=None):
    """RMS level (dB) of the audio within a narrow band at 440 Hz."""
    trim = f"atrim=start={start}" + (f":duration={duration}" if duration else "") + ","
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a:0", "-af",
                          trim + "bandpass=f=440:width_type=q:w=20,astats=measure_overall=RMS_level:measure_perchannel=0",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    return float(re.findall(r"RMS level dB: (-?[\d.]+|-inf)", err)[-1])


def durations(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return {line.split(",")[0]: float(line.split(",")[1]) for line in out.split()}


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    """Ten seconds of a 440 Hz tone (MP3, 44.1 kHz mono: resampled and upmixed by the mix)."""
    path = tmp_path_factory.mktemp("mix") / "tone.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=10",
                    "-c:a", "libmp3lame", str(path)], check=True)
    return path


def test_the_tone_is_mixed_under_at_its_gain(tmp_path, music):
    plain, loud, soft = tmp_path / "plain.mp4", tmp_path / "loud.mp4", tmp_path / "soft.mp4"
    run_gopcast("transcode", media(BBB), "-o", plain, "--duration", 6, *FAST)
    run_gopcast("transcode", media(BBB), "-o", loud, "--duration", 6, "--mix", music, "--mix-gain", -6, *FAST)
    run_gopcast("transcode", media(BBB), "-o", soft, "--duration", 6, "--mix", music, "--mix-gain", -18, *FAST)
    assert tone_level(loud) > tone_level(plain) + 25     # the band is nearly empty without the tone
    assert abs((tone_level(loud) - tone_level(soft)) - 12) < 1.0
    assert abs(durations(loud)["audio"] - 6) < 0.1       # "first": as long as the input's audio


def test_longest_lasts_as_long_as_the_music(tmp_path, music):
    out = tmp_path / "long.mp4"
    run_gopcast("transcode", media(BBB), "-o", out, "--duration", 4, "--mix", music, "--mix-duration", "longest", *FAST)
    d = durations(out)
    assert abs(d["video"] - 4) < 0.1 and abs(d["audio"] - 10) < 0.1


def test_the_music_starts_with_a_clip_and_is_the_same_for_any_worker_count(tmp_path, music):
    outs = []
    for n in (1, 3):
        out = tmp_path / f"n{n}.mp4"
        run_gopcast("transcode", media(BBB), "-o", out, "--start", 10, "--duration", 6, "--mix", music, *FAST,
                    "-n", n, "--segment-seconds", 2)
        outs.append(out)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert tone_level(outs[0], 0, 0.5) > -40  # audible from the clip's first half second


def test_a_job_file_mix(tmp_path, music):
    job = tmp_path / "job.toml"
    job.write_text(f'[input]\npath = "{media(BBB)}"\nduration = 3\n[input.mix]\npath = "{music.name}"\ngain = -6\n'
                   f'[[outputs]]\npath = "out.m4a"\n')
    (tmp_path / music.name).write_bytes(music.read_bytes())
    run_gopcast("run", job)
    assert tone_level(tmp_path / "out.m4a") > -40
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[input]\npath = "{media(BBB)}"\n[input.mix]\ngain = -6\n[[outputs]]\npath = "x.m4a"\n')
    proc = run_gopcast("run", bad, check=False)
    assert proc.returncode != 0 and "input.mix.path" in proc.stderr and not (tmp_path / "x.m4a").exists()


def test_bad_mixes_are_one_clear_error(tmp_path, music):
    silent = tmp_path / "silent.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-t", "2", "-i", str(media(BBB)), "-an", "-c:v", "copy", str(silent)],
                   check=True)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cases = [
        ([media(BBB), "--mix", tmp_path / "missing.mp3"], "missing.mp3"),
        ([media(BBB), "--mix", silent], "no audio stream"),
        ([silent, "--mix", music], "no audio to mix"),
        ([media(BBB), "--mix", music, "--set", "audio.codec=copy"], "re-encoded audio"),
    ]
    for args, needle in cases:
        proc = run_gopcast("transcode", *args[:1], "-o", out_dir / "x.mp4", *args[1:], check=False)
        assert proc.returncode != 0 and needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert list(out_dir.iterdir()) == []
