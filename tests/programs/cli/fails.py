"""A script that raises ValueError("from the program") from a function.

    python fails.py

Prints nothing; its traceback on stderr, exit status 1.
"""


def inner():
    raise ValueError("from the program")


inner()
