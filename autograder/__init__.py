"""The course's grading tools: generating exercises and grading a class (`python -m autograder`)."""
