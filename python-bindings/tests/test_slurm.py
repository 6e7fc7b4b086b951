"""submit, jobs, job, wait, cancel and pipelines against the real dev Slurm cluster
(slurm/dev-cluster.sh): each test has its own job store; the outputs are checked with
ffprobe, the records against `gopcast jobs show --json`."""
import json
import os
import signal
import subprocess
import threading

import pytest

import gopcast
from conftest import BIN, cli_error, decode_errors, decoded_frames, write_pipeline

WAIT = 240  # seconds any one job may take here (2 shared cores)


def cli_json(home, *args):
    env = dict(os.environ, GOPCAST_HOME=str(home))
    return json.loads(subprocess.run([str(BIN), *map(str, args), "--json"], capture_output=True, text=True, env=env,
                                     check=True).stdout)


def test_a_python_built_job_runs_on_slurm(home, clip, tmp_path):
    write_pipeline(home, "py")
    out = tmp_path / "out"
    out.mkdir()
    job = gopcast.Job(clip, segment_seconds=1)
    job.add_output(out / "{name}.mp4", overrides={"video.preset": "ultrafast"})
    rec = gopcast.submit(job, pipeline="py", priority=8, user_data="ticket 7", home=home)
    assert rec.state == "Submitted" and rec.slurm_job_id and rec.home == home
    assert (rec.priority, rec.user_data, rec.pipeline) == (8, "ticket 7", "py")
    assert rec.input == str(clip) and rec.outputs == [str(out / f"{clip.stem}.mp4")]
    assert rec.wait(timeout=WAIT) is rec
    assert rec.ok and rec.done and rec.state == "TranscodeSuccess", rec.to_dict()
    assert [h["state"] for h in rec.history] == ["Submitted", "Transcoding", "TranscodeSuccess"]
    output = out / f"{clip.stem}.mp4"
    assert decoded_frames(output) == decoded_frames(clip) and decode_errors(output) == ""
    assert gopcast.Manifest(rec.manifest).state == "done"
    # The store's view, through the module and through the CLI.
    assert rec.to_dict() == cli_json(home, "jobs", "show", rec.id)
    assert [j.id for j in gopcast.jobs(pipeline="py", home=home)] == [rec.id]
    assert [j.id for j in gopcast.jobs(state="TranscodeSuccess", home=home)] == [rec.id]
    assert gopcast.jobs(state="TranscodeFail", home=home) == []
    again = gopcast.job(rec.id, home=home)
    assert again.state == "TranscodeSuccess" and again.finished_at == rec.finished_at


def test_wait_timeout_refresh_and_cancel_on_a_paused_pipeline(home, clip, tmp_path, monkeypatch):
    write_pipeline(home, "held", state="paused")
    job_file = tmp_path / "job.toml"
    gopcast.Job(clip, outputs=[tmp_path / "o.mp4"]).save(job_file)
    monkeypatch.setenv("GOPCAST_HOME", str(home))  # the default store
    rec = gopcast.submit(job_file, pipeline="held")
    assert rec.state == "Submitted" and rec.to_dict()["held"] is True
    with pytest.raises(TimeoutError) as caught:
        rec.wait(timeout=1)
    assert isinstance(caught.value, gopcast.WaitTimeout) and rec.id in str(caught.value)
    assert rec.refresh().state == "Submitted"
    assert rec.cancel() is rec and rec.state == "TranscodeCancelled" and rec.done and not rec.ok
    assert cli_json(home, "jobs", "show", rec.id)["state"] == "TranscodeCancelled"
    assert [j.state for j in gopcast.jobs()] == ["TranscodeCancelled"]
    assert not (tmp_path / "o.mp4").exists()


def test_ctrl_c_stops_waiting_and_the_job_goes_on(home, clip, tmp_path):
    write_pipeline(home, "held", state="paused")
    rec = gopcast.submit(gopcast.Job(clip, outputs=[tmp_path / "o.mp4"]), pipeline="held", home=home)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            rec.wait(timeout=60)
    finally:
        timer.cancel()
    assert rec.refresh().state == "Submitted"
    rec.cancel()


def test_pipelines_are_listed_with_their_state(home):
    write_pipeline(home, "alpha")
    write_pipeline(home, "beta", state="paused")
    listed = gopcast.pipelines(home=home)
    assert [(p["name"], p["state"], p["launcher"]) for p in listed] == [("alpha", "active", "threads"),
                                                                         ("beta", "paused", "threads")]
    cli = cli_json(home, "pipelines", "list")
    for ours, theirs in zip(listed, cli):
        assert {k: ours[k] for k in ("name", "state", "partition", "ranks", "max_concurrent", "jobs")} == \
               {k: theirs[k] for k in ("name", "state", "partition", "ranks", "max_concurrent", "jobs")}


def test_errors_are_the_clis(home, clip, tmp_path):
    write_pipeline(home, "errs")
    job_file = tmp_path / "job.toml"
    gopcast.Job(clip, outputs=[tmp_path / "o.mp4"]).save(job_file)
    env = dict(os.environ, GOPCAST_HOME=str(home))
    code, message = cli_error("submit", job_file, "--pipeline", "nope", env=env)
    with pytest.raises(LookupError) as caught:
        gopcast.submit(job_file, pipeline="nope", home=home)
    assert isinstance(caught.value, gopcast.PipelineNotFound)
    assert (caught.value.code, str(caught.value)) == (code, message)
    code, message = cli_error("jobs", "show", "20990101-000000-deadbeef", env=env)
    with pytest.raises(LookupError) as caught:
        gopcast.job("20990101-000000-deadbeef", home=home)
    assert isinstance(caught.value, gopcast.JobNotFound) and str(caught.value) == message
    with pytest.raises(gopcast.OutOfRange, match="priority"):
        gopcast.submit(job_file, pipeline="errs", priority=11, home=home)
    with pytest.raises(FileNotFoundError):
        gopcast.submit(gopcast.Job(tmp_path / "gone.mp4", outputs=[tmp_path / "o.mp4"]), pipeline="errs", home=home)
    with pytest.raises(gopcast.OutOfRange, match="Finished"):
        gopcast.jobs(state="Finished", home=home)
    assert gopcast.jobs(home=home) == []
