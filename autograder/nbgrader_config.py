# nbgrader's configuration for the course. `make exercises` and the grader load it;
# run nbgrader by hand from the repository root with `--config autograder/nbgrader_config.py`.
c = get_config()  # noqa: F821 - provided by traitlets when the file is loaded

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

c.ClearSolutions.code_stub = {"python": "# ВАШ КОД ЗДЕСЬ\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "ВАШ ОТВЕТ ЗДЕСЬ"
c.ClearSolutions.enforce_metadata = True

# The per-cell limit (not ExecutePreprocessor.timeout, which nbgrader ignores).
c.Execute.timeout = 60
