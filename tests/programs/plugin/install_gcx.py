"""conftest.py of the plugin's child runs that have gcx installed as the
process's collector (tests/test_plugin.py copies it as conftest.py)."""
import gcx

gcx.install()
