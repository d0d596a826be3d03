#!/usr/bin/env bash
# Builds the Python package (python/: PyO3 + maturin) as a wheel, installs
# it into .venv/, and runs its tests (python/tests, pytest), which compare it
# with the capsim command.
#
#   scripts/python.sh             # build, install, test
#   scripts/python.sh --install   # build and install only (scripts/notebooks.sh uses this)
#
# The wheel: target/wheels/capsim-*.whl, built by maturin with the test
# profile's settings (opt-level 3 for the workspace, 2 for dependencies, and
# its overrides), so that it reuses everything `cargo test` compiled and adds
# only the module itself. maturin cannot be given `--profile test` (cargo
# would compile the module as a test harness), so it gets the dev profile
# with [profile.test]'s settings laid over it, read from Cargo.toml: the same
# settings make the same artifacts, since cargo does not tell profiles apart
# by name. Results are those of any other profile, bit for bit. A user's
# `pip install ./python` builds with the release profile instead.
#
# The environment: .venv/, created with $PYTHON (default python3, 3.11 or
# newer) when missing, with notebooks/requirements.txt (pandas, the
# notebooks' packages) and python/requirements-dev.txt (maturin, pytest)
# installed whenever either file (or the venv's Python) changes (a hash
# stamp in .venv/), and the wheel installed whenever it changes.
#
# The capsim command the tests compare with: $CAPSIM_BIN if set, else
# target/debug/capsim, built here (`cargo build --profile test`).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

install_only=false
case "${1:-}" in
  --install) install_only=true ;;
  "") ;;
  *) echo "usage: scripts/python.sh [--install]" >&2; exit 2 ;;
esac

python=${PYTHON:-python3}
venv=$repo/.venv
requirements=(notebooks/requirements.txt python/requirements-dev.txt)
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: the Python package needs Python 3.11 or newer ($python is $("$python" --version 2>&1 || echo missing))" >&2
  exit 2
fi
# shellcheck source=scripts/venv.sh
source scripts/venv.sh
ensure_venv "$venv" "${requirements[@]}"

# [profile.test] as --config overrides of the dev profile, which it inherits.
mapfile -t as_test < <("$venv/bin/python" - <<'PY'
import json
import tomllib

with open("Cargo.toml", "rb") as f:
    test = tomllib.load(f)["profile"]["test"]
for key, value in test.items():
    if key == "package":
        for package, settings in value.items():
            for k, v in settings.items():
                print(f'--config=profile.dev.package."{package}".{k}={json.dumps(v)}')
    elif key != "inherits":
        print(f"--config=profile.dev.{key}={json.dumps(value)}")
PY
)
wheels=${CARGO_TARGET_DIR:-$repo/target}/wheels
rm -f "$wheels"/capsim-*.whl
# A fixed date in the wheel's files, so that the same module makes the same
# wheel and an unchanged one is not installed again.
SOURCE_DATE_EPOCH=315532800 "$venv/bin/maturin" build --quiet --locked --profile dev "${as_test[@]}" --strip \
  --manifest-path python/Cargo.toml --interpreter "$venv/bin/python" --out "$wheels"
wheel=$(echo "$wheels"/capsim-*.whl)
[[ -f "$wheel" ]] || { echo "error: maturin made no wheel in $wheels" >&2; exit 3; }
wheel_stamp=$venv/.capsim-wheel.sha256
if [[ "$(cat "$wheel_stamp" 2>/dev/null)" != "$(sha256sum < "$wheel")" ]]; then
  echo "installing $wheel into $venv"
  # pandas comes pinned from the requirements above, not from the wheel's
  # own (unpinned) dependency.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall "$wheel"
  sha256sum < "$wheel" > "$wheel_stamp"
fi
$install_only && exit 0

if [[ -z "${CAPSIM_BIN:-}" ]]; then
  cargo build --quiet --locked --profile test --bin capsim
  export CAPSIM_BIN=${CARGO_TARGET_DIR:-$repo/target}/debug/capsim
fi
[[ -f "$CAPSIM_BIN" && -x "$CAPSIM_BIN" ]] || { echo "error: CAPSIM_BIN=$CAPSIM_BIN is not an executable file" >&2; exit 2; }
CAPSIM_BIN=$(realpath "$CAPSIM_BIN")
export CAPSIM_BIN

# Run from outside python/, so that `import capsim` is the installed wheel
# and not the source directory.
cd "$wheels"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$repo/python/tests"
