"""Bad input gets one clear line, a stable code, a distinct exit status, and loses nothing."""
import json
import signal
import subprocess
import time

import h5py
import pytest

from conftest import BIN, media, run_gopcast

GOOD = "me-other-480p.mp4"


def error_table():
    proc = run_gopcast("errors", "--json")
    return {e["code"]: e["exit_status"] for e in json.loads(proc.stdout)}


def assert_clean_failure(proc, code, mentions, outdir):
    """One stderr line with the code and the named file/key; the documented status; nothing written."""
    table = error_table()
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"gopcast: error: {code}: "), lines[0]
    for m in mentions:
        assert m in lines[0], (m, lines[0])
    assert proc.returncode == table[code], (proc.returncode, code)
    assert list(outdir.iterdir()) == [], "partial output left behind"


def test_error_codes_are_distinct_and_stable():
    table = error_table()
    assert len(set(table.values())) == len(table)
    assert 0 not in table.values()
    for code in ("InvalidParameter.ResourceNotFound", "InvalidParameter.ResourceContentBad", "InvalidParameter.OutOfRange",
                 "InvalidParameter.TemplateNotFound", "InvalidParameter.UnsupportedCodec",
                 "InvalidParameter.OutputNotWritable", "InvalidParameter.InvalidKey"):
        assert code in table


def make_inputs(d):
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is a text file, not a video\n")
    src = media("bbb-480p-30s.mp4").read_bytes()
    (d / "cut-index-at-end.mp4").write_bytes(src[: len(src) // 3])
    faststart = d / "faststart.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(media("bbb-480p-30s.mp4")), "-c", "copy", "-movflags",
                    "+faststart", str(faststart)], check=True)
    data = faststart.read_bytes()
    (d / "cut-index-at-front.mp4").write_bytes(data[: len(data) // 2])
    # A Matroska file whose video codec ID no decoder knows.
    mkv = d / "x.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(media(GOOD)), "-t", "1", "-c", "copy", str(mkv)], check=True)
    raw = mkv.read_bytes()
    i = raw.index(b"V_MPEG4/ISO/AVC")
    (d / "unknown-codec.mkv").write_bytes(raw[:i] + b"V_GOPCAST/NONE!" + raw[i + 15:])
    (d / "notafolder").write_text("x")


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad-inputs")
    make_inputs(d)
    return d


@pytest.mark.parametrize("name,code", [
    ("missing.mp4", "InvalidParameter.ResourceNotFound"),
    ("empty.mp4", "InvalidParameter.ResourceContentBad"),
    ("text.mp4", "InvalidParameter.ResourceContentBad"),
    ("cut-index-at-end.mp4", "InvalidParameter.ResourceContentBad"),
    ("cut-index-at-front.mp4", "InvalidParameter.ResourceContentBad"),
    ("unknown-codec.mkv", "InvalidParameter.UnsupportedCodec"),
])
def test_bad_input_files(bad, outdir, name, code):
    proc = run_gopcast("transcode", bad / name, "-o", outdir / "o.mp4", check=False)
    assert_clean_failure(proc, code, [name], outdir)


def test_truncated_input_says_where_it_ends(bad, outdir):
    proc = run_gopcast("transcode", bad / "cut-index-at-front.mp4", "-o", outdir / "o.mp4", check=False)
    assert "truncated" in proc.stderr and "30.0" in proc.stderr


@pytest.mark.parametrize("output,code,mention", [
    ("{tmp}/no/such/folder/o.mp4", "InvalidParameter.OutputNotWritable", "does not exist"),
    ("/proc/gopcast-test.mp4", "InvalidParameter.OutputNotWritable", "not writable"),
    ("{tmp}/notafolder/o.mp4", "InvalidParameter.OutputNotWritable", "notafolder"),
])
def test_unusable_output_location(bad, outdir, output, code, mention):
    proc = run_gopcast("transcode", media(GOOD), "-o", output.format(tmp=bad), check=False)
    assert_clean_failure(proc, code, [mention], outdir)


def test_output_may_not_overwrite_input(tmp_path, outdir):
    src = tmp_path / "in.mp4"
    src.write_bytes(media(GOOD).read_bytes())
    proc = run_gopcast("transcode", src, "-o", src, check=False)
    assert proc.returncode == error_table()["InvalidParameter.OutputNotWritable"]
    assert src.read_bytes() == media(GOOD).read_bytes()


@pytest.mark.parametrize("setting,code,key", [
    ("video.crf=99", "InvalidParameter.OutOfRange", "video.crf"),
    ("video.width=-5", "InvalidParameter.OutOfRange", "video.width"),
    ("mux.hls_segment_seconds=0.5", "InvalidParameter.OutOfRange", "mux.hls_segment_seconds"),
    ("video.codec=vp9", "InvalidParameter.OutOfRange", "video.codec"),
    ("audio.codec=opus", "InvalidParameter.OutOfRange", "audio.codec"),
    ("audio.channels=6", "InvalidParameter.OutOfRange", "audio.channels"),
    ("video.crff=20", "InvalidParameter.InvalidKey", "video.crff"),
    ("video.crf=high", "InvalidParameter.InvalidKey", "video.crf"),
    ("video.pix_fmt=yuv999p", "InvalidParameter.OutOfRange", "video.pix_fmt"),
    ("audio.sample_rate=12345", "InvalidParameter.OutOfRange", "audio.sample_rate"),
])
def test_template_values_out_of_range(outdir, setting, code, key):
    out = outdir / ("o.m3u8" if "hls" in setting else "o.mp4")
    proc = run_gopcast("transcode", media(GOOD), "-o", out, "--set", setting, check=False)
    assert_clean_failure(proc, code, [key], outdir)


def test_template_file_errors_name_file_line_and_column(tmp_path, outdir):
    t = tmp_path / "mine.toml"
    t.write_text('base = "default-mp4"\n[video]\ncrf = 70\n')
    proc = run_gopcast("transcode", media(GOOD), "-o", outdir / "o.mp4", "-t", t, check=False)
    assert_clean_failure(proc, "InvalidParameter.OutOfRange", [f"{t}:3:7", "video.crf"], outdir)
    t.write_text('[video\ncrf = 20\n')
    proc = run_gopcast("transcode", media(GOOD), "-o", outdir / "o.mp4", "-t", t, check=False)
    assert_clean_failure(proc, "InvalidParameter.SpecSyntax", [f"{t}:1:"], outdir)


def test_unknown_template_and_extension(outdir):
    proc = run_gopcast("transcode", media(GOOD), "-o", outdir / "o.mp4", "-t", "no-such-template", check=False)
    assert_clean_failure(proc, "InvalidParameter.TemplateNotFound", ["no-such-template"], outdir)
    proc = run_gopcast("transcode", media(GOOD), "-o", outdir / "o.xyz", check=False)
    assert_clean_failure(proc, "InvalidParameter.TemplateNotFound", [".xyz"], outdir)


def test_codec_the_container_cannot_hold(outdir):
    proc = run_gopcast("transcode", media(GOOD), "-o", outdir / "o.flv", "--set", "video.codec=h265", check=False)
    assert_clean_failure(proc, "InvalidParameter.Incompatible", ["h265", "flv"], outdir)


def test_stream_selector_that_matches_nothing(outdir):
    proc = run_gopcast("transcode", media(GOOD), "-o", outdir / "o.mp4", "--audio-stream", "0:a:3", check=False)
    assert_clean_failure(proc, "InvalidParameter.StreamNotFound", ["0:a:3"], outdir)


def test_usage_errors_are_one_line(outdir):
    proc = run_gopcast("transcode", media(GOOD), check=False)
    assert proc.returncode == error_table()["InvalidParameter.Usage"]
    assert len(proc.stderr.strip().splitlines()) == 1


def test_json_error_object(outdir):
    proc = run_gopcast("transcode", "nope.mp4", "-o", outdir / "o.mp4", "--json", check=False)
    err = json.loads(proc.stdout)["error"]
    assert err["code"] == "InvalidParameter.ResourceNotFound" and "nope.mp4" in err["message"]
    assert err["exit_status"] == proc.returncode


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_no_output_only_what_a_resume_needs(outdir, sig):
    # A 30 s input at the slowest preset runs far longer than the 2 s we wait.
    proc = subprocess.Popen([str(BIN), "transcode", "-q", str(media("bbb-480p-30s.mp4")), "-o", str(outdir / "o.mp4"),
                             "--set", "video.preset=veryslow"], stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    assert proc.poll() is None, "finished before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == error_table()["Cancelled"], err
    assert "cancelled" in err
    # Nothing at the output path and no staged output; the manifest (state cancelled)
    # and the hidden work folder stay so that the same command resumes.
    assert sorted(p.name for p in outdir.iterdir()) == [".o.mp4.gopcast-work", "o.mp4.manifest.h5"]
    with h5py.File(outdir / "o.mp4.manifest.h5") as f:
        assert f.attrs["state"] == "cancelled"
        assert b"running" not in set(f["segments"]["status"])
