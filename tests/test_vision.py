"""Scenes, boxes, NMS, detection and segmentation metrics, checked by hand and against references."""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from dlcourse import training
from dlcourse import vision as V


@pytest.fixture(scope="module")
def scenes():
    return V.make_scenes(12, seed=5)


def test_scenes_have_the_promised_shapes_and_ranges(scenes):
    assert scenes.images.shape == (12, 3, 64, 64) and scenes.images.dtype == torch.float32
    assert scenes.masks.shape == scenes.instances.shape == (12, 64, 64)
    assert 0 <= scenes.images.min() and scenes.images.max() <= 1
    assert set(scenes.masks.unique().tolist()) <= set(range(len(V.SEGMENT_CLASSES)))
    assert all(1 <= len(b) <= 3 and b.shape[1] == 4 for b in scenes.boxes)
    assert len(scenes) == 12


def test_scenes_repeat_with_the_seed_and_change_without_it(scenes):
    again = V.make_scenes(12, seed=5)
    assert torch.equal(again.images, scenes.images) and torch.equal(again.masks, scenes.masks)
    assert not torch.equal(V.make_scenes(12, seed=6).images, scenes.images)


def test_every_box_is_the_bounding_box_of_its_object_and_its_class_is_the_masks(scenes):
    for n in range(len(scenes)):
        for i, (box, label) in enumerate(zip(scenes.boxes[n].tolist(), scenes.labels[n].tolist())):
            rows, cols = torch.nonzero(scenes.instances[n] == i + 1, as_tuple=True)
            assert box == [cols.min().item(), rows.min().item(), cols.max().item() + 1, rows.max().item() + 1]
            assert scenes.masks[n][rows, cols].eq(label + 1).all()
        assert scenes.masks[n].eq(0).equal(scenes.instances[n].eq(0))  # one object per labelled pixel
        iou = V.box_iou(scenes.boxes[n], scenes.boxes[n])
        assert torch.equal(iou, torch.eye(len(iou)))  # objects never overlap


def test_box_iou_on_hand_computed_cases():
    a = torch.tensor([[0.0, 0, 2, 2], [0, 0, 4, 4], [5, 5, 5, 9]])
    b = torch.tensor([[1.0, 1, 3, 3], [0, 0, 2, 2], [10, 10, 12, 12]])
    expected = torch.tensor([
        [1 / 7, 1, 0],      # a quarter of each square overlaps: 1 / (4 + 4 - 1)
        [4 / 16, 4 / 16, 0],  # a square inside a larger one
        [0, 0, 0],          # a box of zero width overlaps nothing
    ])
    torch.testing.assert_close(V.box_iou(a, b), expected)
    assert V.box_iou(a, b[:0]).shape == (3, 0)


def test_nms_keeps_the_best_of_overlapping_boxes_and_the_separate_ones():
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [0, 1, 10, 11]])
    scores = torch.tensor([0.8, 0.9, 0.7, 0.6])
    assert V.non_max_suppression(boxes, scores, 0.5).tolist() == [1, 2]
    # IoU of boxes 0 and 1 is 90/110 = 0.818: a higher threshold keeps both; box 3 overlaps box 1 less.
    assert V.non_max_suppression(boxes, scores, 0.85).tolist() == [1, 0, 2, 3]
    assert V.non_max_suppression(boxes[:0], scores[:0], 0.5).tolist() == []


def test_suppress_works_class_by_class():
    boxes = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10]])
    kept = V.suppress([(boxes, torch.tensor([0.9, 0.8]), torch.tensor([0, 1]))])[0]
    assert len(kept[0]) == 2  # the same place, but different classes
    kept = V.suppress([(boxes, torch.tensor([0.9, 0.8]), torch.tensor([2, 2]))])[0]
    assert kept[1].tolist() == [pytest.approx(0.9)]
    # Boxes that stick out of the image (negative coordinates) still stay within their class.
    spread = torch.tensor([[10.0, 10, 30, 30], [-21, -21, -1, -1]])
    kept = V.suppress([(spread, torch.tensor([0.9, 0.8]), torch.tensor([0, 1]))])[0]
    assert len(kept[0]) == 2
    nothing = V.suppress([(boxes[:0], torch.zeros(0), torch.zeros(0, dtype=torch.int64))])[0]
    assert [len(part) for part in nothing] == [0, 0, 0]


def _perfect_outputs(scenes):
    heat, box, _ = V.detection_targets(scenes.boxes, scenes.labels, size=64)
    logits = torch.where(heat.eq(1), torch.tensor(10.0), torch.tensor(-10.0))
    return logits, box


def test_targets_decode_back_to_the_true_boxes(scenes):
    detections = V.suppress(V.decode(*_perfect_outputs(scenes)))
    for (boxes, _, labels), true_boxes, true_labels in zip(detections, scenes.boxes, scenes.labels):
        order, true_order = boxes[:, 0].argsort(), true_boxes[:, 0].argsort()
        torch.testing.assert_close(boxes[order], true_boxes[true_order])
        assert torch.equal(labels[order], true_labels[true_order])
    assert V.mean_average_precision(detections, scenes.boxes, scenes.labels) == pytest.approx(1.0)
    assert V.match_detections(detections, scenes.boxes, scenes.labels) == pytest.approx((1.0, 1.0, 1.0))


def test_average_precision_on_a_hand_computed_ranking():
    true_boxes = [torch.tensor([[0.0, 0, 10, 10], [20, 20, 30, 30]])]
    true_labels = [torch.tensor([0, 0])]
    predicted = torch.tensor([[0.0, 0, 10, 10], [40, 40, 50, 50], [21, 20, 31, 30]])
    detections = [(predicted, torch.tensor([0.9, 0.8, 0.7]), torch.tensor([0, 0, 0]))]
    # Hit, miss, hit: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> AP = 1/2 * 1 + 1/2 * 2/3.
    ap = V.average_precision(detections, true_boxes, true_labels, label=0)
    assert ap == pytest.approx(0.5 + 1 / 3)
    precision, recall, mean_iou = V.match_detections(detections, true_boxes, true_labels)
    assert (precision, recall) == pytest.approx((2 / 3, 1.0))
    assert mean_iou == pytest.approx((1 + 90 / 110) / 2)
    # A box of the wrong class finds nothing, and a duplicate counts as a false positive.
    wrong = [(predicted[:1].repeat(2, 1), torch.tensor([0.9, 0.8]), torch.tensor([0, 1]))]
    assert V.match_detections(wrong, true_boxes, true_labels)[:2] == pytest.approx((0.5, 0.5))
    assert math.isnan(V.average_precision(detections, true_boxes, true_labels, label=2))


def test_focal_loss_matches_the_formula_on_one_cell():
    heat = torch.tensor([[[[1.0, 0.5]]]])
    logits = torch.tensor([[[[0.0, 0.0]]]])
    # Positive: -(1 - 0.5)^2 log 0.5; negative: -(1 - 0.5)^4 0.5^2 log 0.5; one object.
    expected = -(0.25 * math.log(0.5)) - (0.0625 * 0.25 * math.log(0.5))
    assert V.focal_loss(logits, heat).item() == pytest.approx(expected)


def test_models_output_shapes():
    assert V.SmallCNN(10)(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert V.SmallCNN(2, width=8)(torch.zeros(2, 1, 25, 25)).shape == (2, 2)
    heat, box = V.CenterNet()(torch.zeros(2, 3, 64, 64))
    assert heat.shape == (2, len(V.SHAPES), 16, 16) and box.shape == (2, 4, 16, 16)
    assert V.UNet(width=8)(torch.zeros(2, 3, 64, 64)).shape == (2, len(V.SEGMENT_CLASSES), 64, 64)


def test_detector_loss_drops_over_a_few_steps(scenes):
    training.seed_everything(0)
    heat, box, weight = V.detection_targets(scenes.boxes, scenes.labels, size=64)
    model = V.CenterNet(width=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = training.fit(model, V.detection_loss, scenes.images, heat, box, weight, epochs=6, batch_size=12,
                           optimizer=optimizer, device=torch.device("cpu"))
    assert history[-1] < 0.7 * history[0]


def test_confusion_matrix_agrees_with_scikit_learn_and_scores_by_hand():
    generator = torch.Generator().manual_seed(0)
    target = torch.randint(0, 4, (3, 8, 8), generator=generator)
    pred = torch.randint(0, 4, (3, 8, 8), generator=generator)
    expected = sk_confusion_matrix(target.flatten(), pred.flatten(), labels=range(4))
    np.testing.assert_array_equal(V.confusion_matrix(pred, target, 4).numpy(), expected)

    target = torch.tensor([[0, 0, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 1]])
    accuracy, iou = V.segmentation_scores(V.confusion_matrix(pred, target, 3))
    assert accuracy == pytest.approx(0.75)
    assert iou[:2].tolist() == pytest.approx([1 / 2, 2 / 3])
    assert math.isnan(iou[2])  # class 2 is neither present nor predicted


def test_paste_puts_masked_pixels_only():
    background = np.zeros((4, 5, 3))
    image = np.ones((2, 2, 3))
    mask = np.array([[True, False], [True, True]])
    result = V.paste(image, mask, background, top=1, left=2)
    expected = np.zeros((4, 5, 3))
    expected[1, 2] = expected[2, 2] = expected[2, 3] = 1
    np.testing.assert_array_equal(result, expected)
    assert background.sum() == 0  # the original is not changed
    with pytest.raises(ValueError):
        V.paste(image, mask, background, top=3, left=0)


def test_unet_can_start_from_the_detectors_encoder():
    detector, unet = V.CenterNet(width=8), V.UNet(width=8)
    unet.encoder.load_state_dict(detector.encoder.state_dict())
    for ours, theirs in zip(unet.encoder.parameters(), detector.encoder.parameters()):
        assert torch.equal(ours, theirs)
