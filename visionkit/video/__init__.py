"""Video, camera and stream inference: frame sources, the overlapping decode -> predict -> encode pipeline,
annotated video and per-frame records (docs/video.md)."""

from .capture import LiveSource, ReconnectPolicy, StreamLostError, redact_url
from .display import LiveWindow, display_problem
from .inputs import IMAGE_SUFFIXES, VIDEO_SUFFIXES, VideoInput, collect_inputs
from .pipeline import VideoOutputs, annotate, annotate_video, frame_record, prefetch
from .sources import (
    DEFAULT_FPS,
    Frame,
    FrameSource,
    ImageSequenceSource,
    VideoFileSource,
    VideoSourceError,
    frame_time,
    usable_fps,
)
from .stats import VideoStats
from .writer import FOURCC, RecordWriter, VideoWriter, fit_frame, read_records

__all__ = [
    "DEFAULT_FPS",
    "FOURCC",
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "Frame",
    "FrameSource",
    "ImageSequenceSource",
    "LiveSource",
    "LiveWindow",
    "ReconnectPolicy",
    "RecordWriter",
    "StreamLostError",
    "VideoFileSource",
    "VideoInput",
    "VideoOutputs",
    "VideoSourceError",
    "VideoStats",
    "VideoWriter",
    "annotate",
    "annotate_video",
    "collect_inputs",
    "display_problem",
    "fit_frame",
    "frame_record",
    "frame_time",
    "prefetch",
    "read_records",
    "redact_url",
    "usable_fps",
]
