"""The result of grading one submission, and the statuses a row can have: plain data, in one place."""

from dataclasses import asdict, dataclass, field

# The first word of a row's status; qualifiers may follow after "; ".
STATUSES = {
    "ok": "проверено",
    "timeout": "остановлено по времени",
    "kernel died": "процесс с кодом студента аварийно завершился",
    "memory limit": "превышен лимит памяти",
    "invalid notebook": "файл не читается как тетрадь Jupyter",
    "no notebook": "тетрадь не найдена",
    "other assignment": "тетрадь от другого задания",
    "no solution cells": "в тетради нет ячеек решения",
    "bad student id": "имя папки студента не годится для страницы отзыва",
    "tampering": "код студента нарушил протокол обмена с проверкой",
    "grader error": "ошибка проверяющей системы",
    "worker lost": "исполнитель кластера погибал при каждой попытке проверить работу",
}


@dataclass
class Outcome:
    """One student's result: points per test (points, max, message) and what went wrong."""

    student_id: str
    tests: dict  # test grade_id -> (points, max points, message)
    status: str = "ok"
    notes: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)  # answer cell grade_id -> {"type", "message"}
    output: bytes = b""
    problem_id: bool = False  # the id cannot name a folder: no feedback page, no gradebook entry
    wall_s: float = 0.0
    startup_s: float = 0.0
    cpu_s: float = 0.0
    stub: list = field(default_factory=list)  # answer cells left as released (or not handed in)
    worker: str | None = None

    @property
    def score(self):
        return sum(points for points, _, _ in self.tests.values())

    def record(self, assignment, max_score):
        """The line of OUT/outcomes.jsonl: what the class report reads."""
        data = asdict(self)
        data.pop("output")
        data.pop("problem_id")
        data["tests"] = {test_id: {"points": points, "max": maximum, "message": message}
                         for test_id, (points, maximum, message) in self.tests.items()}
        return {**data, "assignment": assignment, "score": self.score, "max_score": max_score}


def empty_tests(assignment, message):
    return {test.grade_id: (0.0, test.points, message) for test in assignment.tests}
