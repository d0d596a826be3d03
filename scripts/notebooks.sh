#!/usr/bin/env bash
# Executes every notebooks/*.ipynb headless and fails if any cell fails.
#
#   scripts/notebooks.sh                      # all notebooks
#   scripts/notebooks.sh notebooks/foo.ipynb  # some of them
#
# The capsim binary: $CAPSIM_BIN if set, else target/release/capsim, built
# here with `cargo build --release --locked` if CAPSIM_BIN is unset (a no-op
# when it is up to date). The Python environment: .venv/, created with
# $PYTHON (default python3, 3.11 or newer) when missing, and re-installed from
# notebooks/requirements.txt whenever that file changes (a hash stamp in
# .venv/). Executed copies, with their outputs, go to target/notebooks/, and
# the runs they make to target/notebooks/data/; the notebooks in notebooks/
# are never modified, and must be committed with their outputs cleared.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if [[ -z "${CAPSIM_BIN:-}" ]]; then
  cargo build --release --locked --quiet --bin capsim
  export CAPSIM_BIN="$repo/target/release/capsim"
fi
[[ -f "$CAPSIM_BIN" && -x "$CAPSIM_BIN" ]] || { echo "error: CAPSIM_BIN=$CAPSIM_BIN is not an executable file" >&2; exit 2; }
CAPSIM_BIN=$(realpath "$CAPSIM_BIN")  # the notebooks run in notebooks/

python=${PYTHON:-python3}
venv=$repo/.venv
requirements=notebooks/requirements.txt
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: the notebooks need Python 3.11 or newer ($python is $("$python" --version 2>&1 || echo missing))" >&2
  exit 2
fi
if ! "$venv/bin/python" -c '' 2>/dev/null; then
  echo "creating $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
stamp=$venv/.notebooks-requirements.sha256
want=$( { sha256sum "$requirements"; "$venv/bin/python" --version; } | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "installing $requirements into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$want" > "$stamp"
fi

if (($#)); then notebooks=("$@"); else notebooks=(notebooks/*.ipynb); fi
out=target/notebooks
rm -rf "$out"
mkdir -p "$out/data"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# A hermetic, headless kernel: no user matplotlib or IPython configuration,
# ipykernel's own python3 kernel spec ahead of any in the user's home, and a
# matplotlib backend that never opens a window (the notebooks switch to the
# inline backend, itself Agg, to embed their figures).
export MPLBACKEND=Agg MPLCONFIGDIR=$scratch/matplotlib IPYTHONDIR=$scratch/ipython
export JUPYTER_PATH=$venv/share/jupyter JUPYTER_PLATFORM_DIRS=1 PYDEVD_DISABLE_FILE_VALIDATION=1
export CAPSIM_NB_OUT=$repo/$out/data

"$venv/bin/python" - "$out" "$scratch" "${notebooks[@]}" <<'PY'
"""Execute each notebook with nbclient into OUT; exit 1 if any failed."""
import re
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

out, scratch, paths = Path(sys.argv[1]), Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
failed = []
for path in paths:
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    if dirty:
        print(f"FAILED {path}: cells {dirty} have outputs; clear them before committing "
              "(Jupyter: Edit > Clear Outputs of All Cells)", flush=True)
        failed.append(path)
        continue
    print(f"executing {path} ...", flush=True)
    # Unix sockets in the scratch directory rather than TCP on localhost.
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(scratch / f"kernel-{path.stem}"))
    client = NotebookClient(nb, km=km, timeout=600, startup_timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.perf_counter()
    try:
        client.execute()
        status = "ok"
    except Exception as error:  # a cell raised, timed out, or the kernel died
        status = "FAILED"
        print(re.sub(r"\x1b\[[0-9;]*m", "", str(error)), flush=True)  # without colour codes
        failed.append(path)
    finally:
        nbformat.write(nb, out / path.name)
    print(f"{status} {path} in {time.perf_counter() - start:.1f} s -> {out / path.name}", flush=True)

if failed:
    print(f"notebooks: {len(failed)} of {len(paths)} FAILED: {', '.join(map(str, failed))}", flush=True)
    sys.exit(1)
print(f"notebooks: all {len(paths)} executed without an error", flush=True)
PY
