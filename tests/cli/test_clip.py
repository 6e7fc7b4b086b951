"""Clips: a job's timeline cut from the input by start and duration, or by a head and
a tail (end offset), frame-exactly, starts inside a GOP included, and the same pixels
whatever the number of workers or ranks. The oracle is the ffmpeg tool's decode of the
input: per-frame MD5 of the frames shown in the window (lossless encodes).
"""
import subprocess

import pytest

from conftest import media, psnr, run_gopcast

BBB = "bbb-480p-30s.mp4"  # 854x480, 24 fps, 720 frames; keyframes at 0, 10.4, 11.9, 15.75, 23.0 s
LOSSLESS = ["--set", "video.qp=0", "--set", "video.preset=ultrafast"]


def source_frames(lo, hi):
    """MD5 of the input's frames shown in [lo, hi) seconds, in order."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(media(BBB)), "-map", "0:v", "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split(",") for line in out.splitlines() if line and not line.startswith("#")]
    return [r[-1].strip() for r in rows if lo * 24 - 1e-6 <= int(r[2]) < hi * 24 - 1e-6]


def frames(path):
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v", "-fps_mode", "passthrough",
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line.split(",")[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def stream_info(path, kind):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", kind, "-show_entries", "stream=start_time,duration",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout
    start, duration = out.split()[0].split(",")[:2]
    return float(start), float(duration)


@pytest.fixture(scope="module")
def window():
    # 5.3 s is inside the GOP that starts at 0; 13.3 s inside the one at 11.9.
    return 5.3, 13.3, source_frames(5.3, 13.3)


def test_a_clip_inside_a_gop_is_frame_exact_for_any_worker_count(tmp_path, window):
    lo, hi, expected = window
    assert len(expected) == 192
    outs = []
    for n in (1, 3):
        out = tmp_path / f"n{n}.mp4"
        run_gopcast("transcode", media(BBB), "-o", out, "--start", lo, "--duration", hi - lo, *LOSSLESS,
                    "-n", n, "--segment-seconds", 2)
        assert frames(out) == expected
        outs.append(out)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    # The output starts at the clip: video's first frame within a frame of zero, audio
    # as long as the clip.
    vstart, _ = stream_info(outs[0], "v:0")
    astart, aduration = stream_info(outs[0], "a:0")
    assert 0 <= vstart < 1 / 24 and abs(astart) < 0.03
    assert abs(aduration - (hi - lo)) < 0.05


def test_gopcast_mpi_on_three_ranks_cuts_the_same_clip(tmp_path, window):
    from test_mpi import mpirun
    lo, hi, expected = window
    job = tmp_path / "clip.toml"
    job.write_text(f"""[input]
path = "{media(BBB)}"
start = {lo}
duration = {hi - lo}
[parallel]
segment_seconds = 2
[[outputs]]
path = "{tmp_path / 'mpi.mp4'}"
template = "default-mp4"
[outputs.override.video]
qp = 0
preset = "ultrafast"
""")
    proc = mpirun(3, job)
    assert proc.returncode == 0, proc.stderr
    assert frames(tmp_path / "mpi.mp4") == expected


def test_head_and_tail_cut_by_start_and_end_offset(tmp_path):
    out = tmp_path / "cut.mp4"
    run_gopcast("transcode", media(BBB), "-o", out, "--start", 2, "--end-offset", 5, *LOSSLESS, "-n", 2)
    got = frames(out)
    # The end offset counts from the input's duration as probed (30.022 s: its audio
    # runs past the last frame): the cut keeps [2, 25.022), the frame at 25.0 included.
    duration = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                     str(media(BBB))], capture_output=True, text=True, check=True).stdout)
    assert got == source_frames(2, duration - 5) and len(got) == 553


def test_a_clipped_hls_output_starts_its_grid_at_the_clip(tmp_path):
    out = tmp_path / "c.m3u8"
    run_gopcast("transcode", media(BBB), "-o", out, "--start", 5.3, "--end-offset", 7, "--set", "video.preset=ultrafast",
                "--set", "mux.hls_segment_seconds=4", "-n", 2)
    durations = [float(l[8:].rstrip(",")) for l in out.read_text().splitlines() if l.startswith("#EXTINF:")]
    assert durations[:4] == [4.0, 4.0, 4.0, 4.0] and abs(sum(durations) - 17.7) < 0.05
    firsts = []
    for seg in sorted(tmp_path.glob("c_*.ts")):
        pts, flags = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
                                     "-of", "csv=p=0", str(seg)], capture_output=True, text=True, check=True).stdout.split()[0].split(",")[:2]
        assert flags.startswith("K"), seg
        firsts.append(float(pts))
    assert [round(t - firsts[0], 3) for t in firsts] == [0, 4, 8, 12, 16]


def test_a_gif_of_a_clip(tmp_path):
    out = tmp_path / "c.gif"
    run_gopcast("transcode", media(BBB), "-o", out, "--start", 12, "--duration", 2, "--set", "video.width=160")
    ref = tmp_path / "ref.png"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-ss", "12", "-i", str(media(BBB)), "-vf", "scale=160:-2",
                    "-frames:v", "1", str(ref)], check=True)
    first = tmp_path / "first.png"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(out), "-frames:v", "1", str(first)], check=True)
    assert len(frames(out)) == 20  # 2 s at the GIF's 10 fps
    assert psnr(ref, first) > 22  # a 256-colour palette of the same picture


def test_another_clip_of_the_same_job_does_not_reuse_segments(tmp_path):
    out = tmp_path / "c.mp4"
    run_gopcast("transcode", media(BBB), "-o", out, "--start", 1, "--duration", 3, *LOSSLESS, "-n", 2)
    run_gopcast("transcode", media(BBB), "-o", out, "--start", 16, "--duration", 3, *LOSSLESS, "-n", 2)
    assert frames(out) == source_frames(16, 19)


@pytest.mark.parametrize("args, status, needle", [
    (["--start", "35"], 5, "input.start"),
    (["--start", "10", "--end-offset", "25"], 5, "input.end_offset"),
    (["--start", "10", "-t", "remux-mp4"], 10, "re-encoded video"),
    (["--duration", "3", "--end-offset", "2"], 2, "--end-offset"),
    (["--start", "-1"], 2, "--start"),
])
def test_bad_clips_are_one_clear_error(tmp_path, args, status, needle):
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "c.mp4", *args, check=False)
    assert proc.returncode == status, proc.stderr
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_job_file_gives_duration_or_end_offset_not_both(tmp_path):
    job = tmp_path / "j.toml"
    job.write_text(f'[input]\npath = "{media(BBB)}"\nduration = 3\nend_offset = 2\n[[outputs]]\npath = "{tmp_path / "x.mp4"}"\n')
    proc = run_gopcast("run", job, check=False)
    assert proc.returncode == 10 and "input.end_offset" in proc.stderr and "j.toml:4" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.toml"]
