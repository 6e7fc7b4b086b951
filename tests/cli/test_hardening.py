"""Hardening (issue 17): inputs users really have, and no reads where they do not belong.

The conformance list, one case per line; every input is derived at test time from the
shared media, never committed:

  special files   a FIFO with no writer, /dev/zero, a FIFO named in a job: refused at
                  once (exit 4) unless the job allows special files
  HLS inclusion   a local playlist whose segment is ../ outside its folder, an absolute
                  path elsewhere, a file:// URL elsewhere, a FIFO beside it, a later
                  segment outside (not only the first): refused naming the URI; the same
                  playlist opens with [input] hls_allow naming that folder
"""
import json
import os
import shutil
import subprocess

import pytest

from conftest import decoded_frames, run_gopcast
from test_errors import assert_clean_failure


@pytest.fixture(scope="module")
def hls(tmp_path_factory, derived):
    """A 4-segment local HLS in its own folder and a fifth segment in a sibling folder."""
    clip = derived("hardening-clip.mp4", ["-t", "8", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast",
                                          "-g", "24", "-an"])
    root = tmp_path_factory.mktemp("hls")
    (root / "show").mkdir()
    (root / "elsewhere").mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(clip), "-c", "copy", "-f", "hls", "-hls_time", "2",
                    "-hls_list_size", "0", "-hls_segment_filename", str(root / "show" / "s%d.ts"), str(root / "show" / "ok.m3u8")],
                   check=True)
    shutil.copy(root / "show" / "s3.ts", root / "elsewhere" / "secret.ts")
    return root


def playlist(folder, name, uris):
    text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
    for u in uris:
        text += f"#EXTINF:2.0,\n{u}\n"
    (folder / name).write_text(text + "#EXT-X-ENDLIST\n")
    return folder / name


def test_a_fifo_input_is_refused_at_once(tmp_path, outdir):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    proc = run_gopcast("transcode", fifo, "-o", outdir / "o.mp4", check=False, timeout=30)
    assert_clean_failure(proc, "InvalidParameter.ResourceContentBad", ["pipe.mp4", "FIFO", "special_files"], outdir)
    proc = run_gopcast("probe", fifo, check=False, timeout=30)
    assert proc.returncode == 4 and "FIFO" in proc.stderr


def test_a_device_input_is_refused(outdir):
    proc = run_gopcast("transcode", "/dev/zero", "-o", outdir / "o.mp4", check=False, timeout=30)
    assert_clean_failure(proc, "InvalidParameter.ResourceContentBad", ["/dev/zero", "character device"], outdir)


def test_a_fifo_named_in_a_job_is_refused(tmp_path, outdir):
    fifo = tmp_path / "pipe.ts"
    os.mkfifo(fifo)
    job = tmp_path / "job.toml"
    job.write_text(f'[input]\npath = {json.dumps(str(fifo))}\n[[outputs]]\npath = {json.dumps(str(outdir / "o.mp4"))}\n')
    proc = run_gopcast("run", job, check=False, timeout=30)
    assert_clean_failure(proc, "InvalidParameter.ResourceContentBad", ["FIFO"], outdir)


@pytest.mark.parametrize("case", ["dotdot", "absolute", "file-url", "later-segment"])
def test_a_playlist_may_not_read_outside_its_folder(hls, outdir, case):
    show = hls / "show"
    secret = hls / "elsewhere" / "secret.ts"
    uri = {"dotdot": "../elsewhere/secret.ts", "absolute": str(secret), "file-url": f"file://{secret}",
           "later-segment": "../elsewhere/secret.ts"}[case]
    uris = ["s0.ts", "s1.ts", "s2.ts", uri] if case == "later-segment" else [uri, "s1.ts"]
    evil = playlist(show, f"evil-{case}.m3u8", uris)
    proc = run_gopcast("transcode", evil, "-o", outdir / "o.mp4", check=False)
    assert_clean_failure(proc, "InvalidParameter.ResourceContentBad", [evil.name, uri, "outside the playlist's folder"], outdir)


def test_a_fifo_beside_a_playlist_is_refused(hls, outdir):
    show = hls / "show"
    fifo = show / "fifo.ts"
    if not fifo.exists():
        os.mkfifo(fifo)
    evil = playlist(show, "evil-fifo.m3u8", ["fifo.ts", "s1.ts"])
    proc = run_gopcast("transcode", evil, "-o", outdir / "o.mp4", check=False, timeout=30)
    assert_clean_failure(proc, "InvalidParameter.ResourceContentBad", ["fifo.ts", "FIFO"], outdir)


def test_a_playlist_inside_its_folder_and_one_widened_by_the_job_both_transcode(hls, tmp_path):
    show = hls / "show"
    out = tmp_path / "ok.mp4"
    run_gopcast("transcode", show / "ok.m3u8", "-o", out)
    assert decoded_frames(out) == 192
    widened = playlist(show, "widened.m3u8", ["s0.ts", "s1.ts", "s2.ts", "../elsewhere/secret.ts"])
    job = tmp_path / "job.toml"
    job.write_text(f'[input]\npath = {json.dumps(str(widened))}\nhls_allow = [{json.dumps(str(hls / "elsewhere"))}]\n'
                   f'[[outputs]]\npath = {json.dumps(str(tmp_path / "w.mp4"))}\n')
    run_gopcast("run", job)
    assert decoded_frames(tmp_path / "w.mp4") == 192
