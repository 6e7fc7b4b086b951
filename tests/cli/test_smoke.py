"""The main job of the README, checked by the oracle."""
from conftest import decode_errors, decoded_frames, ffprobe, media, run_gopcast, streams_of


def test_default_mp4_of_bbb(outdir):
    out = outdir / "bbb.mp4"
    run_gopcast("transcode", "-q", media("bbb-480p-30s.mp4"), "-o", out)
    assert decode_errors(out) == ""
    video, = streams_of(out, "video")
    audio, = streams_of(out, "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 854, 480)
    assert (audio["codec_name"], audio["channels"], int(audio["sample_rate"])) == ("aac", 2, 48000)
    assert decoded_frames(out) == decoded_frames(media("bbb-480p-30s.mp4")) == 720
    assert abs(float(ffprobe(out)["format"]["duration"]) - 30.0) < 1 / 24 + 0.03
