"""A directory with a __main__.py: ``python -m gcx run app ARGS...`` runs it.

Prints ``INSTALLED [ARGS]`` (whether gcx is installed, its arguments).
"""
import sys

import gcx

print(gcx.is_installed(), sys.argv[1:])
