#!/bin/sh
# Type checks: mypy --strict on the typed modules of the gcx package (and of
# two benchmark programs), and stubtest of the C core's stub (gcx/_gcx.pyi)
# against the installed module.
#
#   .ci/typecheck.sh VENV     VENV: a virtual environment with gcx installed
#
# Installs mypy and matplotlib (typed; benchmarks/plot_pause.py draws with
# it) into VENV (pip), then runs both; exits non-zero on any error.
set -eu
venv=${1:?usage: .ci/typecheck.sh VENV}
root=$(cd "$(dirname "$0")/.." && pwd)
python="$venv/bin/python"

"$python" -m pip install -q mypy matplotlib

# The modules written with inline annotations (the rest of the package is not
# annotated yet).  Imports of other gcx modules are followed, their errors not
# reported.
cd "$root"
"$python" -m mypy --strict --follow-imports=silent --cache-dir=/dev/null \
    gcx/__init__.py gcx/_args.py gcx/_stdlib.py gcx/_install.py \
    gcx/_runner.py gcx/_table.py gcx/_overview.py gcx/compare.py gcx/__main__.py gcx/_demo.py \
    gcx/report/*.py gcx/testing.py gcx_pytest.py gcx/monitor.py gcx/prometheus.py gcx/otel.py gcx/policy.py gcx/_policy_spec.py \
    gcx/_budget.py benchmarks/http_client_loop.py benchmarks/plot_pause.py

# The stub against the compiled module as installed in VENV: from a scratch
# directory, so that this checkout's gcx/ does not stand in for it.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
"$python" -m mypy.stubtest gcx._gcx
echo "typecheck: mypy --strict and stubtest passed"
