"""The same class through the local pool and through a one-machine Dask cluster with as many slots.

Prints seconds per submission for each, the cluster's overhead per submission, and a sizing
table from the measured cost. The batch time is the command's own figure ("Время: … с" of its
summary), so start-up and the instructor's self-check are outside both. The worker's own
self-check happens on its first job: a one-submission warm-up batch takes it first, and its
time is printed apart.

    .venv/bin/python scripts/benchmark_cluster.py [--count 40] [--slots N]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the loopback cluster and the notebooks the tests use

import answered  # noqa: E402 - found on the path set just above
import local_cluster  # noqa: E402

ASSIGNMENT = "05_gradient_descent"
WRONG = "def gd_step(w, grad, lr):\n    return w + lr * grad\n"


def write_class(folder, count):
    """Solutions, untouched exercises and a wrong answer, in turn."""
    texts = [answered.notebook(ASSIGNMENT), answered.notebook(ASSIGNMENT, kind="exercises"),
             answered.notebook(ASSIGNMENT, {"gd_step": WRONG})]
    for index in range(count):
        (folder / f"s{index:03d}").mkdir(parents=True)
        (folder / f"s{index:03d}" / f"{ASSIGNMENT}.ipynb").write_text(texts[index % 3], encoding="utf-8")
    return folder


def batch_seconds(submissions, out, *options):
    result = subprocess.run([sys.executable, "-m", "autograder", "grade", ASSIGNMENT, str(submissions),
                             "--out", str(out), *options], cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"grade failed ({result.returncode}):\n{result.stderr}")
    return float(re.search(r"Время: ([0-9.]+) с", result.stdout).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--slots", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        submissions = write_class(folder / "subs", args.count)
        warmup = write_class(folder / "warmup", 1)
        local = batch_seconds(submissions, folder / "local", "--workers", str(args.slots))
        with local_cluster.Cluster(folder / "cluster") as cluster:
            cluster.start_scheduler()
            cluster.start_worker("bench", slots=args.slots)
            cluster.wait_for_workers(1)
            started = time.monotonic()
            batch_seconds(warmup, folder / "warm", "--cluster", cluster.address)
            first = time.monotonic() - started
            remote = batch_seconds(submissions, folder / "remote", "--cluster", cluster.address)
    per_local, per_remote = local / args.count, remote / args.count
    overhead = per_remote - per_local
    print(f"{args.count} работ {ASSIGNMENT}, {args.slots} мест, одна машина")
    print(f"  локальный пул:  {local:7.1f} с, {per_local:.3f} с на работу")
    print(f"  кластер Dask:   {remote:7.1f} с, {per_remote:.3f} с на работу")
    print(f"  накладные расходы кластера: {overhead:+.3f} с на работу ({100 * overhead / per_local:+.1f} %)")
    print(f"  первая работа исполнителя (его проверка тетради преподавателя): {first:.1f} с, один раз")
    slot_seconds = per_remote * args.slots  # one slot's time per submission
    print(f"\nОценка по измеренным {slot_seconds:.2f} с на работу на одно место:")
    print("  работ    машин × мест   минут")
    for count, machines, slots in ((1000, 1, 8), (1000, 4, 8), (10000, 10, 8), (10000, 25, 8), (50000, 50, 16)):
        minutes = count * slot_seconds / (machines * slots) / 60
        print(f"  {count:6d}   {machines:3d} × {slots:<3d}      {minutes:6.1f}")


if __name__ == "__main__":
    main()
