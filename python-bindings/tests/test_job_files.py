"""Jobs in Python: loaded as `gopcast run` loads them, built and changed with every
change validated, saved to TOML that the CLI runs."""
import json
import os
import subprocess
from pathlib import Path

import pytest

import gopcast
from conftest import BIN, ROOT, cli_error, decoded_frames


def test_load_resolves_paths_like_the_cli():
    job = gopcast.Job.load(ROOT / "jobs" / "bbb-android.toml")
    assert job.file == ROOT / "jobs" / "bbb-android.toml"
    # Relative to the job file's folder, normalised (not resolved: links stay as named).
    assert job.input == Path(os.path.normpath(ROOT / "jobs" / "../../shared/media/bbb-480p-30s.mp4"))
    assert job.input.exists()
    assert [o.template for o in job.outputs] == ["android-mp4-480p", "ios-hls-360p"]
    assert job.outputs[0].path == str(ROOT / "out" / "{name}-android-480p.mp4")
    assert [t.name for t in job.templates()] == ["android-mp4-480p", "ios-hls-360p"]


def test_a_bad_value_in_a_job_file_names_file_line_and_column(tmp_path, clip):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[input]\npath = "{clip}"\n[[outputs]]\npath = "o.mp4"\n[outputs.override.video]\ncrf = 99\n')
    code, message = cli_error("run", bad)
    with pytest.raises(ValueError) as caught:
        gopcast.Job.load(bad)
    assert isinstance(caught.value, gopcast.OutOfRange)
    assert (caught.value.code, str(caught.value)) == (code, message)
    assert message.startswith(f"{bad}:6:7: video.crf")


def test_built_job_saves_to_toml_the_cli_runs(tmp_path, clip, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    job = gopcast.Job(clip.name if clip.parent == tmp_path else clip, segment_seconds=2)
    out = job.add_output("out/{name}-small.mp4", template="default-mp4", user_data="from python")
    out.overrides["video.width"] = 160
    out.overrides.update({"video": {"preset": "ultrafast"}, "audio.bitrate": 64})
    assert out.path == str(tmp_path / "out" / "{name}-small.mp4")  # relative to the current folder
    assert out.overrides.to_dict() == {"video": {"width": 160, "preset": "ultrafast"}, "audio": {"bitrate": 64}}
    assert dict(out.overrides.items()) == {"video.width": 160, "video.preset": "ultrafast", "audio.bitrate": 64}
    job.save("job.toml")
    assert job.file == tmp_path / "job.toml"
    assert gopcast.Job.load("job.toml").to_dict() == job.to_dict()
    result = json.loads(subprocess.run([str(BIN), "run", "job.toml", "--json", "-n", "1"], capture_output=True,
                                       text=True, check=True).stdout)
    written = tmp_path / "out" / f"{clip.stem}-small.mp4"
    assert result["outputs"][0]["path"] == str(written) and result["outputs"][0]["user_data"] == "from python"
    assert decoded_frames(written) == decoded_frames(clip)
    probe = gopcast.probe(written)
    assert probe["streams"][0]["width"] == 160


def test_changes_are_validated_where_they_are_made(clip, tmp_path):
    job = gopcast.Job(clip, outputs=[tmp_path / "a.mp4"])
    out = job.outputs[0]
    with pytest.raises(gopcast.OutOfRange) as caught:
        out.overrides["video.crf"] = 99
    assert str(caught.value) == "outputs[0]: video.crf: 99 is out of range 0..51"
    assert "video.crf" not in out.overrides and len(out.overrides) == 0
    # Features not built yet are plain override entries; today's validation refuses them as the CLI does.
    with pytest.raises(gopcast.InvalidKey, match="watermarks: unknown key"):
        out.overrides["watermarks"] = [{"image": "logo.png", "x": 10}]
    with pytest.raises(gopcast.TemplateNotFound):
        out.template = "no-such-template"
    assert out.template is None
    with pytest.raises(gopcast.TemplateNotFound, match="extension"):
        job.add_output(tmp_path / "b.xyz")
    assert len(job.outputs) == 1
    with pytest.raises(gopcast.InvalidKey, match="placeholder"):
        job.add_output(tmp_path / "{nme}.mp4")
    with pytest.raises(gopcast.OutOfRange, match="segment_seconds"):
        job.segment_seconds = -1


def test_ext_placeholder_picks_the_template_from_the_input(clip, tmp_path):
    job = gopcast.Job(clip)
    out = job.add_output("{dir}/{name}-copy.{ext}", overrides={"video.crf": 30})
    assert out.path == "{dir}/{name}-copy.{ext}"  # anchored at the input's folder, not made absolute
    assert out.resolve().name == "default-mp4" and out.resolve().video.crf == 30
    loose = gopcast.Output("{name}.{ext}")  # no input yet: checked when the job runs
    assert loose.template is None


def test_outputs_are_live_and_removable(clip, tmp_path):
    job = gopcast.Job(clip, outputs=[tmp_path / "a.mp4", gopcast.Output(tmp_path / "b.mkv", template="remux-mkv")])
    assert [o.template for o in job.outputs] == [None, "remux-mkv"]
    job.outputs[0].user_data = "first"
    assert job.to_dict()["outputs"][0]["user_data"] == "first"
    job.remove_output(0)
    assert [o.path for o in job.outputs] == [str(tmp_path / "b.mkv")]
    job.remove_output(job.outputs[0])
    assert job.outputs == []
    with pytest.raises(IndexError):
        job.remove_output(3)


def test_template_objects_as_output_templates(clip, tmp_path):
    job = gopcast.Job(clip)
    t = gopcast.Template.load("android-mp4-360p")
    assert job.add_output(tmp_path / "a.mp4", template=t).template == "android-mp4-360p"
    t.video.preset = "ultrafast"
    with pytest.raises(gopcast.Usage, match="save it first"):
        job.add_output(tmp_path / "b.mp4", template=t)
    t.save(tmp_path / "fast360.toml")
    out = job.add_output(tmp_path / "b.mp4", template=t)
    assert out.template == str(tmp_path / "fast360.toml")
    assert out.resolve().video.preset == "ultrafast"


def test_a_clip_set_in_python_runs_and_round_trips(clip, tmp_path):
    job = gopcast.Job(clip, outputs=[tmp_path / "cut.mp4"])
    job.outputs[0].overrides.update({"video.preset": "ultrafast"})
    job.start = 1.5
    job.duration = 2
    with pytest.raises(gopcast.Incompatible, match="duration or end_offset"):
        job.end_offset = 1
    with pytest.raises(gopcast.OutOfRange, match="input.start"):
        job.start = -1
    assert (job.start, job.duration, job.end_offset) == (1.5, 2, None)
    job.save(tmp_path / "clip.toml")
    again = gopcast.Job.load(tmp_path / "clip.toml")
    assert (again.start, again.duration, again.end_offset) == (1.5, 2, None)
    result = gopcast.run(job, workers=2)
    assert decoded_frames(tmp_path / "cut.mp4") == 48  # 2 s of the 24 fps input
    assert result.outputs[0].video_frames == 48 and abs(result.media_seconds - 2) < 1e-9
