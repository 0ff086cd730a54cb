"""The demo's server without a browser: the page, and answers to uploads it cannot use."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from visionkit.demo import DemoPredictor, make_server


class NoModel:
    """Enough of a model for uploads that never reach it."""

    def __init__(self) -> None:
        self.dataset_meta: dict = {}


@pytest.fixture
def server():
    server = make_server(DemoPredictor(NoModel()), port=0, title="cfg<script>.py", max_upload_mb=0.001)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def post(url: str, body: bytes, name: str = "x.bin") -> tuple[int, dict]:
    request = urllib.request.Request(f"{url}/predict", data=body, headers={"X-Filename": name}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_page_is_served_on_localhost_with_the_title_escaped(server):
    assert server.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(f"{server}/", timeout=30) as response:
        page = response.read().decode()
    assert "cfg&lt;script>.py" in page and "<script>.py" not in page
    assert 'id="file"' in page and "/predict" in page


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 400, "The upload is empty"),
        (b"neither an image nor a video", 400, "'notes.txt' is neither an image nor a video"),
        (b"x" * 2000, 413, "this demo takes up to 0.001 MB"),
    ],
)
def test_unusable_uploads_get_a_clear_error(server, body, status, message):
    got_status, answer = post(server, body, "notes.txt")
    assert got_status == status and message in answer["error"]


def test_unknown_paths_are_404(server):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{server}/secrets", timeout=30)
    assert error.value.code == 404
