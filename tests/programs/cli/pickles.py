"""__main__ is the program's module while ``python -m gcx run`` runs it: a
class it defines pickles and unpickles.

    python -m gcx run pickles.py

Prints ``MODULE 7``: the unpickled object's class's __module__, its x.
"""
import pickle


class Point:
    def __init__(self, x):
        self.x = x


p = pickle.loads(pickle.dumps(Point(7)))
print(type(p).__module__, p.x)
