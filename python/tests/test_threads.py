"""The GIL is released while the engine runs, and Ctrl-C stops a run."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import capsim


def test_other_python_threads_run_during_a_run():
    # With a switch interval far longer than the test, a thread holding the
    # GIL keeps it until it blocks or releases it. The main thread reads the
    # counter, calls run() and reads it again without blocking anywhere
    # else, so the ticker can only have moved in between if run() let go of
    # the GIL.
    ticks = 0
    stop = threading.Event()

    def ticker():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)  # releases the GIL

    old = sys.getswitchinterval()
    thread = threading.Thread(target=ticker)
    sys.setswitchinterval(1000.0)
    try:
        thread.start()
        while ticks == 0:
            time.sleep(0.001)
        before = ticks
        capsim.run("mmc-reference", replications=2, set={"simulation.duration": "8h"}, threads=1)
        during = ticks - before
    finally:
        stop.set()
        sys.setswitchinterval(old)
        thread.join()
    assert during > 0


# A shell without job control starts background commands with SIGINT
# ignored, and Python then keeps it ignored (as CI's background runs do):
# the child takes Python's usual handler, as an interactive session has.
CHILD = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
import capsim
print("running", flush=True)
capsim.run("mmc-reference", replications=2, set={"simulation.duration": "3650d", "simulation.interval": "1d"},
           force=True)
print("finished", flush=True)
"""


def test_ctrl_c_stops_a_run_and_raises_keyboard_interrupt():
    # Ten simulated years: hours of work unless the interrupt stops it.
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline() == "running\n"
        time.sleep(1.0)  # into the run (a signal before it would interrupt the import instead)
        child.send_signal(signal.SIGINT)
        # A bound only so that a broken interrupt fails instead of hanging.
        try:
            out, err = child.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            # Say whether a second Ctrl-C would have stopped it.
            child.send_signal(signal.SIGINT)
            try:
                out, err = child.communicate(timeout=10)
                second = f"a second SIGINT stopped it: {err[-2000:]}"
            except subprocess.TimeoutExpired:
                second = "a second SIGINT did not stop it either"
            raise AssertionError(f"the run went on 120 s after SIGINT; {second}") from None
    finally:
        child.kill()
    assert "finished" not in out
    assert err.rstrip().splitlines()[-1] == "KeyboardInterrupt", err
