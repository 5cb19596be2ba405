"""Detection and segmentation in miniature: generated scenes, small networks and their metrics.

A scene is a colour picture of a textured background with a few non-overlapping shapes
(circle, square, triangle). The generator knows where it drew every shape, so each scene
comes with exact boxes (for detection) and a class for every pixel (for segmentation),
the labels that real data sets get from people.

Boxes are ``(x0, y0, x1, y1)`` in pixels: the left and top edges of the first pixel and the
right and bottom edges of the last pixel of the object, so a box's width is ``x1 - x0``.
Everything here is torch, so it runs on the GPU as well as on the CPU.
"""

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from skimage import data as skdata
from skimage.transform import rescale
from torch import nn

SHAPES = ("круг", "квадрат", "треугольник")
SEGMENT_CLASSES = ("фон",) + SHAPES  # pixel class k > 0 is the shape SHAPES[k - 1]
NUM_SHAPES = len(SHAPES)
NUM_SEGMENT_CLASSES = len(SEGMENT_CLASSES)


# --------------------------------------------------------------------------- scenes

@dataclass
class Scenes:
    """Generated scenes and their labels.

    ``images``: ``(N, 3, S, S)`` float32 in ``[0, 1]``; ``masks``: ``(N, S, S)`` int64 pixel
    classes (0 is the background, see ``SEGMENT_CLASSES``); ``instances``: ``(N, S, S)`` int64,
    ``i + 1`` where the ``i``-th object of the scene lies; ``boxes[n]``: ``(k, 4)`` float32
    and ``labels[n]``: ``(k,)`` int64 indices into ``SHAPES`` of the ``k`` objects of scene ``n``.
    """

    images: torch.Tensor
    masks: torch.Tensor
    instances: torch.Tensor
    boxes: list
    labels: list

    def __len__(self):
        return len(self.images)


@lru_cache(maxsize=1)
def _textures():
    """Grayscale photos of grass, gravel and brick from scikit-image, at half size."""
    return [rescale(getattr(skdata, name)() / 255.0, 0.5, anti_aliasing=True)
            for name in ("grass", "gravel", "brick")]


def _shape_mask(kind, x0, y0, side, size):
    """Pixels (as a boolean ``size``×``size`` array) of a shape inscribed in a square."""
    ys, xs = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    cx, cy = x0 + side / 2, y0 + side / 2
    inside = (xs >= x0) & (xs < x0 + side) & (ys >= y0) & (ys < y0 + side)
    if kind == 0:
        return (xs - cx) ** 2 + (ys - cy) ** 2 <= (side / 2) ** 2
    if kind == 1:
        return inside
    depth = (ys - y0) / side  # 0 at the apex row, 1 at the base: an upward triangle
    return inside & (np.abs(xs - cx) <= depth * side / 2)


def _background(rng, size):
    texture = _textures()[rng.integers(3)]
    top, left = rng.integers(0, texture.shape[0] - size, 2)
    patch = texture[top:top + size, left:left + size]
    if rng.random() < 0.5:
        patch = patch.T
    colour = rng.uniform(0.15, 0.85, 3)
    return np.clip(colour[:, None, None] + rng.uniform(0.3, 0.6) * (patch - patch.mean()), 0, 1), colour


def _place(rng, taken, size, min_side, max_side, gap=2):
    """A free square (x0, y0, side) that keeps ``gap`` pixels from the ``taken`` ones."""
    for _ in range(100):
        side = int(rng.integers(min_side, max_side + 1))
        x0, y0 = (int(v) for v in rng.integers(0, size - side + 1, 2))
        if all(x0 + side + gap <= a or a + s + gap <= x0 or y0 + side + gap <= b or b + s + gap <= y0
               for a, b, s in taken):
            return x0, y0, side
    return None


def make_scenes(n, *, size=64, max_objects=3, min_side=14, max_side=26, seed=0) -> Scenes:
    """``n`` scenes of ``size``×``size`` pixels with 1 to ``max_objects`` shapes each.

    A shape is a circle, square or triangle of side ``min_side``..``max_side`` in a colour
    that stands out from the background, shaded with noise. Shapes never touch, so every
    box is exactly the bounding box of its object's pixels. The same ``seed`` gives the
    same scenes.
    """
    rng = np.random.default_rng(seed)
    images = np.empty((n, 3, size, size), np.float32)
    masks = np.zeros((n, size, size), np.int64)
    instances = np.zeros((n, size, size), np.int64)
    boxes, labels = [], []
    for i in range(n):
        image, background_colour = _background(rng, size)
        taken, scene_boxes, scene_labels = [], [], []
        for _ in range(rng.integers(1, max_objects + 1)):
            spot = _place(rng, taken, size, min_side, max_side)
            if spot is None:
                break
            taken.append(spot)
            kind = int(rng.integers(len(SHAPES)))
            pixels = _shape_mask(kind, *spot, size)
            if rng.random() < 0.5 and kind == 2:
                pixels = _flip_in_place(pixels, spot)  # a downward triangle
            colour = rng.uniform(0, 1, 3)
            while np.abs(colour - background_colour).max() < 0.4:
                colour = rng.uniform(0, 1, 3)
            shade = colour[:, None, None] + rng.normal(0, 0.04, (3, size, size))
            image = np.where(pixels, np.clip(shade, 0, 1), image)
            masks[i][pixels] = kind + 1
            instances[i][pixels] = len(scene_boxes) + 1
            rows, cols = np.nonzero(pixels)
            scene_boxes.append([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
            scene_labels.append(kind)
        images[i] = image
        boxes.append(torch.tensor(scene_boxes, dtype=torch.float32).reshape(-1, 4))
        labels.append(torch.tensor(scene_labels, dtype=torch.int64))
    return Scenes(torch.from_numpy(images), torch.from_numpy(masks), torch.from_numpy(instances), boxes, labels)


def _flip_in_place(pixels, spot):
    _, y0, side = spot
    flipped = pixels.copy()
    flipped[y0:y0 + side] = pixels[y0:y0 + side][::-1]
    return flipped


# --------------------------------------------------------------------------- boxes

def box_area(boxes):
    """Areas of ``(k, 4)`` boxes; a box with ``x1 < x0`` or ``y1 < y0`` has area 0."""
    return (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)


def box_iou(a, b):
    """The ``(len(a), len(b))`` matrix of intersection over union of two sets of boxes."""
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    overlap = (bottom_right - top_left).clamp(min=0).prod(dim=2)
    union = box_area(a)[:, None] + box_area(b)[None, :] - overlap
    return torch.where(union > 0, overlap / union.clamp(min=1e-12), torch.zeros_like(union))


def non_max_suppression(boxes, scores, iou_threshold):
    """Indices of the boxes kept by greedy NMS, best score first.

    Take the best remaining box, drop every box that overlaps it with IoU above
    ``iou_threshold``, repeat.
    """
    order = scores.argsort(descending=True)
    iou = box_iou(boxes[order], boxes[order])
    suppressed = torch.zeros(len(order), dtype=torch.bool, device=boxes.device)
    keep = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return order[torch.tensor(keep, dtype=torch.int64, device=boxes.device)]


# --------------------------------------------------------------------------- models

def _conv(c_in, c_out, stride=1, dilation=1):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def _encoder(width):
    """Convolutions down to stride 4: one to stride 2, the rest at stride 4, dilated so that a
    cell sees an area larger than the largest object. CenterNet and UNet share this design,
    so a trained detector's encoder can start a segmentation network."""
    return nn.Sequential(
        _conv(3, width // 2, stride=2),
        nn.Sequential(_conv(width // 2, width, stride=2), _conv(width, width),
                      _conv(width, width, dilation=2), _conv(width, width, dilation=4)),
    )


class SmallCNN(nn.Module):
    """An image classifier: two blocks of convolutions and pooling, then a linear layer.

    The same network serves any square grayscale or colour input and any number of classes;
    the images' size only changes how much each pooling squeezes. ``dropout`` is the share
    of features the classifier drops while training (0 turns dropout off).
    """

    def __init__(self, num_classes, in_channels=1, width=32, dropout=0.3):
        super().__init__()
        self.features = nn.Sequential(
            _conv(in_channels, width), _conv(width, width), nn.MaxPool2d(2),
            _conv(width, 2 * width), _conv(2 * width, 2 * width), nn.AdaptiveAvgPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(8 * width, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class CenterNet(nn.Module):
    """A small detector in the spirit of CenterNet (Zhou et al., 2019, «Objects as Points»).

    It sees the image at stride 4. For every cell it outputs, per class, a score that an
    object's centre lies near that cell (a heat map) and a box: the centre's shift from
    the cell's centre and the box's width and height, all in cells. Dilated convolutions
    let each cell see an area larger than the largest object.
    """

    stride = 4

    def __init__(self, num_classes=NUM_SHAPES, width=32):
        super().__init__()
        self.encoder = _encoder(width)
        self.heat = nn.Conv2d(width, num_classes, 1)
        self.box = nn.Conv2d(width, 4, 1)
        # Start from a score of about 0.01 everywhere: most cells are background.
        nn.init.constant_(self.heat.bias, -4.6)

    def forward(self, x):
        features = self.encoder(x)
        return self.heat(features), self.box(features)


def _gaussian_radius(side_cells):
    return max(side_cells / 6, 0.5)


def detection_targets(boxes, labels, *, size, num_classes=NUM_SHAPES, stride=CenterNet.stride):
    """What ``CenterNet`` should output for scenes with these ``boxes`` and ``labels``.

    Returns ``heat`` ``(N, C, h, w)``: a Gaussian bump of height 1 on each object's centre
    in its class's channel; ``box`` ``(N, 4, h, w)``: (dx, dy, width, height) in cells of the
    object that each cell near a centre belongs to; ``weight`` ``(N, 1, h, w)``: which cells
    learn a box (those where the bump is above one half).
    """
    cells = size // stride
    centres = torch.arange(cells, dtype=torch.float32) + 0.5
    heat = torch.zeros(len(boxes), num_classes, cells, cells)
    box = torch.zeros(len(boxes), 4, cells, cells)
    weight = torch.zeros(len(boxes), 1, cells, cells)
    for n, (scene_boxes, scene_labels) in enumerate(zip(boxes, labels)):
        for (x0, y0, x1, y1), label in zip(scene_boxes.tolist(), scene_labels.tolist()):
            cx, cy = (x0 + x1) / 2 / stride, (y0 + y1) / 2 / stride
            w, h = (x1 - x0) / stride, (y1 - y0) / stride
            sigma = _gaussian_radius((w + h) / 2)
            dx = cx - centres[None, :]
            dy = cy - centres[:, None]
            bump = torch.exp(-(dx ** 2 + dy ** 2) / (2 * sigma ** 2))
            peak = (int(cy), int(cx))
            bump[peak] = 1.0  # the cell that holds the centre is the positive one
            heat[n, label] = torch.maximum(heat[n, label], bump)
            near = bump > 0.5
            box[n, 0][near] = dx.expand_as(bump)[near]
            box[n, 1][near] = dy.expand_as(bump)[near]
            box[n, 2][near] = w
            box[n, 3][near] = h
            weight[n, 0][near] = 1.0
    return heat, box, weight


def focal_loss(heat_logits, heat, alpha=2, beta=4):
    """CenterNet's focal loss on the heat map, averaged over the objects.

    Cells whose target is exactly 1 are positives; the others are negatives, down-weighted
    by ``(1 - target) ** beta`` near a centre, where a high score is nearly right.
    """
    heat_logits = heat_logits.float()
    p = torch.sigmoid(heat_logits)
    positive = heat.eq(1).float()
    log_p, log_not_p = F.logsigmoid(heat_logits), F.logsigmoid(-heat_logits)
    pos = positive * (1 - p) ** alpha * log_p
    neg = (1 - positive) * (1 - heat) ** beta * p ** alpha * log_not_p
    return -(pos + neg).sum() / positive.sum().clamp(min=1)


def detection_loss(outputs, heat, box, weight, box_weight=0.5):
    """Focal loss on the heat map plus L1 loss on the boxes of the cells near centres."""
    heat_logits, box_pred = outputs
    l1 = (F.l1_loss(box_pred.float(), box, reduction="none") * weight).sum() / (4 * weight.sum().clamp(min=1))
    return focal_loss(heat_logits, heat) + box_weight * l1


def decode(heat_logits, box_pred, *, stride=CenterNet.stride, score_threshold=0.3):
    """Every cell's box whose class score is above ``score_threshold``, before NMS.

    Returns per image a triple ``(boxes (k, 4), scores (k,), labels (k,))`` in pixels.
    """
    scores = torch.sigmoid(heat_logits.float())
    cells = scores.shape[-1]
    centres = (torch.arange(cells, device=scores.device, dtype=torch.float32) + 0.5)
    results = []
    for n in range(len(scores)):
        label, row, col = torch.nonzero(scores[n] > score_threshold, as_tuple=True)
        dx, dy, w, h = box_pred[n].float()[:, row, col]
        cx, cy = centres[col] + dx, centres[row] + dy
        boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=1) * stride
        results.append((boxes, scores[n, label, row, col], label))
    return results


def suppress(detections, iou_threshold=0.5):
    """Class-wise NMS of each image's ``(boxes, scores, labels)``."""
    kept = []
    for boxes, scores, labels in detections:
        # Shifting each class by more than the boxes' extent makes one NMS call act class by class.
        span = boxes.max() - boxes.min() + 1 if len(boxes) else 0
        shifted = boxes + labels[:, None].float() * span
        keep = non_max_suppression(shifted, scores, iou_threshold)
        kept.append((boxes[keep], scores[keep], labels[keep]))
    return kept


# --------------------------------------------------------------------------- detection quality

def average_precision(detections, boxes, labels, *, label, iou_threshold=0.5):
    """Average precision of one class over a set of images (VOC, all points).

    Detections of all images are taken best score first; one is a true positive if it
    overlaps a not yet found object of the class with IoU at least ``iou_threshold``.
    AP is the area under the precision-recall curve made monotone from the right.
    """
    records, total = [], 0
    for (pred_boxes, pred_scores, pred_labels), true_boxes, true_labels in zip(detections, boxes, labels):
        true_boxes = true_boxes[true_labels == label].to(pred_boxes.device)
        total += len(true_boxes)
        mine = pred_labels == label
        order = pred_scores[mine].argsort(descending=True)
        candidates, scores = pred_boxes[mine][order], pred_scores[mine][order]
        found = torch.zeros(len(true_boxes), dtype=torch.bool)
        iou = box_iou(candidates, true_boxes).cpu()
        for k in range(len(candidates)):
            hit = False
            if len(true_boxes):
                overlap = iou[k].masked_fill(found, -1)
                best = int(overlap.argmax())
                if overlap[best] >= iou_threshold:
                    found[best], hit = True, True
            records.append((float(scores[k]), hit))
    if total == 0:
        return float("nan")
    records.sort(key=lambda r: -r[0])
    hits = torch.tensor([hit for _, hit in records], dtype=torch.float64)
    tp = hits.cumsum(0)
    precision = tp / torch.arange(1, len(hits) + 1, dtype=torch.float64)
    recall = tp / total
    precision = torch.cat([torch.tensor([0.0], dtype=torch.float64), precision, torch.tensor([0.0],
                          dtype=torch.float64)])
    recall = torch.cat([torch.tensor([0.0], dtype=torch.float64), recall, torch.tensor([1.0],
                       dtype=torch.float64)])
    precision = torch.flip(torch.cummax(torch.flip(precision, [0]), 0).values, [0])
    return float(((recall[1:] - recall[:-1]) * precision[1:]).sum())


def mean_average_precision(detections, boxes, labels, *, num_classes=NUM_SHAPES, iou_threshold=0.5):
    """mAP: average precision averaged over the classes that occur in ``labels``."""
    aps = [average_precision(detections, boxes, labels, label=c, iou_threshold=iou_threshold)
           for c in range(num_classes)]
    aps = [ap for ap in aps if not math.isnan(ap)]  # nan: the class never occurs
    return sum(aps) / len(aps)


def match_detections(detections, boxes, labels, *, iou_threshold=0.5):
    """Precision, recall and mean IoU of the found objects, for detections already thresholded.

    A detection finds an object of its class with IoU at least ``iou_threshold`` that no
    better detection found first; mean IoU is over the found objects.
    """
    found, predicted, total, ious = 0, 0, 0, []
    for (pred_boxes, pred_scores, pred_labels), true_boxes, true_labels in zip(detections, boxes, labels):
        true_boxes, true_labels = true_boxes.to(pred_boxes.device), true_labels.to(pred_boxes.device)
        predicted += len(pred_boxes)
        total += len(true_boxes)
        iou = box_iou(pred_boxes, true_boxes)
        iou = iou.masked_fill(pred_labels[:, None] != true_labels[None, :], 0)
        taken = torch.zeros(len(true_boxes), dtype=torch.bool, device=iou.device)
        for k in pred_scores.argsort(descending=True).tolist():
            if not len(true_boxes):
                break
            overlap = iou[k].masked_fill(taken, 0)
            best = int(overlap.argmax())
            if overlap[best] >= iou_threshold:
                taken[best] = True
                found += 1
                ious.append(float(overlap[best]))
    precision = found / predicted if predicted else float("nan")
    return precision, found / total, (sum(ious) / len(ious) if ious else float("nan"))


# --------------------------------------------------------------------------- segmentation

class UNet(nn.Module):
    """A small U-Net (Ronneberger et al., 2015): an encoder that shrinks the image twice, a
    decoder that enlarges it back, and skip connections that bring the fine detail of each
    encoder level to the decoder level of the same size. Outputs a score per class per pixel.

    A pixel's class depends on the shape of its whole object, which only the coarsest level
    sees. So, as in FCN (Long, Shelhamer, Darrell, 2015), that level also predicts the
    classes on its own 16×16 grid, and the decoder's output is added to those scores,
    enlarged: the coarse scores say which shape, the decoder makes the edges sharp. Without
    this path the small decoder learned edges first and never the shapes.

    The encoder has the same layers as ``CenterNet``'s, so it can start from a trained
    detector's weights (``unet.encoder.load_state_dict(detector.encoder.state_dict())``).
    """

    def __init__(self, num_classes=NUM_SEGMENT_CLASSES, width=32):
        super().__init__()
        self.full = _conv(3, width // 4)
        self.encoder = _encoder(width)
        self.coarse = nn.Conv2d(width, num_classes, 1)
        self.up2 = nn.ConvTranspose2d(width, width // 2, 2, stride=2)
        self.dec2 = _conv(width, width // 2)
        self.up1 = nn.ConvTranspose2d(width // 2, width // 4, 2, stride=2)
        self.dec1 = _conv(width // 2, width // 4)
        self.head = nn.Conv2d(width // 4, num_classes, 1)

    def forward(self, x):
        half = self.encoder[0](x)
        quarter = self.encoder[1](half)
        d2 = self.dec2(torch.cat([self.up2(quarter), half], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), self.full(x)], dim=1))
        coarse = F.interpolate(self.coarse(quarter), size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(d1) + coarse


def confusion_matrix(pred, target, num_classes):
    """``(C, C)`` counts of pixels: row = true class, column = predicted class."""
    index = target.reshape(-1) * num_classes + pred.reshape(-1)
    return torch.bincount(index, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def segmentation_scores(confusion):
    """Pixel accuracy and the IoU of every class from a confusion matrix.

    IoU of class c = correctly labelled c / (pixels that are c or are labelled c).
    A class that neither occurs nor is predicted gets IoU nan.
    """
    confusion = confusion.double()
    correct = confusion.diagonal()
    union = confusion.sum(0) + confusion.sum(1) - correct
    iou = torch.where(union > 0, correct / union.clamp(min=1), torch.full_like(union, float("nan")))
    return float(correct.sum() / confusion.sum()), iou


# --------------------------------------------------------------------------- collage

def paste(image, mask, background, top, left):
    """Put the pixels of ``image`` where ``mask`` is true onto a copy of ``background``.

    ``image`` is ``(h, w, 3)``, ``mask`` ``(h, w)`` (boolean, or weights in ``[0, 1]`` for soft
    edges), ``background`` ``(H, W, 3)``; the image's top-left corner goes to ``(top, left)``.
    Works on NumPy arrays.
    """
    h, w = mask.shape
    if top < 0 or left < 0 or top + h > background.shape[0] or left + w > background.shape[1]:
        raise ValueError("the cut-out does not fit into the background at that place")
    result = np.array(background, dtype=np.float64, copy=True)
    alpha = np.asarray(mask, dtype=np.float64)[..., None]
    region = result[top:top + h, left:left + w]
    result[top:top + h, left:left + w] = alpha * image + (1 - alpha) * region
    return result
