#!/usr/bin/env bash
# Run the test suite against the LOWEST versions that pyproject.toml's floors allow.
#
# Run before each release (and whenever a floor changes):
#     bash scripts/check_lowest.sh
# It makes a throw-away virtual environment (.venv-lowest, or $LOWEST_VENV), installs
# torch first with pip (the one dependency whose build -- CPU or CUDA -- is the user's
# choice; set TORCH_SPEC, default the floor torch==2.13.0), then every other dependency
# at the lowest version its floor allows with uv's `--resolution lowest-direct`, prints
# what it installed, and runs the suite. If it fails, raise the floor that broke.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${LOWEST_VENV:-.venv-lowest}"
torch_spec="${TORCH_SPEC:-torch==2.13.0}"
rm -rf "$venv"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip uv
python -m pip install --quiet "$torch_spec"
installed_torch="$(python -c 'import torch; print(torch.__version__)')"
# keep the torch build just installed: uv must not swap it for another build
override="$(mktemp)"
echo "torch==${installed_torch}" > "$override"
uv pip install --quiet --python "$(command -v python)" --resolution lowest-direct \
    --override "$override" -e ".[dev]"
rm -f "$override"
echo "== lowest-direct versions under test =="
python -m pip list --format=freeze | grep -i -E '^(numpy|scipy|sympy|mpmath|hypothesis|torch|cvxpy|clarabel|scs|matplotlib|threadpoolctl|jsonschema|scikit-learn|shtab|pytest)=='
python -m pytest -q -p no:cacheprovider "$@"
