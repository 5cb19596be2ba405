"""Pictures of the class report and the similarity page, drawn once as inline PNG data URIs.

matplotlib's object API (``Figure``) is used, not pyplot: no global state, no GUI backend,
nothing left open between reports. It is imported when a picture is drawn, not with the
command line: it takes a second or two, which ``grade --help`` need not wait for.
"""

import base64
import io

DPI = 100
BAR = "#4878a8"
MEAN = "#c0392b"
MEDIAN = "#27ae60"
MAX_BINS = 30


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def data_uri(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(scores, max_score, mean, median):
    figure = _figure(7, 3.2)
    axes = figure.subplots()
    # One bar per point when points are whole and few, so that a bar reads as "got exactly k".
    low, top = min([0, *scores]), max([max_score, *scores])  # a penalty may take a score below 0
    whole = all(float(s).is_integer() for s in scores) and top - low <= MAX_BINS
    bins = [b - 0.5 for b in range(int(low), int(top) + 2)] if whole else min(MAX_BINS, max(len(set(scores)), 1))
    axes.hist(scores, bins=bins, color=BAR, edgecolor="white")
    axes.axvline(mean, color=MEAN, linestyle="--", label=f"среднее {mean:.2f}")
    axes.axvline(median, color=MEDIAN, linestyle=":", linewidth=2, label=f"медиана {median:g}")
    axes.set_xlabel(f"балл (из {max_score:g})")
    axes.set_ylabel("студентов")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left")
    return data_uri(figure)


def pass_rates(test_ids, rates):
    figure = _figure(7, 0.45 * len(test_ids) + 0.9)
    axes = figure.subplots()
    positions = range(len(test_ids))
    axes.barh(positions, [100 * r for r in rates], color=BAR)
    axes.set_yticks(positions, test_ids)
    axes.invert_yaxis()  # in the notebook's order, top to bottom
    axes.set_xlim(0, 100)
    axes.set_xlabel("сдали тест полностью, % студентов")
    for position, rate in zip(positions, rates):
        axes.text(min(100 * rate + 1, 88), position, f"{100 * rate:.0f}%", va="center")
    return data_uri(figure)


def durations(seconds):
    figure = _figure(7, 2.8)
    axes = figure.subplots()
    axes.hist(seconds, bins=min(MAX_BINS, max(len(set(seconds)), 1)), color=BAR, edgecolor="white")
    axes.set_xlabel("время проверки одной работы, с")
    axes.set_ylabel("работ")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return data_uri(figure)


def similarity_histogram(values, threshold):
    figure = _figure(7, 2.8)
    axes = figure.subplots()
    axes.hist(values, bins=[i / 20 for i in range(21)], color=BAR, edgecolor="white")
    axes.axvline(threshold, color=MEAN, linestyle="--", label=f"порог {threshold:g}")
    axes.set_xlim(0, 1)
    from matplotlib import ticker

    axes.set_yscale("log")  # most pairs are near 0; the few near 1 must still show
    axes.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(ticker.FormatStrFormatter("%d"))
    axes.yaxis.set_minor_formatter(ticker.NullFormatter())
    axes.set_xlabel("похожесть пары")
    axes.set_ylabel("пар")
    axes.legend(loc="upper right")
    return data_uri(figure)
