"""The example script runs from start to end and writes its plot."""
import os
import subprocess
import sys

from conftest import ROOT


def test_notebook_tour(clip, tmp_path):
    script = ROOT / "python-bindings" / "examples" / "notebook_tour.py"
    proc = subprocess.run([sys.executable, str(script), str(clip), str(tmp_path)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {tmp_path / (clip.stem + '-tour.mp4')}" in proc.stdout
    assert "state done" in proc.stdout and "segment   0" in proc.stdout
    png = tmp_path / f"{clip.stem}-segments.png"
    assert f"plot: {png}" in proc.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
