"""Wrong implementations a student would plausibly write, one module per assignment.

`tests/mutants/<assignment>.py` defines ``MUTANTS``: a list of ``(grade_id, description,
source)``, where ``source`` replaces the whole solution cell ``grade_id``. Every mutant must
lose points in that function's own test cells (tests/test_assignments.py). An optional
``ALTERNATIVES`` list, in the same form, holds correct answers written differently from the
solution; each must get full marks, so that the hidden tests accept any correct implementation.
"""
