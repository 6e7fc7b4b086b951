"""AMR-NB input (3GP with H.263 + AMR, as phones recorded). Debian's ffmpeg cannot
encode AMR, so the test writes a real AMR-NB stream itself: the "#!AMR" storage format
with 12.2 kbit/s frames, whose payload bits are all valid codebook indices."""
import random
import subprocess

from conftest import decode_errors, decoded_frames, media, run_gopcast, stream_duration, streams_of


def write_amr(path, seconds):
    rng = random.Random(7)
    frames = b"".join(bytes([0x3C]) + bytes(rng.getrandbits(8) for _ in range(31)) for _ in range(50 * seconds))
    path.write_bytes(b"#!AMR\n" + frames)


def test_3gp_h263_amr_input(tmp_path, outdir):
    amr = tmp_path / "speech.amr"
    write_amr(amr, 4)
    src = tmp_path / "phone.3gp"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(media("me-other-480p.mp4")), "-i", str(amr), "-t", "3",
                    "-map", "0:v", "-map", "1:a", "-c:v", "h263", "-s", "352x288", "-c:a", "copy", str(src)], check=True)
    assert streams_of(src, "audio")[0]["codec_name"] == "amr_nb"
    assert streams_of(src, "video")[0]["codec_name"] == "h263"
    out = outdir / "phone.mp4"
    run_gopcast("transcode", "-q", src, "-o", out, "--set", "video.preset=ultrafast")
    assert decode_errors(out) == ""
    audio, = streams_of(out, "audio")
    assert (audio["codec_name"], int(audio["sample_rate"]), audio["channels"]) == ("aac", 8000, 1)
    assert decoded_frames(out) == decoded_frames(src) == 90
    assert abs(stream_duration(out, "a:0") - stream_duration(src, "a:0")) < 0.13  # one AAC frame at 8 kHz
