#!/usr/bin/env bash
# A fresh virtual environment with only CPU torch and the built wheel (with its export extra), away from the
# checkout, runs a new user's first session (tests/wheel_user_session.py): what tests/test_wheel_install.py checks
# with this environment's dependencies, here with the ones pip resolves from the wheel's own metadata.
#   bash bench/fresh_venv_check.sh [TORCH_SPEC [PIP_ARGS...]]   # about 2 minutes; prints the session's JSON line
# This machine's pip finds a CPU build of torch==2.13.0 on local disk; elsewhere name the CPU index, e.g.
#   bash bench/fresh_venv_check.sh torch --index-url https://download.pytorch.org/whl/cpu
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/source" "$work/user"
cp -r "$root/src" "$root/pyproject.toml" "$root/README.md" "$root/LICENSE" "$work/source/"
python3 -m pip wheel --no-deps -q -w "$work/dist" "$work/source"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "${1:-torch==2.13.0}" "${@:2}"
wheel="$(ls "$work"/dist/doubly_nested_networks-*.whl)"
"$work/venv/bin/pip" install -q "$wheel[export]"
cp "$root/tests/wheel_user_session.py" "$work/user/session.py"
site="$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cd "$work/user" && env -i PATH=/usr/bin:/bin HOME="$work" OMP_NUM_THREADS=1 "$work/venv/bin/python" session.py "$site" \
  | tail -1 | python3 -c 'import json, sys; r = json.load(sys.stdin); r["report"] = str(len(r["report"])) + " characters"; print(json.dumps(r))'
