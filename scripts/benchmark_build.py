"""Time `make book` on this machine: a cold build of a fresh copy, then a rebuild with nothing changed.

Prints a Markdown table for the README. The copy holds what a commit would hold (tracked
and new, not ignored, files) and borrows this checkout's .venv, so packages are not
reinstalled: the cold build runs every chapter, the rebuild only finds them cached.
Exits with 1 when a target is missed. Run it as `make benchmark`.
"""

import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS_S = {"cold": 15 * 60, "rebuild": 30}


def copy_checkout(dest):
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            # copy2 keeps mtimes, so make still finds the venv newer than requirements.txt.
            shutil.copy2(source, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")


def timed_make_book(copy, log):
    """Wall-clock and CPU seconds (of make and everything it runs) of one `make book`."""
    # The venv's .pth points kernels at this checkout; the copy's own package comes first.
    env = {**os.environ, "PYTHONPATH": str(copy)}
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(log, "a", encoding="utf-8") as out:
        result = subprocess.run(
            ["make", "book"], check=False, cwd=copy, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode:
        sys.exit(f"`make book` failed; its output:\n{Path(log).read_text(encoding='utf-8')[-4000:]}")
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return wall, cpu


def main():
    with tempfile.TemporaryDirectory(prefix="dlcourse-benchmark-") as tmp:
        copy = Path(tmp)
        copy_checkout(copy)
        log = copy / "benchmark.log"
        print(f"Building a fresh copy in {copy}...", file=sys.stderr)
        runs = {"cold": timed_make_book(copy, log), "rebuild": timed_make_book(copy, log)}
        pages = len(list((copy / "_build" / "html" / "book").glob("*.html")))
    cores = len(os.sched_getaffinity(0))
    # Other work on the machine stretches wall-clock time; CPU time and the load tell how much.
    load = os.getloadavg()[0]
    print(
        f"`make book` of {pages} pages on {cores} CPU cores ({platform.machine()}), load average {load:.1f}:\n"
    )
    print("| What | Seconds | CPU seconds | Target |")
    print("| --- | ---: | ---: | ---: |")
    for what, label in (
        ("cold", "Cold build of a fresh copy, every chapter executed"),
        ("rebuild", "Rebuild with nothing changed"),
    ):
        wall, cpu = runs[what]
        print(f"| {label} | {wall:.0f} | {cpu:.0f} | < {TARGETS_S[what]} |")
    missed = [what for what, (wall, _) in runs.items() if wall >= TARGETS_S[what]]
    if missed:
        sys.exit(f"\nMissed the target for: {', '.join(missed)}")


if __name__ == "__main__":
    main()
