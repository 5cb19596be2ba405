"""OUT/audit.csv: every change of a student's score, so "why did my grade change?" has an answer.

A row is appended (never rewritten) when a score differs from the one recorded before:
time, student, old score, new score, and the causes (files changed, a new version of the
grader or of the instructor's notebook, a forced regrade, a changed late penalty).
"""

import csv
import os
from datetime import UTC, datetime
from pathlib import Path

from autograder.lms import cells

COLUMNS = ["time", "student_id", "assignment", "old_score", "new_score", "cause"]
FILES_CHANGED = "файлы работы изменились"
GRADER_CHANGED = "новая версия проверки или тетради преподавателя"
REGRADED = "повторная проверка (--force или --only)"
PENALTY_CHANGED = "изменился штраф за опоздание"


def append(out, student_id, assignment, old, new, causes):
    path = Path(out) / "audit.csv"
    new_file = not path.is_file()
    with path.open("a", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        if new_file:
            writer.writerow(COLUMNS)
        writer.writerow([datetime.now(UTC).isoformat(timespec="seconds"), cells.inert(student_id),
                         assignment, old, new, "; ".join(causes)])
        file.flush()
        os.fsync(file.fileno())


def causes(old_row, digest, raw, penalty):
    """Why a score differs from ``old_row``'s: the digest is ``<grader part>:<files part>``."""
    old_grader, _, old_files = old_row.get("digest", "").partition(":")
    grader, _, files = digest.partition(":")
    found = []
    if old_files != files:
        found.append(FILES_CHANGED)
    elif old_grader != grader:
        found.append(GRADER_CHANGED)
    elif _float(old_row.get("raw_score")) != raw:
        found.append(REGRADED)
    if _float(old_row.get("penalty")) != penalty:
        found.append(PENALTY_CHANGED)
    return found or [REGRADED]


def _float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
