"""The student's feedback page: each test's name, points and message, nothing of the tests' code.

Everything the student controls (id, messages of their exceptions, notes about their file)
is escaped; the instructor's solution and the hidden tests' source never reach the page.
"""

import html
import os
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


def page(outcome, assignment):
    e = html.escape
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
<p>Итог: <b>{outcome.score:g} из {assignment.max_score:g}</b> баллов.
Проверка: {e(STATUSES.get(status, status))}.</p>
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


def write(out, outcome, assignment):
    """OUT/feedback/<student_id>/<assignment>.html, replaced atomically."""
    folder = Path(out) / "feedback" / outcome.student_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{assignment.name}.html"
    temporary = folder / f".{assignment.name}.html.tmp"
    temporary.write_text(page(outcome, assignment), encoding="utf-8")
    os.replace(temporary, target)
    return target
