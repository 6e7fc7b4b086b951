"""gopcast-mpi under real MPI runs (mpirun -n 1, 2, 3 on this machine).

The oracle is the ffmpeg tool (per-frame MD5, stream MD5) and h5py for the manifest.
"""
import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import h5py
import pytest

from conftest import BIN, MEDIA, decoded_frames

MPI_BIN = Path(os.environ.get("GOPCAST_MPI_BIN", BIN.parent.parent / "mpi" / "gopcast-mpi"))
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]


def mpirun(n, job, *args, timeout=600):
    return subprocess.run([*MPIRUN, "-n", str(n), str(MPI_BIN), str(job), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def write_job(folder, source, out_name, segment_seconds, template=None):
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["[input]", f'path = "{source}"', "[[outputs]]", f'path = "{folder / out_name}"']
    if template:
        lines.append(f'template = "{template}"')
    lines += ["[parallel]", f"segment_seconds = {segment_seconds}"]
    job = folder / "job.toml"
    job.write_text("\n".join(lines) + "\n")
    return job


def frame_md5s(path):
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def video_md5(path):
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "md5", "-"],
                          capture_output=True, text=True, check=True).stdout.strip()


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def long_input(tmp_path_factory):
    """90 s of bbb (looped, stream copy): long enough to interrupt part-way."""
    path = tmp_path_factory.mktemp("mpi-media") / "long.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "2", "-i", str(MEDIA / "bbb-480p-30s.mp4"), "-c", "copy",
                    str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def open_gop_ts(tmp_path_factory):
    path = tmp_path_factory.mktemp("mpi-media") / "mpeg2-open-gop.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(MEDIA / "bbb-480p-30s.mp4"), "-t", "12", "-c:v", "mpeg2video",
                    "-g", "12", "-bf", "2", "-q:v", "5", "-c:a", "mp2", "-f", "mpegts", str(path)], check=True)
    return path


@pytest.mark.parametrize("ranks", [1, 2, 3, 5])
def test_lossless_output_has_every_source_frame_once(tmp_path, ranks):
    src = MEDIA / "bbb-480p-30s.mp4"
    job = write_job(tmp_path, src, "out.mkv", 4)
    r = mpirun(ranks, job, "--set", "video.qp=0", "--set", "video.preset=ultrafast", "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["parallel"]["engine"] == "mpi" and result["parallel"]["workers"] == ranks
    assert result["parallel"]["segments"] >= 4
    assert frame_md5s(tmp_path / "out.mkv") == frame_md5s(src)


def test_open_gop_mpeg2_in_ts_is_frame_exact_on_three_ranks(tmp_path, open_gop_ts):
    job = write_job(tmp_path, open_gop_ts, "out.mkv", 2)
    r = mpirun(3, job, "--set", "video.qp=0", "--set", "video.preset=ultrafast")
    assert r.returncode == 0, r.stderr
    assert frame_md5s(tmp_path / "out.mkv") == frame_md5s(open_gop_ts)


def test_video_is_byte_identical_for_any_rank_count_and_the_local_engine(tmp_path):
    src = MEDIA / "bbb-480p-30s.mp4"
    digests = {}
    for ranks in (1, 2, 3):
        job = write_job(tmp_path / f"r{ranks}", src, "out.mp4", 4)
        r = mpirun(ranks, job)
        assert r.returncode == 0, r.stderr
        digests[f"mpi{ranks}"] = video_md5(tmp_path / f"r{ranks}" / "out.mp4")
    local = write_job(tmp_path / "local", src, "out.mp4", 4)
    subprocess.run([str(BIN), "run", str(local), "-n", "2", "-q"], check=True, capture_output=True)
    digests["local2"] = video_md5(tmp_path / "local" / "out.mp4")
    assert len(set(digests.values())) == 1, digests


def test_manifest_is_written_by_rank_zero_with_ranks_and_hosts(tmp_path):
    job = write_job(tmp_path, MEDIA / "bbb-480p-30s.mp4", "out.mp4", 4)
    r = mpirun(3, job, "--json")
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "out.mp4.manifest.h5") as f:
        assert f.attrs["engine"] == "mpi" and f.attrs["state"] == "done" and f.attrs["workers"] == 3
        rows = f["segments"][:]
        assert set(rows["status"]) == {b"done"}
        assert set(rows["rank"]) <= {0, 1, 2}
        assert all(h == os.uname().nodename.encode() for h in rows["host"])
        assert rows["frames"].sum() == 720


def rank_pids(job):
    """pid of each gopcast-mpi rank of this job, from OMPI_COMM_WORLD_RANK in its environment."""
    out = {}
    for pid in subprocess.run(["pgrep", "-f", f"gopcast-mpi {job}"], capture_output=True, text=True).stdout.split():
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for kv in env:
            if kv.startswith(b"OMPI_COMM_WORLD_RANK="):
                out[int(kv.split(b"=")[1])] = int(pid)
    return out


def wait_for_rows(manifest, predicate, proc, timeout=240):
    """Polls the manifest (atomically replaced, so always whole) until predicate(rows)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "the job ended before it could be interrupted"
        if manifest.exists():
            with h5py.File(manifest) as f:
                rows = f["segments"][:]
            if predicate(rows):
                return rows
        time.sleep(0.2)
    raise AssertionError("the job never reached the state to interrupt it in")


def reference_output(tmp_path, src):
    """The same job (same output file name), uninterrupted, by the local engine."""
    job = write_job(tmp_path / "reference", src, "out.mp4", 5, "android-mp4-480p")
    subprocess.run([str(BIN), "run", str(job), "-n", "2", "-q", "--set", "video.preset=veryfast"], check=True,
                   capture_output=True)
    return tmp_path / "reference" / "out.mp4"


def start_job(tmp_path, src, ranks):
    """A job on `ranks` ranks, started in the background: (folder, job, manifest, command, process)."""
    folder = tmp_path / "job"
    job = write_job(folder, src, "out.mp4", 5, "android-mp4-480p")
    cmd = [*MPIRUN, "-n", str(ranks), str(MPI_BIN), str(job), "--set", "video.preset=veryfast"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return folder, job, folder / "out.mp4.manifest.h5", cmd, proc


def test_killed_worker_rank_is_named_and_resume_gives_identical_output(tmp_path, long_input):
    folder, job, manifest, cmd, proc = start_job(tmp_path, long_input, 3)
    rows = wait_for_rows(manifest, lambda r: any((r["rank"] == 2) & (r["status"] == b"running")), proc)
    victim = rank_pids(job)[2]
    os.kill(victim, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    lines = [line for line in err.splitlines() if line.startswith("gopcast-mpi: error:")]
    assert len(lines) == 1, err
    assert f"InternalError.TranscodeFailed: rank 2 (pid {victim} on " in lines[0]
    assert "died while encoding segment" in lines[0]
    held = [int(r["index"]) for r in rows if r["rank"] == 2 and r["status"] == b"running"]
    assert int(lines[0].split("segment ")[1].split(" ")[0]) in held
    assert not (folder / "out.mp4").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".out.mp4.gopcast-") and "work" not in p.name]
    with h5py.File(manifest) as f:
        assert f.attrs["state"] == "failed"
        assert b"running" not in set(f["segments"]["status"])

    r = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert sha256(folder / "out.mp4") == sha256(reference_output(tmp_path, long_input))


def test_sigterm_to_mpirun_cancels_and_the_rerun_resumes(tmp_path, long_input):
    folder, job, manifest, cmd, proc = start_job(tmp_path, long_input, 2)
    wait_for_rows(manifest, lambda r: (r["status"] == b"done").sum() >= 2, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "gopcast-mpi: error: Cancelled:" in err
    assert not (folder / "out.mp4").exists()
    with h5py.File(manifest) as f:
        assert f.attrs["state"] == "cancelled"
        done = int((f["segments"]["status"] == b"done").sum())
    assert done >= 2

    r = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["parallel"]["resumed_segments"] == done
    assert sha256(folder / "out.mp4") == sha256(reference_output(tmp_path, long_input))
    with h5py.File(manifest) as f:
        assert f.attrs["state"] == "done"
        assert int(f["segments"]["attempts"].sum()) >= len(f["segments"])


def test_bad_job_is_reported_once_by_rank_zero(tmp_path):
    job = write_job(tmp_path, tmp_path / "missing.mp4", "out.mp4", 4)
    r = mpirun(3, job)
    lines = [line for line in r.stderr.splitlines() if line.startswith("gopcast-mpi: error:")]
    assert lines == [f"gopcast-mpi: error: InvalidParameter.ResourceNotFound: {tmp_path / 'missing.mp4'}: no such file"] or (
        len(lines) == 1 and "ResourceNotFound" in lines[0] and "missing.mp4" in lines[0]), r.stderr
    assert r.returncode == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.toml"]


def test_a_locked_output_fails_at_once_or_is_waited_for_with_wait_lock(tmp_path):
    """Another run holds the output's lock (here: this test, as a run would hold it)."""
    import fcntl
    source = tmp_path / "src.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-t", "3", "-i", str(MEDIA / "bbb-480p-30s.mp4"), "-vf", "scale=320:180",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "24", "-an", str(source)], check=True)
    job = write_job(tmp_path / "out", source, "o.mp4", 1)
    lock = tmp_path / "out" / ".o.mp4.gopcast-lock"
    holder = open(lock, "w")
    fcntl.flock(holder, fcntl.LOCK_EX)
    holder.write("pid 4242 on elsewhere, Slurm job 77\n")
    holder.flush()
    r = mpirun(2, job)
    lines = [line for line in r.stderr.splitlines() if line.startswith("gopcast-mpi: error:")]
    assert r.returncode == 23 and len(lines) == 1, r.stderr
    assert "ResourceInUse.OutputLocked" in lines[0] and "pid 4242 on elsewhere, Slurm job 77" in lines[0], lines[0]
    waiting = subprocess.Popen([*MPIRUN, "-n", "2", str(MPI_BIN), str(job), "--wait-lock", "-q"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    assert waiting.poll() is None, "--wait-lock did not wait"
    holder.close()
    assert waiting.wait(timeout=300) == 0, waiting.stderr.read()
    assert decoded_frames(tmp_path / "out" / "o.mp4") == 72
    assert not lock.exists()
