"""Run the patrolwatch CLI exactly as the ``patrolwatch`` console script does
(``patrolwatch.cli.main(argv)``), then report this process's peak resident memory.

The peak is read from ``VmHWM`` in /proc/self/status: it belongs to this process image
only (``getrusage`` of a child would include the parent's peak, inherited through
fork/exec). Printed last on stderr as ``pw-bench-vmhwm-bytes N``.
"""

import sys

from patrolwatch.cli import main

rc = main(sys.argv[1:])
with open("/proc/self/status") as f:
    hwm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))
print(f"pw-bench-vmhwm-bytes {hwm}", file=sys.stderr)
sys.exit(rc)
