"""gopcast.Manifest reads the HDF5 segment manifest without h5py; h5py's view of the same
file is the oracle."""
import h5py
import numpy as np
import pytest

import gopcast


def test_segments_and_keyframes_match_h5py(small_run):
    _, result, _ = small_run
    m = gopcast.Manifest(result.manifest)
    with h5py.File(result.manifest, "r", locking=False) as f:
        rows = f["segments"][:]
        assert set(m.segments) == set(rows.dtype.names)
        for name in rows.dtype.names:
            ours, theirs = m.segments[name], rows[name]
            assert isinstance(ours, np.ndarray) and ours.shape == theirs.shape, name
            if theirs.dtype.kind == "S":  # fixed-length bytes in the file, str here
                assert ours.dtype.kind == "U"
                assert ours.tolist() == [v.decode("ascii") for v in theirs], name
            else:
                assert ours.dtype == theirs.dtype, name
                assert np.array_equal(ours, theirs), name
        keys = f["keyframes"][:]
        assert set(m.keyframes) == set(keys.dtype.names)
        for name in keys.dtype.names:
            assert m.keyframes[name].dtype == keys[name].dtype and np.array_equal(m.keyframes[name], keys[name]), name
        ka = f["keyframes"].attrs
        assert m.time_base == (ka["time_base_num"], ka["time_base_den"])
        assert (m.end_pts, m.total_frames) == (ka["end_pts"], ka["total_frames"])
        for name, value in f.attrs.items():
            ours = m.attrs[name]
            if isinstance(value, np.ndarray):
                assert list(ours) == [v.decode() if isinstance(v, bytes) else v for v in value], name
            else:
                assert ours == (value.decode() if isinstance(value, bytes) else value), name
        assert m.phases == pytest.approx({k: float(v) for k, v in f["phases"].attrs.items()})
    assert m.state == "done" and len(m) == result.segments
    assert (m.segments["status"] == "done").all()
    assert m.segments["frames"].sum() == result.outputs[0].video_frames
    assert m.path == result.manifest


def test_columns_make_a_table(small_run):
    """One 1-D column per field, one value per segment: what pandas.DataFrame takes, and
    numpy's own structured arrays too."""
    _, result, _ = small_run
    m = gopcast.Manifest(str(result.manifest))
    segments = m.segments
    assert all(c.ndim == 1 and len(c) == len(m) for c in segments.values())
    table = np.rec.fromarrays(list(segments.values()), names=list(segments))
    assert table.shape == (len(m),) and list(table["index"]) == list(range(len(m)))
    assert (table["last_frame"] - table["first_frame"] + 1 == table["frames"]).all()
    assert (table["end_seconds"] > table["start_seconds"]).all()


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        gopcast.Manifest(tmp_path / "none.h5")
    assert isinstance(caught.value, gopcast.ResourceNotFound) and "none.h5" in str(caught.value)
    foreign = tmp_path / "other.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(gopcast.ResourceContentBad, match="other.h5"):
        gopcast.Manifest(foreign)
