"""`gopcast serve` and the web player, end to end.

The HTTP layer is checked with plain urllib/http.client against the files on disk.
Playback is checked in Debian's headless Chromium (selenium and chromedriver): the
browser's own <video> element is the oracle, its currentTime must pass 3 s with no
player error. A screenshot of the page per case is kept in $GOPCAST_TEST_ARTIFACTS
(default tests/artifacts/), named after the case.
"""
import contextlib
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager

import pytest

from conftest import BIN, ROOT, media, run_gopcast, streams_of

ARTIFACTS = Path(os.environ.get("GOPCAST_TEST_ARTIFACTS", ROOT / "tests" / "artifacts"))
PLAY_PAST = 3.0      # seconds of media the browser must play
PLAY_TIMEOUT = 25.0  # seconds of wall time it may take, on a busy 2-core machine
HLSJS_VERSION = "1.7.4"  # pinned in web/CMakeLists.txt


# --- outputs the player must play -------------------------------------------------

@contextlib.contextmanager
def plain_hls(folder):
    """HLS of TS segments at 360p (the iOS template), the same for every test that asks."""
    playlist = folder / "bbb.m3u8"
    if not playlist.exists():
        run_gopcast("transcode", media("bbb-480p-30s.mp4"), "-o", playlist, "-t", "ios-hls-360p",
                    "--set", "video.preset=veryfast", "-q")
    yield playlist.name


def check_plain(state, folder):
    """The ladder's one row shows the picture size and codecs ffprobe finds in the segments."""
    video = streams_of(sorted(folder.glob("*.ts"))[0], "video")[0]
    assert video["codec_name"] == "h264"
    (row,) = state["ladder"]
    assert row[1] == f"{video['width']}x{video['height']}", row
    assert row[3].startswith("avc1.") and "mp4a.40" in row[3], row


@dataclass(frozen=True)
class Case:
    """One kind of output the player must play.

    make(folder) is a context manager: it writes the output into `folder` (existing,
    served as /<case>/) and yields the playlist's path relative to it as soon as the
    player may open it. The browser plays inside the `with`, so a live case keeps its
    job running until playback has been checked and cleans up on leaving.
    check(state, folder) adds assertions on the page's state once the video has played
    (the dict page_state returns: levels, the ladder table, warnings, time...).
    """
    make: Callable[[Path], ContextManager[str]]
    check: Callable[[dict, Path], None] = lambda state, folder: None


# Where the other streaming outputs go once the engine makes them, for example:
@contextlib.contextmanager
def encrypted_hls(folder):
    """AES-128 HLS with a key every two segments: hls.js fetches each key the playlist names."""
    playlist = folder / "secret.m3u8"
    run_gopcast("transcode", media("bbb-480p-30s.mp4"), "-o", playlist, "-t", "ios-hls-360p",
                "--set", "video.preset=veryfast", "--set", "hls.encryption=aes-128", "--set", "hls.key_rotation=2", "-q")
    yield playlist.name


def check_encrypted(state, folder):
    text = (folder / "secret.m3u8").read_text()
    assert text.count("#EXT-X-KEY:METHOD=AES-128") == 5 and len(list(folder.glob("secret-*.key"))) == 3
    assert (folder / "secret_00000.ts").read_bytes()[0] != 0x47  # encrypted: no TS sync byte


@contextlib.contextmanager
def ladder_hls(folder):
    """A bitrate ladder from a 1080p source: four aligned renditions and their master."""
    source = folder / "bbb-1080p.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-t", "12", "-i", str(media("bbb-480p-30s.mp4")),
                    "-vf", "scale=1920:1080", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(source)], check=True)
    run_gopcast("transcode", source, "-o", folder / "master.m3u8", "--ladder", "hls-1080p",
                "--set", "video.preset=ultrafast", "-q")
    yield "master.m3u8"


def check_ladder(state, folder):
    """hls.js sees every rendition of the master, with the sizes the playlists promise."""
    heights = sorted(int(row[1].split("x")[1]) for row in state["ladder"])
    assert heights == [360, 480, 720, 1080], state["ladder"]
    assert all(row[3].startswith("avc1.") for row in state["ladder"]), state["ladder"]


@contextlib.contextmanager
def fmp4_hls(folder):
    """fMP4 HLS, one track per file: the master names the video playlist and an audio group
    (the segments a DASH manifest beside it shares)."""
    playlist = folder / "cmaf.m3u8"
    run_gopcast("transcode", media("bbb-480p-30s.mp4"), "-o", playlist, "-t", "ios-hls-360p",
                "--set", "video.preset=veryfast", "--set", "hls.segments=fmp4", "--set", "hls.dash=true", "-q")
    yield playlist.name


def check_fmp4(state, folder):
    """hls.js reads the master's one variant, whose codecs name the separate audio too."""
    (row,) = state["ladder"]
    assert row[1] == "640x360", row
    assert row[3].startswith("avc1.") and "mp4a.40" in row[3], row
    assert (folder / "cmaf.mpd").exists() and sorted(folder.glob("cmaf_audio_*.m4s"))


LIVE_JOBS = {}


@contextlib.contextmanager
def live_hls(folder):
    """An EVENT playlist that grows while its job runs: the player opens it after the first
    segments and plays while later ones are still being encoded."""
    source = folder / "two-minutes.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-stream_loop", "3", "-i", str(media("bbb-480p-30s.mp4")),
                    "-vf", "scale=640:360", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(source)], check=True)
    playlist = folder / "live.m3u8"
    job = subprocess.Popen([str(BIN), "transcode", str(source), "-o", str(playlist), "-n", "1", "--segment-seconds", "4",
                            "--set", "mux.hls_segment_seconds=2", "--set", "hls.playlist=event",
                            "--set", "video.preset=medium", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    LIVE_JOBS[folder] = job
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and job.poll() is None:
            if playlist.exists() and playlist.read_text().count("#EXTINF") >= 2:
                break
            time.sleep(0.05)
        assert job.poll() is None and playlist.exists(), "the live playlist did not appear while the job ran"
        yield playlist.name
    finally:
        if job.poll() is None:
            job.send_signal(signal.SIGINT)  # cancelled: it removes what it published
        job.communicate(timeout=120)
        LIVE_JOBS.pop(folder, None)


def check_live(state, folder):
    assert LIVE_JOBS[folder].poll() is None, "the job had ended: this was not a live playlist"
    text = (folder / "live.m3u8").read_text()
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text and "#EXT-X-ENDLIST" not in text


CASES = {
    "plain": Case(make=plain_hls, check=check_plain),
    "encrypted": Case(make=encrypted_hls, check=check_encrypted),
    "live": Case(make=live_hls, check=check_live),
    "ladder": Case(make=ladder_hls, check=check_ladder),
    "fmp4": Case(make=fmp4_hls, check=check_fmp4),
}


# --- the server -------------------------------------------------------------------

@dataclass
class Served:
    url: str
    port: int
    proc: subprocess.Popen
    returncode: int = None  # once stopped
    stderr: str = None


@contextlib.contextmanager
def serving(folder, *args):
    """Runs `gopcast serve FOLDER --port 0`; yields once it has printed where it listens,
    and stops it with SIGINT on leaving."""
    proc = subprocess.Popen([str(BIN), "serve", str(folder), "--port", "0", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 15)
    line = proc.stdout.readline() if ready else ""
    m = re.fullmatch(r"serving (.+) at (http://127\.0\.0\.1:(\d+)/)\n", line)
    if not m:
        proc.kill()
        raise AssertionError(f"gopcast serve printed {line!r}; stderr: {proc.communicate()[1]}")
    served = Served(m[2], int(m[3]), proc)
    try:
        assert Path(m[1]) == Path(folder).resolve()
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            served.stderr = proc.communicate(timeout=10)[1]
        except subprocess.TimeoutExpired:
            proc.kill()
            served.stderr = proc.communicate()[1]
        served.returncode = proc.returncode


@pytest.fixture(scope="module")
def site_root(tmp_path_factory):
    """The served folder: one subfolder per case, the plain output made once for all."""
    root = tmp_path_factory.mktemp("served")
    for case in CASES:
        (root / case).mkdir()
    with plain_hls(root / "plain"):
        pass
    return root


@pytest.fixture(scope="module")
def server(site_root):
    with serving(site_root) as s:
        yield s
    # After every request of the module: a clean stop, and nothing said on the way.
    assert (s.returncode, s.stderr) == (0, "")


def request(server, path, method="GET", headers=None):
    """A raw request (the path goes on the wire as written); returns (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def first_segment(site_root):
    return sorted((site_root / "plain").glob("*.ts"))[0]


# --- the HTTP layer ---------------------------------------------------------------

def test_serves_playlists_uncached_with_their_type(server, site_root):
    with urllib.request.urlopen(server.url + "plain/bbb.m3u8", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "application/vnd.apple.mpegurl"
        assert r.headers["Cache-Control"] == "no-cache"  # a live playlist grows
        assert r.read() == (site_root / "plain" / "bbb.m3u8").read_bytes()
    segment = first_segment(site_root)
    with urllib.request.urlopen(server.url + "plain/" + segment.name, timeout=10) as r:
        assert r.headers["Content-Type"] == "video/mp2t"
        assert r.headers["Accept-Ranges"] == "bytes"
        assert r.read() == segment.read_bytes()


def test_range_requests_return_the_right_bytes(server, site_root):
    segment = first_segment(site_root)
    data = segment.read_bytes()
    size = len(data)
    url = server.url + "plain/" + segment.name
    for spec, first, last in [("100-1099", 100, 1099), ("-500", size - 500, size - 1), (f"{size - 10}-", size - 10, size - 1),
                              (f"0-{size + 1000}", 0, size - 1)]:
        req = urllib.request.Request(url, headers={"Range": f"bytes={spec}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 206, spec
            assert r.headers["Content-Range"] == f"bytes {first}-{last}/{size}", spec
            assert r.read() == data[first:last + 1], spec
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(urllib.request.Request(url, headers={"Range": f"bytes={size}-"}), timeout=10)
    assert e.value.code == 416
    assert e.value.headers["Content-Range"] == f"bytes */{size}"

    status, headers, body = request(server, "/plain/" + segment.name, method="HEAD")
    assert (status, headers["Content-Length"], body) == (200, str(size), b"")


def test_refuses_paths_out_of_the_folder(server, site_root):
    (site_root / "passwd-link").symlink_to("/etc/passwd")
    for path in ["/../etc/passwd", "/%2e%2e/etc/passwd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/plain/../../etc/passwd",
                 "/plain/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/passwd-link", "/_gopcast/%2e%2e/%2e%2e/etc/passwd"]:
        status, _, body = request(server, path)
        assert status == 403, path
        assert b"root:" not in body, path


def test_errors_for_missing_files_methods_and_bad_requests(server):
    assert request(server, "/plain/nothing.ts")[0] == 404
    status, headers, _ = request(server, "/plain/bbb.m3u8", method="DELETE")
    assert (status, headers["Allow"]) == (405, "GET, HEAD")
    assert request(server, "/plain/bbb.m3u8", headers={"X-Big": "a" * 20000})[0] == 431
    assert request(server, "/bad%zz")[0] == 400
    with socket_to(server) as s:  # not HTTP at all
        s.sendall(b"HELLO\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400 ")


def test_keeps_connections_alive(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for _ in range(3):
        conn.request("GET", "/plain/bbb.m3u8")
        r = conn.getresponse()
        assert r.status == 200 and r.read().startswith(b"#EXTM3U")
    conn.close()


def test_player_page_and_vendored_hlsjs(server):
    status, headers, page = request(server, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert request(server, "/player.html")[2] == page
    status, headers, js = request(server, "/_gopcast/hls.min.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert HLSJS_VERSION.encode() in js
    # Everything the page loads comes from this server, never from a CDN.
    for asset in [page, request(server, "/_gopcast/player.js")[2]]:
        assert not re.search(rb"(src|href)=[\"']?(https?:)?//", asset)
    status, headers, body = request(server, "/_gopcast/playlists.json")
    assert headers["Cache-Control"] == "no-cache"
    assert {"path": "plain/bbb.m3u8", "master": False, "live": False} in json.loads(body)["playlists"]


@contextlib.contextmanager
def socket_to(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        yield s
    finally:
        s.close()


# --- the command ------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_cleanly_on_signals(tmp_path, sig):
    with serving(tmp_path) as s:
        with socket_to(s):  # an idle keep-alive connection must not hold it up
            s.proc.send_signal(sig)
            assert s.proc.wait(5) == 0


def test_serve_errors(tmp_path):
    r = run_gopcast("serve", tmp_path / "missing", check=False)
    assert r.returncode == 3
    assert r.stderr.count("\n") == 1 and "InvalidParameter.ResourceNotFound" in r.stderr and "missing" in r.stderr
    with serving(tmp_path) as s:
        r = run_gopcast("serve", tmp_path, "--port", s.port, check=False)
        assert r.returncode == 12
        assert "InvalidParameter.OutputNotWritable" in r.stderr and f"port {s.port}" in r.stderr
    r = run_gopcast("serve", tmp_path, "--bind", "not-an-address", check=False)
    assert r.returncode == 2


# --- playback in Chromium ---------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    # Root needs --no-sandbox; there is no GPU or large /dev/shm here; muted autoplay
    # would be allowed anyway, the flag makes it independent of Chromium's policy.
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--window-size=1280,900"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()


PAGE_STATE = """
const p = window.gopcastPlayer, el = (id) => document.getElementById(id);
return {
  time: p.video.currentTime, paused: p.video.paused, src: p.src, hlsjs: p.hls !== null,
  errors: p.errors, warnings: p.warnings,
  state: el('state').dataset.state, shownTime: Number(el('time').dataset.seconds),
  errorShown: el('error').hidden ? '' : el('error').textContent,
  levels: p.hls ? p.hls.levels.map((l) => ({width: l.width, height: l.height, bitrate: l.bitrate})) : [],
  currentLevel: p.hls ? p.hls.currentLevel : null,
  ladder: [...document.querySelectorAll('#levels tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent)),
  currentRows: document.querySelectorAll('#levels tbody tr.current').length,
  levelOptions: document.getElementById('level-select').options.length,
  playlists: [...document.querySelectorAll('#playlists a')].map((a) => a.textContent),
};
"""


def page_state(driver):
    return driver.execute_script(PAGE_STATE)


def wait_for_playback(driver):
    deadline = time.monotonic() + PLAY_TIMEOUT
    state = page_state(driver)
    while time.monotonic() < deadline and state["time"] <= PLAY_PAST and not state["errors"]:
        time.sleep(0.25)
        state = page_state(driver)
    return state


@pytest.mark.parametrize("case", list(CASES))
def test_player_plays(case, site_root, server, browser):
    with CASES[case].make(site_root / case) as playlist:
        src = f"{case}/{playlist}"
        browser.get(server.url + "?src=" + urllib.parse.quote(src))
        try:
            # Muted playback, started as a page script would; the page also starts it itself.
            browser.execute_script("const v = window.gopcastPlayer.video; v.muted = true; v.play().catch(() => {});")
            state = wait_for_playback(browser)
            time.sleep(0.3)  # let the page paint the last time and level before the picture
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(ARTIFACTS / f"player-{case}.png"))
        assert state["hlsjs"], "the page did not play through hls.js"
        assert state["errors"] == [], f"player errors: {state['errors']}"
        assert state["errorShown"] == ""
        assert state["time"] > PLAY_PAST, f"video.currentTime {state['time']} after {PLAY_TIMEOUT} s: {state}"
        assert state["shownTime"] > 0 and state["state"] in ("playing", "buffering")
        # The ladder: one row per hls.js level, the playing one marked.
        assert len(state["ladder"]) == len(state["levels"]) >= 1
        assert state["currentRows"] == 1
        assert src in state["playlists"]
        assert state["levelOptions"] == len(state["levels"]) + 1  # Auto, then each level
        CASES[case].check(state, site_root / case)
