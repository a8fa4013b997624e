"""gcx's monitoring without the extras installed (run by
tests/test_package.py): import gcx and its monitoring import neither
prometheus_client nor the OpenTelemetry API, and without them the exporters
say which extra to install.

    python monitoring_without_extras.py

Blocks both libraries (as if not installed), uses gcx.metrics(),
gcx.census() and gcx.log_slow_pauses(), then prints the ImportError of
gcx.prometheus and of gcx.otel, one a line.
"""
import sys

sys.modules["prometheus_client"] = None
sys.modules["opentelemetry"] = None

import gcx  # noqa: E402

gcx.metrics()
gcx.census()
gcx.log_slow_pauses(None)
for name in ("gcx.prometheus", "gcx.otel"):
    try:
        __import__(name)
    except ImportError as exc:
        print(exc)
