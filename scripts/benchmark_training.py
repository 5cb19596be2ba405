"""Execute the training chapters and tabulate what each training section reports.

Not a test. Every training section of a chapter ends with one line printed by
``dlcourse.training.report`` (device, wall time, metric); this script runs the chapters as
the book's build does (``DLCOURSE_STATIC=1``, working directory ``book/``), collects those
lines and writes a Markdown table to stdout and to ``--out``. It runs on whatever device
``dlcourse.device.get_device()`` picks: the CPU here, CUDA on a GPU machine.

    .venv/bin/python scripts/benchmark_training.py --out _build/benchmark_training_cpu.md
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import jupytext
import torch
from nbclient import NotebookClient

from dlcourse.device import get_device
from dlcourse.training import parse_report

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["book/03_vision_tasks.md", "book/04_generative.md"]


def execute(path, timeout):
    """Run the MyST notebook at ``path``; return its report lines (parsed) and its wall time."""
    notebook = jupytext.read(path)
    os.environ["DLCOURSE_STATIC"] = "1"  # the kernel inherits it, as in `make book`
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    reports = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                reports += filter(None, map(parse_report, output["text"].splitlines()))
    return reports, seconds


def machine():
    device = get_device()
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    return f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), torch {torch.__version__}"


def table(results):
    lines = ["| Notebook | Section | Device | Wall time, s | Metric | Value |",
             "| --- | --- | --- | ---: | --- | ---: |"]
    for name, reports, seconds in results:
        for r in reports:
            lines.append(f"| {name} | {r['name']} | {r['device']} | {r['seconds']:.1f} | {r['metric']} "
                         f"| {r['value']:.4f} |")
        lines.append(f"| {name} | **whole notebook** | | {seconds:.1f} | | |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Markdown file to write the table to")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds a cell may run")
    parser.add_argument("notebooks", nargs="*", default=NOTEBOOKS, help="MyST notebooks, from the repo root")
    args = parser.parse_args()

    results = []
    for name in args.notebooks:
        path = ROOT / name
        if not path.is_file():
            print(f"skipped {name}: no such notebook yet", file=sys.stderr)
            continue
        print(f"executing {name}...", file=sys.stderr)
        reports, seconds = execute(path, args.timeout)
        if not reports:
            sys.exit(f"{name} printed no report line: is every training section calling report()?")
        results.append((Path(name).stem, reports, seconds))
    if not results:
        sys.exit("no notebook to execute")
    text = f"Training notebooks on {machine()}:\n\n{table(results)}\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
