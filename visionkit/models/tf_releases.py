"""The TensorFlow releases of the MobileNetV2 paper's models, with the sha256 of each archive.

Their URLs carry no hash (torchvision's and mmdetection's names do), so each archive's digest is pinned here,
as other projects that ship these files published them: OpenVINO's Open Model Zoo (``models/public/*/
model.yml`` before 2021-10, sha256 and size, for MobileNetV2 1.0@224 and 1.4@224, DeepLab trainaug and
SSDLite) and the Renesas ``meta-renesas-ai`` Yocto layer (``benchmark.bb``, sha256 of every MobileNetV2
archive; its 1.0@224 and 1.4@224 digests equal the Open Model Zoo's). A download must match its pin. Any URL
can carry one too: ``https://host/model.tgz#sha256=<64 hex digits>``. No sha256 of DeepLab's ``_trainval``
archive is published: fetch it with ``#sha256=`` after checking the file, or give the local path.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

_MNV2 = "https://storage.googleapis.com/mobilenet_v2/checkpoints/mobilenet_v2_{}.tgz"
MOBILENET_V2_SHA256 = {
    "1.4_224": "a20d0c8d698502dc6a620528871c97a588885df7737556243a3412b39fce85e0",
    "1.3_224": "b04129d44a46e0eb409c1a2bc255472ebdd57f9c091812e7866d79d0cc7fecaa",
    "1.0_224": "318084bc1b63d6d7b854553e09cdf77078b1c0168be27c59a0d44253b5ed49dc",
    "1.0_192": "e8d9cd7c571f375c80945b5f889705ae412db32d3419d747e796429e39132f48",
    "1.0_160": "e374bc70066dde0c3af6cb4c98ecd8707800d71d11353c4cc359b3069415f23e",
    "1.0_128": "f692e341cf1529df4f7e68ed13d0284ad8796ade1108f802eec135abc1fc1b83",
    "1.0_96": "8f0377b71d79f5626c5198f248b476d2604b3e4e596ca4076e1b1f8fcd3f3844",
    "0.75_224": "335cd22c7e1c5e80205dedd6e2ff5d1d8af5c29074496eb047fd621349e10cc5",
    "0.75_192": "40efef9324376d47b872d1cd6e4de8ba7c9323b6203252aa66dc2b2413e0dc8d",
    "0.75_160": "904d1a1f84c329ad766464d132f697e96814685853c45c6ee4dd21877ada36bc",
    "0.75_128": "9ac932679a9fb1304bc1435bb7fa30e1b2fcaa7f49e0902da24d154ec83f9302",
    "0.75_96": "bdf06eec5478dbb1bb9e01648637d8acd4cc500f72e1a3dad01ba45642e31e6f",
    "0.5_224": "813febbdbe2a7a50055ee2f6b374938aed03e2f607f63f3479622aefc4e12b00",
    "0.5_192": "5a344ed91cded5d420b6c65d47343ee60b43b570953b0feed4ee95451a679dd5",
    "0.5_160": "f89c879b1a45c5d677ad7fe499f08a7854ef1772f0f5ae5d606afaaa87218e45",
    "0.5_128": "ba078efd101c2308fb978467084f0ec12485ed8bfbb7695e477587b3272a1d66",
    "0.5_96": "71a814047d7729bad711ae3e7db30e6c32999a1189f88d328b73939f7aa80d62",
    "0.35_224": "efcc34277c52f7dd4b0b26c2f52686793f4ea5fdddc899ac5aac9eb8d5861550",
    "0.35_192": "5dec603e2714a780c3cfc0656dac51bf2f4b354c4f7acda879ad5b6017f3f55b",
    "0.35_160": "e579b5b50f47e88dc0c4390d20a396658b97457182f83905154a8a687ba15fa7",
    "0.35_128": "c21a8f89e2e1a49e9002b1e1b871f3c92695ccb0cd64e7e7a21b71f2820beddb",
    "0.35_96": "282996bca7d799d0172ce5d34ac59dea497c4c75f069a8b466bb944c6f843353",
}
DEEPLAB_TRAINAUG = "http://download.tensorflow.org/models/deeplabv3_mnv2_pascal_train_aug_2018_01_29.tar.gz"
DEEPLAB_TRAINVAL = "http://download.tensorflow.org/models/deeplabv3_mnv2_pascal_trainval_2018_01_29.tar.gz"
SSDLITE_COCO = (
    "http://download.tensorflow.org/models/object_detection/ssdlite_mobilenet_v2_coco_2018_05_09.tar.gz"
)
PINNED_SHA256 = {
    **{_MNV2.format(name): digest for name, digest in MOBILENET_V2_SHA256.items()},
    DEEPLAB_TRAINAUG: "cd506941e4f88fd053903913761df2e76ea00c01079cecfd35855304a4a5fb48",
    SSDLITE_COCO: "542445cce834dbfbb7df1991425d475e85a2d7ec68c60a4f262bb18aac10c8b2",
}
_FRAGMENT = re.compile(r"^sha256=([0-9a-f]{64})$")


def mobilenet_v2_url(name: str) -> str:
    """The URL of TF-slim's ``mobilenet_v2_{name}.tgz`` (``name``: depth_resolution, ``1.0_224``)."""
    return _MNV2.format(name)


def pinned_sha256(url: str) -> str | None:
    """The sha256 ``url``'s file must have: its ``#sha256=`` fragment, else the pin of a release above."""
    parsed = urlparse(url)
    if parsed.fragment:
        match = _FRAGMENT.match(parsed.fragment.lower())
        if match is None:
            raise ValueError(f"URL fragment '#{parsed.fragment[:80]}' is not #sha256=<64 hex digits>")
        return match.group(1)
    by_place = {urlparse(pinned)[1:3]: digest for pinned, digest in PINNED_SHA256.items()}
    return by_place.get(parsed[1:3])  # http or https alike
