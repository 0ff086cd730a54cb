import pytest
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import DefaultScope

from visionkit.registry import DATASETS, MODELS, TRANSFORMS


def test_unknown_type_names_it_and_lists_registered():
    with pytest.raises(KeyError) as info:
        MODELS.build(dict(type="MobileNetV2x"))
    message = str(info.value)
    assert "Unknown type 'MobileNetV2x'" in message
    assert "MobileNetV2" in message and "ImageClassifier" in message
    assert "Did you mean 'MobileNetV2'" in message


def test_unknown_type_through_mmengine_root_with_default_scope():
    with DefaultScope.overwrite_default_scope("visionkit"):
        with pytest.raises(KeyError, match=r"Unknown type 'NoSuchDataset'.*ImageNetDataset"):
            from mmengine.registry import DATASETS as MMENGINE_DATASETS

            MMENGINE_DATASETS.build(dict(type="NoSuchDataset"))
        model = MMENGINE_MODELS.build(dict(type="MobileNetV2"))
        assert type(model).__name__ == "MobileNetV2"


def test_parent_types_and_membership():
    assert "ImgDataPreprocessor" in MODELS  # inherited from mmengine
    assert "Nope" not in MODELS
    assert "LoadImage" in TRANSFORMS and "ImageFolderDataset" in DATASETS
