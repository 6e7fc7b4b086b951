"""gopcast from Python: media info, templates and jobs, local runs on the
segment-parallel engine, Slurm pipelines, segment manifests and snapshots.

    import gopcast
    info = gopcast.probe("movie.mp4")
    job = gopcast.Job("movie.mp4", outputs=["out/{name}-480p.mp4"])
    job.outputs[0].template = "android-mp4-480p"
    result = gopcast.run(job, workers=2, progress=lambda p: print(f"{p.fraction:.0%}"))
    segments = gopcast.Manifest(result.manifest).segments   # dict of numpy arrays
    frame = gopcast.snapshot("movie.mp4", 12.5, width=320)  # (H, W, 3) uint8 RGB

Errors are gopcast.Error subclasses carrying .code and .exit_status, also deriving
from the built-in exception one would catch (ValueError, FileNotFoundError, LookupError,
OSError, TimeoutError). help(gopcast.run) and the others say more.
"""
from ._gopcast import *  # noqa: F401,F403  (the compiled module defines everything)
from ._gopcast import __version__  # noqa: F401

__all__ = [
    # media
    "probe", "snapshot", "cover",
    # templates and jobs
    "Template", "VideoSettings", "AudioSettings", "TransSettings", "MuxSettings", "HlsSettings",
    "templates", "template_keys",
    "Job", "Output", "Overrides",
    # local runs
    "run", "Progress", "RunResult", "OutputResult", "Manifest",
    # pipelines on Slurm
    "submit", "jobs", "job", "pipelines", "JobRecord",
    # errors and logging
    "Error", "InvalidParameter", "InternalError", "Usage", "ResourceNotFound", "ResourceContentBad",
    "OutOfRange", "TemplateNotFound", "InvalidKey", "SpecSyntax", "UnsupportedCodec", "Incompatible",
    "StreamNotFound", "OutputNotWritable", "PipelineNotFound", "JobNotFound", "TranscodeFailed",
    "SchedulerFailed", "SchedulerLimit", "OutputLocked", "WaitTimeout", "Cancelled", "error_codes", "set_log_level",
]
