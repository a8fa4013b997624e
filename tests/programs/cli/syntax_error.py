"""A script that does not compile (an unclosed parenthesis): what
``python -m gcx run syntax_error.py`` reports.  Nothing imports it."""
x = (
