# shellcheck shell=bash
# Sourced by the test scripts. ensure_venv VENV REQUIREMENTS...: creates
# VENV with $PYTHON (default python3) when its python does not run, and
# installs the pinned requirements files into it whenever they or the
# interpreter change (a hash stamp in VENV), so that a rerun installs nothing.
ensure_venv() {
  local venv=$1
  shift
  if ! "$venv/bin/python" -c '' 2>/dev/null; then
    echo "creating $venv"
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
  fi
  local stamp=$venv/.requirements.sha256 want
  want=$( { sha256sum "$@"; "$venv/bin/python" --version; } | sha256sum | cut -d' ' -f1)
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "installing $* into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${@/#/-r}"
    echo "$want" >"$stamp"
  fi
}
