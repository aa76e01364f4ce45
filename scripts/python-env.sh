#!/usr/bin/env bash
# A Python virtual environment with what examples/python/main.py runs on
# (cdktf 0.21.0 and the prebuilt provider bindings from PyPI, pinned in
# examples/python/requirements.txt), cached under
# ~/.cache/airgap-go-constructs/ by a hash of the Python version and the
# requirements (and mypy, which the tests run over main.py). Prints the environment's folder; its python is bin/python.
# Our own wheel is not installed here: tests put a fresh build on PYTHONPATH.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
req=examples/python/requirements.txt
dev=examples/python/requirements-dev.txt
key="$( ("$python" --version; cat "$req" "$dev") | sha256sum | cut -c1-16)"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/airgap-go-constructs/python-$key"
if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  "$python" -m venv "$dir" >&2
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" -r "$dev" >&2
  touch "$dir/.complete"
fi
echo "$dir"
