"""The ``gcx`` console script as pip writes it (test_cli: what a program's
KeyboardInterrupt shows under it).

    python console_script.py COMMAND [ARG ...]

Runs gcx's command line as the ``gcx`` script does; prints what it prints.
"""
import sys

from gcx.__main__ import console

sys.exit(console())
