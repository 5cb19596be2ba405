"""Every setting of the grader, defined once; the README's table of limits names these.

Both sides of the sandbox import this module, so it holds plain constants only.
"""

# The stub nbgrader leaves in each answer cell (as autograder/nbgrader_config.py sets it).
STUB = "# ВАШ КОД ЗДЕСЬ\nraise NotImplementedError()"
SEED = 0  # numpy, random and torch are seeded with it before every cell, on both sides
HASH_SEED = "0"  # PYTHONHASHSEED of both sides: string hashing, and so set order, repeats on regrade

# Exit codes of `python -m autograder grade`.
EXIT_OK = 0
EXIT_INSTRUCTOR = 2  # unknown assignment, missing folder, bad option, malformed instructor notebook
EXIT_SELF_CHECK = 3  # the instructor's notebook does not get full marks in the sandbox
EXIT_CLUSTER = 4  # --cluster: the scheduler went away mid-batch, or every worker refused to grade
EXIT_INTERRUPTED = 130

# Default limits of one submission (command-line options override them).
CELL_CPU_S = 60.0  # --timeout: CPU seconds of the student's process tree per cell
WALL_FACTOR = 3.0  # a cell may also wait (sleep, read) for WALL_FACTOR × --timeout of wall time
NOTEBOOK_FACTOR = 10  # --notebook-timeout defaults to this × --timeout, wall time of all cells
MEMORY_MB = 4096  # --memory-mb: the student's process tree, page cache and copy-on-write counted once
TRUSTED_MEMORY_MB = 2048  # the tests' own process, so that a flood of data cannot take the machine
SANDBOX_CPUS = 1.0  # CPU quota of each sandbox: one student cannot starve another
NPROC = 256  # processes (and threads) of one sandbox
STARTUP_TIMEOUT_S = 180  # Python, numpy, torch and IPython imports, under load
MAX_RUNS = 4  # a submission with more hanging or crashing cells than this loses the rest
FILE_SIZE_BYTES = 64 * 2**20  # the largest file a sandbox may write
TMPFS_BYTES = 256 * 2**20  # each sandbox's private /tmp

# Sandbox user ids: each sandbox takes one from this range under a lock that every grader
# process on the machine shares, so two graders (or cluster workers) never use the same one.
UID_FIRST = 61000
UID_COUNT = 1000
UID_LOCK_DIRS = ("/run/lock/autograder-uids", "/tmp/autograder-uids")

# What comes back from a sandbox.
OUTPUT_CAP = 2**20  # bytes of the student's printed output kept for the instructor's log
MESSAGE_CHARS = 2000  # a test's failure message in the feedback
STUDENT_TEXT_CHARS = 200  # text the student's code chose (exception messages), when shown
MAX_MESSAGE_BYTES = 256 * 2**20  # one message between the student's and the tests' process
MAX_HEADER_BYTES = 16 * 2**20
MAX_DEPTH = 64  # nesting of lists, tuples and dicts in one value
MAX_NODES = 2**20  # values in one message
MAX_NAME_SCAN_BYTES = 2**20  # a student's cell larger than this is not scanned for names

GRADE_VERSION = b"grader-2"  # part of each row's digest: a change of grading logic regrades

# A Dask cluster (`grade --cluster`, `python -m autograder scheduler` / `worker`).
SCHEDULER_PORT = 8786  # Dask's usual port
CLUSTER_ALLOWED_FAILURES = 2  # a job whose worker dies this many times + 1 gets the row "worker lost"
CLUSTER_CONNECT_S = 30  # how long the coordinator tries to reach the scheduler
