"""A second module after attribution.py (tests/test_plugin.py): its first
test runs after the module-scoped fixture of attribution.py was torn down.

  test_after_module    clean
"""


def test_after_module():
    assert [[i] for i in range(10)]
