"""Shows the policy gcx runs the program with (test_cli: ``gcx run --policy``).

    python -m gcx run [--policy SPEC] policy_shown.py

Prints ``INSTALLED POLICY``: gcx.is_installed() and repr(gcx.get_policy()).
"""
import gcx

print(gcx.is_installed(), gcx.get_policy())
