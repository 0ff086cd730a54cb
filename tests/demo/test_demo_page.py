"""`visionkit demo` in a real headless browser: Debian's Chromium, driven by Selenium through Debian's
chromedriver (nothing downloads a browser). A photo and a short clip are uploaded as a person would; the
page must show the predictions drawn, with the class names and scores the model gives."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from tests.deploy.onnx_toy_models import TOY, toy_model
from tests.tools.run_tool import REPO
from tests.video.clips import moving_shapes, write_clip
from visionkit.apis import inference_model

pytestmark = pytest.mark.slow
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CLASSES = ["circle", "square", "star", "triangle"]
SCORE_THR = 0.72
# What Chromium needs to run headless as root without reaching out to the network.
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--window-size=1200,900",
)  # fmt: skip


def browser(profile: str):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
    from selenium.webdriver.chrome.service import Service

    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip(f"no {', '.join(missing)}: apt-get install -y chromium chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    """tools/demo.py serving the toy detector on a free port of 127.0.0.1."""
    folder = tmp_path_factory.mktemp("demo")
    checkpoint = folder / "detector.pth"
    meta = {"dataset_meta": {"classes": CLASSES}}
    torch.save({"state_dict": toy_model("detection").state_dict(), "meta": meta}, checkpoint)
    config, _, options = TOY["detection"]
    command = [
        sys.executable, str(REPO / "tools" / "demo.py"), str(REPO / config), str(checkpoint), "--port", "0",
        "--score-thr", str(SCORE_THR), "--cfg-options", *[f"{k}={v}" for k, v in options.items()],
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        line = server.stdout.readline()
        assert "open http://127.0.0.1:" in line, line + server.stdout.read()
        yield line.split("open ")[1].split()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def page(demo_url):
    profile = tempfile.mkdtemp(prefix="visionkit_chromium_")
    driver = browser(profile)
    driver.get(demo_url)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def upload(driver, path: Path) -> str:
    """Choose ``path`` in the page's file input and wait for the answer; the status line."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.ID, "file").send_keys(str(path))
    status = driver.find_element(By.ID, "status")
    WebDriverWait(driver, 120).until(lambda _: status.get_attribute("data-state") in ("done", "error"))
    return status.text


def test_a_photo_comes_back_with_its_boxes_drawn_and_listed_by_name_and_score(page, tmp_path):
    from selenium.webdriver.common.by import By

    photo = moving_shapes(1, (400, 300))[0]
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert upload(page, tmp_path / "photo.png") == "done: 400x300 image"

    (sample,) = inference_model(toy_model("detection"), photo)
    keep = sample.pred_scores >= SCORE_THR
    boxes, scores, labels = sample.pred_bboxes[keep], sample.pred_scores[keep], sample.pred_labels[keep]
    assert len(scores) >= 2
    rows = page.find_elements(By.CSS_SELECTOR, "#records table tr")
    cells = [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows[1:]]
    header = [th.text for th in rows[0].find_elements(By.TAG_NAME, "th")]
    assert header == ["bbox_xyxy", "label", "score"]
    assert [(c[1], c[2]) for c in cells] == [
        (CLASSES[int(k)], f"{float(s):.3f}") for k, s in zip(labels, scores, strict=True)
    ]
    assert all(name in page.find_element(By.ID, "summary").text for name in {CLASSES[int(k)] for k in labels})

    source = page.find_element(By.ID, "result-image").get_attribute("src")
    assert source.startswith("data:image/png;base64,")
    drawn = cv2.cvtColor(
        cv2.imdecode(np.frombuffer(base64.b64decode(source.split(",", 1)[1]), np.uint8), 1), 4
    )
    assert drawn.shape == photo.shape
    changed = np.abs(drawn.astype(int) - photo).max(axis=2) > 0
    near_a_box = np.zeros(changed.shape, bool)
    for x1, y1, x2, y2 in boxes.round().int().tolist():
        # The box, and its caption: above it (inside where the box touches the top), up to 120 px wide.
        near_a_box[max(y1 - 30, 0) : y2 + 3, max(x1 - 3, 0) : max(x2, x1 + 120) + 3] = True
        edge = changed[max(y1, 0) : y2 + 1, max(x1, 0) : min(x1 + 2, 399)]  # its left side, 2 px wide
        assert edge.mean() > 0.5, "a box is missing from the drawing"
    assert not changed[~near_a_box].any(), "the picture changed away from every box"


def test_a_short_video_comes_back_playable_with_a_record_per_frame(page, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    clip = write_clip(tmp_path / "clip.mp4", moving_shapes(6, (320, 240)), fps=12.0)
    assert upload(page, clip) == "done: 6 of 6 frames"
    video = page.find_element(By.ID, "result-video")
    WebDriverWait(page, 60).until(lambda _: video.get_attribute("readyState") not in (None, "0"))
    assert float(video.get_attribute("duration")) == pytest.approx(6 / 12, abs=0.09)
    assert page.execute_script("return arguments[0].videoWidth", video) == 320  # decoded by Chromium
    frames = page.find_elements(By.CSS_SELECTOR, "#frames li")
    assert len(frames) == 6 and frames[1].text.startswith("0.08 s: ")
    assert any(name in frames[0].text for name in CLASSES)
