"""Interactive figures that still make sense in the static HTML book."""

import os

from IPython.display import display


def is_static_build() -> bool:
    """True while ``make book`` executes the chapters: no kernel will answer a widget."""
    return bool(os.environ.get("DLCOURSE_STATIC"))


def interactive(widget, static):
    """Show ``widget()`` in a live notebook; in the book's build, draw ``static()`` instead.

    ``static`` shows the same thing for a few fixed settings, so the page is never left
    with a dead slider or an empty output.
    """
    if is_static_build():
        static()
    else:
        display(widget())
