"""What the instructor sees while a batch runs and when it ends: progress on stderr, a summary."""

import sys
import time
from collections import Counter


def shown(text):
    """Student-controlled text made safe for a terminal: no escapes, no control characters."""
    return "".join(char if char.isprintable() else "?" for char in text)


class Progress:
    """A plain-text progress bar on stderr; one line per submission when stderr is not a terminal."""

    WIDTH = 30

    def __init__(self, total, skipped, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.started = time.monotonic()
        self.statuses = Counter()
        self.tty = stream.isatty()
        if skipped:
            print(f"уже проверено в прошлый раз: {skipped} (--force, чтобы проверить заново)", file=stream)
        if total:
            print(f"проверяется работ: {total}", file=stream)

    def update(self, outcome, max_score):
        self.done += 1
        self.statuses[outcome.status.split(";")[0]] += 1
        elapsed = time.monotonic() - self.started
        if self.tty:
            filled = self.WIDTH * self.done // max(self.total, 1)
            counts = " ".join(f"{status} {n}" for status, n in self.statuses.most_common())
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total} "
                              f"{elapsed:.0f} с  {counts}\033[K")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {shown(outcome.student_id)}: {outcome.score:g}/"
                              f"{max_score:g} {shown(outcome.status)} ({elapsed:.0f} с)\n")
        self.stream.flush()

    def close(self):
        if self.tty and self.done:
            self.stream.write("\n")


def summary(assignment, records, outcomes, skipped, elapsed, kind, workers):
    """The report printed at the end: over every row of grades.csv, this run's and earlier ones."""
    rows = list(records.rows.values())
    scores = [float(row["score"]) for row in rows]
    header = (f"Задание {assignment.name}: работ {len(rows)} (проверено сейчас {len(outcomes)}, "
              f"из прошлых запусков {skipped})")
    lines = [header]
    if rows:
        lines.append(f"Средний балл: {sum(scores) / len(scores):.2f} из {assignment.max_score:g}")
        lines.append("Тесты (сдали полностью / всего, средний балл):")
        for test in assignment.tests:
            points = [float(row[test.grade_id]) for row in rows]
            passed = sum(p >= test.points for p in points)
            lines.append(f"  {test.grade_id} ({test.points:g}): {passed}/{len(points)}, "
                         f"{sum(points) / len(points):.2f}")
        statuses = Counter(shown(row["status"].split(";")[0]) for row in rows)
        lines.append("Статусы: " + ", ".join(f"{status} {n}" for status, n in statuses.most_common()))
    if outcomes:
        per = elapsed / len(outcomes)
        startup = [o.startup_s for o in outcomes if o.startup_s]
        overhead = f", запуск песочницы и импорт {sum(startup) / len(startup):.2f} с" if startup else ""
        lines.append(f"Время: {elapsed:.1f} с, {per:.2f} с на работу при {workers} потоках{overhead}; "
                     f"песочница: {kind}")
        workers_seen = Counter(o.worker for o in outcomes if o.worker)
        if workers_seen:
            counts = ", ".join(f"{shown(w)} {n}" for w, n in sorted(workers_seen.items()))
            lines.append(f"Работ по исполнителям: {counts}")
    return "\n".join(lines)
