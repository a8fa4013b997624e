"""gcx.no_cycles(): a block or function that makes cyclic garbage fails with
the cycle report.  Each test runs a program in a fresh interpreter, with gcx
installed as the process's collector and without."""
import json
import textwrap

import pytest

PRELUDE = """
    import gc, json, sys
    import gcx
    from gcx.testing import CyclesFound

    if sys.argv[1] == "installed":
        gcx.install()

    class Pair:
        pass

    class Node:
        def __init__(self, parent=None):
            self.parent = parent
            self.children = []
            if parent is not None:
                parent.children.append(self)

    def pair():
        a, b = Pair(), Pair()
        a.peer, b.peer = b, a

    results = {}

    def outcome(name, func):
        try:
            value = func()
        except CyclesFound as exc:
            results[name] = ["cycles", str(exc), exc.report.groups,
                             [s.path for s in exc.report.top()]]
        except Exception as exc:
            results[name] = ["error", type(exc).__name__, str(exc)]
        else:
            results[name] = ["ok", value]
"""

EPILOGUE = """
    print(json.dumps(results))
"""

WHERE = pytest.mark.parametrize("where", ["installed", "not-installed"])


def results(fresh_python, where, body, env=None):
    code = "".join(textwrap.dedent(part) for part in (PRELUDE, body, EPILOGUE))
    proc = fresh_python(code.replace("sys.argv[1]", repr(where)), env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@WHERE
def test_clean_block_passes(fresh_python, where):
    out = results(fresh_python, where, """
        def clean():
            with gcx.no_cycles() as report:
                data = [{"k": [i, (i, str(i))]} for i in range(10_000)]
                del data
            return [bool(report), report.groups]
        outcome("clean", clean)

        @gcx.no_cycles()
        def decorated(n):
            return sum(range(n))
        outcome("decorated", lambda: decorated(10))

        @gcx.no_cycles()
        def local_class():
            class Local:            # classes are cyclic; they do not count by default
                pass
            return Local.__name__
        outcome("local class", local_class)
    """)
    assert out == {"clean": ["ok", [False, 0]], "decorated": ["ok", 45],
                   "local class": ["ok", "Local"]}


@WHERE
def test_pair_cycle_fails_with_its_shape(fresh_python, where):
    out = results(fresh_python, where, """
        def block():
            with gcx.no_cycles():
                for _ in range(3):
                    pair()
        outcome("block", block)

        @gcx.no_cycles()
        def tree():
            root = Node()
            Node(root)
            Node(root)
        outcome("decorated tree", tree)
    """)
    kind, message, groups, paths = out["block"]
    assert (kind, groups, paths) == ("cycles", 3, ["Pair.peer -> Pair.peer -> Pair"])
    assert message.startswith("the code made cyclic garbage: gcx cycle report: "
                              "6 objects in 3 cycles of 1 shape")
    assert "break it: make Pair.peer a weak reference" in message
    kind, message, groups, paths = out["decorated tree"]
    assert (kind, groups) == ("cycles", 1)
    assert paths == ["Node.parent -> Node.children[0] -> Node"]


@WHERE
def test_garbage_from_before_the_block_does_not_count(fresh_python, where):
    out = results(fresh_python, where, """
        gc.disable(); gcx.disable()          # nobody collects the old garbage
        for _ in range(5):
            pair()
        def block():
            with gcx.no_cycles():
                pass
            return gcx.isenabled(), gc.isenabled()
        outcome("block", block)
    """)
    assert out["block"] == ["ok", [False, False]]


@WHERE
def test_exceptions_pass_through(fresh_python, where):
    out = results(fresh_python, where, """
        def raises():
            with gcx.no_cycles():
                pair()
                raise KeyError("mine")
        outcome("raises", raises)
    """)
    assert out["raises"] == ["error", "KeyError", "'mine'"]


@WHERE
def test_explicit_collections_inside_the_block(fresh_python, where):
    out = results(fresh_python, where, """
        def collects():
            with gcx.no_cycles():
                pair()
                return gc.collect()
        outcome("collects", collects)
        outcome("stdlib still on", lambda: gc.isenabled())
    """)
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
def test_automatic_collections_inside_the_block(fresh_python, where):
    out = results(fresh_python, where, """
        def many():
            with gcx.no_cycles():
                for _ in range(20_000):
                    pair()
        outcome("many", many)
        outcome("collections", lambda: gcx.get_stats()[0]["collections"] > 0)
    """)
    kind, message, groups, paths = out["many"]
    assert (kind, groups, paths) == ("cycles", 20_000, ["Pair.peer -> Pair.peer -> Pair"])
    # while installed, gcx's automatic collections found most of it
    assert out["collections"] == ["ok", where == "installed"]


@WHERE
def test_options_classes_and_ignore(fresh_python, where):
    out = results(fresh_python, where, """
        def with_classes():
            with gcx.no_cycles(classes=True):
                class Local:
                    pass
                del Local
        outcome("classes", with_classes)

        def ignored():
            with gcx.no_cycles(ignore=["Pair"]) as report:
                pair()
            return report.ignored
        outcome("ignored", ignored)

        def nested():
            with gcx.no_cycles():
                try:
                    with gcx.no_cycles():
                        pair()
                except CyclesFound:
                    return "inner caught"
        outcome("nested", nested)
    """)
    kind, message, groups, paths = out["classes"]
    assert kind == "cycles"
    assert paths[0] == ("class with_classes.<locals>.Local.__mro__[0] -> "
                        "class with_classes.<locals>.Local")
    assert "a class: every class is in a cycle" in message
    assert out["ignored"] == ["ok", 1]
    # the outer block sees the inner block's garbage too
    kind, message, groups, paths = out["nested"]
    assert (kind, paths) == ("cycles", ["Pair.peer -> Pair.peer -> Pair"])


def test_safe_mode(fresh_python):
    out = results(fresh_python, "not-installed", """
        assert gcx.mode() == "safe"
        def block():
            with gcx.no_cycles():
                pair()
        outcome("block", block)
        outcome("clean", lambda: gcx.no_cycles()(lambda: 1)())
    """, env={"GCX_MODE": "safe"})
    assert out["block"][3] == ["Pair.peer -> Pair.peer -> Pair"]
    assert out["clean"] == ["ok", 1]
