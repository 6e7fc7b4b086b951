"""Pipelines and jobs on a real Slurm: the dev cluster of slurm/dev-cluster.sh
(munged, slurmctld and slurmd on this machine), real sbatch/squeue/scontrol, real
gopcast-mpi runs inside the allocations, a real HTTP receiver for the webhooks.
Outputs are checked with ffprobe, webhook signatures with Python's own hmac.
"""
import fcntl
import hashlib
import hmac
import http.server
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from conftest import BIN, ROOT, decoded_frames, decode_errors

DEV_CLUSTER = ROOT / "slurm" / "dev-cluster.sh"
# One license pool per test pipeline (a site adds the same for its pipelines).
LICENSES = ["prio", "limit", "pausing", "arr", "requeue", "hooks", "cancel", "fail", "weird"]
WAIT = 240  # seconds any one job may take here (2 shared cores)


@pytest.fixture(scope="session")
def slurm_conf(tmp_path_factory):
    """Brings the dev cluster up (once per run, under a lock shared by xdist workers)."""
    spec = ",".join(f"gopcast_t_{n}:1000" for n in LICENSES)
    with open("/tmp/gopcast-dev-cluster.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(["bash", str(DEV_CLUSTER), "up"], check=True, capture_output=True, text=True, timeout=180)
        env_line = subprocess.run(["bash", str(DEV_CLUSTER), "env"], check=True, capture_output=True, text=True).stdout
        conf = env_line.strip().split("=", 1)[1].strip("'\"")
        env = dict(os.environ, SLURM_CONF=conf)
        have = subprocess.run(["scontrol", "-o", "show", "licenses"], capture_output=True, text=True, env=env).stdout
        if any(f"LicenseName=gopcast_t_{n} " not in have for n in LICENSES):
            subprocess.run(["bash", str(DEV_CLUSTER), "licenses", spec], check=True, capture_output=True, text=True,
                           timeout=120)
    return conf


class Home:
    """A job store (GOPCAST_HOME) with its own pipelines, and the commands run against it."""

    def __init__(self, path, conf):
        self.path = path
        (path / "pipelines").mkdir(parents=True)
        self.env = dict(os.environ, GOPCAST_HOME=str(path), SLURM_CONF=conf,
                        GOPCAST_MPI_BIN=os.environ.get("GOPCAST_MPI_BIN", str(ROOT / "build" / "mpi" / "gopcast-mpi")))

    def pipeline(self, name, license_key=None, **slurm):
        """Writes a pipeline; returns its (unique per test) name."""
        slurm.setdefault("partition", "debug")
        slurm.setdefault("ranks", 1)
        lines = []
        notify = slurm.pop("notify", None)
        state = slurm.pop("state", "active")
        if license_key:
            slurm["license"] = f"gopcast_t_{license_key}"
        for k, v in slurm.items():
            lines.append(f"{k} = {json.dumps(v)}")
        text = f'description = "test"\nstate = "{state}"\n[slurm]\n' + "\n".join(lines) + "\n"
        if notify:
            text += "[notify]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in notify.items()) + "\n"
        (self.path / "pipelines" / f"{name}.toml").write_text(text)
        return name

    def run(self, *args, check=True, timeout=300):
        proc = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"gopcast {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    def json(self, *args, **kw):
        return json.loads(self.run(*args, "--json", **kw).stdout)

    def submit(self, job, pipeline, *extra):
        return self.json("submit", job, "--pipeline", pipeline, *extra)

    def wait(self, job_id, check=False):
        proc = self.run("jobs", "wait", job_id, "--timeout", WAIT, "--json", check=check, timeout=WAIT + 60)
        return proc, json.loads(proc.stdout)

    def show(self, job_id):
        return self.json("jobs", "show", job_id)

    def squeue(self, pipeline):
        out = subprocess.run(["squeue", "--noheader", "--array", "--name", f"gopcast-{pipeline}", "--format=%i|%T|%r"],
                             capture_output=True, text=True, env=self.env, check=True).stdout
        return [line.split("|") for line in out.splitlines() if line]


@pytest.fixture
def home(tmp_path, slurm_conf):
    return Home(tmp_path / "gopcast home", slurm_conf)


@pytest.fixture(scope="session")
def clips(derived):
    """Small and longer inputs (keyframe every second) so that jobs are quick but real."""
    small = derived("slurm-small.mp4", ["-t", "4", "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast",
                                        "-g", "24", "-c:a", "aac", "-b:a", "64k"])
    long = derived("slurm-long.mp4", ["-t", "30", "-vf", "scale=640:360", "-c:v", "libx264", "-preset", "ultrafast",
                                      "-g", "24", "-c:a", "aac", "-b:a", "64k"])
    return {"small": small, "long": long}


def write_job(path, input_path, outdir, segment_seconds=2, preset="ultrafast", name="{name}.mp4"):
    path.write_text(
        f'[input]\npath = {json.dumps(str(input_path))}\n'
        f'[parallel]\nsegment_seconds = {segment_seconds}\n'
        f'[[outputs]]\npath = {json.dumps(str(outdir / name))}\ntemplate = "default-mp4"\n'
        f'[outputs.override.video]\npreset = "{preset}"\n')
    return path


def check_output(path, source):
    assert path.exists(), path
    assert decoded_frames(path) == decoded_frames(source)
    assert decode_errors(path) == ""


def start_order(home, ids):
    return sorted(ids, key=lambda i: home.show(i)["started_at"])


# --- pipelines ----------------------------------------------------------------------

def test_pipelines_list_show_pause_resume(home):
    home.pipeline("alpha", partition="debug", ranks=2, max_concurrent=3, license_key="limit", time_limit="1:00:00")
    home.pipeline("beta", partition="batch", state="paused")
    listed = home.json("pipelines", "list")
    assert [p["name"] for p in listed] == ["alpha", "beta"]
    alpha = listed[0]
    assert (alpha["state"], alpha["ranks"], alpha["max_concurrent"], alpha["license"]) == ("active", 2, 3, "gopcast_t_limit")
    assert listed[1]["state"] == "paused"
    assert home.json("pipelines", "pause", "alpha")["state"] == "paused"
    assert home.json("pipelines", "show", "alpha")["state"] == "paused"
    assert home.json("pipelines", "resume", "beta")["state"] == "active"
    text = home.run("pipelines", "list").stdout
    assert "alpha" in text and "paused" in text
    missing = home.run("pipelines", "show", "gamma", check=False)
    assert missing.returncode == 13 and "gamma" in missing.stderr and "alpha" in missing.stderr


def test_submit_errors_are_one_line_and_leave_no_record(home, clips, tmp_path):
    home.pipeline("errs")
    job = write_job(tmp_path / "job.toml", clips["small"], tmp_path)
    cases = [
        (["submit", job, "--pipeline", "nope"], 13, "nope"),
        (["submit", tmp_path / "missing.toml", "--pipeline", "errs"], 3, "missing.toml"),
        (["submit", write_job(tmp_path / "gone.toml", tmp_path / "gone.mp4", tmp_path), "--pipeline", "errs"], 3, "gone.mp4"),
        (["submit", job, "--pipeline", "errs", "--priority", "11"], 2, "priority"),
        (["jobs", "show", "20990101-000000-deadbeef"], 14, "20990101-000000-deadbeef"),
    ]
    for args, status, needle in cases:
        proc = home.run(*args, check=False)
        assert proc.returncode == status, (args, proc.stderr)
        assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert home.json("jobs", "list") == []
    # Slurm's own refusal (a partition it does not have) names sbatch and keeps nothing.
    home.pipeline("nopart", partition="nosuchpartition")
    proc = home.run("submit", job, "--pipeline", "nopart", check=False)
    assert proc.returncode == 21 and "sbatch" in proc.stderr and "partition" in proc.stderr.lower(), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert home.json("jobs", "list") == [] and list((home.path / "jobs").iterdir()) == []
    # A pipeline limit without the license pool in Slurm is refused before anything is submitted.
    home.pipeline("nolicense", max_concurrent=2)
    proc = home.run("submit", job, "--pipeline", "nolicense", check=False)
    assert proc.returncode == 21 and "Licenses=gopcast_nolicense:1000" in proc.stderr
    assert home.json("jobs", "list") == []


# --- jobs ---------------------------------------------------------------------------

def test_job_runs_to_success_with_record_and_manifest(home, clips, tmp_path):
    import h5py
    home.pipeline("basic", ranks=2)
    out = tmp_path / "out"
    out.mkdir()
    job = write_job(tmp_path / "job.toml", clips["small"], out, segment_seconds=1)
    rec = home.submit(job, "basic", "--user-data", "order 42")
    assert rec["state"] == "Submitted" and rec["slurm_job_id"] and rec["user_data"] == "order 42"
    proc, done = home.wait(rec["id"])
    assert proc.returncode == 0, done
    assert done["state"] == "TranscodeSuccess"
    assert [h["state"] for h in done["history"]] == ["Submitted", "Transcoding", "TranscodeSuccess"]
    assert done["submitted_at"] <= done["started_at"] <= done["finished_at"]
    output = out / "slurm-small.mp4"
    assert done["outputs"] == [str(output)]
    check_output(output, clips["small"])
    # gopcast-mpi ran on the job's two Slurm tasks, as the HDF5 manifest records.
    with h5py.File(done["manifest"], "r", locking=False) as m:
        assert m.attrs["state"] in (b"done", "done")
        assert m.attrs["engine"] in (b"mpi", "mpi") and int(m.attrs["workers"]) == 2
        assert len(m["segments"]["index"]) >= 4
        assert set(m["segments"]["rank"][:]) <= {0, 1}
        assert all(s == b"done" for s in m["segments"]["status"][:])
    listed = home.json("jobs", "list", "--pipeline", "basic", "--state", "TranscodeSuccess")
    assert [j["id"] for j in listed] == [rec["id"]]
    assert rec["id"] in home.run("jobs", "list").stdout


def test_priority_order_after_resume(home, clips, tmp_path):
    home.pipeline("prio", license_key="prio", max_concurrent=1)
    home.run("pipelines", "pause", "prio")
    priorities = [3, 9, 6, 1, 10, 6]
    ids = []
    for i, p in enumerate(priorities):
        out = tmp_path / f"out{i}"
        out.mkdir()
        rec = home.submit(write_job(tmp_path / f"job{i}.toml", clips["small"], out), "prio", "--priority", p)
        assert rec["held"] is True
        ids.append(rec["id"])
    time.sleep(3)
    queue = home.squeue("prio")
    assert len(queue) == 6 and all(state == "PENDING" and reason.startswith("JobHeld") for _, state, reason in queue), queue
    assert all(home.show(i)["state"] == "Submitted" for i in ids)
    home.run("pipelines", "resume", "prio")
    for i in ids:
        proc, done = home.wait(i)
        assert done["state"] == "TranscodeSuccess", done
    by_priority = sorted(range(6), key=lambda k: (-priorities[k], k))  # ties: first submitted first
    assert start_order(home, ids) == [ids[k] for k in by_priority]


def test_concurrency_limit_holds(home, clips, tmp_path):
    home.pipeline("limit", license_key="limit", max_concurrent=2)
    ids = []
    for i in range(5):
        out = tmp_path / f"out{i}"
        out.mkdir()
        ids.append(home.submit(write_job(tmp_path / f"job{i}.toml", clips["long"], out, segment_seconds=10), "limit")["id"])
    most, deadline = 0, time.time() + WAIT
    waiting_for_license = False
    while time.time() < deadline:
        queue = home.squeue("limit")
        running = sum(1 for _, state, _ in queue if state == "RUNNING")
        most = max(most, running)
        waiting_for_license |= any(state == "PENDING" and reason == "Licenses" for _, state, reason in queue)
        if not queue:
            break
        time.sleep(0.2)
    assert most == 2  # the limit binds, and the node (8 CPUs) would have run more
    assert waiting_for_license
    # The job records agree: never more than two transcoding at once.
    spans = []
    for i in ids:
        _, done = home.wait(i)
        assert done["state"] == "TranscodeSuccess"
        spans.append((done["started_at"], done["finished_at"]))
    for start, _ in spans:
        assert sum(1 for s, f in spans if s <= start < f) <= 2


def test_pause_leaves_running_jobs_alone(home, clips, tmp_path):
    home.pipeline("pausing", license_key="pausing", max_concurrent=1)
    outs = []
    for i in range(3):
        outs.append(tmp_path / f"out{i}")
        outs[-1].mkdir()
    first = home.submit(write_job(tmp_path / "a.toml", clips["long"], outs[0], segment_seconds=10), "pausing")["id"]
    second = home.submit(write_job(tmp_path / "b.toml", clips["small"], outs[1]), "pausing")["id"]
    deadline = time.time() + WAIT
    while home.show(first)["state"] != "Transcoding":
        assert time.time() < deadline
        time.sleep(0.2)
    home.run("pipelines", "pause", "pausing")
    third = home.submit(write_job(tmp_path / "c.toml", clips["small"], outs[2]), "pausing")
    assert third["held"] is True
    _, a = home.wait(first)
    assert a["state"] == "TranscodeSuccess"  # the running job went on
    time.sleep(4)  # the license is free now: only the pause keeps the others waiting
    for job_id in (second, third["id"]):
        assert home.show(job_id)["state"] == "Submitted"
    assert {reason for _, _, reason in home.squeue("pausing")} <= {"JobHeldUser", "JobHeldAdmin"}
    home.run("pipelines", "resume", "pausing")
    for job_id in (second, third["id"]):
        _, done = home.wait(job_id)
        assert done["state"] == "TranscodeSuccess"
    check_output(outs[0] / "slurm-long.mp4", clips["long"])


def test_cancel_waiting_and_running_jobs(home, clips, tmp_path):
    home.pipeline("cancel", license_key="cancel", max_concurrent=1)
    out = tmp_path / "out"
    out.mkdir()
    running = home.submit(write_job(tmp_path / "a.toml", clips["long"], out, segment_seconds=3, preset="medium"), "cancel")["id"]
    waiting = home.submit(write_job(tmp_path / "b.toml", clips["small"], out), "cancel")["id"]
    deadline = time.time() + WAIT
    while home.show(running)["state"] != "Transcoding":
        assert time.time() < deadline
        time.sleep(0.2)
    w = home.json("jobs", "cancel", waiting)
    assert w["state"] == "TranscodeCancelled"
    time.sleep(1)
    r = home.json("jobs", "cancel", running)
    assert r["state"] == "TranscodeCancelled", r
    proc, done = home.wait(running)
    assert proc.returncode == 130 and done["state"] == "TranscodeCancelled"
    assert all(state not in ("RUNNING", "PENDING") for _, state, _ in home.squeue("cancel"))
    deadline = time.time() + 30
    while home.squeue("cancel") and time.time() < deadline:  # COMPLETING for a moment
        time.sleep(0.5)
    assert home.squeue("cancel") == []
    assert not (out / "slurm-long.mp4").exists() and not (out / "slurm-small.mp4").exists()
    assert home.json("jobs", "cancel", waiting)["state"] == "TranscodeCancelled"  # idempotent


def test_failing_job_ends_transcode_fail_with_its_message(home, tmp_path):
    home.pipeline("fail", license_key="fail", max_concurrent=1)
    bad = tmp_path / "not video.mp4"
    bad.write_text("this is not a video\n" * 100)
    out = tmp_path / "out"
    out.mkdir()
    rec = home.submit(write_job(tmp_path / "job.toml", bad, out), "fail")
    proc, done = home.wait(rec["id"])
    assert done["state"] == "TranscodeFail"
    assert proc.returncode == 4  # InvalidParameter.ResourceContentBad, as for `gopcast run`
    assert done["error"]["code"] == "InvalidParameter.ResourceContentBad"
    assert "not video.mp4" in done["error"]["message"]
    text = home.run("jobs", "show", rec["id"]).stdout
    assert "TranscodeFail" in text and "not video.mp4" in text
    assert list(out.iterdir()) == []


def test_batch_array_from_the_nightly_script(home, clips, tmp_path):
    home.pipeline("arr", license_key="arr", max_concurrent=2)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = ["first.mp4", "second take.mp4", "it's $(touch CANARY).mp4"]
    for n in names:
        shutil.copy(clips["small"], inbox / n)
    out = tmp_path / "out"
    out.mkdir()
    template = tmp_path / "nightly.toml"
    template.write_text(f'[parallel]\nsegment_seconds = 2\n[[outputs]]\npath = {json.dumps(str(out / "{name}-h264.mp4"))}\n'
                        'template = "default-mp4"\n[outputs.override.video]\npreset = "ultrafast"\n')
    env = dict(home.env, GOPCAST=str(BIN))
    night = subprocess.run(["bash", str(ROOT / "slurm" / "nightly-archive.sh"), str(inbox), str(template), "arr"],
                           capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert night.returncode == 0, night.stderr
    batch_id = night.stdout.split()[1].rstrip(":")
    jobs = home.json("jobs", "list", "--batch", batch_id)
    assert len(jobs) == 3
    arrays = {j["slurm_job_id"].split("_")[0] for j in jobs}
    assert len(arrays) == 1  # one Slurm job array for the batch
    for j in jobs:
        _, done = home.wait(j["id"])
        assert done["state"] == "TranscodeSuccess", done
        assert done["user_data"].startswith("nightly ")
    for n in names:
        check_output(out / (n[:-4] + "-h264.mp4"), clips["small"])
    assert not (tmp_path / "CANARY").exists()
    # The next night finds nothing new.
    again = subprocess.run(["bash", str(ROOT / "slurm" / "nightly-archive.sh"), str(inbox), str(template), "arr"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0 and "nothing new" in again.stdout


def test_batch_refuses_inputs_whose_outputs_collide(home, clips, tmp_path):
    home.pipeline("collide")
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        shutil.copy(clips["small"], tmp_path / d / "same.mp4")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{tmp_path / 'a' / 'same.mp4'}\n# a comment\n\n{tmp_path / 'b' / 'same.mp4'}\n")
    template = tmp_path / "t.toml"
    template.write_text(f'[[outputs]]\npath = {json.dumps(str(tmp_path / "{name}.mkv"))}\n')
    proc = home.run("submit", "--batch", listing, template, "--pipeline", "collide", check=False)
    assert proc.returncode == 12 and "same.mkv" in proc.stderr
    assert home.json("jobs", "list") == [] and home.squeue("collide") == []


def test_batch_folder_skips_special_files_and_says_so(home, tmp_path):
    """Issue 17 item 4: a FIFO in a batch folder is not an input (it would hang its job)."""
    home.pipeline("fifo")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    os.mkfifo(inbox / "pipe.mp4")
    template = tmp_path / "t.toml"
    template.write_text(f'[[outputs]]\npath = {json.dumps(str(tmp_path / "{name}.mkv"))}\n')
    proc = home.run("submit", "--batch", inbox, template, "--pipeline", "fifo", check=False, timeout=60)
    assert f"gopcast: warning: {inbox / 'pipe.mp4'}: skipped: not a regular file" in proc.stderr, proc.stderr
    assert proc.returncode == 3 and "no input files in it" in proc.stderr, proc.stderr
    assert home.json("jobs", "list") == [] and home.squeue("fifo") == []


def batch_inputs(tmp_path, source, count):
    """A folder of `count` inputs (symbolic links to one clip) and a job template."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(count):
        (inbox / f"c{i:05d}.mp4").symlink_to(source)
    template = tmp_path / "t.toml"
    template.write_text(f'[[outputs]]\npath = {json.dumps(str(tmp_path / "out" / "{name}.mp4"))}\n')
    return inbox, template


def traced(home, *args, trace="execve"):
    """Runs gopcast under strace; returns (process, the system calls it and its children made)."""
    log = home.path / f"strace-{time.monotonic_ns()}.log"
    proc = subprocess.run(["strace", "-f", "-qq", "-e", f"trace={trace}", "-o", str(log), str(BIN), *map(str, args)],
                          capture_output=True, text=True, env=home.env, timeout=300)
    calls = log.read_text()
    log.unlink()
    return proc, calls


def test_batch_split_at_max_array_size_stored_at_once_and_settled_in_one_query(home, clips, tmp_path):
    """1002 inputs: two arrays (MaxArraySize=1001), every record stored with its Slurm id,
    the durability of the whole batch a handful of fsyncs (not three per job), and a
    listing that settles jobs Slurm cancelled with one squeue call for all of them."""
    home.pipeline("split", state="paused")
    inbox, template = batch_inputs(tmp_path, clips["small"], 1002)
    proc, calls = traced(home, "submit", "--batch", inbox, template, "--pipeline", "split", "--json", trace="fsync,fdatasync")
    assert proc.returncode == 0, proc.stderr
    batch = json.loads(proc.stdout)
    assert len(batch["slurm_array_ids"]) == 2 and len(batch["jobs"]) == 1002
    syncs = sum(1 for line in calls.splitlines() if "fsync(" in line or "fdatasync(" in line)
    assert syncs < 20, calls  # the store's commits and the two scripts, whatever the batch size
    # Slurm holds both arrays, task for task, and each record names its task.
    tasks = {i for i, st, _ in home.squeue("split")}
    assert len(tasks) == 1002
    db = sqlite3.connect(home.path / "jobs.db")
    rows = db.execute("SELECT id, slurm_job_id, state, record FROM jobs WHERE batch_id = ?", (batch["batch_id"],)).fetchall()
    db.close()
    assert len(rows) == 1002 and {r[1] for r in rows} == tasks
    for rid, slurm_id, state, record in rows:
        rec = json.loads(record)
        assert rec["id"] == rid and rec["slurm_job_id"] == slurm_id and rec["held"] is True and state == "Submitted"
    first, last = sorted(rows)[0], sorted(rows)[-1]
    assert first[1] == f"{batch['slurm_array_ids'][0]}_0" and last[1] == f"{batch['slurm_array_ids'][1]}_0"
    # Cancelled in Slurm behind gopcast's back: one listing settles all 1002, asking Slurm once.
    subprocess.run(["scancel", *batch["slurm_array_ids"]], env=home.env, check=True)
    deadline = time.time() + 60
    while home.squeue("split") and time.time() < deadline:
        time.sleep(0.5)
    proc, calls = traced(home, "jobs", "list", "--json", "--state", "TranscodeCancelled")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 1002
    slurm_calls = [line for line in calls.splitlines() if "execve(" in line and line.endswith("= 0") and any(
        f'/{c}"' in line for c in ("squeue", "scontrol", "sacct"))]
    assert len(slurm_calls) == 1 and "squeue" in slurm_calls[0], slurm_calls
    assert home.json("jobs", "list", "--state", "Submitted") == []


def test_batch_larger_than_max_job_count_is_refused_before_anything(home, clips, tmp_path):
    home.pipeline("toolarge", state="paused")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{clips['small']}\n" * 50001)
    template = tmp_path / "t.toml"
    template.write_text(f'[[outputs]]\npath = {json.dumps(str(tmp_path / "{name}.mp4"))}\n')
    proc = home.run("submit", "--batch", listing, template, "--pipeline", "toolarge", check=False)
    assert proc.returncode == 22, proc.stderr
    assert "MaxJobCount=50000" in proc.stderr and "50001 inputs" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert home.json("jobs", "list") == [] and home.squeue("toolarge") == []


def test_batch_refused_midway_by_slurm_leaves_neither_records_nor_jobs(home, clips, tmp_path):
    """Slurm takes the first array and refuses the second (here an sbatch that fails on
    its second call, in front of the real one): the first is cancelled, no record stays."""
    home.pipeline("midway")
    shim = tmp_path / "bin"
    shim.mkdir()
    real = shutil.which("sbatch")
    (shim / "sbatch").write_text(
        "#!/bin/sh\n"
        f"n=$(cat '{tmp_path}/calls' 2>/dev/null || echo 0)\n"
        f"echo $((n + 1)) > '{tmp_path}/calls'\n"
        'if [ "$n" -ge 1 ]; then\n'
        "  echo 'sbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit)' >&2\n"
        "  exit 1\n"
        "fi\n"
        f'exec {real} "$@"\n')
    (shim / "sbatch").chmod(0o755)
    inbox, template = batch_inputs(tmp_path, clips["small"], 1002)
    env = dict(home.env, PATH=f"{shim}:{os.environ['PATH']}")
    proc = subprocess.run([str(BIN), "submit", "--batch", str(inbox), str(template), "--pipeline", "midway"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 21, proc.stderr
    assert "array 2 of 2" in proc.stderr and "QOS policy" in proc.stderr and "cancelled" in proc.stderr, proc.stderr
    assert (tmp_path / "calls").read_text().strip() == "2"
    assert home.json("jobs", "list") == []
    assert home.squeue("midway") == []  # the first array was cancelled, not left held
    assert list((home.path / "jobs").iterdir()) == []


def test_file_names_that_break_naive_scripts(tmp_path, slurm_conf, clips):
    """Quotes, $(...), backticks, a newline and non-ASCII in the input, the output and the
    job store's own path: the job runs, the names arrive intact, nothing is executed."""
    weird_home = tmp_path / "home with 'quotes' and $(touch CANARY) `touch CANARY`"
    home = Home(weird_home, slurm_conf)
    home.pipeline("weird", license_key="weird", max_concurrent=1)
    name = "clip 'one' \"two\" $(touch CANARY) `touch CANARY`;\nnew line ünï 日本"
    src = tmp_path / f"{name}.mp4"
    shutil.copy(clips["small"], src)
    out = tmp_path / "out $(touch CANARY)"
    out.mkdir()
    job = write_job(tmp_path / "job.toml", src, out, name="{name}-web.mp4")
    rec = home.submit(job, "weird")
    _, done = home.wait(rec["id"])
    assert done["state"] == "TranscodeSuccess", done
    output = out / f"{name}-web.mp4"
    assert done["outputs"] == [str(output)]
    check_output(output, clips["small"])
    assert not any(p.name == "CANARY" for p in tmp_path.rglob("CANARY")), "a name was executed"
    assert not Path("CANARY").exists()


def test_requeued_job_resumes_from_its_manifest(home, clips, tmp_path):
    import h5py
    home.pipeline("requeue", license_key="requeue", max_concurrent=1)
    out = tmp_path / "out"
    out.mkdir()
    rec = home.submit(write_job(tmp_path / "job.toml", clips["long"], out, segment_seconds=1, preset="medium"), "requeue")
    manifest = Path(rec["manifest"])
    deadline = time.time() + WAIT
    done_segments = 0
    while done_segments < 3:
        assert time.time() < deadline, "no segment finished"
        time.sleep(0.3)
        if manifest.exists():
            try:
                with h5py.File(manifest, "r", locking=False) as m:
                    done_segments = sum(1 for s in m["segments"]["status"][:] if s in (b"done", "done"))
            except OSError:
                pass  # being replaced
    slurm_id = home.show(rec["id"])["slurm_job_id"]
    subprocess.run(["scontrol", "requeue", slurm_id], check=True, env=home.env, capture_output=True)
    proc, done = home.wait(rec["id"])
    assert done["state"] == "TranscodeSuccess", done
    assert done["attempts"] == 2
    assert done["resumed_segments"] >= 3
    notes = [h["note"] for h in done["history"]]
    assert any("interrupted by Slurm" in n for n in notes), notes
    check_output(out / "slurm-long.mp4", clips["long"])


def processes_with(*words):
    """Pids of processes whose command line holds every one of `words` as an argument."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if all(w.encode() in argv for w in words):
            pids.append(int(proc.name))
    return pids


def test_job_killed_without_a_word_is_settled_from_slurm(home, clips, tmp_path):
    """The job's own runner dies (as on a node crash): `jobs wait` still ends, with
    TranscodeFail and Slurm's word for what happened, and nothing at the output path."""
    home.pipeline("killed", ranks=1)
    out = tmp_path / "out"
    out.mkdir()
    rec = home.submit(write_job(tmp_path / "job.toml", clips["long"], out, segment_seconds=3, preset="medium"), "killed")
    deadline = time.time() + WAIT
    while home.show(rec["id"])["state"] != "Transcoding":
        assert time.time() < deadline
        time.sleep(0.2)
    runners = processes_with("jobs", "exec", rec["id"])
    assert len(runners) == 1
    os.kill(runners[0], 9)
    proc, done = home.wait(rec["id"])
    assert done["state"] == "TranscodeFail", done
    assert proc.returncode == 20 and "Slurm job" in done["error"]["message"], done["error"]
    assert not (out / "slurm-long.mp4").exists()


def test_srun_without_an_mpi_plugin_fails_clearly(home, clips, tmp_path):
    """The dev cluster has no PMIx for Open MPI, so srun cannot start gopcast-mpi's ranks (and
    gopcast-mpi refuses to run as N singletons): the job fails and says what to change."""
    home.pipeline("srunner", ranks=2, launcher="srun")
    out = tmp_path / "out"
    out.mkdir()
    rec = home.submit(write_job(tmp_path / "job.toml", clips["small"], out), "srunner")
    _, done = home.wait(rec["id"])
    assert done["state"] == "TranscodeFail", done
    assert "srun" in done["error"]["message"] and 'launcher = "mpirun"' in done["error"]["message"], done["error"]
    log = done["error"]["message"].rsplit("see ", 1)[1]
    assert Path(log).exists() and "srun" in Path(log).read_text()
    assert list(out.iterdir()) == []


# --- notifications ------------------------------------------------------------------

class Receiver:
    """A real HTTP server on localhost that records what it is sent."""

    def __init__(self, status=200):
        self.events = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.events.append((dict(self.headers), body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/gopcast"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_webhooks_are_delivered_signed_in_order(home, clips, tmp_path):
    receiver = Receiver()
    secret = "s3cret-for-hmac"
    try:
        home.pipeline("hooks", license_key="hooks", max_concurrent=1,
                      notify={"url": receiver.url, "secret": secret, "allow": ["loopback"]})
        out = tmp_path / "out"
        out.mkdir()
        rec = home.submit(write_job(tmp_path / "job.toml", clips["small"], out), "hooks", "--user-data", "ticket 7")
        _, done = home.wait(rec["id"])
        assert done["state"] == "TranscodeSuccess"
        deadline = time.time() + 30
        while len(receiver.events) < 3 and time.time() < deadline:
            time.sleep(0.1)
    finally:
        receiver.close()
    states = []
    for headers, body in receiver.events:
        want = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Gopcast-Signature"] == f"sha256={want}"
        assert headers["Content-Type"] == "application/json"
        event = json.loads(body)
        assert headers["X-Gopcast-Delivery"] == event["event_id"]
        assert event["job_id"] == rec["id"] and event["pipeline"] == "hooks" and event["user_data"] == "ticket 7"
        states.append(event["state"])
    assert states == ["Submitted", "Transcoding", "TranscodeSuccess"]
    final = json.loads(receiver.events[-1][1])
    assert final["outputs"] == [str(out / "slurm-small.mp4")] and final["error"] is None
    assert final["submitted_at"] <= final["started_at"] <= final["finished_at"]


def test_receiver_down_neither_fails_nor_delays_the_job(home, clips, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Each event tries for 4 + 8 = 12 s before it is given up: far longer than the job.
    home.pipeline("hooks", license_key="hooks", max_concurrent=1,
                  notify={"url": f"http://127.0.0.1:{port}/down", "secret": "x", "attempts": 3, "backoff_seconds": 4,
                          "allow": ["loopback"]})
    out = tmp_path / "out"
    out.mkdir()
    rec = home.submit(write_job(tmp_path / "job.toml", clips["small"], out), "hooks")
    _, done = home.wait(rec["id"])
    assert done["state"] == "TranscodeSuccess"
    check_output(out / "slurm-small.mp4", clips["small"])
    started = datetime.fromisoformat(done["started_at"].replace("Z", "+00:00"))
    finished = datetime.fromisoformat(done["finished_at"].replace("Z", "+00:00"))
    assert (finished - started).total_seconds() < 10, "the job waited on the receiver"
    deadline = time.time() + 60
    while home.squeue("hooks") and time.time() < deadline:  # the job's last event is still being tried
        time.sleep(0.5)
    log = home.path / "notify" / "undelivered.jsonl"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(json.loads(x["body"])["state"] for x in lines) == sorted(["Submitted", "Transcoding", "TranscodeSuccess"])
    assert all(x["event_id"].startswith(rec["id"]) for x in lines)
