"""Cycle reports: what the cyclic garbage gcx collects is made of.

For each gcx collection that finds garbage, the core calls a hook with the
garbage, intact, before weak references are cleared or finalizers run
(``_gcx.set_garbage_hook``).  This package is that hook.  It splits the
garbage into strongly connected groups (the cycles), names every edge of a
group by the attribute, dict key or container position it goes through, and
aggregates groups of the same *shape* across collections, so that a
program's top cycle makers rank first::

    #1  1000 groups of 2 objects (2000 objects) in 3 collections
        Pair.peer -> Pair.peer -> Pair
        break it: make Pair.peer a weak reference (weakref.ref) ...

Ways in:

* ``record_cycles()``: a context manager; the CycleReport it returns fills
  up with every gcx collection that runs inside the block.
* ``gcx.set_debug(gcx.DEBUG_CYCLES)``: every gcx collection that finds
  cyclic garbage prints its groups to stderr; ``debug_report()`` is the
  aggregate of all of them.
* ``python -m gcx report script.py``: a whole program with gcx installed
  (ProgramRecording: what the program made while it ran, apart from what
  is freed after it ends).
* ``analyze(objects)``: one report of any objects you hold (for example
  ``gc.garbage`` after ``DEBUG_SAVEALL``).

A report never keeps the garbage alive and never changes what is collected:
it keeps only strings and numbers, never an object of the garbage nor a weak
reference to one; it reads attributes without running the program's code
(no properties, no ``__getattr__``, no ``__repr__``) and without creating
an instance ``__dict__`` where CPython 3.13 keeps the attributes inline.  The
price: an attribute held in inline values is named only when its name is
known from the class (``__static_attributes__``, annotations, dataclass
fields, ``__slots__``), from an instance whose ``__dict__`` exists, or from
the names the code of the class's module (or of the program reported on)
uses; otherwise the edge shows as ``.?``.  gcx's own frames (and runpy's)
are never part of a group.

Shapes.  After merging each instance with its own ``__dict__``, a group's
shape is the set of its edge kinds ``(source type, label, target type)``,
where list and set positions are folded (``[3]`` -> ``[]``) but tuple
positions, string dict keys and attribute names are kept.  So a tree of
nodes with back-pointers to their parents has one shape whatever its size.

The modules, one job each:

    _names     what types, members and attributes are called
    _labels    naming each reference of a group (attribute, key, position)
    _graph     strongly connected components, shortest cycles
    _advice    the attribute to make weak, and notes on well-known shapes
    _analysis  one collection's garbage -> groups by shape
    _model     the dataclasses and the reports (Shape, CycleReport)
    _render    text and JSON
    _listen    the garbage hook and its listeners
"""

# Others import the private names too: gcx/testing.py _listen and _unlisten,
# gcx/__init__.py _set_debug_cycles, gcx/__main__.py ProgramRecording, the
# tests _listeners.
from ._listen import ProgramRecording as ProgramRecording
from ._listen import _listen as _listen
from ._listen import _listeners as _listeners
from ._listen import _set_debug_cycles as _set_debug_cycles
from ._listen import _unlisten as _unlisten
from ._listen import analyze, debug_report, record_cycles
from ._model import CycleReport, Shape

__all__ = ["DEBUG_CYCLES", "CycleReport", "Shape", "record_cycles", "analyze",
           "debug_report"]

#: gcx.set_debug() flag: print the cycles of each collection to stderr and
#: aggregate them into debug_report().  A bit none of the stdlib's DEBUG_*
#: flags uses (they stop at DEBUG_SAVEALL = 32).
DEBUG_CYCLES = 1 << 10
