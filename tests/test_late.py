"""Deadlines, late policies, LMS dates and the course settings file."""

from datetime import datetime, timedelta, timezone

import pytest

from autograder import course_config, late
from autograder.lms import moodle

MSK = timezone(timedelta(hours=3))
DEADLINE = datetime(2026, 12, 15, 23, 59, tzinfo=MSK)


def _late(**delta):
    return late.lateness(DEADLINE + timedelta(**delta), DEADLINE)


def test_deadline_needs_a_time_zone():
    assert late.parse_deadline("2026-12-15T23:59+03:00") == DEADLINE
    for bad in ["2026-12-15T23:59", "15.12.2026", "tomorrow"]:
        with pytest.raises(late.PolicyError, match="ISO 8601"):
            late.parse_deadline(bad)


def test_linear_penalty_per_started_day_or_hour_with_a_cap():
    policy = late.parse_policy("linear:10%/d,max:50%")
    assert policy.penalty(_late(minutes=-5), 11, 11) == (0.0, "")
    assert policy.penalty(_late(minutes=1), 11, 11)[0] == pytest.approx(1.1)  # one started day
    assert policy.penalty(_late(days=1, minutes=1), 11, 11)[0] == pytest.approx(2.2)
    assert policy.penalty(_late(days=30), 11, 11)[0] == pytest.approx(5.5)  # capped at 50 %
    assert policy.penalty(_late(days=3), 1, 11)[0] == pytest.approx(1)  # never more than was earned
    points, reason = late.parse_policy("linear:5%/h").penalty(_late(hours=2, minutes=30), 10, 10)
    assert points == pytest.approx(1.5) and "2 ч 30 мин" in reason and "час" in reason


def test_zero_after_a_grace_period():
    policy = late.parse_policy("zero-after:72h")
    assert policy.penalty(_late(hours=71), 9, 11) == (0.0, "")
    points, reason = policy.penalty(_late(hours=73), 9, 11)
    assert points == 9 and "0 баллов" in reason and "3 д" in reason
    assert late.parse_policy("zero-after:2d").penalty(_late(days=2, minutes=1), 9, 11)[0] == 9


def test_only_a_late_mark_is_said_so_and_costs_one_unit_at_most():
    marked = late.lateness(None, DEADLINE, marked=True)
    assert marked.late and "время неизвестно" in marked.text()
    assert late.parse_policy("linear:10%/d").penalty(marked, 11, 11)[0] == pytest.approx(1.1)
    assert late.parse_policy("zero-after:72h").penalty(marked, 11, 11) == (0.0, "")
    on_time = late.lateness(DEADLINE - timedelta(hours=1), DEADLINE, marked=True)  # times win over the mark
    assert not on_time.late and on_time.text() == ""


def test_a_course_rule_from_its_own_file(tmp_path):
    rule = tmp_path / "rules.py"
    rule.write_text("def late_penalty(late_by, marked):\n"
                    "    if late_by is None:\n        return 0.0\n"
                    "    return (0.25, 'по правилам курса') if late_by.days < 7 else 1.0\n")
    policy = late.parse_policy(f"file:{rule}")
    assert policy.penalty(_late(days=2), 8, 10) == (2.5, "по правилам курса")
    assert policy.penalty(_late(days=8), 8, 10)[0] == 8
    with pytest.raises(late.PolicyError, match="нет файла"):
        late.parse_policy(f"file:{tmp_path / 'absent.py'}")
    (tmp_path / "empty.py").write_text("x = 1\n")
    with pytest.raises(late.PolicyError, match="late_penalty"):
        late.parse_policy(f"file:{tmp_path / 'empty.py'}")
    for bad in ["linear:10", "zero-after:3w", "ten percent"]:
        with pytest.raises(late.PolicyError, match="linear:10%/d,max:50%"):
            late.parse_policy(bad)


@pytest.mark.parametrize("text, expected", [
    ("Tuesday, 15 December 2026, 11:59 PM", datetime(2026, 12, 15, 23, 59, tzinfo=MSK)),
    ("Thursday, 3 December 2026, 9:05 AM", datetime(2026, 12, 3, 9, 5, tzinfo=MSK)),
    ("вторник, 15 декабря 2026, 23:59", datetime(2026, 12, 15, 23, 59, tzinfo=MSK)),
    ("Вторник 1 Декабрь 2026, 00:10", datetime(2026, 12, 1, 0, 10, tzinfo=MSK)),
    ("-", None),
])
def test_moodle_long_dates_in_the_deadlines_zone(text, expected):
    assert moodle.parse_long_date(text, MSK) == expected


def test_moodle_status_says_late_in_both_languages():
    assert moodle.LATE_STATUS.search("Submitted for grading - 2 days 3 hours late - Graded")
    assert moodle.LATE_STATUS.search("Отправлено для оценивания - 2 дн. 3 час. опоздание")
    assert moodle.LATE_STATUS.search("Отправлено для оценивания - Срок выполнения закончился 2 дн. назад")
    assert not moodle.LATE_STATUS.search("Submitted for grading - Graded")
    assert not moodle.LATE_STATUS.search("Отправлено для оценивания")


def test_course_config_per_assignment(tmp_path):
    config = tmp_path / "course.toml"
    config.write_text('[defaults]\nlate_policy = "linear:10%/d"\n'
                      '[assignments.05_gradient_descent]\ndeadline = 2026-12-15T23:59:00+03:00\n'
                      'late_policy = "zero-after:72h"\n', encoding="utf-8")
    assert course_config.settings(config, "05_gradient_descent") == {
        "late_policy": "zero-after:72h", "deadline": "2026-12-15 23:59:00+03:00"}
    assert late.parse_deadline(course_config.settings(config, "05_gradient_descent")["deadline"]) == DEADLINE
    assert course_config.settings(config, "06_other") == {"late_policy": "linear:10%/d"}
    config.write_text("[defaults]\ndeadlin = 1\n", encoding="utf-8")
    with pytest.raises(course_config.ConfigError, match="deadlin"):
        course_config.settings(config, "05_gradient_descent")


def test_audit_names_the_cause_of_a_changed_score():
    from autograder import audit

    old = {"digest": "g1:f1", "raw_score": "9", "penalty": "0"}
    assert audit.causes(old, "g1:f2", 11, 0) == [audit.FILES_CHANGED]
    assert audit.causes(old, "g2:f1", 11, 0) == [audit.GRADER_CHANGED]
    assert audit.causes(old, "g1:f1", 10, 0) == [audit.REGRADED]  # same files and grader: --force or --only
    assert audit.causes(old, "g1:f1", 9, 2.5) == [audit.PENALTY_CHANGED]
    assert audit.causes(old, "g1:f2", 11, 1) == [audit.FILES_CHANGED, audit.PENALTY_CHANGED]
