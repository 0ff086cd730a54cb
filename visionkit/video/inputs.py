"""What ``tools/infer.py`` is pointed at, sorted into still images and videos.

An input is an image or video file, a folder (its images and videos), a glob pattern (``'shots/*.jpg'``),
a VOC split file (``ImageSets/Segmentation/val.txt``), a camera index (``0``) or a stream URL
(``rtsp://...``, ``http://...``). Images are predicted one by one, unless ``as_video`` makes each folder's
or pattern's images the frames of one video.
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field
from pathlib import Path

from .capture import LiveSource, ReconnectPolicy, redact_url
from .sources import DEFAULT_FPS, FrameSource, ImageSequenceSource, VideoFileSource

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
# ultralytics' list of video containers, as its users expect.
VIDEO_SUFFIXES = (
    ".mp4",
    ".avi",
    ".mov",
    ".mkv",
    ".webm",
    ".m4v",
    ".mpg",
    ".mpeg",
    ".wmv",
    ".asf",
    ".ts",
    ".gif",
)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class VideoInput:
    """One video to annotate. ``kind``: ``'file'``, ``'images'`` (``frames`` in order), ``'camera'`` or
    ``'stream'``; ``location``: the path, folder or pattern, camera index or URL as given."""

    kind: str
    location: str
    frames: tuple[Path, ...] = field(default=(), repr=False)

    @property
    def path(self) -> Path | None:
        """The file or folder the outputs are named after (None for cameras and streams)."""
        if self.kind == "file":
            return Path(self.location)
        if self.kind == "images":
            return _fixed_part(self.location)
        return None

    @property
    def name(self) -> str:
        """The output's name for a camera (``camera0``) or stream (its host and path, password left out)."""
        if self.kind == "camera":
            return f"camera{self.location}"
        bare = redact_url(self.location).split("://", 1)[-1].split("@")[-1]
        return re.sub(r"[^A-Za-z0-9.-]+", "_", bare).strip("_.") or "stream"

    def open(self, fps: float = DEFAULT_FPS, policy: ReconnectPolicy | None = None) -> FrameSource:
        """The frame source (opened; errors name the file, camera or stream). ``fps``: image frames' rate."""
        if self.kind == "file":
            return VideoFileSource(self.location)
        if self.kind == "images":
            return ImageSequenceSource(self.frames, fps, f"the images of '{self.location}'")
        return LiveSource(int(self.location) if self.kind == "camera" else self.location, policy)


def _fixed_part(pattern: str) -> Path:
    """A glob pattern's leading folders without wildcards (``shots/run1/*.jpg`` -> ``shots/run1``)."""
    parts = Path(pattern).parts
    fixed = parts[: next((i for i, p in enumerate(parts) if glob.has_magic(p)), len(parts))]
    return Path(*fixed) if fixed else Path(".")


def _sort_files(paths: list[Path], location: str, as_video: bool) -> tuple[list[Path], list[VideoInput]]:
    images = sorted(p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES)
    videos = [VideoInput("file", str(p)) for p in sorted(paths) if p.suffix.lower() in VIDEO_SUFFIXES]
    if as_video and images:
        return [], [VideoInput("images", location, tuple(images)), *videos]
    return images, videos


def collect_inputs(inputs: list[str], as_video: bool = False) -> tuple[list[Path], list[VideoInput]]:
    """(image paths, videos) from what a user typed, in order; ``ValueError`` naming an input that is none
    of the kinds above, or when nothing was found."""
    images: list[Path] = []
    videos: list[VideoInput] = []
    for text in inputs:
        item = Path(text)
        if re.fullmatch(r"\d+", text) and not item.exists():
            videos.append(VideoInput("camera", text))
        elif _URL.match(text):
            videos.append(VideoInput("stream", text))
        elif item.is_dir():
            found = _sort_files([p for p in item.iterdir() if p.is_file()], text, as_video)
            images, videos = images + found[0], videos + found[1]
        elif glob.has_magic(text) and not item.exists():
            matches = [Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file()]
            if not matches:
                raise ValueError(f"No files match the pattern '{text}'")
            found = _sort_files(matches, text, as_video)
            images, videos = images + found[0], videos + found[1]
        elif item.suffix.lower() == ".txt" and item.is_file():
            jpeg_dir = item.resolve().parents[2] / "JPEGImages"
            ids = [line.split()[0] for line in item.read_text().splitlines() if line.strip()]
            images += [jpeg_dir / f"{image_id}.jpg" for image_id in ids]
        elif item.is_file():
            is_video = item.suffix.lower() in VIDEO_SUFFIXES
            videos += [VideoInput("file", text)] if is_video else []
            images += [] if is_video else [item]
        else:
            raise ValueError(
                f"Input '{text}' is not an image or video file, a folder, a glob pattern, a VOC split file, "
                "a camera index or a stream URL"
            )
    if not images and not videos:
        raise ValueError(f"No images or videos found in {inputs}")
    return images, videos
