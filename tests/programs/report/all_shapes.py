"""One cycle report of every shape shapelib.py makes, two collections' worth.

    python all_shapes.py

Records 10 of each shape (and 2 pairs of Bare) collected in one collection,
then 5 more pairs in a second; prints the report's text, then its JSON
(the last lines, from the line starting with "{").
"""
import gcx
from gcx import report as R
from shapelib import Bare, closures, dicts, errors, lists, pairs, slotted, trees

gcx.collect()
with R.record_cycles() as report:
    for make in (trees, pairs, slotted, lists, errors, closures, dicts):
        make(10)
    slotted(2, Bare)
    gcx.collect()
    pairs(5)
    gcx.collect()
print(report.text())
print(report.json())
