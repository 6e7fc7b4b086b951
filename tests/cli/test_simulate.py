"""`gopcast simulate`: the real scheduler, dispatch loop and manifest log on 1,000
simulated ranks. Checks the JSON report, the manifest it writes (read with h5py, as a
real run's), and that the coordinator's memory per segment stays flat from 10^4 to
10^5 segments (each size in a process of its own, so peak RSS is that run's)."""
import json

import h5py
import numpy as np

from conftest import run_gopcast


def simulate(*args):
    return json.loads(run_gopcast("simulate", "--json", "-q", *args).stdout)


def test_thousand_ranks_write_a_whole_manifest(tmp_path):
    manifest = tmp_path / "sim.manifest.h5"
    r = simulate("--ranks", 1000, "--segments", 100000, "--failure-rate", 0.01, "--manifest", manifest)
    assert r["ok"] and r["schema"] == "gopcast.simulation/1"
    assert r["efficiency"] > 0.97
    assert 800 < r["retried_segments"] < 1200
    assert r["manifest_writes"] >= 2
    with h5py.File(manifest, "r") as f:
        seg = f["segments"]
        status = seg["status"][:]
        assert len(status) == 100000
        assert all(s.rstrip(b"\0") == b"done" for s in np.unique(status))
        ranks = seg["rank"][:]
        assert ranks.min() >= 0 and ranks.max() < 1000 and len(np.unique(ranks)) == 1000
        attempts = seg["attempts"][:]
        assert int((attempts > 1).sum()) == r["retried_segments"]


def test_coordinator_memory_per_segment_is_flat():
    small = simulate("--ranks", 1000, "--segments", 10000)
    big = simulate("--ranks", 1000, "--segments", 100000)
    grown_kib = big["peak_rss_kib"] - small["peak_rss_kib"]
    # The scheduler's rows and the manifest's copy: well under 2 KiB per segment (a
    # per-frame table or a per-pair structure would be far above).
    assert grown_kib * 1024 / 90000 < 2048, (small["peak_rss_kib"], big["peak_rss_kib"])


def test_bad_setup_names_the_option():
    proc = run_gopcast("simulate", "--ranks", 0, check=False)
    assert proc.returncode != 0
    assert "OutOfRange" in proc.stderr and "--ranks" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
