"""Wrong solutions of assignment 03 that a student could plausibly write; each must lose points."""

MUTANTS = [
    ("iou", "+1 pixel convention", '''
def iou(box_a, box_b):
    w = max(0, min(box_a[2], box_b[2]) - max(box_a[0], box_b[0]) + 1)
    h = max(0, min(box_a[3], box_b[3]) - max(box_a[1], box_b[1]) + 1)
    inter = w * h
    area_a = (box_a[2] - box_a[0] + 1) * (box_a[3] - box_a[1] + 1)
    area_b = (box_b[2] - box_b[0] + 1) * (box_b[3] - box_b[1] + 1)
    return float(inter / (area_a + area_b - inter))
'''),
    ("iou", "clamps the product, not each side", '''
def iou(box_a, box_b):
    w = min(box_a[2], box_b[2]) - max(box_a[0], box_b[0])
    h = min(box_a[3], box_b[3]) - max(box_a[1], box_b[1])
    inter = max(0, w * h)
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
    area_b = (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
    return float(inter / (area_a + area_b - inter))
'''),
    ("iou", "union without subtracting the intersection", '''
def iou(box_a, box_b):
    w = max(0, min(box_a[2], box_b[2]) - max(box_a[0], box_b[0]))
    h = max(0, min(box_a[3], box_b[3]) - max(box_a[1], box_b[1]))
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
    area_b = (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
    return float(w * h / (area_a + area_b))
'''),
    ("iou", "intersection over the smaller box", '''
def iou(box_a, box_b):
    w = max(0, min(box_a[2], box_b[2]) - max(box_a[0], box_b[0]))
    h = max(0, min(box_a[3], box_b[3]) - max(box_a[1], box_b[1]))
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
    area_b = (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
    return float(w * h / min(area_a, area_b))
'''),
    ("iou", "max and min swapped for the intersection", '''
def iou(box_a, box_b):
    w = max(0, max(box_a[2], box_b[2]) - min(box_a[0], box_b[0]))
    h = max(0, max(box_a[3], box_b[3]) - min(box_a[1], box_b[1]))
    inter = w * h
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
    area_b = (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
    return float(inter / (area_a + area_b - inter))
'''),
    ("iou", "reads boxes as [x, y, width, height]", '''
def iou(box_a, box_b):
    ax, ay, aw, ah = box_a
    bx, by, bw, bh = box_b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    return float(inter / (aw * ah + bw * bh - inter))
'''),
    ("iou", "integer division", '''
def iou(box_a, box_b):
    w = max(0, min(box_a[2], box_b[2]) - max(box_a[0], box_b[0]))
    h = max(0, min(box_a[3], box_b[3]) - max(box_a[1], box_b[1]))
    inter = w * h
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
    area_b = (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
    return inter // (area_a + area_b - inter)
'''),
    ("nms", ">= instead of >", '''
def nms(boxes, scores, iou_threshold):
    keep = []
    for i in np.argsort(-scores):
        if all(iou(boxes[i], boxes[k]) < iou_threshold for k in keep):
            keep.append(i)
    return np.array(keep, dtype=int)
'''),
    ("nms", "ascending score order", '''
def nms(boxes, scores, iou_threshold):
    keep = []
    for i in np.argsort(scores):
        if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(i)
    return np.array(keep, dtype=int)
'''),
    ("nms", "compares only with the top box", '''
def nms(boxes, scores, iou_threshold):
    order = np.argsort(-scores)
    keep = [order[0]]
    for i in order[1:]:
        if iou(boxes[i], boxes[order[0]]) <= iou_threshold:
            keep.append(i)
    return np.array(keep, dtype=int)
'''),
    ("nms", "compares with suppressed boxes too", '''
def nms(boxes, scores, iou_threshold):
    order = np.argsort(-scores)
    keep = []
    for n, i in enumerate(order):
        if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in order[:n]):
            keep.append(i)
    return np.array(keep, dtype=int)
'''),
    ("nms", "returns the kept boxes", '''
def nms(boxes, scores, iou_threshold):
    keep = []
    for i in np.argsort(-scores):
        if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(i)
    return boxes[keep]
'''),
    ("nms", "ignores the scores (input order)", '''
def nms(boxes, scores, iou_threshold):
    keep = []
    for i in range(len(boxes)):
        if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(i)
    return np.array(keep, dtype=int)
'''),
    ("nms", "positions in the sorted order instead of original indices", '''
def nms(boxes, scores, iou_threshold):
    order = np.argsort(-scores)
    boxes = boxes[order]
    keep = []
    for i in range(len(boxes)):
        if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(i)
    return np.array(keep, dtype=int)
'''),
    ("nms", "sorts the caller's arrays in place", '''
def nms(boxes, scores, iou_threshold):
    order = np.argsort(-scores)
    keep = []
    for i in order:
        if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(i)
    scores.sort()
    return np.array(keep, dtype=int)
'''),
    ("pixel_accuracy", "count instead of share", '''
def pixel_accuracy(pred, target):
    return float(np.sum(pred == target))
'''),
    ("pixel_accuracy", "percent", '''
def pixel_accuracy(pred, target):
    return float(np.mean(pred == target) * 100)
'''),
    ("pixel_accuracy", "divides by the number of rows", '''
def pixel_accuracy(pred, target):
    return float(np.sum(pred == target) / len(pred))
'''),
    ("pixel_accuracy", "share of wrong pixels", '''
def pixel_accuracy(pred, target):
    return float(np.mean(pred != target))
'''),
    ("pixel_accuracy", "per-column accuracies", '''
def pixel_accuracy(pred, target):
    return np.mean(pred == target, axis=0)
'''),
    ("mean_iou", "averages over all classes, absent ones as 0", '''
def mean_iou(pred, target, num_classes):
    scores = []
    for c in range(num_classes):
        union = np.sum((pred == c) | (target == c))
        scores.append(np.sum((pred == c) & (target == c)) / union if union else 0.0)
    return float(np.mean(scores))
'''),
    ("mean_iou", "absent classes count as 1", '''
def mean_iou(pred, target, num_classes):
    scores = []
    for c in range(num_classes):
        union = np.sum((pred == c) | (target == c))
        scores.append(np.sum((pred == c) & (target == c)) / union if union else 1.0)
    return float(np.mean(scores))
'''),
    ("mean_iou", "only classes present in the target", '''
def mean_iou(pred, target, num_classes):
    scores = []
    for c in np.unique(target):
        union = np.sum((pred == c) | (target == c))
        scores.append(np.sum((pred == c) & (target == c)) / union)
    return float(np.mean(scores))
'''),
    ("mean_iou", "Dice instead of IoU", '''
def mean_iou(pred, target, num_classes):
    scores = []
    for c in range(num_classes):
        total = np.sum(pred == c) + np.sum(target == c)
        if total:
            scores.append(2 * np.sum((pred == c) & (target == c)) / total)
    return float(np.mean(scores))
'''),
    ("mean_iou", "weights classes by their pixel counts", '''
def mean_iou(pred, target, num_classes):
    total = 0.0
    for c in range(num_classes):
        union = np.sum((pred == c) | (target == c))
        if union:
            total += np.sum(target == c) / target.size * np.sum((pred == c) & (target == c)) / union
    return float(total)
'''),
    ("mean_iou", "skips the last class (off by one)", '''
def mean_iou(pred, target, num_classes):
    scores = []
    for c in range(num_classes - 1):
        union = np.sum((pred == c) | (target == c))
        if union:
            scores.append(np.sum((pred == c) & (target == c)) / union)
    return float(np.mean(scores))
'''),
    ("mean_iou", "averages per image of a batch", '''
def mean_iou(pred, target, num_classes):
    if pred.ndim == 3:
        return float(np.mean([mean_iou(p, t, num_classes) for p, t in zip(pred, target)]))
    scores = []
    for c in range(num_classes):
        union = np.sum((pred == c) | (target == c))
        if union:
            scores.append(np.sum((pred == c) & (target == c)) / union)
    return float(np.mean(scores))
'''),
    ("nms", "np.array(keep) without a dtype (no boxes give a float array)", '''
def nms(boxes, scores, iou_threshold):
    keep = []
    for i in np.argsort(-np.asarray(scores)):
        if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(int(i))
    return np.array(keep)
'''),
    ("nms", "starts from the best box unconditionally (fails without boxes)", '''
def nms(boxes, scores, iou_threshold):
    order = np.argsort(-np.asarray(scores))
    keep = [int(order[0])]
    for i in order[1:]:
        if all(iou(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(int(i))
    return np.array(keep, dtype=int)
'''),
    ("pixel_accuracy", "assumes a square mask (H * H pixels)", '''
def pixel_accuracy(pred, target):
    pred, target = np.asarray(pred), np.asarray(target)
    pixels = pred.shape[-1] ** 2 * (pred.shape[0] if pred.ndim == 3 else 1)
    return float(np.sum(pred == target) / pixels)
'''),
    ("mean_iou", "confusion matrix by bincount in the masks' own dtype (uint8 overflows)", '''
def mean_iou(pred, target, num_classes):
    pred, target = np.asarray(pred).ravel(), np.asarray(target).ravel()
    confusion = np.bincount(target * num_classes + pred, minlength=num_classes**2).reshape(num_classes, num_classes)
    inter = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - inter
    return float(np.mean(inter[union > 0] / union[union > 0]))
'''),
]

# Correct answers written differently: each must keep full marks.
ALTERNATIVES = [
    ("iou", "NumPy arrays of corners", '''
def iou(box_a, box_b):
    a, b = np.asarray(box_a, dtype=float), np.asarray(box_b, dtype=float)
    size = np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None)
    inter = size[0] * size[1]
    union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return float(inter / union)
'''),
    ("nms", "while loop over the remaining order, int64 result", '''
def nms(boxes, scores, iou_threshold):
    order = list(np.argsort(scores)[::-1])
    keep = []
    while order:
        best = order.pop(0)
        if all(iou(boxes[best], boxes[k]) <= iou_threshold for k in keep):
            keep.append(best)
    return np.asarray(keep, dtype=np.int64)
'''),
    ("pixel_accuracy", "count over size", '''
def pixel_accuracy(pred, target):
    return (np.asarray(pred) == np.asarray(target)).sum() / np.asarray(target).size
'''),
    ("mean_iou", "confusion matrix by bincount in int64", '''
def mean_iou(pred, target, num_classes):
    pred = np.asarray(pred, dtype=np.int64).ravel()
    target = np.asarray(target, dtype=np.int64).ravel()
    confusion = np.bincount(target * num_classes + pred, minlength=num_classes**2).reshape(num_classes, num_classes)
    inter = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - inter
    return float(np.mean(inter[union > 0] / union[union > 0]))
'''),
]
