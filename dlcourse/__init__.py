"""Code that the course's chapters and assignments share.

Each module is small and imported explicitly (``from dlcourse.checks import assert_close``);
importing the package itself has no side effects.
"""
