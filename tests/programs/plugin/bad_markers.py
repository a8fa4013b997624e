"""Tests for the pytest plugin's child runs (tests/test_plugin.py): the
plugin's markers given arguments they do not take.

Run as ``pytest [--gcx-cycles] bad_markers.py`` from a scratch directory
holding a copy of this file.  Each test whose marker is given a bad argument
errors at its setup (it does not run), saying what is wrong; the others pass
and the session goes on:

  ERROR    test_ignore_not_names (ignore=5), test_unknown_keyword (bogus=1),
           test_positional ("Node"), test_classes_not_bool (classes="x"),
           test_allow_with_argument (gcx_allow_cycles(1))
  PASSED   test_good_marker, test_after
"""
import pytest

ran = []


@pytest.mark.gcx_no_cycles(ignore=5)
def test_ignore_not_names():
    ran.append("ignore")


@pytest.mark.gcx_no_cycles(bogus=1)
def test_unknown_keyword():
    ran.append("bogus")


@pytest.mark.gcx_no_cycles("Node")
def test_positional():
    ran.append("positional")


@pytest.mark.gcx_no_cycles(classes="x")
def test_classes_not_bool():
    ran.append("classes")


@pytest.mark.gcx_allow_cycles(1)
def test_allow_with_argument():
    ran.append("allow")


@pytest.mark.gcx_no_cycles(ignore=["Node"], classes=True)
def test_good_marker():
    ran.append("good")


def test_after():
    # none of the tests with a bad marker ran
    assert ran == ["good"]
