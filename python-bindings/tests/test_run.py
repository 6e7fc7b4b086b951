"""gopcast.run: a job on the local segment-parallel engine, as `gopcast run` runs it;
the outputs are checked with ffprobe."""
import os
import signal
import threading
import time

import pytest

import gopcast
from conftest import cli_error, decode_errors, decoded_frames, ffprobe, media


def test_output_has_every_source_frame(small_run, clip):
    job, result, _ = small_run
    [out] = result.outputs
    assert out.path.name == f"{clip.stem}.mp4" and out.path.exists()
    assert decoded_frames(out.path) == decoded_frames(clip) == out.video_frames
    assert decode_errors(out.path) == ""
    assert out.user_data == "py test" and out.template == "default-mp4"
    assert out.bytes == out.path.stat().st_size and out.files == [out.path]
    assert out.media_info["streams"][0]["codec"] == ffprobe(out.path)["streams"][0]["codec_name"] == "h264"


def test_result_has_timings_manifest_and_its_json_form(small_run, clip):
    job, result, _ = small_run
    assert result.input == clip
    assert result.media_seconds == pytest.approx(4.0, abs=0.1)
    assert result.workers == 2 and result.segments >= 3 and result.resumed_segments == 0
    assert result.manifest == result.outputs[0].path.parent / f"{clip.stem}.mp4.manifest.h5"
    assert result.manifest.exists()
    assert set(result.timings) >= {"total", "index", "encode", "gather"}
    assert result.timings["total"] == result.seconds > 0
    d = result.to_dict()
    assert d["schema"] == "gopcast.result/1" and d["parallel"]["manifest"] == str(result.manifest)
    assert d["outputs"][0]["video_frames"] == result.outputs[0].video_frames
    assert d["parallel"]["phases"] == {k: v for k, v in result.timings.items() if k != "total"}


def test_progress_goes_up_to_the_end(small_run):
    _, result, seen = small_run
    assert len(seen) >= 2
    done = [p.seconds_done for p in seen]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert [p.frames for p in seen] == sorted(p.frames for p in seen)
    assert seen[-1].fraction == pytest.approx(1.0) and seen[-1].frames == result.outputs[0].video_frames
    assert all(p.seconds_total == pytest.approx(result.media_seconds, abs=0.1) for p in seen)


def test_a_job_file_and_overrides_as_with_set(tmp_path, clip):
    job = tmp_path / "job.toml"
    job.write_text(f'[input]\npath = "{clip}"\n[[outputs]]\npath = "small.mkv"\n[outputs.override.video]\n'
                   'preset = "ultrafast"\n')
    result = gopcast.run(job, workers=1, segment_seconds=0, overrides={"video.width": 128, "audio.remove": True})
    out = tmp_path / "small.mkv"
    assert result.outputs[0].path == out and result.segments == 1
    streams = ffprobe(out)["streams"]
    assert [s["codec_type"] for s in streams] == ["video"] and streams[0]["width"] == 128
    assert decoded_frames(out) == decoded_frames(clip)


def test_one_pass_outputs_have_no_manifest(tmp_path, clip):
    result = gopcast.run(gopcast.Job(clip, outputs=[tmp_path / "a.m4a"]))
    assert result.manifest is None and result.segments == 0
    assert ffprobe(tmp_path / "a.m4a")["streams"][0]["codec_name"] == "aac"


def test_errors_are_the_clis_and_leave_nothing(tmp_path, clip):
    code, message = cli_error("transcode", clip, "-o", tmp_path / "missing" / "o.mp4")
    with pytest.raises(OSError) as caught:
        gopcast.run(gopcast.Job(clip, outputs=[tmp_path / "missing" / "o.mp4"]))
    assert isinstance(caught.value, gopcast.OutputNotWritable)
    assert (caught.value.code, str(caught.value)) == (code, message)
    with pytest.raises(gopcast.OutOfRange, match="workers"):
        gopcast.run(gopcast.Job(clip, outputs=[tmp_path / "o.mp4"]), workers=-1)
    with pytest.raises(gopcast.ResourceNotFound):
        gopcast.run(gopcast.Job(tmp_path / "nope.mp4", outputs=[tmp_path / "o.mp4"]))
    assert list(tmp_path.iterdir()) == []


def test_an_exception_in_the_progress_callback_stops_the_run(tmp_path, clip):
    class Enough(Exception):
        pass

    def progress(p):
        raise Enough(p.frames)

    job = gopcast.Job(clip, outputs=[tmp_path / "o.mp4"])
    with pytest.raises(Enough):
        gopcast.run(job, workers=1, progress=progress)
    assert not (tmp_path / "o.mp4").exists()


@pytest.fixture(scope="module")
def long_clip(derived):
    """60 s (the shared clip twice), so that a slow encode is still running when interrupted."""
    return derived("py-long-60s.mp4", ["-stream_loop", "1", "-i", media("bbb-480p-30s.mp4"), "-c", "copy"], source=None)


def test_ctrl_c_raises_keyboard_interrupt_and_leaves_no_output(tmp_path, long_clip):
    out = tmp_path / "long.mp4"
    job = gopcast.Job(long_clip, outputs=[out])
    job.outputs[0].overrides["video.preset"] = "slow"
    progress = []
    # Ctrl-C from a timer started at the first progress report (the workers are
    # encoding by then), so the signal lands mid-run whatever the machine's speed.
    timer = threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGINT))

    def on_progress(p):
        progress.append(p)
        if not timer.is_alive() and not timer.finished.is_set():
            timer.start()
            on_progress.started = time.monotonic()

    try:
        with pytest.raises(KeyboardInterrupt):
            gopcast.run(job, workers=2, progress=on_progress)
    finally:
        timer.cancel()
    stopped = time.monotonic() - on_progress.started
    assert 2.0 <= stopped < 10, stopped  # it was running, and stopped soon after the signal
    assert progress[-1].fraction < 0.5
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(out.name) and not p.name.endswith(".manifest.h5")
                and ".gopcast-work" not in p.name]
    # The manifest stays for a resume and says so.
    assert gopcast.Manifest(tmp_path / "long.mp4.manifest.h5").state == "cancelled"


def test_a_locked_output_raises_output_locked_or_is_waited_for(clip, tmp_path):
    """Another run holds the output's lock (here: this test, as a run would hold it)."""
    import fcntl
    out = tmp_path / "o.mp4"
    job = gopcast.Job(clip)
    job.add_output(out, overrides={"video.preset": "ultrafast"})
    holder = open(tmp_path / ".o.mp4.gopcast-lock", "w")
    fcntl.flock(holder, fcntl.LOCK_EX)
    holder.write("pid 4242 on elsewhere, Slurm job 77\n")
    holder.flush()
    with pytest.raises(gopcast.OutputLocked, match="pid 4242 on elsewhere, Slurm job 77") as e:
        gopcast.run(job, workers=1)
    assert e.value.exit_status == 23 and not out.exists()
    threading.Timer(1.0, holder.close).start()  # the other run ends a second from now
    started = time.monotonic()
    result = gopcast.run(job, workers=1, wait_lock=True)
    assert time.monotonic() - started >= 0.9, "wait_lock=True did not wait"
    assert decoded_frames(result.outputs[0].path) == decoded_frames(clip)
    assert not (tmp_path / ".o.mp4.gopcast-lock").exists()


def test_progress_moves_inside_a_segment(derived, tmp_path):
    """Issue 18 part 3: a one-segment job sat at 0 frames until it ended (the callback
    counted finished segments only)."""
    source = derived("py-progress.mp4", ["-t", "10", "-vf", "scale=640:360", "-c:v", "libx264", "-preset", "ultrafast",
                                         "-g", "250", "-an"])
    job = gopcast.Job(source, segment_seconds=0)  # one segment: nothing finishes before the end
    job.add_output(tmp_path / "o.mp4", overrides={"video.preset": "slow"})
    seen = []
    gopcast.run(job, workers=1, progress=seen.append)
    frames = [p.frames for p in seen]
    inside = sorted({f for f in frames if 0 < f < 240})
    assert len(inside) >= 3, frames
    assert frames == sorted(frames) and frames[-1] == 240
    assert all(p.seconds_done == pytest.approx(10 * p.frames / 240, abs=0.05) for p in seen), [(p.frames, p.seconds_done) for p in seen]
