"""A program interrupted (KeyboardInterrupt raised in a function), to
compare what ``python -m gcx run`` prints and how it ends with python's own
(the test copies it to its current directory, for -m).

    python interrupted.py

Prints nothing; the traceback on stderr, killed by SIGINT.
"""


def wait():
    raise KeyboardInterrupt


wait()
