"""gopcast.Job's concatenation (concat, intro, outro, fill_silence): the same timeline and
the same frames as `gopcast transcode A B ... --intro --outro`, checked with ffmpeg's
per-frame MD5 and ffprobe."""
import subprocess

import pytest

import gopcast
from conftest import BIN, cli_error, decode_errors, decoded_frames, ffprobe


def video_md5s(path):
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def parts(derived):
    """Three short inputs unlike each other: 320x180 with audio, 4:3 at 30 fps with mono
    audio, and a 25 fps portrait picture without audio."""
    big = derived("py-concat-a.mp4", ["-t", "1.5", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast",
                                      "-c:a", "aac", "-b:a", "64k"])
    small = derived("py-concat-b.mkv", ["-t", "1", "-vf", "scale=160:120,fps=30", "-pix_fmt", "yuv444p", "-c:v", "libx264",
                                        "-preset", "ultrafast", "-ac", "1", "-ar", "22050", "-c:a", "aac"])
    silent = derived("py-concat-c.mp4", ["-t", "1", "-vf", "scale=120:200,fps=25", "-an", "-c:v", "libx264", "-preset",
                                         "ultrafast"])
    return big, small, silent


def test_job_concat_matches_the_command_and_reports_its_timeline(parts, tmp_path):
    big, small, silent = parts
    job = gopcast.Job(small, [tmp_path / "joined.mp4"])
    job.concat = [silent, small]
    job.intro = big
    job.fill_silence = True
    job.segment_seconds = 0.5
    assert job.concat == [silent.resolve(), small.resolve()] and job.intro == big.resolve() and job.fill_silence
    result = gopcast.run(job, workers=2)
    [out] = result.outputs
    # The first main input (not the intro) decides the frame: 160x120 at 30 fps.
    v = [s for s in ffprobe(out.path)["streams"] if s["codec_type"] == "video"][0]
    assert (v["width"], v["height"], v["r_frame_rate"]) == (160, 120, "30/1")
    assert [e["audio"] for e in result.timeline] == ["source", "source", "silence", "source"]
    starts = [e["start"] for e in result.timeline]
    ends = [e["start"] + e["duration"] for e in result.timeline]
    assert starts[0] == 0 and all(abs(a - b) < 1e-6 for a, b in zip(ends, starts[1:]))
    assert result.media_seconds == pytest.approx(ends[-1], abs=1e-6)
    assert decoded_frames(out.path) == round(ends[-1] * 30)
    assert decode_errors(out.path) == ""
    segments = gopcast.Manifest(result.manifest).segments
    assert list(segments["entry"]) == sorted(segments["entry"]) and set(segments["entry"]) == {0, 1, 2, 3}

    cli_out = tmp_path / "cli.mp4"
    subprocess.run([str(BIN), "transcode", small, silent, small, "--intro", big, "--fill-silence", "--segment-seconds", "0.5",
                    "-n", "1", "-q", "-o", cli_out], check=True, capture_output=True)
    assert video_md5s(out.path) == video_md5s(cli_out)


def test_job_concat_without_fill_silence_names_the_silent_input(parts, tmp_path):
    big, _, silent = parts
    job = gopcast.Job(big, [tmp_path / "x.mp4"])
    job.concat = [silent]
    with pytest.raises(gopcast.Error, match="py-concat-c.mp4: concat input 2 of 2 has no audio stream"):
        gopcast.run(job, workers=1)
    assert not (tmp_path / "x.mp4").exists() and not (tmp_path / "x.mp4.manifest.h5").exists()
    code, message = cli_error("transcode", big, silent, "-o", tmp_path / "y.mp4")
    assert code.endswith("ResourceContentBad") and "fill-silence" in message
