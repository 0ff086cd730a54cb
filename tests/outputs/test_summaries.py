"""Each task's one-line summary of what an image's record says was found (tools/infer.py prints it)."""

from visionkit.outputs import View, task_outputs


def test_detections_are_counted_by_name_most_first():
    found = [
        {"label": "star", "score": 0.9},
        {"label": "circle", "score": 0.5},
        {"label": "star", "score": 0.4},
    ]
    detection = task_outputs("detection")
    assert detection.summary(found, View()) == "2 star, 1 circle"
    assert detection.summary([], View(score_thr=0.3)) == "no detections above 0.3"


def test_segmentation_gives_each_class_its_share_of_the_pixels_but_background():
    segmentation = task_outputs("segmentation")
    pixels = {"background": 300, "circle": 100}
    assert segmentation.summary({"pixels_per_class": pixels}, View()) == "circle 25.0% of the pixels"
    assert segmentation.summary({"pixels_per_class": {"background": 400}}, View()) == "nothing but background"


def test_classification_lists_the_top_classes_with_their_scores():
    top = [{"label": "cat", "score": 0.875}, {"label": "dog", "score": 0.0625}]
    assert task_outputs("classification").summary(top, View()) == "cat 0.875, dog 0.062"
