"""The gopcast.Error hierarchy: one class per error code, each carrying the code and
exit status the CLI uses, and deriving from the built-in exception one would catch."""
import subprocess

import pytest

import gopcast
from conftest import BIN, cli_error, media


def cli_error_table():
    import json
    out = subprocess.run([str(BIN), "errors", "--json"], capture_output=True, text=True, check=True).stdout
    return {e["code"]: e["exit_status"] for e in json.loads(out)}


def test_every_code_has_its_class_with_the_cli_exit_status():
    table = cli_error_table()
    listed = gopcast.error_codes()
    assert {e["code"]: e["exit_status"] for e in listed} == table
    for e in listed:
        cls = e["exception"]
        assert issubclass(cls, gopcast.Error)
        assert cls.code == e["code"] and cls.exit_status == e["exit_status"]
        assert cls.__module__ == "gopcast" and getattr(gopcast, cls.__name__) is cls
    assert len({e["exception"] for e in listed}) == len(listed)


@pytest.mark.parametrize("name, family, builtin", [
    ("ResourceNotFound", gopcast.InvalidParameter, FileNotFoundError),
    ("TemplateNotFound", gopcast.InvalidParameter, LookupError),
    ("PipelineNotFound", gopcast.InvalidParameter, LookupError),
    ("JobNotFound", gopcast.InvalidParameter, LookupError),
    ("StreamNotFound", gopcast.InvalidParameter, LookupError),
    ("OutOfRange", gopcast.InvalidParameter, ValueError),
    ("InvalidKey", gopcast.InvalidParameter, ValueError),
    ("SpecSyntax", gopcast.InvalidParameter, ValueError),
    ("Incompatible", gopcast.InvalidParameter, ValueError),
    ("ResourceContentBad", gopcast.InvalidParameter, ValueError),
    ("OutputNotWritable", gopcast.InvalidParameter, OSError),
    ("TranscodeFailed", gopcast.InternalError, None),
    ("SchedulerFailed", gopcast.InternalError, None),
    ("SchedulerLimit", gopcast.Error, None),
    ("OutputLocked", gopcast.Error, None),
    ("WaitTimeout", gopcast.Error, TimeoutError),
    ("Cancelled", gopcast.Error, None),
])
def test_families_and_builtin_bases(name, family, builtin):
    cls = getattr(gopcast, name)
    assert issubclass(cls, family)
    if builtin:
        assert issubclass(cls, builtin)
    assert not issubclass(cls, KeyboardInterrupt)


def test_raised_error_carries_code_status_and_the_cli_message(tmp_path):
    missing = tmp_path / "missing.mp4"
    code, message = cli_error("probe", missing)
    with pytest.raises(FileNotFoundError) as caught:
        gopcast.probe(missing)
    e = caught.value
    assert isinstance(e, gopcast.ResourceNotFound)
    assert (e.code, str(e), e.message) == (code, message, message)
    assert e.exit_status == 3


def test_not_media_is_a_value_error_with_the_cli_message(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    code, message = cli_error("probe", text)
    with pytest.raises(ValueError) as caught:
        gopcast.probe(text)
    assert isinstance(caught.value, gopcast.ResourceContentBad)
    assert (caught.value.code, str(caught.value)) == (code, message)


def test_log_level_names_are_checked():
    gopcast.set_log_level("quiet")
    gopcast.set_log_level("warn")
    with pytest.raises(gopcast.OutOfRange, match="loud"):
        gopcast.set_log_level("loud")


def test_snapshot_of_audio_only_is_a_lookup_error(tmp_path):
    tone = tmp_path / "tone.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=1", str(tone)], check=True)
    with pytest.raises(LookupError, match="no video stream"):
        gopcast.snapshot(tone, 0.5)
    with pytest.raises(gopcast.StreamNotFound):
        gopcast.snapshot(media("bbb-480p-30s.mp4"), 0.5, video_stream="0:v:2")
