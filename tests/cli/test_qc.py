"""Output users can trust (issue 18): a result that is not what was asked is never silent.

The cases, each derived at test time from the shared media:

  unusable audio  an MKV whose only audio track states 0 channels (the decoder cannot
                  open it): the output has no audio, and a warning names the file, the
                  stream and why; -q silences it
"""
import subprocess

from conftest import ffprobe, media, run_gopcast


def test_an_input_audio_track_that_cannot_be_decoded_is_named_not_dropped_silently(tmp_path):
    src = tmp_path / "src.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-t", "3", "-i", str(media("bbb-480p-30s.mp4")), "-vf", "scale=320:180",
                    "-c:v", "libx264", "-preset", "ultrafast", "-ac", "2", "-c:a", "pcm_s16le", str(src)], check=True)
    data = bytearray(src.read_bytes())
    at = data.find(b"\x9f\x81\x02")  # Matroska's Channels element: 1 byte, 2
    assert at > 0
    data[at + 2] = 0
    broken = tmp_path / "no-channels.mkv"
    broken.write_bytes(data)
    proc = run_gopcast("transcode", broken, "-o", tmp_path / "o.mp4")
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("gopcast: warning: ")]
    assert warnings == [f"gopcast: warning: {broken}: audio stream 1 (pcm_s16le) states no channel count and cannot be decoded: "
                        "the outputs have no audio"], proc.stderr
    assert [s["codec_type"] for s in ffprobe(tmp_path / "o.mp4")["streams"]] == ["video"]
    quiet = run_gopcast("transcode", broken, "-o", tmp_path / "q.mp4", "-q")
    assert quiet.stderr == ""
