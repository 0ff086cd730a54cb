"""What the demo page gets back for an uploaded file: the picture or video with the predictions drawn, each
task's record (class names and scores) and the summary in words, as JSON."""

from __future__ import annotations

import base64
import tempfile
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..apis.inference import inference_model
from ..outputs import View, outputs_predicted_in, summarize
from ..video import VideoFileSource, VideoOutputs, VideoSourceError, annotate, annotate_video

# Video back to the browser as VP8 in WebM, which every browser plays (OpenCV's pip wheels have no H.264).
BROWSER_VIDEO = (".webm", "video/webm")


class UploadError(ValueError):
    """An upload that is neither an image nor a video OpenCV can read (the message says so)."""


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def encode_png(image: np.ndarray) -> bytes:
    """(H, W, 3) uint8 RGB -> PNG bytes (lossless: the page shows exactly what was drawn)."""
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise UploadError("Cannot encode the annotated image")
    return data.tobytes()


class DemoPredictor:
    """Runs ``model`` (from :func:`~visionkit.apis.init_model`, any runtime) on uploads, one at a time.

    Images come back with each task's drawing and legend beside it (as ``tools/infer.py`` writes them);
    videos (at most ``max_frames`` frames) as a WebM with the legends inside the frames, and a record per
    frame.
    """

    def __init__(self, model: Any, score_thr: float = 0.3, topk: int = 5, max_frames: int = 300) -> None:
        meta = model.dataset_meta
        classes, palette = list(meta.get("classes") or []), meta.get("palette")
        self.model, self.max_frames = model, max_frames
        self.image_view = View(classes, palette, score_thr, topk)
        self.video_view = View(classes, palette, score_thr, topk, legend_inside=True)
        self._lock = threading.Lock()  # one prediction at a time: models are not made for concurrent calls

    def predict(self, data: bytes, filename: str = "upload") -> dict[str, Any]:
        """The JSON answer for one uploaded file (image or video, told apart by decoding it)."""
        if not data:
            raise UploadError("The upload is empty")
        with self._lock:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if image is not None:
                return self._image(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            return self._video(data, Path(filename).suffix.lower() or ".mp4", filename)

    def _image(self, image: np.ndarray) -> dict[str, Any]:
        (sample,) = inference_model(self.model, image)
        view = self.image_view
        record = {
            outputs.record_key: outputs.record(sample, view) for outputs in outputs_predicted_in(sample)
        }
        return {
            "kind": "image",
            "size": [image.shape[1], image.shape[0]],
            "image": data_url(encode_png(annotate(image, sample, view)), "image/png"),
            "records": record,
            "summary": summarize(sample, record, view),
        }

    def _video(self, data: bytes, suffix: str, filename: str) -> dict[str, Any]:
        frames: list[dict[str, Any]] = []

        def keep(frame, sample, record) -> None:
            frames.append({**record, "summary": summarize(sample, record, self.video_view)})

        with tempfile.TemporaryDirectory(prefix="visionkit_demo_") as folder:
            upload, annotated = (
                Path(folder) / f"upload{suffix}",
                Path(folder) / f"annotated{BROWSER_VIDEO[0]}",
            )
            upload.write_bytes(data)
            try:
                source = VideoFileSource(upload)
            except VideoSourceError:
                raise UploadError(f"'{filename}' is neither an image nor a video OpenCV can read") from None
            stats = annotate_video(
                self.model,
                source,
                self.video_view,
                VideoOutputs(video=annotated, on_frame=keep),
                self.max_frames,
            )
            video = annotated.read_bytes()
        return {
            "kind": "video",
            "video": data_url(video, BROWSER_VIDEO[1]),
            "fps": source.fps,
            "frames": frames,
            "frame_count": source.frame_count,
            "stats": stats.summary(),
        }
