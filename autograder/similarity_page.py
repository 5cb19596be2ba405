"""``OUT/similarity.html``: the pairs worth a look, each with both works side by side.

The matching fragments are marked by copydetect's own ``highlight_overlap``, which escapes
the code around and inside each mark; the page is self-contained like the class report.
"""

import html

from autograder import report, report_plots

MAX_SHOWN = 100  # pairs shown with their code
MAX_LISTED = 1000  # pairs in the table; similarity.csv has them all
STYLE = report.STYLE + """
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.side pre { background: #fafafa; border: 1px solid #ddd; padding: .5em; font-size: 85%; overflow-x: auto; }
mark { background: #ffd27a; }
.warning { border-left: .4em solid #e0a800; background: #fff8e1; padding: .6em 1em; }
"""
e = html.escape


def page(assignment_name, result):
    solution_pairs = [p for p in result.to_solution if p.similarity >= result.threshold]
    body = [f"<h1>Задание {e(assignment_name)}: похожие решения</h1>",
            ('<p class="warning" id="not-a-verdict"><b>Похожесть — повод посмотреть работы самому, а не вердикт.</b> '
            "Короткие задачи многие решают одинаково, а общий источник (лекция, документация) даёт похожий код "
            "у незнакомых людей. Решение принимает человек, прочитав обе работы.</p>"),
            _method(result), _skipped(result), _distribution(result), _pairs_table(result),
            _solution_table(result, solution_pairs), _side_by_side(result.pairs[:MAX_SHOWN], "pair")]
    if len(result.pairs) > MAX_SHOWN:
        body.append(f"<p>Код показан для первых {MAX_SHOWN} пар из {len(result.pairs)}; остальные — "
                    "в similarity.csv.</p>")
    if solution_pairs:
        body.append("<h2>Код рядом с решением преподавателя</h2>")
        body.append(_side_by_side(solution_pairs[:MAX_SHOWN], "solution"))
    return report.shell(f"{assignment_name}: похожие решения", "\n".join(b for b in body if b), style=STYLE,
                        script=report.SORT_SCRIPT)


def _method(result):
    previous = f" и {len(result.previous)} работ прошлых лет" if result.previous else ""
    return f"""<h2>Что сравнивалось</h2>
<p>Работ группы: <b id="compared">{len(result.works)}</b>{previous}. Сравниваются только ячейки ответов (по
grade_id, как при проверке); выданные заготовки не считаются совпадением; переименованные переменные,
переставленные функции и комментарии на похожесть не влияют (copydetect: winnowing по токенам, как в MOSS).
Похожесть пары — доля кода одной из работ, найденная в другой (большая из двух долей), от 0 до 1.
Порог: {result.threshold:g}.</p>"""


def _skipped(result):
    items = [f"<li>{e(label) + ': ' if label else ''}{e(why)}</li>" for label, why in result.skipped]
    items += [f"<li>{e(label)}: {e(what)}</li>" for label, what in result.notes]
    return f'<h2>Пропущено и примечания</h2><ul id="skipped">{"".join(items)}</ul>' if items else ""


def _distribution(result):
    if not result.distribution:
        return ""
    picture = report_plots.similarity_histogram(result.distribution, result.threshold)
    return f'<img id="similarity-histogram" src="{picture}" alt="Распределение похожести всех пар">'


def _pairs_table(result):
    if not result.pairs:
        return f'<h2>Пары</h2><p id="no-pairs">Пар с похожестью не ниже {result.threshold:g} нет.</p>'
    rows = "".join(
        f'<tr><td class="n" data-v="{rank}">{rank}</td><td>{e(p.a.label)}</td><td>{e(p.b.label)}</td>'
        f'<td class="n" data-v="{p.similarity}"><a href="#pair-{rank}">{p.similarity:.2f}</a></td>'
        f'<td class="n" data-v="{p.shares[0]}">{p.shares[0]:.2f}</td><td class="n" data-v="{p.shares[1]}">'
        f"{p.shares[1]:.2f}</td></tr>" for rank, p in enumerate(result.pairs[:MAX_LISTED], start=1))
    more = (f"<p>В таблице первые {MAX_LISTED} пар из {len(result.pairs)}; все — в similarity.csv.</p>"
            if len(result.pairs) > MAX_LISTED else "")
    return f"""<h2>Пары не ниже порога: {len(result.pairs)}</h2>{more}
<table id="pairs" class="sortable"><thead><tr><th class="n">№</th><th>работа A</th><th>работа B</th>
<th class="n">похожесть</th><th class="n">доля A в B</th><th class="n">доля B в A</th></tr></thead>
<tbody>{rows}</tbody></table>"""


def _solution_table(result, close):
    if not result.solution:
        return ""
    if not close:
        return f'<h2>Решение преподавателя</h2><p>Работ с похожестью на решение не ниже {result.threshold:g} нет.</p>'
    rows = "".join(f'<tr><td>{e(p.a.label)}</td><td class="n" data-v="{p.similarity}">'
                   f'<a href="#solution-{rank}">{p.similarity:.2f}</a></td></tr>'
                   for rank, p in enumerate(close, start=1))
    return f"""<h2>Похожи на решение преподавателя: {len(close)}</h2>
<p class="muted">Возможна утечка решения; все значения — в similarity_to_solution.csv.</p>
<table id="to-solution" class="sortable"><thead><tr><th>работа</th><th class="n">похожесть</th></tr></thead>
<tbody>{rows}</tbody></table>"""


def _marked(text, slices):
    from copydetect.utils import highlight_overlap  # see autograder.similarity on the late import

    if not slices.size:
        return e(text)
    marked, _ = highlight_overlap(text, slices, "<mark>", "</mark>", escape_html=True)
    return marked


def _one_side(work, share, slices):
    return f"<div><h4>{e(work.label)} (совпадает {share:.0%})</h4><pre>{_marked(work.text, slices)}</pre></div>"


def _side_by_side(pairs, anchor):
    blocks = []
    for rank, pair in enumerate(pairs, start=1):
        blocks.append(f"""<section class="pair" id="{anchor}-{rank}">
<h3>{rank}. {e(pair.a.label)} — {e(pair.b.label)}: {pair.similarity:.2f}</h3>
<div class="side">{_one_side(pair.a, pair.shares[0], pair.slices[0])}
{_one_side(pair.b, pair.shares[1], pair.slices[1])}</div>
</section>""")
    return "\n".join(blocks)
