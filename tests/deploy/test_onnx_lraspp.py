"""configs/lraspp_mnv3_large_voc.py with torchvision's (random) weights exports to ONNX; ONNX Runtime
predicts what PyTorch does on a photo at a size other than the traced one."""

import pytest
import torch
from skimage import data as skimage_data

from tests.bn_statistics import assert_depends_on_input
from tests.models.test_torchvision_segmentation import CONFIGS, torchvision_model
from visionkit.apis import inference_model, init_model
from visionkit.deploy.onnx_export import export_onnx

pytest.importorskip("onnxscript")
pytest.importorskip("onnxruntime")


@pytest.mark.slow
def test_onnx_runtime_gives_the_lraspp_models_logits(tmp_path):
    checkpoint = tmp_path / "lraspp.pth"
    torch.save(torchvision_model("lraspp").state_dict(), checkpoint)
    options = {"model.test_cfg.with_logits": True}
    model = init_model(str(CONFIGS["lraspp"]), str(checkpoint), cfg_options=options)
    path = tmp_path / "lraspp.onnx"
    export_onnx(model, path, (200, 152))
    runtime = init_model(str(CONFIGS["lraspp"]), str(path), cfg_options=options)
    images = [skimage_data.astronaut(), skimage_data.coffee()[:300, :260]]  # resized to 520 x 520 / 600 x 520
    expected_samples = inference_model(model, images)
    first, second = (sample.seg_logits[:, :200, :200] for sample in expected_samples)
    assert_depends_on_input(first, second)
    for expected, got in zip(expected_samples, inference_model(runtime, images), strict=True):
        assert got.seg_logits.shape == expected.seg_logits.shape == (21, *expected.ori_shape)
        scale = float(expected.seg_logits.abs().max())
        torch.testing.assert_close(got.seg_logits, expected.seg_logits, atol=1e-4 * scale, rtol=0)
        assert (got.pred_seg_map != expected.pred_seg_map).float().mean() < 1e-3
