"""The class report, ``OUT/report.html``: how the class did, which task was hard, what went wrong.

One self-contained page in Russian (styles, script and pictures inline, nothing fetched), from
what ``autograder.report_data`` reads in OUT. ``grade`` writes it at the end of a run through
``write(out)``; ``python -m autograder report OUT`` writes it again from OUT alone. Every
string a student controls (ids, messages, exception names) is escaped, and the page's Content
Security Policy runs no script but its own.
"""

import base64
import csv
import datetime
import hashlib
import html
import os
import statistics
import sys
import urllib.parse
from pathlib import Path

from autograder import report_data, report_plots, submissions
from autograder.outcome import STATUSES

PAGE = "report.html"
SIMILARITY_FILES = {"similarity.html": "пары похожих работ, код рядом",
                    "similarity.csv": "те же пары таблицей",
                    "similarity_to_solution.csv": "похожесть каждой работы на решение преподавателя"}
MESSAGE_CHARS = 500  # of an example failure message on the page
SLOWEST = 5
STYLE = """
body { font-family: sans-serif; max-width: 72em; margin: 2em auto; padding: 0 1em; line-height: 1.4; }
table { border-collapse: collapse; margin: .5em 0 1em; }
td, th { border: 1px solid #bbb; padding: .3em .6em; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; }
table.sortable th { cursor: pointer; background: #f2f2f2; }
th[aria-sort=ascending]::after { content: " ▲"; }
th[aria-sort=descending]::after { content: " ▼"; }
pre { white-space: pre-wrap; margin: 0; max-width: 60em; }
.muted { color: #666; }
img { max-width: 100%; }
.wide { overflow-x: auto; }
#students { font-size: 90%; }
#students th { white-space: nowrap; }
#students th.t { white-space: normal; }
"""
# Click a header to sort by it; numbers sort by their data-v, text in Russian order.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach((table) => {
  table.querySelectorAll("thead th").forEach((th, column) => th.addEventListener("click", () => {
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach((other) => other.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const key = (row) => row.cells[column].dataset.v;
    const rows = [...table.tBodies[0].rows];
    rows.sort((a, b) => {
      const x = key(a), y = key(b);
      const order = x !== undefined && y !== undefined ? Number(x) - Number(y)
        : a.cells[column].textContent.localeCompare(b.cells[column].textContent, "ru");
      return ascending ? order : -order;
    });
    table.tBodies[0].append(...rows);
  }));
});
"""
e = html.escape


def add_parser(commands):
    parser = commands.add_parser(
        "report", help="отчёт по группе (OUT/report.html) из результатов проверки",
        description="Собрать OUT/report.html заново из того, что лежит в OUT (grades.csv, outcomes.jsonl).")
    parser.add_argument("out", metavar="OUT", type=Path, help="папка результатов команды grade")
    parser.set_defaults(run=main)


def main(args):
    try:
        path = write(args.out)
    except report_data.MissingResults as error:
        print(f"ошибка: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"ошибка: не удалось записать {args.out / PAGE}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(f"отчёт по группе: {path}")
    return 0


def write(out):
    """OUT/report.html from what OUT holds, replaced atomically; returns its path."""
    out = Path(out)
    results = report_data.load(out)
    target = out / PAGE
    temporary = out / f".{PAGE}.tmp"
    temporary.write_text(page(results), encoding="utf-8")
    os.replace(temporary, target)
    return target


def csp_hash(text):
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def shell(title, body, style=STYLE, script=""):
    """A complete page: Russian, UTF-8, and a policy that allows only its own style, script and data: images."""
    scripts = csp_hash(script) if script else "'none'"
    policy = f"default-src 'none'; img-src data:; style-src {csp_hash(style)}; script-src {scripts}"
    return f"""<!DOCTYPE html>
<html lang="ru">
<head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>{e(title)}</title><style>{style}</style></head>
<body>
{body}
{f"<script>{script}</script>" if script else ""}
</body>
</html>
"""


def page(results):
    name = results.assignment or "?"
    sections = [f"<h1>Задание {e(name)}: отчёт по группе</h1>",
                f'<p class="muted">Сформирован {datetime.datetime.now():%Y-%m-%d %H:%M} по {e(str(results.out))}.</p>']
    if not results.students:
        sections.append("<p>В grades.csv нет ни одной проверенной работы.</p>")
    else:
        sections += [_scores(results), _statuses(results), _tests(results), _tasks(results), _late(results),
                     _times(results)]
    sections += [_similarity(results.out), _students(results) if results.students else "", _problems(results)]
    return shell(f"{name}: отчёт по группе", "\n".join(s for s in sections if s), script=SORT_SCRIPT)


def _g(number):
    return f"{number:g}"


def _scores(results):
    summary = report_data.score_summary(results)
    top = results.max_score
    picture = report_plots.score_histogram(results.scores, top, summary["mean"], summary["median"])
    details = "" if results.with_outcomes == len(results.students) else (
        f'<p class="muted">Подробности проверки (outcomes.jsonl) есть для {results.with_outcomes} из '
        f"{len(results.students)} работ: сообщения тестов и ошибки ниже — по ним.</p>")
    return f"""<h2>Баллы</h2>
<p>Работ: <b id="count">{summary["count"]}</b>. Средний балл: <b id="mean">{summary["mean"]:.2f}</b>,
медиана: <b id="median">{_g(summary["median"])}</b> из {_g(top)} (от {_g(summary["min"])} до {_g(summary["max"])}).
Полный балл: {summary["full"]}, ноль: {summary["zero"]}.</p>
{details}
<img id="score-histogram" src="{picture}" alt="Распределение баллов: гистограмма">"""


def _statuses(results):
    rows = "".join(f'<tr><td>{e(status)}</td><td>{e(STATUSES.get(status, "—"))}</td>'
                   f'<td class="n" data-status="{e(status)}">{count}</td></tr>'
                   for status, count in report_data.status_counts(results))
    return f"""<h2>Статусы проверки</h2>
<table id="statuses"><thead><tr><th>статус</th><th>что это значит</th><th class="n">работ</th></tr></thead>
<tbody>{rows}</tbody></table>"""


def _tests(results):
    stats = report_data.test_stats(results)
    if not stats:
        return ""
    picture = report_plots.pass_rates([s.grade_id for s in stats], [s.pass_rate for s in stats])
    rows, details = [], []
    for test in stats:
        rows.append(f'<tr data-test="{e(test.grade_id)}"><td>{e(test.grade_id)}</td>'
                    f'<td class="n">{_g(test.max_points)}</td>'
                    f'<td class="n">{test.mean_points:.2f}</td><td class="n passed">{test.passed}</td>'
                    f'<td class="n">{test.total}</td><td class="n">{100 * test.pass_rate:.0f}%</td></tr>')
        if test.failures or test.without_message:
            items = "".join(
                f'<tr><td class="n failure-count">{count}</td><td><pre>{e(example[:MESSAGE_CHARS])}</pre>'
                + (f'<div class="muted">все такие (числа заменены на #): <code>{e(shape)}</code></div>'
                   if shape != " ".join(example.split())[:report_data.SHAPE_CHARS] else "")
                + "</td></tr>"
                for count, shape, example in test.failures)
            if test.without_message:
                items += (f'<tr><td class="n">{test.without_message}</td>'
                          '<td class="muted">нет в outcomes.jsonl</td></tr>')
            details.append(f'<h3>{e(test.grade_id)}: не сдали {test.total - test.passed}</h3>'
                           f'<table class="failures" data-test="{e(test.grade_id)}"><thead><tr>'
                           f'<th class="n">студентов</th><th>сообщение (пример)</th></tr></thead>'
                           f"<tbody>{items}</tbody></table>")
    return f"""<h2>Тесты</h2>
<table id="tests"><thead><tr><th>тест</th><th class="n">баллов</th><th class="n">в среднем</th>
<th class="n">сдали полностью</th><th class="n">из</th><th class="n">доля</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<img id="pass-rates" src="{picture}" alt="Доля сдавших каждый тест">
<h2>Частые ошибки по тестам</h2>
<p class="muted">Сообщения, которые отличаются только числами, посчитаны вместе; показан один пример.</p>
{"".join(details) or "<p>Все тесты сданы всеми.</p>"}"""


def _tasks(results):
    stats = report_data.task_stats(results)
    if not stats or not results.with_outcomes:
        return ""
    rows = "".join(
        f'<tr data-task="{e(t.grade_id)}"><td>{e(t.grade_id)}</td><td class="n stubs">{t.stubs}</td>'
        f'<td class="n errors">{t.errors}</td>'
        f'<td>{", ".join(f"{e(kind)} × {n}" for kind, n in t.error_types) or "—"}</td></tr>' for t in stats)
    return f"""<h2>Задачи (ячейки решения)</h2>
<table id="tasks"><thead><tr><th>ячейка</th><th class="n">оставили заготовку или не сдали</th>
<th class="n">ошибка при выполнении</th><th>исключения</th></tr></thead><tbody>{rows}</tbody></table>"""


def _duration(seconds):
    minutes = round(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} дн" if days else "", f"{hours} ч" if hours else "", f"{minutes} мин" if minutes else ""]
    return " ".join(p for p in parts if p) or "меньше минуты"


def _has_deadlines(results):
    return any(s.submitted_at or s.late_by_s is not None or s.penalty for s in results.students)


def _late(results):
    if not _has_deadlines(results):
        return ""
    late = report_data.late_students(results)
    penalties = [s.penalty for s in late if s.penalty]
    rows = "".join(
        f"<tr><td>{e(s.student_id)}</td><td>{e(s.submitted_at or '—')}</td>"
        f'<td data-v="{s.late_by_s or 0}">{_duration(s.late_by_s) if s.late_by_s else "в срок"}</td>'
        f'<td class="n">{_g(s.raw_score) if s.raw_score is not None else "—"}</td>'
        f'<td class="n">{_g(s.penalty)}</td><td class="n">{_g(s.score)}</td></tr>' for s in late)
    summary = (f"штраф от {_g(min(penalties))} до {_g(max(penalties))}, в среднем {statistics.fmean(penalties):.2f}"
               if penalties else "без штрафов")
    table = (f"""<table id="late" class="sortable"><thead><tr><th>студент</th><th>сдано</th><th>опоздание</th>
<th class="n">балл до штрафа</th><th class="n">штраф</th><th class="n">итог</th></tr></thead>
<tbody>{rows}</tbody></table>""" if late else "")
    return f"""<h2>Сроки сдачи</h2>
<p>После срока или со штрафом: <b id="late-count">{len(late)}</b> из {len(results.students)}; {summary}.</p>
{table}"""


def _times(results):
    times = report_data.wall_times(results)
    if not times:
        return ""
    seconds = [t for _, t in times]
    slowest = "".join(f"<li>{e(sid)}: {t:.1f} с</li>" for sid, t in times[:SLOWEST])
    workers = report_data.worker_counts(results)
    worker_table = "" if not workers else (
        '<h3>Работ на узел</h3><table id="workers"><thead><tr><th>узел</th><th class="n">работ</th></tr></thead><tbody>'
        + "".join(f'<tr><td>{e(w)}</td><td class="n">{n}</td></tr>' for w, n in workers) + "</tbody></table>")
    return f"""<h2>Время проверки</h2>
<p>На работу: в среднем {statistics.fmean(seconds):.1f} с, медиана {statistics.median(seconds):.1f} с,
дольше всех {seconds[0]:.1f} с.</p>
<img id="durations" src="{report_plots.durations(seconds)}" alt="Время проверки одной работы: гистограмма">
<p>Дольше всех проверялись:</p><ul>{slowest}</ul>
{worker_table}"""


def _similarity(out):
    present = [(name, text) for name, text in SIMILARITY_FILES.items() if (out / name).is_file()]
    if not present:
        return ""
    pairs = ""
    if (out / "similarity.csv").is_file():
        with (out / "similarity.csv").open(newline="", encoding="utf-8", errors="replace") as file:
            pairs = f" Пар выше порога: <b id=\"similar-pairs\">{max(sum(1 for _ in csv.reader(file)) - 1, 0)}</b>."
    links = "".join(f'<li><a href="{name}">{name}</a> — {text}</li>' for name, text in present)
    return f"""<h2>Похожие решения</h2>
<p>Похожесть — повод посмотреть работы самому, а не вердикт.{pairs}</p><ul id="similarity">{links}</ul>"""


def _feedback_link(out, assignment, student_id):
    """A relative link to the student's feedback page, when there is one (bad ids have none)."""
    if submissions.id_problem(student_id) or not (out / "feedback" / student_id / f"{assignment}.html").is_file():
        return None
    return f"feedback/{urllib.parse.quote(student_id, safe='')}/{urllib.parse.quote(assignment, safe='')}.html"


def _students(results):
    deadlines = _has_deadlines(results)
    head = [("студент", ""), ("балл", "n"), ("статус", ""), *((t, "n t") for t in results.test_ids),
            *([("опоздание", ""), ("штраф", "n")] if deadlines else []), ("время, с", "n")]
    # Long test names may break after an underscore, nowhere else.
    header = "".join(f'<th class="{kind}">{e(name).replace("_", "_<wbr>")}</th>' for name, kind in head)
    rows = []
    for s in sorted(results.students, key=lambda s: s.student_id):
        link = _feedback_link(results.out, results.assignment, s.student_id)
        name = f'<a href="{e(link)}">{e(s.student_id)}</a>' if link else e(s.student_id)
        cells = [f"<td>{name}</td>", f'<td class="n score" data-v="{s.score}">{_g(s.score)}</td>',
                 f"<td>{e(s.status)}</td>"]
        cells += [f'<td class="n" data-v="{s.points[t]}">{_g(s.points[t])}</td>' for t in results.test_ids]
        if deadlines:
            late = s.late_by_s or 0
            cells += [f'<td data-v="{late}">{_duration(late) if late > 0 else "—"}</td>',
                      f'<td class="n" data-v="{s.penalty}">{_g(s.penalty)}</td>']
        wall = report_data.number(s.outcome.get("wall_s"))
        cells.append(f'<td class="n" data-v="{wall if wall is not None else -1}">'
                     f'{f"{wall:.1f}" if wall is not None else "—"}</td>')
        rows.append(f'<tr data-student="{e(s.student_id)}">{"".join(cells)}</tr>')
    return f"""<h2>Студенты</h2>
<p class="muted">Щёлкните заголовок столбца, чтобы отсортировать; имя ведёт на страницу отзыва студента.</p>
<div class="wide"><table id="students" class="sortable"><thead><tr>{header}</tr></thead>
<tbody>{"".join(rows)}</tbody></table></div>"""


def _problems(results):
    if not results.problems:
        return ""
    items = "".join(f"<li>{e(problem)}</li>" for problem in results.problems)
    return f'<h2>Что не удалось прочитать</h2><ul id="problems">{items}</ul>'
