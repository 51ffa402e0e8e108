#!/usr/bin/env bash
# Refresh requirements-lock.txt: the exact versions CI's second run installs.
#
# The lock moves only when someone runs this on purpose (and commits the result after
# the suite passes against it), so a new release of a dependency can never break that
# run. CI's first run installs the newest versions instead, which is what a new user
# gets; when that run fails and the locked one passes, the difference between the two
# printed version lists names the culprit.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -c constraints-torch.txt -e ".[dev]"
{
  echo "# Exact versions for CI's locked run; refresh with scripts/update_lock.sh."
  echo "# Generated $(date -u +%Y-%m-%d) on Python $(python -c 'import platform; print(platform.python_version())')."
  python -m pip list --format=freeze --exclude-editable | grep -v -E '^(pip|theorycheck)==' \
    | sed -E 's/^torch==([0-9.]+)\+cpu$/torch==\1/'
} > requirements-lock.txt
echo "wrote requirements-lock.txt ($(grep -c '==' requirements-lock.txt) packages)"
