"""gopcast.probe gives what `gopcast probe --json` prints, as plain Python objects, and
its figures are ffprobe's."""
import json
import subprocess
from fractions import Fraction

import pytest

import gopcast
from conftest import BIN, MEDIA, ffprobe

FILES = ["bbb-480p-30s.mp4", "me-other-480p.mp4", "me-echo-hereweare-vp8.webm", "me-grampa-vp6.flv", "me-xbox-wmv3.wmv"]


@pytest.mark.parametrize("name", FILES)
def test_same_as_the_cli_json(name):
    path = MEDIA / name
    cli = json.loads(subprocess.run([str(BIN), "probe", "--json", str(path)], capture_output=True, text=True,
                                    check=True).stdout)
    ours = gopcast.probe(path)
    assert ours == cli
    assert type(ours) is dict and type(ours["streams"]) is list  # plain objects, nothing to convert


@pytest.mark.parametrize("name", FILES)
def test_figures_are_ffprobes(name):
    path = MEDIA / name
    ours, theirs = gopcast.probe(str(path)), ffprobe(path)
    assert ours["format"]["name"] == theirs["format"]["format_name"]
    assert ours["format"]["duration"] == pytest.approx(float(theirs["format"]["duration"]), abs=1e-3)
    assert ours["format"]["size"] == int(theirs["format"]["size"])
    assert len(ours["streams"]) == len(theirs["streams"])
    for o, t in zip(ours["streams"], theirs["streams"]):
        assert o["type"] == t["codec_type"] and o["codec"] == t["codec_name"]
        if t["codec_type"] == "video":
            assert (o["width"], o["height"]) == (t["width"], t["height"])
            num, den = map(int, t["avg_frame_rate"].split("/"))  # ffprobe's 0/0: unknown (None)
            expected = None if num == 0 or den == 0 else Fraction(num, den)
            assert (o["avg_frame_rate"] and Fraction(o["avg_frame_rate"])) == expected
        if t["codec_type"] == "audio":
            assert (o["sample_rate"], o["channels"]) == (int(t["sample_rate"]), t["channels"])


def test_accepts_pathlike_and_an_empty_file_is_not_media(tmp_path):
    import pathlib
    info = gopcast.probe(pathlib.Path(MEDIA) / "bbb-480p-30s.mp4")
    assert info["streams"][0]["width"] == 854
    with pytest.raises(gopcast.ResourceContentBad, match="empty"):
        empty = tmp_path / "empty.mp4"
        empty.write_bytes(b"")
        gopcast.probe(empty)
