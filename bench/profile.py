"""Sampling profiles of the running server with py-spy, summarised as the functions that take the most time.

py-spy samples the server from outside (no change to the code under test), only the thread holding the GIL: one
worker's throughput is bounded by the Python code it runs, one thread at a time. `record` writes collapsed stacks
(`frame;frame;frame count`); `summary` turns them into the functions with the most samples of their own (self) and
the most samples anywhere on the stack (inclusive), as a share of all samples.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """Start sampling `pid` for `seconds` into `out` (raw collapsed stacks); None if py-spy is not installed."""
    command = py_spy()
    if command is None:
        return None
    return subprocess.Popen(
        [command, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", "200", "--gil",
         "--format", "raw", "--nonblocking", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def frame_name(frame: str) -> str:
    """`function (path/to/module.py:12)` -> `module.py:function`, so the same function on other lines adds up."""
    match = FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    return f"{Path(match['file']).name}:{match['function']}"


def summary(path: Path, top: int = 12) -> dict[str, list[tuple[str, float]]]:
    """The `top` functions by self and by inclusive share of all samples."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame_name(frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            anywhere[name] += count
    if not total:
        return {"self": [], "inclusive": []}

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, count / total) for name, count in counter.most_common(top)]

    return {"self": shares(own), "inclusive": shares(anywhere)}
