"""gcx.no_cycles(): a block or function that makes cyclic garbage fails with
the cycle report.  Each test runs one case of
tests/programs/no_cycles/blocks.py (where the blocks are: case_CASE) in a
fresh interpreter, with gcx installed as the process's collector and
without, and checks what each block did."""
import json

import pytest

WHERE = pytest.mark.parametrize("where", ["installed", "not-installed"])


def results(run_program, where, case, env=None):
    proc = run_program("no_cycles/blocks.py", where, case, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@WHERE
def test_clean_block_passes(run_program, where):
    out = results(run_program, where, "clean-block")
    assert out == {"clean": ["ok", [False, 0]], "decorated": ["ok", 45],
                   "local class": ["ok", "Local"]}


@WHERE
def test_pair_cycle_fails_with_its_shape(run_program, where):
    out = results(run_program, where, "pair-cycle")
    kind, message, groups, paths = out["block"]
    assert (kind, groups, paths) == ("cycles", 3, ["Pair.peer -> Pair.peer -> Pair"])
    assert message.startswith("the code made cyclic garbage: gcx cycle report: "
                              "6 objects in 3 cycles of 1 shape")
    assert "break it: make Pair.peer a weak reference" in message
    kind, message, groups, paths = out["decorated tree"]
    assert (kind, groups) == ("cycles", 1)
    assert paths == ["Node.parent -> Node.children[0] -> Node"]


@WHERE
def test_garbage_from_before_the_block_does_not_count(run_program, where):
    out = results(run_program, where, "garbage-before")
    assert out["block"] == ["ok", [False, False]]


@WHERE
def test_exceptions_pass_through(run_program, where):
    out = results(run_program, where, "exception")
    assert out["raises"] == ["error", "KeyError", "'mine'"]


@WHERE
def test_explicit_collections_inside_the_block(run_program, where):
    out = results(run_program, where, "explicit-collection")
    kind, message, groups, paths = out["collects"]
    assert kind == "cycles"
    if where == "installed":
        # gc.collect() is gcx's: the report saw it, shape and all
        assert paths == ["Pair.peer -> Pair.peer -> Pair"]
    else:
        # the stdlib collector collected it: counted, shape unknown
        assert groups == 0 and paths == []
        assert "the stdlib collector collected 2 objects" in message
    assert out["stdlib still on"] == ["ok", True]


@WHERE
def test_automatic_collections_inside_the_block(run_program, where):
    out = results(run_program, where, "automatic-collections")
    kind, message, groups, paths = out["many"]
    assert (kind, groups, paths) == ("cycles", 20_000, ["Pair.peer -> Pair.peer -> Pair"])
    # while installed, gcx's automatic collections found most of it
    assert out["collections"] == ["ok", where == "installed"]


@WHERE
def test_options_classes_and_ignore(run_program, where):
    out = results(run_program, where, "options")
    kind, message, groups, paths = out["classes"]
    assert kind == "cycles"
    assert paths[0] == ("class with_classes.<locals>.Local.__mro__[0] -> "
                        "class with_classes.<locals>.Local")
    assert "a class: every class is in a cycle" in message
    assert out["ignored"] == ["ok", 1]
    # the outer block sees the inner block's garbage too
    kind, message, groups, paths = out["nested"]
    assert (kind, paths) == ("cycles", ["Pair.peer -> Pair.peer -> Pair"])


def test_safe_mode(run_program):
    out = results(run_program, "not-installed", "safe-mode", env={"GCX_MODE": "safe"})
    assert out["block"][3] == ["Pair.peer -> Pair.peer -> Pair"]
    assert out["clean"] == ["ok", 1]
