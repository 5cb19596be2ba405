"""What may go into a spreadsheet cell: nothing a spreadsheet would run as a formula.

Every cell that holds text from a student or an LMS (an id, a name, a file name, a note)
passes through ``inert``. The leading apostrophe is how spreadsheets mark "text, not a
formula"; a value that already starts with one gets another, so ``plain`` undoes it exactly.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "|", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def inert(text):
    """``text`` as a cell; a lone "-" (an LMS's "nothing here") is no formula and stays."""
    return "'" + text if text.startswith(FORMULA_STARTS + ("'",)) and text != "-" else text


def plain(text):
    """The value ``inert`` was given."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS + ("'",)) else text
