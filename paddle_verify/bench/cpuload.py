"""Others' use of the benchmark's pinned CPU: what the sustained blocks' stalls are worth.

A CPU quota shows as stalls under sustained load (wall time over CPU time). So does other work
on the same CPU, and it need not fall alike on both sides (the container's cgroup and the
host's processes share the CPU by other weights). ``/proc/stat`` says how busy the CPU was
during each block; what the agent did not use of it, others did.
"""

from __future__ import annotations

import statistics
from typing import Any

from .agents import Agent
from .log import Comparison

SHARED = 0.2  # others' share of the pinned CPU beyond which the stalls are theirs


def cpu_ticks(cpu: int) -> tuple[int, int] | None:
    """CPU ``cpu``'s busy and total ticks so far (``/proc/stat``; steal counts as busy), if readable."""
    try:
        with open("/proc/stat") as stat:
            for line in stat:
                if line.startswith(f"cpu{cpu} "):
                    ticks = [int(t) for t in line.split()[1:]]
                    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle, iowait
                    return sum(ticks[:8]) - idle, sum(ticks[:8])
    except OSError:
        pass
    return None


def shared(comp: Comparison) -> str | None:
    """Why the comparison's CPU was not the two sides' alone, if others took more than ``SHARED``
    of it during the sustained blocks (median): then their stalls are others' work, not a quota's."""
    others = comp.context.get("others_on_cpu") or []
    if not others or statistics.median(others) <= SHARED:
        return None
    return (
        f"no verdict: CPU {comp.context.get('cpu', '?')} was busy with other work "
        f"{statistics.median(others) * 100:.0f}% of the time during the sustained blocks"
    )


Blocks = list[tuple[float, float]]


def sustain(
    a_side: list[Agent], b_side: list[Agent], request: dict[str, Any], *, blocks: int, timeout: float, cpu: int
) -> tuple[Blocks, Blocks, list[float]]:
    """``blocks`` sustained blocks (wall, CPU time) of each side, paired A B, B A, ... over the
    processes in turn, and others' share of CPU ``cpu`` during each block."""
    stalls_a: Blocks = []
    stalls_b: Blocks = []
    others: list[float] = []
    k = len(a_side)
    for i in range(blocks):
        sides = ((a_side[i % k], stalls_a), (b_side[i % k], stalls_b))
        for agent, done in sides if i % 2 == 0 else sides[::-1]:
            before = cpu_ticks(cpu)
            got = agent.request(request, timeout)
            after = cpu_ticks(cpu)
            wall, used = float(got["wall"]), float(got["cpu"])
            done.append((wall, used))
            if before and after and after[1] > before[1]:
                busy = (after[0] - before[0]) / (after[1] - before[1])
                others.append(round(max(0.0, busy - used / wall), 3))
    return stalls_a, stalls_b, others
