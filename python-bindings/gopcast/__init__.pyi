# Type stubs for the gopcast package (the compiled gopcast._gopcast, re-exported).
# Attributes of results, records and manifests are read-only at run time.
# help(gopcast.X) shows the same documentation at run time.
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, overload

import numpy as np
import numpy.typing as npt

__version__: str

_PathLike = str | os.PathLike[str]
_Overrides = Mapping[str, Any] | Sequence[str] | str | None

# --- errors ----------------------------------------------------------------------

class Error(Exception):
    """Base of every gopcast error."""
    code: str | None          # e.g. "InvalidParameter.OutOfRange"
    exit_status: int | None   # the gopcast command's exit status for it
    message: str | None       # the message, as the command prints it after the code

class InvalidParameter(Error): ...
class InternalError(Error): ...
class Usage(InvalidParameter, ValueError): ...
class ResourceNotFound(InvalidParameter, FileNotFoundError): ...
class ResourceContentBad(InvalidParameter, ValueError): ...
class OutOfRange(InvalidParameter, ValueError): ...
class TemplateNotFound(InvalidParameter, LookupError): ...
class InvalidKey(InvalidParameter, ValueError): ...
class SpecSyntax(InvalidParameter, ValueError): ...
class UnsupportedCodec(InvalidParameter, ValueError): ...
class Incompatible(InvalidParameter, ValueError): ...
class StreamNotFound(InvalidParameter, LookupError): ...
class OutputNotWritable(InvalidParameter, OSError): ...
class PipelineNotFound(InvalidParameter, LookupError): ...
class JobNotFound(InvalidParameter, LookupError): ...
class TranscodeFailed(InternalError): ...
class SchedulerFailed(InternalError): ...
class SchedulerLimit(Error): ...
class OutputLocked(Error): ...
class WaitTimeout(Error, TimeoutError): ...
class Cancelled(Error): ...

def error_codes() -> list[dict[str, Any]]:
    """The error codes (code, exit_status, meaning, exception), as `gopcast errors --json`."""

def set_log_level(level: str) -> None:
    """"debug", "info", "warn" (default), "error" or "quiet"."""

# --- media -----------------------------------------------------------------------

def probe(path: _PathLike) -> dict[str, Any]:
    """Media information, as `gopcast probe --json` prints it (schema gopcast.probe/1)."""

@overload
def snapshot(path: _PathLike, times: float, width: int | None = None, height: int | None = None,
             video_stream: str = "", return_times: bool = False) -> npt.NDArray[np.uint8]: ...
@overload
def snapshot(path: _PathLike, times: Sequence[float], width: int | None = None, height: int | None = None,
             video_stream: str = "", return_times: bool = False) -> list[npt.NDArray[np.uint8]]: ...

def cover(path: _PathLike, candidates: int = 24, width: int | None = None, height: int | None = None,
          video_stream: str = "") -> tuple[npt.NDArray[np.uint8], dict[str, Any]]:
    """The best cover frame and its score, as `gopcast cover` picks it."""

# --- templates -------------------------------------------------------------------

def templates() -> list[dict[str, str]]:
    """Shipped and custom templates: [{"name": ..., "path": ...}]."""

class VideoSettings:
    codec: str
    remove: bool
    profile: str
    preset: str
    crf: int | None
    qp: int | None
    bitrate: int | None
    maxrate: int | None
    bufsize: int | None
    width: int | None
    height: int | None
    fps: int | float | str | None
    gop: int | str | None
    pix_fmt: str
    threads: int
    rotate: int
    def to_dict(self) -> dict[str, Any]: ...

class AudioSettings:
    codec: str
    remove: bool
    bitrate: int | None
    sample_rate: int | None
    channels: int | None
    loudness: float | None
    true_peak: float
    def to_dict(self) -> dict[str, Any]: ...

class TransSettings:
    mode: str
    no_upscale: bool
    cap_video_bitrate: bool
    cap_audio_bitrate: bool
    aspect: str
    def to_dict(self) -> dict[str, Any]: ...

class MuxSettings:
    hls_segment_seconds: float
    gif_loop: int
    gif_final_delay: int
    faststart: bool
    def to_dict(self) -> dict[str, Any]: ...

class HlsSettings:
    encryption: str
    key: str
    key_uri: str
    key_dir: str
    key_rotation: int
    playlist: str
    segments: str
    dash: bool
    def to_dict(self) -> dict[str, Any]: ...

def template_keys() -> list[dict[str, str]]:
    """Every template key: key ("video.crf"), values, doc and python (its type), as the parser reads them."""

class Template:
    name: str
    description: str
    container: str
    video: VideoSettings
    audio: AudioSettings
    trans: TransSettings
    mux: MuxSettings
    hls: HlsSettings
    path: Path | None
    changed: bool
    def __init__(self, base: _PathLike | None = None, overrides: Mapping[str, Any] | None = None,
                 name: str | None = None) -> None: ...
    @staticmethod
    def load(name_or_path: _PathLike, overrides: _Overrides = None) -> Template: ...
    def __getitem__(self, key: str) -> Any: ...
    def __setitem__(self, key: str, value: Any) -> None: ...
    def __delitem__(self, key: str) -> None: ...
    def update(self, settings: Mapping[str, Any]) -> None: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_toml(self) -> str: ...
    def save(self, path: _PathLike) -> None: ...
    def copy(self) -> Template: ...

# --- jobs ------------------------------------------------------------------------

class Overrides:
    def __getitem__(self, key: str) -> Any: ...
    def __setitem__(self, key: str, value: Any) -> None: ...
    def __delitem__(self, key: str) -> None: ...
    def __contains__(self, key: str) -> bool: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[str]: ...
    def keys(self) -> list[str]: ...
    def items(self) -> list[tuple[str, Any]]: ...
    def update(self, settings: Mapping[str, Any]) -> None: ...
    def clear(self) -> None: ...
    def to_dict(self) -> dict[str, Any]: ...

class Output:
    path: str
    template: str | None   # also accepts a Template (loaded from the catalogue or saved)
    overrides: Overrides   # also accepts a dict (replaces every override)
    user_data: str
    def __init__(self, path: _PathLike, template: str | Template | None = None,
                 overrides: Mapping[str, Any] | None = None, user_data: str = "") -> None: ...
    def resolve(self, input: _PathLike | None = None) -> Template: ...
    def to_dict(self) -> dict[str, Any]: ...

class Job:
    input: Path | None
    video_stream: str
    audio_stream: str
    start: float
    duration: float | None
    end_offset: float | None
    concat: list[Path]
    intro: Path | None
    outro: Path | None
    fill_silence: bool
    segment_seconds: float | None
    max_attempts: int | None
    manifest: Path | None
    file: Path | None
    outputs: list[Output]
    def __init__(self, input: _PathLike | None = None, outputs: Sequence[Output | _PathLike] = ...,
                 video_stream: str = "", audio_stream: str = "", segment_seconds: float | None = None,
                 manifest: _PathLike | None = None) -> None: ...
    @staticmethod
    def load(path: _PathLike) -> Job: ...
    def add_output(self, path: _PathLike | Output, template: str | Template | None = None,
                   overrides: Mapping[str, Any] | None = None, user_data: str = "") -> Output: ...
    def remove_output(self, output: int | Output) -> None: ...
    def templates(self) -> list[Template]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_toml(self) -> str: ...
    def save(self, path: _PathLike) -> None: ...

# --- local runs ------------------------------------------------------------------

class Progress:
    seconds_done: float
    seconds_total: float
    frames: int
    fraction: float

class OutputResult:
    path: Path
    template: str
    user_data: str
    video_frames: int
    files: list[Path]
    bytes: int
    media_info: dict[str, Any]

class RunResult:
    input: Path
    seconds: float
    media_seconds: float
    timeline: list[dict[str, Any]]
    speed: float
    outputs: list[OutputResult]
    manifest: Path | None
    timings: dict[str, float]
    workers: int
    segments: int
    resumed_segments: int
    retried_segments: int
    snapshots: list[dict[str, Any]]
    def to_dict(self) -> dict[str, Any]: ...

def run(job: Job | _PathLike, workers: int = 0, segment_seconds: float | None = None,
        max_attempts: int | None = None, manifest: _PathLike | None = None, progress: Callable[[Progress], Any] | None = None,
        overrides: _Overrides = None, wait_lock: bool = False) -> RunResult:
    """Runs a job on this machine (`gopcast run`); Ctrl-C raises KeyboardInterrupt, leaving no output."""

class Manifest:
    def __init__(self, path: _PathLike) -> None: ...
    path: Path
    segments: dict[str, np.ndarray]
    keyframes: dict[str, np.ndarray]
    time_base: tuple[int, int]
    end_pts: int
    total_frames: int
    attrs: dict[str, Any]
    phases: dict[str, float]
    state: str
    def __len__(self) -> int: ...

# --- pipelines on Slurm ----------------------------------------------------------

class JobRecord:
    id: str
    state: str
    done: bool
    ok: bool
    pipeline: str
    priority: int
    user_data: str
    input: str
    outputs: list[str]
    manifest: str
    job_file: str
    slurm_job_id: str
    batch_id: str
    submitted_at: str
    started_at: str
    finished_at: str
    host: str
    attempts: int
    error_code: str
    error_message: str
    history: list[dict[str, str]]
    home: Path
    def refresh(self) -> JobRecord: ...
    def wait(self, timeout: float | None = None) -> JobRecord: ...
    def cancel(self) -> JobRecord: ...
    def to_dict(self) -> dict[str, Any]: ...

def submit(job: Job | _PathLike, *, pipeline: str, priority: int = 6, user_data: str = "",
           overrides: _Overrides = None, home: _PathLike | None = None) -> JobRecord: ...
def jobs(pipeline: str | None = None, state: str | None = None, batch: str | None = None,
         home: _PathLike | None = None) -> list[JobRecord]: ...
def job(id: str, home: _PathLike | None = None) -> JobRecord: ...
def pipelines(home: _PathLike | None = None) -> list[dict[str, Any]]: ...
