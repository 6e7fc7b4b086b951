"""Hardening (issue 17): inputs users really have, concurrent runs, clean failure, and no
reads or requests where they do not belong.

The conformance list, one case per line; every input is derived at test time from the
shared media, never committed:

  edit lists      MP4 and MOV cut with `ffmpeg -ss T -c copy` at 0.9, 3.3, 5.1 and 7.7 s
                  (inside 2 s GOPs with B-frames), with and without audio, in 2 s
                  segments, losslessly: every frame's MD5 equals the ffmpeg tool's decode
                  of the cut file, the audio spans what ffmpeg decodes within an AAC frame
  special files   a FIFO with no writer, /dev/zero, a FIFO named in a job: refused at
                  once (exit 4) unless the job allows special files; a FIFO in a batch
                  folder is skipped with a warning naming it (test_slurm.py)
  output lock     a second run of the same output fails at once (exit 23) naming the
                  first (pid, host); with --wait-lock it waits and then succeeds; the lock
                  of a killed holder is taken over; no lock file is left behind; the
                  same on 2 MPI ranks (test_mpi.py) and from Python (wait_lock=,
                  python-bindings/tests/test_run.py)
  HLS inclusion   a local playlist whose segment is ../ outside its folder, an absolute
                  path elsewhere, a file:// URL elsewhere, a FIFO beside it, a later
                  segment outside (not only the first): refused naming the URI; the same
                  playlist opens with [input] hls_allow naming that folder
  damaged media   24 WMA files with 40 bytes each overwritten (seeded, so the same every
                  run): each either transcodes to audio that decodes cleanly or fails with
                  ResourceContentBad (exit 4) naming the file, stream and time; never
                  TranscodeFailed (exit 20), never a partial output
  full disk       an output folder on a 3 MiB file system (tmpfs; where mounting is not
                  allowed, a 3 MiB file-size limit): OutputNotWritable (exit 12) naming
                  the reason, and the file system is left as empty as it was: no work
                  folder, no manifest, no staging, no lock
  killed run      a run SIGKILLed mid-encode leaves its staging folder; the next run of
                  the same output removes it and leaves only the output and manifest
  killed publish  a two-output job killed after its first rename (GOPCAST_FAILPOINT=
                  publish:1) has published one output and left its journal; the next run
                  completes the publication, both outputs decode, no journal is left;
                  a failed rename takes back the other outputs, a journal planted by
                  someone else or naming a file outside its staging moves nothing
                  (unit: PublishTogether.*)

Elsewhere, for the same issue:

  resume phases   a run whose segments all came from an earlier run: phases never
                  negative, resumed_segments recorded (test_parallel.py; unit:
                  ManifestPhases.NeverNegativeAndOnlyThosePassed)
  webhooks        loopback and private addresses refused unless notify.allow names
                  them, link-local metadata (169.254.169.254, fe80::, fd00:ec2::254)
                  never, IPv4-mapped and NAT64 forms classed as the IPv4 inside, no
                  proxy, one resolution per delivery (unit: Address.*, Deliver.*,
                  Pipeline.WebhookAddressesFollowTheAllowPolicy)
  serve           dotfiles, work and staging folders, manifests, job files and keys no
                  playlist names are 404 (unit: ServeSite.ServesOnlyWhatPlayersNeed);
                  200 idle connections do not keep a real request out, slow request
                  heads get 408 (unit: ServeServer.*)
"""
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import time

import pytest

from conftest import BIN, audio_span, decode_errors, decoded_frames, frame_md5s, media, run_gopcast
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


@pytest.mark.parametrize("cut,container,audio", [(3.3, "mp4", True), (5.1, "mov", True), (0.9, "mp4", False),
                                               (7.7, "mov", False)])
def test_an_edit_list_that_starts_inside_a_gop_is_cut_frame_exact(derived, tmp_path, cut, container, audio):
    """Issue 17 item 1: `ffmpeg -ss T -i in.mp4 -c copy` files failed every time ('decoded 208
    frames of the 240 its span holds'): the frames before the edit were counted as shown."""
    gops = derived("hardening-gops.mp4", ["-t", "12", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "veryfast",
                                          "-g", "48", "-keyint_min", "48", "-sc_threshold", "0", "-c:a", "aac", "-b:a", "64k"])
    src = tmp_path / f"cut.{container}"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-ss", str(cut), "-i", str(gops), "-c", "copy",
                    *([] if audio else ["-an"]), str(src)], check=True)
    discarded = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=flags", "-of", "csv=p=0",
                                str(src)], capture_output=True, text=True, check=True).stdout.count("D")
    assert discarded > 0, "the cut file has no frames hidden by its edit list: the test proves nothing"
    out = tmp_path / "out.mp4"
    run_gopcast("transcode", src, "-o", out, "-q", "--segment-seconds", "2", "--set", "video.preset=ultrafast",
                "--set", "video.crf=0")
    assert frame_md5s(out) == frame_md5s(src)  # lossless: the same pictures, none missing, none extra
    if audio:
        (start, end), (src_start, src_end) = audio_span(out), audio_span(src)
        assert abs(start - src_start) < 0.03 and abs(end - src_end) <= 1024 / 48000 + 1e-3, ((start, end), (src_start, src_end))
    assert sorted(p.name for p in tmp_path.iterdir()) == [src.name, "out.mp4", "out.mp4.manifest.h5"]


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


def start_run(source, out, *extra):
    return subprocess.Popen([str(BIN), "transcode", str(source), "-o", str(out), "-q", "--workers", "1", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path, proc, seconds=60):
    deadline = time.time() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def holding_the_lock(tmp_path):
    """A slow run of o.mp4 that holds its lock by now: (source, output, lock file, process)."""
    source = media("bbb-480p-30s.mp4")
    out = tmp_path / "o.mp4"
    lock = tmp_path / ".o.mp4.gopcast-lock"
    proc = start_run(source, out, "--set", "video.preset=medium")
    wait_for(lock, proc)
    return source, out, lock, proc


def test_one_run_per_output_the_second_fails_naming_the_first_or_waits(tmp_path):
    source, out, lock, first = holding_the_lock(tmp_path)
    second = run_gopcast("transcode", source, "-o", out, check=False, timeout=60)
    lines = second.stderr.strip().splitlines()
    assert second.returncode == 23 and len(lines) == 1, second.stderr
    assert lines[0].startswith("gopcast: error: ResourceInUse.OutputLocked: ") and f"pid {first.pid} on " in lines[0], lines[0]
    assert "--wait-lock" in lines[0]
    waiting = start_run(source, out, "--wait-lock")
    time.sleep(1)
    assert waiting.poll() is None, "--wait-lock did not wait"
    assert first.wait(timeout=600) == 0, first.stderr.read()
    assert waiting.wait(timeout=600) == 0, waiting.stderr.read()
    assert decoded_frames(out) == decoded_frames(source) and decode_errors(out) == ""
    assert not lock.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.mp4", "o.mp4.manifest.h5"]


def test_the_lock_of_a_killed_run_is_taken_over(tmp_path):
    source, out, lock, killed = holding_the_lock(tmp_path)
    killed.kill()
    killed.wait()
    assert lock.exists()  # a SIGKILL leaves the file; the kernel released its flock
    run_gopcast("transcode", source, "-o", out, "--set", "video.preset=ultrafast")
    assert decoded_frames(out) == decoded_frames(source)
    assert not lock.exists()


def test_damaged_media_is_the_inputs_fault_named_with_stream_and_time(derived, tmp_path):
    """Issue 17 item 7: a corrupt WMA packet failed as InternalError.TranscodeFailed (exit 20,
    'avcodec_send_packet: Operation not permitted'); so did timestamps going back."""
    source = derived("hardening-audio.wma", ["-t", "10", "-vn", "-ac", "2", "-c:a", "wmav2", "-b:a", "64k"]).read_bytes()
    failed = []
    for seed in range(24):
        rng = random.Random(seed)
        damaged = bytearray(source)
        for _ in range(40):
            damaged[rng.randrange(len(damaged) // 4, len(damaged))] = rng.randrange(256)
        src = tmp_path / f"damaged-{seed}.wma"
        src.write_bytes(damaged)
        out = tmp_path / f"out-{seed}"
        out.mkdir()
        proc = run_gopcast("transcode", src, "-o", out / "a.m4a", check=False, timeout=120)
        if proc.returncode == 0:
            assert decode_errors(out / "a.m4a") == "", seed
            continue
        last = proc.stderr.strip().splitlines()[-1]
        assert proc.returncode == 4, (seed, proc.stderr)
        assert last.startswith("gopcast: error: InvalidParameter.ResourceContentBad: " + str(src) + " stream 0 wmav2: "), last
        assert " s" in last and ("timestamps go back from" in last or "cannot decode the data at" in last), last
        assert list(out.iterdir()) == [], "partial output left behind"
        failed.append(seed)
    assert failed, "no damaged file failed: the damage no longer reaches the decoder, the test proves nothing"


@pytest.fixture
def small_fs(tmp_path):
    """A folder that takes 3 MiB: a tmpfs of that size, or (where mounting is not allowed) a
    folder whose writers run under a 3 MiB file-size limit. Yields (folder, preexec)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], capture_output=True).returncode == 0

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (3 << 20, 3 << 20))

    try:
        yield folder, None if mounted else limit
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_fails_cleanly_and_leaves_the_disk_as_it_was(small_fs):
    """Issue 17 item 5: a full disk left the work folder and manifest on the full file system."""
    folder, preexec = small_fs
    cmd = [str(BIN), "transcode", str(media("bbb-480p-30s.mp4")), "-o", str(folder / "o.mp4"), "-q", "--workers", "2",
           "--set", "video.preset=ultrafast", "--set", "video.crf=14"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, preexec_fn=preexec)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 12 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("gopcast: error: InvalidParameter.OutputNotWritable: "), lines[0]
    assert "No space left on device" in lines[0] or "File too large" in lines[0], lines[0]
    assert sorted(p.name for p in folder.iterdir()) == [], "left on the full file system"


def test_the_next_run_removes_what_a_killed_run_staged(tmp_path):
    source = media("bbb-480p-30s.mp4")
    out = tmp_path / "o.mp4"
    killed = start_run(source, out, "--set", "video.preset=medium")
    wait_for(tmp_path / ".o.mp4.gopcast-work", killed)
    killed.kill()
    killed.wait()
    staged = [p.name for p in tmp_path.iterdir() if p.name.startswith(".o.mp4.gopcast-") and p.name[15:16].isdigit()]
    assert len(staged) == 1, sorted(p.name for p in tmp_path.iterdir())  # .o.mp4.gopcast-PID-RAND
    run_gopcast("transcode", source, "-o", out, "-q", "--set", "video.preset=ultrafast")
    assert decoded_frames(out) == decoded_frames(source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.mp4", "o.mp4.manifest.h5"]


def test_a_job_killed_while_publishing_is_published_whole_by_the_next_run(tmp_path, derived):
    """Issue 17 item 6: a run killed between renames published one output of a failed job."""
    source = derived("hardening-publish.mp4", ["-t", "4", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast",
                                               "-g", "24", "-c:a", "aac", "-b:a", "64k"])
    out = tmp_path / "out"
    out.mkdir()
    job = tmp_path / "job.toml"
    job.write_text(f"""[input]
path = {json.dumps(str(source))}
[[outputs]]
path = {json.dumps(str(out / "a.mp4"))}
template = "default-mp4"
[outputs.override.video]
preset = "ultrafast"
[[outputs]]
path = {json.dumps(str(out / "b.m3u8"))}
template = "default-m3u8"
[outputs.override.video]
preset = "ultrafast"
[outputs.override.mux]
hls_segment_seconds = 2
""")
    killed = run_gopcast("run", job, check=False, env={**os.environ, "GOPCAST_FAILPOINT": "publish:1"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = sorted(p.name for p in out.iterdir())
    assert "a.mp4" in left and "b.m3u8" not in left, left  # what a kill here used to leave published
    assert ".a.mp4.gopcast-publish" in left, left
    again = run_gopcast("run", job)
    assert "completed the publication of a run killed while publishing" in again.stderr, again.stderr
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.startswith(".")], names  # no journal, staging, work folder or lock
    assert "a.mp4" in names and "b.m3u8" in names and len([n for n in names if n.endswith(".ts")]) == 2, names
    for o in ("a.mp4", "b.m3u8"):
        assert decoded_frames(out / o) == 96 and decode_errors(out / o) == "", o
