"""Processes seen from outside through Linux ``/proc``: parents, CPU time, command lines."""

from __future__ import annotations

import os


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or ``None``
    for a process that is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    # The command name may hold spaces; the fields after its closing parenthesis do not.
    fields = raw[raw.rindex(")") + 2 :].split()
    return None if fields[0] == "Z" else fields


def proc_stat(pid: int) -> tuple[int, int] | None:
    """``(parent pid, CPU ticks used)`` of a process from ``/proc/<pid>/stat``, or ``None``."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12])


def proc_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry))
    found: list[int] = []
    frontier = [pid]
    while frontier:
        kids = children.get(frontier.pop(), [])
        found.extend(kids)
        frontier.extend(kids)
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and everything below it, ended children included
    (a process's own time plus what its waited-for children used)."""
    ticks = 0
    for member in (pid, *descendants(pid)):
        fields = _stat_fields(member)
        if fields is not None:
            ticks += sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_runqueue_seconds(pid: int) -> float:
    """Seconds ``pid`` and its live descendants spent runnable but waiting for a CPU
    (``/proc/<pid>/schedstat``; ended processes are not counted)."""
    waited = 0
    for member in (pid, *descendants(pid)):
        try:
            with open(f"/proc/{member}/schedstat") as f:
                waited += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return waited / 1e9
