"""Deadlines and late penalties: how late each submission is, and what that costs.

A policy gives the share of the assignment's points that is deducted; the penalty never
exceeds the points the student earned. Policies (``--late-policy``):

* ``none`` — no penalty (the default);
* ``linear:10%/d,max:50%`` — 10 % of the points per started day (``h``: per started hour),
  at most 50 % (``max`` may be left out: then up to 100 %);
* ``zero-after:72h`` — full marks up to 72 hours (``d`` for days) after the deadline, zero after;
* ``file:rules.py`` — the course's own rule: ``rules.py`` defines
  ``late_penalty(late_by, marked)``, where ``late_by`` is a ``datetime.timedelta`` (None when
  only a late mark is known) and ``marked`` says whether the LMS marked the work late; it
  returns the share to deduct (0–1), or ``(share, reason)`` with a reason for the student.

Where only a late mark is known (Canvas's ``LATE``, Moodle's status without a time), the
lateness is at least one started unit: ``linear`` deducts one unit, ``zero-after`` nothing.
"""

import importlib.util
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1)}
UNIT_NAMES = {"d": "день", "h": "час"}


class PolicyError(ValueError):
    """The instructor's deadline or policy cannot be read; the message says what is expected."""


@dataclass
class Lateness:
    submitted_at: datetime = None
    late_by: timedelta = None  # None: not known (no time, or no deadline)
    marked: bool = False  # the source says "late"

    @property
    def late(self):
        return bool(self.late_by and self.late_by > timedelta(0)) or (self.late_by is None and self.marked)

    def text(self):
        """For grades.csv and the student: how late, or that only a late mark is known."""
        if self.late_by is not None:
            return duration(self.late_by) if self.late_by > timedelta(0) else ""
        return "опоздание (по отметке LMS, время неизвестно)" if self.marked else ""


def lateness(submitted_at, deadline, marked=False):
    late_by = submitted_at - deadline if submitted_at is not None and deadline is not None else None
    return Lateness(submitted_at, late_by, marked and late_by is None)


def duration(delta):
    """``2 д 3 ч 5 мин``; a part-minute counts as a minute."""
    minutes = math.ceil(delta.total_seconds() / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} д" if days else "", f"{hours} ч" if hours else "", f"{minutes} мин" if minutes else ""]
    return " ".join(part for part in parts if part) or "0 мин"


def parse_deadline(text):
    """An aware time from ISO 8601 with its offset: ``2026-12-15T23:59+03:00``."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise PolicyError(f"срок сдачи {text!r} не понят: нужна дата, время и часовой пояс в ISO 8601, "
                          "например 2026-12-15T23:59+03:00")
    return moment


class Policy:
    """``share(lateness)`` -> (share of the points to deduct, reason for the student)."""

    def __init__(self, spec, share):
        self.spec, self._share = spec, share

    def share(self, lateness):
        if not lateness.late:
            return 0.0, ""
        result = self._share(lateness)
        share, reason = result if isinstance(result, tuple) else (result, "")
        share = min(max(float(share), 0.0), 1.0)
        return share, reason or f"сдано позже срока ({lateness.text()}), правило {self.spec}"

    def penalty(self, lateness, raw, max_score):
        """(points deducted, reason): at most the points earned."""
        share, reason = self.share(lateness)
        points = round(min(raw, share * max_score), 6)
        return (points, reason) if points > 0 else (0.0, "")


def parse_policy(spec):
    spec = (spec or "none").strip()
    if spec == "none":
        return Policy(spec, lambda lateness: 0.0)
    match = re.fullmatch(r"linear:(\d+(?:\.\d+)?)%/([dh])(?:,max:(\d+(?:\.\d+)?)%)?", spec)
    if match:
        rate, unit, cap = float(match[1]) / 100, match[2], float(match[3] or 100) / 100

        def linear(lateness):
            units = math.ceil(lateness.late_by / UNITS[unit]) if lateness.late_by is not None else 1
            share = min(rate * units, cap)
            how = lateness.text()
            return share, (f"сдано позже срока: {how}; {rate:.0%} баллов за каждый начатый "
                           f"{UNIT_NAMES[unit]} ({units}), не больше {cap:.0%}")
        return Policy(spec, linear)
    match = re.fullmatch(r"zero-after:(\d+(?:\.\d+)?)([dh])", spec)
    if match:
        grace = float(match[1]) * UNITS[match[2]]

        def zero_after(lateness):
            if lateness.late_by is None or lateness.late_by <= grace:
                return 0.0
            return 1.0, f"сдано позже срока больше чем на {duration(grace)} ({lateness.text()}): 0 баллов"
        return Policy(spec, zero_after)
    if spec.startswith("file:"):
        return Policy(spec, _course_rule(Path(spec[len("file:"):])))
    raise PolicyError(f"правило штрафа {spec!r} не понято: ожидалось none, linear:10%/d,max:50% "
                      "(h — за час), zero-after:72h или file:правило.py")


def _course_rule(path):
    """The course's own ``late_penalty`` (the instructor's code, trusted like the notebook)."""
    if not path.is_file():
        raise PolicyError(f"нет файла с правилом штрафа: {path}")
    spec = importlib.util.spec_from_file_location("course_late_rule", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - any error in the instructor's file is reported as such
        raise PolicyError(f"файл правила штрафа {path} не выполняется: {type(error).__name__}: {error}") from None
    rule = getattr(module, "late_penalty", None)
    if not callable(rule):
        raise PolicyError(f"в {path} нет функции late_penalty(late_by, marked)")
    return lambda lateness: rule(lateness.late_by, lateness.marked)
