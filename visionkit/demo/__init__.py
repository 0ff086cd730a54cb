"""``visionkit demo CONFIG CHECKPOINT``: a local web page that shows a model's predictions on an image or a
short video dropped into it (docs/video.md)."""

from .predict import DemoPredictor, UploadError
from .server import make_server, page_html

__all__ = ["DemoPredictor", "UploadError", "make_server", "page_html"]
