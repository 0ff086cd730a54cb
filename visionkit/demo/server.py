"""The demo's web server: Python's own ``http.server``, one page and one endpoint.

``GET /`` serves the page (``page.html`` beside this file); ``POST /predict`` takes the file as the request
body (its name in the ``X-Filename`` header) and answers :meth:`DemoPredictor.predict`'s JSON, or
``{"error": ...}`` with status 400 (not an image or video), 413 (too large) or 500.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import unquote

from mmengine.logging import print_log

from ..video import VideoSourceError
from .predict import DemoPredictor, UploadError

PAGE = "page.html"


def page_html(title: str) -> bytes:
    """The page, titled ``title`` (the config's name)."""
    text = resources.files(__package__).joinpath(PAGE).read_text(encoding="utf-8")
    return text.replace("{{title}}", title.replace("<", "&lt;")).encode("utf-8")


def make_handler(predictor: DemoPredictor, title: str, max_upload_mb: float) -> type[BaseHTTPRequestHandler]:
    page = page_html(title)
    limit = int(max_upload_mb * 1024 * 1024)

    class DemoHandler(BaseHTTPRequestHandler):
        server_version = "visionkit-demo"

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, answer: dict[str, Any]) -> None:
            self._send(status, json.dumps(answer).encode("utf-8"), "application/json")

        def do_GET(self) -> None:
            if self.path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no page {self.path}"})

        def do_POST(self) -> None:
            if self.path != "/predict":
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no endpoint {self.path}"})
                return
            size = int(self.headers.get("Content-Length") or 0)
            if size > limit:
                self.close_connection = True
                message = f"The file is {size / 2**20:.1f} MB; this demo takes up to {max_upload_mb:g} MB"
                self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": message})
                return
            data = self.rfile.read(size)
            name = unquote(self.headers.get("X-Filename") or "upload")
            try:
                self._json(HTTPStatus.OK, predictor.predict(data, name))
            except (UploadError, VideoSourceError) as error:
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
            except Exception as error:  # noqa: BLE001 - the page shows it; the server keeps serving
                print_log(f"demo: {name}: {error!r}", logger="current", level=logging.ERROR)
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(error).__name__}: {error}"})

        def log_message(self, format: str, *args: Any) -> None:
            print_log(f"demo: {self.address_string()} {format % args}", logger="current", level=logging.DEBUG)

    return DemoHandler


def make_server(
    predictor: DemoPredictor,
    host: str = "127.0.0.1",
    port: int = 7860,
    title: str = "visionkit",
    max_upload_mb: float = 50.0,
) -> ThreadingHTTPServer:
    """A server bound to ``host``:``port`` (0: any free port; ``server.server_address`` says which);
    call ``serve_forever()``."""
    return ThreadingHTTPServer((host, port), make_handler(predictor, title, max_upload_mb))
