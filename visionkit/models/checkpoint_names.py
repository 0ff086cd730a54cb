"""Published checkpoints by name: ``torchvision://``, ``timm://`` and ``paddleclas://``.

Each name stands for the URL its home library downloads, resolved without the network:

- ``torchvision://NAME[.VERSION]``: from the installed torchvision's weight enums
  (:func:`.checkpoint_fetch.torchvision_url`).
- ``timm://NAME[.TAG]``: the file timm's ``pretrained_cfg`` names for that model and tag (a bare NAME is
  timm's default tag, ``mobilenetv2_100`` -> ``mobilenetv2_100.ra_in1k``). These are the GitHub release
  files timm published first, as ``.pth``; their names carry the sha256 prefix that the download is checked
  against. (timm itself now fetches the same weights from the Hugging Face hub as ``model.safetensors``;
  such a file, downloaded by you, loads by its path as well.)
- ``paddleclas://NAME``: PaddleClas's ``MODEL_URLS`` (``ppcls/arch/backbone/model_zoo/mobilenet_v2.py``;
  ``_ssld`` names the distilled weights, as PaddleClas's ``use_ssld=True`` does), case-insensitive.

Where a URL carries no hash, the one table of pins (:data:`.tf_releases.PINNED_SHA256`, read by
:mod:`.checkpoint_fetch` for every download) may give the file's whole sha256; a URL without either is
downloaded as any other URL (its sha256 recorded at the first download).
"""

from __future__ import annotations

from .checkpoint_fetch import TORCHVISION_SCHEME, CheckpointFetchError, torchvision_url

TIMM_SCHEME, PADDLECLAS_SCHEME = "timm://", "paddleclas://"
SCHEMES = (TORCHVISION_SCHEME, TIMM_SCHEME, PADDLECLAS_SCHEME)

_TIMM_RELEASES = "https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-weights/"
# timm 1.0's pretrained_cfgs (timm/models/efficientnet.py, mobilenetv3.py): model.tag -> file.
TIMM_FILES = {
    "mobilenetv2_050.lamb_in1k": "mobilenetv2_050-3d30d450.pth",
    "mobilenetv2_100.ra_in1k": "mobilenetv2_100_ra-b33bc2c4.pth",
    "mobilenetv2_110d.ra_in1k": "mobilenetv2_110d_ra-77090ade.pth",
    "mobilenetv2_120d.ra_in1k": "mobilenetv2_120d_ra-5987e2ed.pth",
    "mobilenetv2_140.ra_in1k": "mobilenetv2_140_ra-21a4e913.pth",
    "mobilenetv3_large_100.ra_in1k": "mobilenetv3_large_100_ra-f55367f5.pth",
    "mobilenetv3_small_100.lamb_in1k": "mobilenetv3_small_100_lamb-266a294c.pth",
}
_PADDLECLAS_ROOT = "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/"
PADDLECLAS_NAMES = (
    "MobileNetV2_x0_25",
    "MobileNetV2_x0_5",
    "MobileNetV2_x0_75",
    "MobileNetV2",
    "MobileNetV2_x1_5",
    "MobileNetV2_x2_0",
    "MobileNetV2_ssld",
)


def timm_url(name: str) -> str:
    """The URL of ``timm://NAME[.TAG]`` (see the module docstring)."""
    name = name.lower()
    matches = [key for key in TIMM_FILES if key == name or key.split(".")[0] == name]
    if not matches:
        raise CheckpointFetchError(
            f"Checkpoint '{TIMM_SCHEME}{name}': not a timm checkpoint visionkit knows; it knows "
            f"{', '.join(TIMM_FILES)} (a bare model name is its first tag). Other timm files load by their "
            "path or URL"
        )
    return _TIMM_RELEASES + TIMM_FILES[matches[0]]


def paddleclas_url(name: str) -> str:
    """The URL of ``paddleclas://NAME`` (see the module docstring)."""
    known = {known.lower(): known for known in PADDLECLAS_NAMES}
    if name.lower() not in known:
        raise CheckpointFetchError(
            f"Checkpoint '{PADDLECLAS_SCHEME}{name}': not a PaddleClas checkpoint visionkit knows; it knows "
            f"{', '.join(PADDLECLAS_NAMES)}"
        )
    return f"{_PADDLECLAS_ROOT}{known[name.lower()]}_pretrained.pdparams"


_RESOLVERS = {TORCHVISION_SCHEME: torchvision_url, TIMM_SCHEME: timm_url, PADDLECLAS_SCHEME: paddleclas_url}


def checkpoint_url(filename: str) -> str:
    """The URL of a named checkpoint; any other ``filename`` as it is."""
    for scheme, resolve in _RESOLVERS.items():
        if filename.startswith(scheme):
            return resolve(filename[len(scheme) :])
    return filename
