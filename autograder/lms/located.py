"""Whose file an entry of an LMS's download is: what the Moodle and Canvas readers both return."""

from dataclasses import dataclass


@dataclass
class Located:
    student_id: str
    inner: str  # the file's path inside that student's submission
    name: str = ""
    late: bool = False
    order: int = 0  # Canvas's attachment id: later uploads have larger ones
