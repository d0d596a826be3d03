#!/usr/bin/env bash
# Executes every notebooks/*.ipynb headless and fails if any cell fails.
#
#   scripts/notebooks.sh                      # all notebooks
#   scripts/notebooks.sh notebooks/foo.ipynb  # some of them
#
# The notebooks `import capsim`, the Python package: scripts/python.sh
# --install builds its wheel (a no-op for cargo when nothing changed) and
# installs it into .venv/, with the pinned notebooks/requirements.txt (that
# script creates .venv/ with $PYTHON, default python3, 3.11 or newer, and
# re-installs the requirements whenever they change). Executed copies, with
# their outputs, go to target/notebooks/; the notebooks in notebooks/ are
# never modified, and must be committed with their outputs cleared.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
venv=$repo/.venv

./scripts/python.sh --install

if (($#)); then notebooks=("$@"); else notebooks=(notebooks/*.ipynb); fi
out=target/notebooks
rm -rf "$out"
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# A hermetic, headless kernel: no user matplotlib or IPython configuration,
# ipykernel's own python3 kernel spec ahead of any in the user's home, and a
# matplotlib backend that never opens a window (the notebooks switch to the
# inline backend, itself Agg, to embed their figures).
export MPLBACKEND=Agg MPLCONFIGDIR=$scratch/matplotlib IPYTHONDIR=$scratch/ipython
export JUPYTER_PATH=$venv/share/jupyter JUPYTER_PLATFORM_DIRS=1 PYDEVD_DISABLE_FILE_VALIDATION=1

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
        # The kernel manager is ours (for the ipc transport), so nbclient would leave the kernel
        # running after the last cell; cleanup_kc shuts it down before the next stage starts.
        client.execute(cleanup_kc=True)
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
