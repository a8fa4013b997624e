"""What a script run by ``python -m gcx run`` sees of its command line.

    python -m gcx run argv.py ARGS...

Prints one JSON line: [basename of sys.argv[0], [ARGS], sys.path[0],
__file__].
"""
import json
import os
import sys

print(json.dumps([os.path.basename(sys.argv[0]), sys.argv[1:], sys.path[0], __file__]))
