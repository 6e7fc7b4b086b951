"""fMP4 HLS segments and the MPEG-DASH manifest over the same segments.

The oracles are the ffmpeg/ffprobe tools (HLS and DASH demuxers), a plain ISO-BMFF box
walk and the XML of the MPD: the same job written with TS segments is the reference for
the decoded pictures and for where audio sits against video.
"""
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import media, run_gopcast

BBB = "bbb-480p-30s.mp4"  # 854x480 24 fps, 720 frames, 30 s
FAST = ["--set", "video.preset=ultrafast", "--set", "mux.hls_segment_seconds=6"]
FMP4 = ["--set", "hls.segments=fmp4", "--set", "hls.dash=true"]
NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}


def boxes(data):
    """Top-level ISO-BMFF box types of a file's bytes."""
    out, off = [], 0
    while off + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[off:off + 8])
        if size == 1:
            size = struct.unpack(">Q", data[off + 8:off + 16])[0]
        out.append(kind.decode("latin1"))
        if size < 8:
            break
        off += size
    return out


def packets(path, stream):
    """(pts, flags) of every packet of one stream, as the ffmpeg tool demuxes them."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "packet=pts_time,flags",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout
    return [(float(line.split(",")[0]), line.split(",")[1]) for line in out.splitlines() if line]


def start_time(path, stream):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "stream=start_time",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0].strip(","))


def decoded_md5s(path):
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True).stdout
    return [line.split(",")[-1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def decode_errors(path):
    proc = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-map", "0", "-f", "null", "-"],
                          capture_output=True, text=True)
    return proc.stderr.strip()


def media_segments(playlist):
    lines = playlist.read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def mpd_segments(rep, template):
    """File names and (start, duration) in seconds of a Representation's SegmentTimeline."""
    scale = int(template.get("timescale"))
    offset = int(template.get("presentationTimeOffset", "0"))
    number = int(template.get("startNumber", "1"))
    media_t = template.get("media")
    names, times, t = [], [], None
    for s in template.find("d:SegmentTimeline", NS).findall("d:S", NS):
        t = int(s.get("t", t))
        for _ in range(int(s.get("r", "0")) + 1):
            d = int(s.get("d"))
            assert "$Number%05d$" in media_t
            names.append(media_t.replace("$Number%05d$", f"{number:05d}").replace("$$", "$"))
            times.append(((t - offset) / scale, d / scale))
            number += 1
            t += d
    return names, times


def representations(mpd):
    root = ET.parse(mpd).getroot()
    assert root.get("type") == "static"
    sets = root.findall("d:Period/d:AdaptationSet", NS)
    out = {}
    for a in sets:
        for rep in a.findall("d:Representation", NS):
            template = rep.find("d:SegmentTemplate", NS)
            out[rep.get("id")] = (a.get("contentType"), rep, template)
    return root, out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The same job written as TS HLS and as fMP4 HLS with DASH."""
    base = tmp_path_factory.mktemp("dash")
    ts, fm = base / "ts", base / "fmp4"
    ts.mkdir()
    fm.mkdir()
    run_gopcast("transcode", media(BBB), "-o", ts / "v.m3u8", "-n", "2", *FAST)
    run_gopcast("transcode", media(BBB), "-o", fm / "v.m3u8", "-n", "2", *FAST, *FMP4)
    return ts, fm


def test_fmp4_hls_layout_master_and_media_playlists(outputs):
    _, fm = outputs
    names = sorted(p.name for p in fm.iterdir() if not p.name.endswith(".h5"))
    assert "v.mpd" in names and not any(n.endswith(".ts") for n in names)
    master = (fm / "v.m3u8").read_text()
    assert '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio"' in master and 'URI="v_audio.m3u8"' in master
    inf = [line for line in master.splitlines() if line.startswith("#EXT-X-STREAM-INF:")]
    assert len(inf) == 1 and 'AUDIO="audio"' in inf[0] and "RESOLUTION=854x480" in inf[0]
    assert 'CODECS="avc1.' in inf[0] and "mp4a.40.2" in inf[0]
    assert master.splitlines()[-1] == "v_video.m3u8"
    for kind in ("video", "audio"):
        text = (fm / f"v_{kind}.m3u8").read_text()
        lines = text.splitlines()
        assert "#EXT-X-VERSION:7" in lines and lines[-1] == "#EXT-X-ENDLIST"
        # The init segment is named before any segment.
        assert lines.index(f'#EXT-X-MAP:URI="v_{kind}_init.mp4"') < min(i for i, l in enumerate(lines) if l.startswith("#EXTINF"))
        segs = media_segments(fm / f"v_{kind}.m3u8")
        assert segs == [f"v_{kind}_{i:05d}.m4s" for i in range(5)]
        init = (fm / f"v_{kind}_init.mp4").read_bytes()
        assert boxes(init)[:2] == ["ftyp", "moov"] and "mdat" not in boxes(init)
        for s in segs:  # one fragment per file, one track per file
            assert boxes((fm / s).read_bytes()) == ["moof", "mdat"], s
        durations = [float(l[8:].rstrip(",")) for l in lines if l.startswith("#EXTINF:")]
        assert abs(sum(durations) - 30.0) < 0.1


def test_fmp4_and_dash_decode_to_the_ts_job(outputs):
    ts, fm = outputs
    reference = decoded_md5s(ts / "v.m3u8")
    assert len(reference) == 720
    assert decoded_md5s(fm / "v.m3u8") == reference
    assert decoded_md5s((fm / "v.mpd").resolve()) == reference
    assert decode_errors(fm / "v.m3u8") == ""
    assert decode_errors((fm / "v.mpd").resolve()) == ""
    # Audio: the same packets through both manifests, as many as the TS job has.
    via_hls, via_dash = packets(fm / "v.m3u8", "a:0"), packets((fm / "v.mpd").resolve(), "a:0")
    assert via_hls == via_dash and len(via_hls) == len(packets(ts / "v.m3u8", "a:0"))
    # Audio keeps its place against video (encoder priming against the B-frame delay).
    gap_ts = start_time(ts / "v.m3u8", "v:0") - start_time(ts / "v.m3u8", "a:0")
    gap_fm = start_time(fm / "v.m3u8", "v:0") - start_time(fm / "v.m3u8", "a:0")
    assert abs(gap_ts - gap_fm) < 0.002, (gap_ts, gap_fm)


def test_mpd_names_exactly_the_hls_segments_on_the_grid(outputs):
    _, fm = outputs
    root, reps = representations(fm / "v.mpd")
    assert sorted(kind for kind, _, _ in reps.values()) == ["audio", "video"]
    duration = root.get("mediaPresentationDuration")
    assert duration.startswith("PT") and abs(float(duration[2:-1]) - 30.0) < 0.1
    for rid, (kind, rep, template) in reps.items():
        assert template.get("initialization") == f"v_{kind}_init.mp4"
        names, times = mpd_segments(rep, template)
        assert names == media_segments(fm / f"v_{kind}.m3u8")  # the same files HLS lists
        for (s0, d0), (s1, _) in zip(times, times[1:]):
            assert abs(s0 + d0 - s1) < 1e-9  # contiguous
        assert abs(times[0][0]) < 0.05 and abs(times[-1][0] + times[-1][1] - 30.0) < 0.1
        if kind == "video":
            assert rep.get("width") == "854" and rep.get("height") == "480" and rep.get("frameRate") == "24"
            assert rep.get("codecs").startswith("avc1.")
            # Segments start on the 6 s grid, each with a keyframe (checked in the files).
            assert [round(s - times[0][0], 6) for s, _ in times] == [0, 6, 12, 18, 24]
            init = (fm / "v_video_init.mp4").read_bytes()
            for name in names:
                joined = fm / f"joined-{name}.mp4"
                joined.write_bytes(init + (fm / name).read_bytes())
                assert packets(joined, "v:0")[0][1].startswith("K"), name
                joined.unlink()
        else:
            assert rep.get("audioSamplingRate") == "48000" and rep.get("codecs") == "mp4a.40.2"
        assert int(rep.get("bandwidth")) > 0


def test_fmp4_segments_are_the_same_bytes_for_any_worker_count(outputs, tmp_path):
    _, fm = outputs
    run_gopcast("transcode", media(BBB), "-o", tmp_path / "v.m3u8", "-n", "3", *FAST, *FMP4)
    for name in media_segments(fm / "v_video.m3u8") + ["v_video_init.mp4", "v.mpd", "v_video.m3u8"]:
        assert (tmp_path / name).read_bytes() == (fm / name).read_bytes(), name


def test_gopcast_mpi_on_three_ranks_writes_the_same_files(outputs, tmp_path):
    from test_mpi import mpirun
    _, fm = outputs
    job = tmp_path / "job.toml"
    job.write_text(f"""[input]
path = "{media(BBB)}"
[[outputs]]
path = "{tmp_path / 'v.m3u8'}"
template = "default-m3u8"
[outputs.override.video]
preset = "ultrafast"
[outputs.override.mux]
hls_segment_seconds = 6
[outputs.override.hls]
segments = "fmp4"
dash = true
""")
    proc = mpirun(3, job)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in fm.iterdir() if p.suffix in (".m4s", ".mp4", ".m3u8", ".mpd"))
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".m4s", ".mp4", ".m3u8", ".mpd")) == names
    for name in names:
        assert (tmp_path / name).read_bytes() == (fm / name).read_bytes(), name


def test_a_ladder_shares_aligned_fmp4_segments_between_hls_and_dash(tmp_path):
    source = tmp_path / "src720.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-t", "12", "-i", str(media(BBB)), "-vf", "scale=1280:720,setsar=1",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(source)], check=True)
    out = tmp_path / "out"
    out.mkdir()
    run_gopcast("transcode", source, "-o", out / "master.m3u8", "--ladder", "hls-1080p", "--set", "video.preset=ultrafast",
                *FMP4)
    master = (out / "master.m3u8").read_text().splitlines()
    variants = [master[i + 1] for i, l in enumerate(master) if l.startswith("#EXT-X-STREAM-INF:")]
    assert variants == ["master_720p_video.m3u8", "master_480p_video.m3u8", "master_360p_video.m3u8"]
    groups = [l for l in master if l.startswith("#EXT-X-MEDIA:TYPE=AUDIO")]
    assert len(groups) == 3 and all(f'URI="master_{h}_audio.m3u8"' in g for g, h in zip(groups, ["720p", "480p", "360p"]))
    _, reps = representations(out / "master.mpd")
    video = {rid: (rep, t) for rid, (kind, rep, t) in reps.items() if kind == "video"}
    audio = [rid for rid, (kind, _, _) in reps.items() if kind == "audio"]
    assert sorted(video) == ["master_360p-video", "master_480p-video", "master_720p-video"] and len(audio) == 3
    timelines = [mpd_segments(rep, t)[1] for rep, t in video.values()]
    assert all(t == timelines[0] for t in timelines) and len(timelines[0]) == 2  # aligned: players switch at any segment
    heights = sorted(int(rep.get("height")) for rep, _ in video.values())
    assert heights == [360, 480, 720]
    # The DASH demuxer finds every rendition with the size its Representation promises.
    found = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,height", "-of", "csv=p=0",
                            str((out / "master.mpd").resolve())], capture_output=True, text=True, check=True).stdout
    # (ffprobe lists each stream under its program too)
    assert sorted({int(l.split(",")[1]) for l in found.split() if l.startswith("video")}) == heights
    for rendition in ("720p", "360p"):
        assert len(decoded_md5s(out / f"master_{rendition}.m3u8")) == 288


@pytest.mark.parametrize("template, sets, status, needle", [
    (None, ["hls.dash=true"], 10, "hls.dash"),
    (None, ["hls.segments=cmaf"], 5, "hls.segments"),
    (None, ["hls.segments=fmp4", "hls.encryption=aes-128"], 10, "hls.encryption"),
    (None, ["hls.segments=fmp4", "hls.playlist=event"], 10, "hls.playlist"),
    ("remux-m3u8", ["hls.segments=fmp4"], 10, "re-encoded video"),
])
def test_bad_fmp4_and_dash_settings_are_one_clear_error(tmp_path, template, sets, status, needle):
    args = [x for s in sets for x in ("--set", s)] + (["-t", template] if template else [])
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "v.m3u8", *args, check=False)
    assert proc.returncode == status, proc.stderr
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_fmp4_and_dash_need_an_hls_output(tmp_path):
    proc = run_gopcast("transcode", media(BBB), "-o", tmp_path / "v.mp4", "--set", "hls.segments=fmp4", check=False)
    assert proc.returncode == 10 and "m3u8" in proc.stderr
    assert list(tmp_path.iterdir()) == []
