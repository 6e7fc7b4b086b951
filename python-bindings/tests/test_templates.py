"""Templates in Python: loaded as the CLI loads them, changed and validated key by key,
saved back to TOML that the CLI reads to the same template."""
import subprocess

import pytest

import gopcast
from conftest import BIN, cli_error


def cli_show(name, *sets):
    args = [str(BIN), "templates", "show", str(name)]
    for s in sets:
        args += ["--set", s]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_listing_is_the_clis():
    import json
    cli = json.loads(subprocess.run([str(BIN), "templates", "list", "--json"], capture_output=True, text=True,
                                    check=True).stdout)
    assert gopcast.templates() == cli
    assert any(t["name"] == "android-mp4-720p" for t in gopcast.templates())


def test_loaded_template_is_the_clis_resolved_template():
    t = gopcast.Template.load("android-mp4-720p", {"video.preset": "fast"})
    assert t.to_toml().strip() == cli_show("android-mp4-720p", "video.preset=fast").strip()
    assert t.name == "android-mp4-720p" and t.container == "mp4"
    assert (t.video.codec, t.video.height, t.video.bitrate, t.video.preset) == ("h264", 720, 2000, "fast")
    assert t.video.crf is None and t["video.crf"] is None
    assert t.audio.codec == "aac" and t.trans.mode == "onepass" and t.mux.faststart is True
    assert t.path.name == "android-mp4-720p.toml"


def test_bad_values_raise_value_errors_naming_the_key_with_the_cli_message():
    code, message = cli_error("templates", "show", "default-mp4", "--set", "video.crf=70")
    with pytest.raises(ValueError) as caught:
        gopcast.Template.load("default-mp4", {"video.crf": 70})
    assert isinstance(caught.value, gopcast.OutOfRange)
    assert (caught.value.code, str(caught.value)) == (code, message)
    assert "video.crf" in message

    t = gopcast.Template.load("default-mp4")
    with pytest.raises(gopcast.OutOfRange) as caught:
        t.video.crf = 70
    assert str(caught.value) == "default-mp4: video.crf: 70 is out of range 0..51"
    assert t.video.crf == gopcast.Template.load("default-mp4").video.crf  # unchanged
    before = t.to_toml()
    for key, value, cls in [("video.crff", 1, gopcast.InvalidKey), ("video.crf", "x", gopcast.InvalidKey),
                            ("container.format", "avi", gopcast.OutOfRange), ("audio.channels", 6, gopcast.OutOfRange)]:
        with pytest.raises(cls, match=key.replace(".", r"\.")):
            t[key] = value
    assert t.to_toml() == before


def test_keys_that_only_conflict_together_are_set_together():
    t = gopcast.Template.load("android-mp4-480p")
    with pytest.raises(gopcast.Incompatible, match="bitrate = 0"):
        t.video.crf = 20
    t.update({"video.bitrate": 0, "video.crf": 20})
    assert (t.video.crf, t.video.bitrate) == (20, None)
    del t["video.crf"]
    assert t.video.crf is None
    with pytest.raises(gopcast.Incompatible, match="m3u8"):
        t.hls.encryption = "aes-128"
    hls = gopcast.Template.load("ios-hls-360p")
    hls.hls.encryption = "aes-128"
    hls.hls.key_rotation = 10
    assert hls.to_dict()["hls"]["encryption"] == "aes-128" and hls.hls.key_rotation == 10


def test_save_round_trips_through_the_cli(tmp_path):
    t = gopcast.Template(base="ios-hls-360p", overrides={"video": {"preset": "veryfast"}}, name="mine")
    t.mux.hls_segment_seconds = 4
    t.video.fps = "30000/1001"
    assert t.changed
    path = tmp_path / "mine.toml"
    t.save(path)
    assert not t.changed and t.path == path
    assert cli_show(path).strip() == t.to_toml().strip()
    again = gopcast.Template.load(path)
    assert again == t and again.video.fps == "30000/1001" and again.mux.hls_segment_seconds == 4


def test_groups_list_their_keys_for_completion():
    t = gopcast.Template()
    # Every key a fully populated template has is an attribute of its group.
    t.update({"video.crf": 20, "video.maxrate": 1000, "video.bufsize": 2000, "video.width": 640, "video.height": 360,
              "video.fps": 25, "video.gop": 48, "audio.bitrate": 96, "audio.sample_rate": 44100, "audio.channels": 2})
    for group, keys in t.to_dict().items():
        if isinstance(keys, dict) and group != "container":
            view = getattr(t, group)
            for key in keys:
                assert key in dir(view), (group, key)
                assert getattr(view, key) == keys[key]
    assert "0..51" in type(t.video).crf.__doc__


def test_unknown_template_is_a_lookup_error_with_the_cli_message():
    code, message = cli_error("templates", "show", "no-such-template")
    with pytest.raises(LookupError) as caught:
        gopcast.Template.load("no-such-template")
    assert (caught.value.code, str(caught.value)) == (code, message)


def test_syntax_errors_name_file_line_and_column(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[video]\ncrf = = 3\n')
    code, message = cli_error("templates", "show", bad)
    with pytest.raises(gopcast.SpecSyntax) as caught:
        gopcast.Template.load(bad)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.code, str(caught.value)) == (code, message)
    assert f"{bad}:2:" in str(caught.value)
