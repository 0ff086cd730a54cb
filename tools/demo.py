"""Show a model on a local web page: drop an image or a short video, see its predictions drawn.

    python tools/demo.py CONFIG CHECKPOINT [--host 127.0.0.1] [--port 7860] [--device cpu] [--runtime NAME]
        [--score-thr 0.3] [--topk 5] [--max-frames 300] [--max-upload-mb 50] [--cfg-options key=value ...]

Open the printed address in a browser. Every task works (detection: boxes with names and scores;
segmentation: the mask overlay and its legend; classification: the top class, and the top-k as a table;
multi-task: all of them), and any CHECKPOINT init_model takes (.pth, or an exported .onnx / .pte in its
runtime). A video comes back as WebM with a record per frame; frames past --max-frames are left out. The
server listens on 127.0.0.1 only, unless --host says otherwise (0.0.0.0: every interface; anyone who can
reach it can run the model). Ctrl+C stops it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmengine.config import DictAction

from visionkit.apis import init_model
from visionkit.demo import DemoPredictor, make_server
from visionkit.deploy import runtime_names
from visionkit.engine import USER_ERRORS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file")
    parser.add_argument("checkpoint", help="checkpoint: path, URL, or an exported .onnx / .pte file")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: this machine only)"
    )
    parser.add_argument("--port", type=int, default=7860, help="port (0: any free one)")
    parser.add_argument("--device", default="cpu", help="e.g. cpu, cuda:0")
    parser.add_argument("--runtime", help=f"what runs an exported file: {', '.join(runtime_names())}")
    parser.add_argument("--score-thr", type=float, default=0.3, help="detection: lowest score shown")
    parser.add_argument("--topk", type=int, default=5, help="classification: classes listed")
    parser.add_argument("--max-frames", type=int, default=300, help="frames of a video predicted at most")
    parser.add_argument("--max-upload-mb", type=float, default=50.0, help="largest file accepted")
    parser.add_argument(
        "--cfg-options", nargs="+", action=DictAction, default={}, help="override config values"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        model = init_model(args.config, args.checkpoint, args.device, args.cfg_options, runtime=args.runtime)
    except USER_ERRORS as error:
        raise SystemExit(f"error: {error}") from None
    predictor = DemoPredictor(model, args.score_thr, args.topk, args.max_frames)
    title = f"{Path(args.config).name} + {Path(args.checkpoint).name}"
    server = make_server(predictor, args.host, args.port, title, args.max_upload_mb)
    host, port = server.server_address[:2]
    print(f"visionkit demo of {title}: open http://{host}:{port}/ (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
