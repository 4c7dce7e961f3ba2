"""No Prefect temporary server outlives the `inflow` process that started it.

Without PREFECT_API_URL, Prefect starts a temporary server (uvicorn) as a child process and
stops it when the command ends. A `kill -9` of the command alone (not its process group)
gives Prefect no chance to: the server is reparented to init and runs on. Prefect offers no
hook to tie the child's life to ours (PR_SET_PDEATHSIG must be set in the child), so:

- the command marks its environment with INFLOW_OWNER_PID (its pid), which every child,
  the server included, inherits;
- a small watchdog process (plain Python, no imports of inflow or Prefect: ~20 ms) holds the
  read end of a pipe whose write end only the command holds. When the command ends, however
  it ends, the kernel closes that end; the watchdog's read returns, and it kills every process
  still carrying the command's mark, then exits.

Linux only (/proc); elsewhere the watchdog is not started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OWNER = "INFLOW_OWNER_PID"

# Run by the watchdog's own interpreter (`python -c`): wait for EOF on stdin, then reap.
WATCHDOG = """
import os, signal, sys
sys.stdin.buffer.read()  # returns when the owner's end of the pipe closes: it has ended
owner = sys.argv[1].encode()
mark = b"INFLOW_OWNER_PID=" + owner
for entry in os.listdir("/proc"):
    if not entry.isdigit() or int(entry) == os.getpid():
        continue
    try:
        with open(f"/proc/{entry}/environ", "rb") as handle:
            environment = handle.read().split(b"\\0")
    except OSError:
        continue
    if mark in environment:
        try:
            os.kill(int(entry), signal.SIGKILL)
        except OSError:
            pass
"""


def guard_children() -> None:
    """Start the watchdog for this process (once); children started from now on are reaped
    when it ends."""
    if os.environ.get(OWNER) == str(os.getpid()) or not Path("/proc/self/environ").exists():
        return
    os.environ[OWNER] = str(os.getpid())
    read_end, write_end = os.pipe()
    environment = {k: v for k, v in os.environ.items() if k != OWNER}  # not its own target
    subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", WATCHDOG, str(os.getpid())],
        stdin=read_end,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
        start_new_session=True,  # a kill of our process group does not take it first
        close_fds=True,
    )
    os.close(read_end)
    os.set_inheritable(write_end, False)  # only this process holds it: children must not
    _KEEP.append(write_end)  # open until the process ends


_KEEP: list[int] = []
