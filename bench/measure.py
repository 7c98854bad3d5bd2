"""Run one command and print its wall time and peak resident memory as JSON (a small parent, so the child's
peak is its own and not inherited from a large benchmark driver)."""

import json
import os
import subprocess
import sys
import time

started = time.perf_counter()
with open(sys.argv[1], "wb") as out:
    process = subprocess.Popen(sys.argv[2:], stdout=out)
    _, status, usage = os.wait4(process.pid, 0)
print(json.dumps({"seconds": time.perf_counter() - started, "peak_mb": usage.ru_maxrss / 1024,
                  "exit": os.waitstatus_to_exitcode(status)}))  # fmt: skip
