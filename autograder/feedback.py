"""The student's feedback page: each test's name, points and message, nothing of the tests' code.

Everything the student controls (id, messages of their exceptions, notes about their file)
is escaped; the instructor's solution and the hidden tests' source never reach the page.
A late penalty is shown with what was deducted and why, and the same words go into the
comment an LMS receives (``comment``). Beside each page, a hidden ``.<assignment>.json``
keeps what the page shows, so a changed penalty can be shown without grading again.
"""

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

from autograder.outcome import STATUSES

STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; line-height: 1.4; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 1px solid #bbb; padding: .4em .6em; text-align: left; vertical-align: top; }
tr.passed td:first-child { border-left: .4em solid #2a2; }
tr.failed td:first-child { border-left: .4em solid #c22; }
pre { white-space: pre-wrap; margin: 0; }
"""


@dataclass
class Deduction:
    """What the late penalty did to a score."""

    raw: float
    penalty: float
    late_by: str = ""  # how late, in words ("" when on time)
    reason: str = ""

    @property
    def score(self):
        return self.raw - self.penalty


def verdict(deduction, max_score):
    """«Итог: 8.4 из 11 (автопроверка 9.4, штраф за опоздание 1: …)»: the page's and the LMS's words."""
    if not deduction.penalty:
        late = f" Сдано позже срока ({deduction.late_by}), штрафа нет." if deduction.late_by else ""
        return f"Итог: {deduction.score:g} из {max_score:g}.{late}"
    return (f"Итог: {deduction.score:g} из {max_score:g} (автопроверка {deduction.raw:g}, "
            f"штраф за опоздание {deduction.penalty:g}: {deduction.reason}).")


def comment(deduction, max_score, status):
    """The comment for an LMS's gradebook: the verdict, and how the check went when not ok."""
    kind = status.split(";")[0]
    checked = "" if kind == "ok" else f" Проверка: {STATUSES.get(kind, kind)}."
    return html.escape(verdict(deduction, max_score) + checked, quote=False)


def page(outcome, assignment, deduction=None):
    e = html.escape
    deduction = deduction or Deduction(outcome.score, 0.0)
    status = outcome.status.split(";")[0]
    rows = []
    for test in assignment.tests:
        points, maximum, message = outcome.tests[test.grade_id]
        passed = points == maximum
        result = "пройден" if passed else f"<pre>{e(message or 'не пройден')}</pre>"
        rows.append(f'<tr class="{"passed" if passed else "failed"}"><td>{e(test.grade_id)}</td>'
                    f"<td>{points:g} из {maximum:g}</td><td>{result}</td></tr>")
    errors = "".join(f"<li><b>{e(grade_id)}</b>: <pre>{e(error['message'])}</pre></li>"
                     for grade_id, error in outcome.errors.items())
    notes = "".join(f"<li>{e(note)}</li>" for note in outcome.notes)
    return f"""<!DOCTYPE html>
<html lang="ru">
<head><meta charset="utf-8"><title>{e(assignment.name)}: результаты проверки</title><style>{STYLE}</style></head>
<body>
<h1>Задание {e(assignment.name)}</h1>
<p>Студент: <b>{e(outcome.student_id)}</b></p>
<p>Итог: <b>{deduction.score:g} из {assignment.max_score:g}</b> баллов.
Проверка: {e(STATUSES.get(status, status))}.</p>
{f"<p>{e(verdict(deduction, assignment.max_score))}</p>" if deduction.penalty or deduction.late_by else ""}
{f"<ul>{notes}</ul>" if notes else ""}
<h2>Тесты</h2>
<table>
<tr><th>Тест</th><th>Баллы</th><th>Результат</th></tr>
{chr(10).join(rows)}
</table>
{f"<h2>Ошибки при выполнении ячеек решения</h2><ul>{errors}</ul>" if errors else ""}
<p>Оценку ставят скрытые тесты; их код не показывается, а сообщение говорит, что ожидалось и что получилось.</p>
</body>
</html>
"""


def write(out, outcome, assignment, deduction=None):
    """OUT/feedback/<student_id>/<assignment>.html, replaced atomically, and what it shows."""
    folder = Path(out) / "feedback" / outcome.student_id
    folder.mkdir(parents=True, exist_ok=True)
    kept = {"student_id": outcome.student_id, "tests": outcome.tests, "status": outcome.status,
            "notes": outcome.notes, "errors": outcome.errors}
    _replace(folder / f".{assignment.name}.json", json.dumps(kept, ensure_ascii=False))
    target = folder / f"{assignment.name}.html"
    _replace(target, page(outcome, assignment, deduction))
    return target


def rewrite(out, student_id, assignment, deduction):
    """The page again, with another deduction, from what ``write`` kept; None when nothing was kept."""
    try:
        kept = json.loads((Path(out) / "feedback" / student_id / f".{assignment.name}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    kept["tests"] = {test_id: tuple(result) for test_id, result in kept["tests"].items()}
    return write(out, _Kept(**kept), assignment, deduction)


@dataclass
class _Kept:
    """An outcome as ``write`` kept it: enough to show the page again."""

    student_id: str
    tests: dict
    status: str
    notes: list
    errors: dict

    @property
    def score(self):
        return sum(points for points, _, _ in self.tests.values())


def _replace(target, text):
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)
