"""Statistics of an A/B benchmark: medians, the ratio's confidence interval, a verdict.

A is bare metal, B the container. Two things are measured, because on a shared
machine no single measurement gets both right:

1. **Speed**, in short rounds interleaved A B, B A, A B, ... Adjacent rounds
   share the machine's state (its speed here drifts by +-25% over tenths of a
   second), so the ratio of each adjacent pair b_i/a_i is precise even when
   the rounds themselves are not. The speed ratio is the median of the pair
   ratios.
2. **Stalls under sustained load**, in long blocks (A, B, A, B, each seconds
   long): wall time over CPU time of the block. A CPU quota (``--cpus``) or a
   busier cpuset shows here, and only here: a process that runs in short bursts
   never exhausts its quota. Speed noise cancels, as it slows wall and CPU time alike.

The blocks are paired too (A B, B A, ...): the stall ratio is that of the pooled
blocks, and its interval resamples whole pairs, so that a machine busier for one
pair is busier for both of its blocks.

The ratio container/bare metal is speed ratio x stall ratio; its 95% interval
comes from a bootstrap over the pairs and the blocks. The gate fails when the
container is slower by more than the threshold and the interval excludes it
(the interval already carries the noise); it passes when the interval's top is
within the threshold (shown no slower than allowed), or when the ratio is within
it and the pair ratios' robust spread (IQR/1.349 over the median, so that the
machine's occasional long stalls do not count) is under 10%. Otherwise it is
*unstable*: neither a pass nor a fail.

The stalls are also judged on their own, with their own interval (the pairs of
blocks): waiting for a CPU under sustained load (a quota, a shared cpuset) is a
defect of the place whatever the workload's speed, and a speed ratio below 1 (a
container measured faster per CPU-second, as the training step is here, see README)
must not pay for it. Stalls beyond the threshold with their interval beyond it fail
the verdict whatever the product; stalls beyond it with an interval reaching below
leave it unstable, not pass.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

UNSTABLE_SPREAD = 0.10
BOOTSTRAP = 2000


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def spread(samples: Sequence[float]) -> float:
    """Robust spread: IQR/1.349 (the standard deviation, for normal data) over the median."""
    if len(samples) < 4:
        return 0.0
    med = statistics.median(samples)
    return (percentile(samples, 75) - percentile(samples, 25)) / 1.349 / med if med else float("inf")


def pair_ratios(a: Sequence[float], b: Sequence[float]) -> list[float]:
    if len(a) != len(b) or not a:
        raise ValueError("need the same number of A and B rounds, at least one")
    return [y / x for x, y in zip(a, b, strict=True)]


def stall_factor(walls: Sequence[float], cpus: Sequence[float]) -> float:
    """Wall time over CPU time of sustained blocks (1.0: never waited for a CPU)."""
    return sum(walls) / sum(cpus)


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one comparison where bigger B means slower."""

    outcome: str  # "pass", "fail" or "unstable"
    ratio: float
    low: float
    high: float
    threshold: float
    spread: float
    speed_ratio: float
    stall_ratio: float
    note: str = ""  # how the threshold and the rounds were chosen (a calibration), if they were
    stall_low: float = 1.0  # the stall ratio's own 95% interval (1.0-1.0 without blocks)
    stall_high: float = 1.0

    @property
    def stalls_fail(self) -> bool:
        """The stalls alone exceed the threshold, their interval too."""
        return beyond(self.stall_ratio, self.stall_low, self.threshold)

    @property
    def half_width(self) -> float:
        """Half the interval's width, relative to the ratio."""
        return (self.high - self.low) / 2 / self.ratio

    def describe(self, a_name: str = "bare metal", b_name: str = "container") -> str:
        slower = (self.ratio - 1) * 100
        return (
            f"{b_name}/{a_name} = {self.ratio:.3f} (95% CI {self.low:.3f}-{self.high:.3f}; "
            f"{'slower' if slower >= 0 else 'faster'} by {abs(slower):.1f}%, threshold {self.threshold * 100:.0f}%; "
            f"speed {self.speed_ratio:.3f} x stalls {self.stall_ratio:.3f}; spread {self.spread * 100:.1f}%)"
            + (
                f"; stalls alone beyond the threshold (95% CI {self.stall_low:.3f}-{self.stall_high:.3f}): "
                f"{b_name} waits for a CPU under sustained load (a CPU quota, a shared cpuset)"
                if self.stalls_fail
                else ""
            )
            + (f" [{self.note}]" if self.note else "")
        )


def beyond(value: float, low: float, threshold: float) -> bool:
    """A slowdown shown: the ratio and its interval's bottom both past ``1 + threshold``."""
    return value > 1 + threshold and low > 1 + threshold


def stall_ratio(stalls_a: Sequence[tuple[float, float]], stalls_b: Sequence[tuple[float, float]]) -> float:
    """B's stall factor over A's (1.0 when either side has no blocks)."""
    if not (stalls_a and stalls_b):
        return 1.0
    return stall_factor(*zip(*stalls_b, strict=True)) / stall_factor(*zip(*stalls_a, strict=True))


def verdict(
    a: Sequence[float],
    b: Sequence[float],
    *,
    threshold: float = 0.05,
    stalls_a: Sequence[tuple[float, float]] = (),
    stalls_b: Sequence[tuple[float, float]] = (),
    seed: int = 0,
    confidence: float = 0.95,
    note: str = "",
    groups: Sequence[int] = (),
    withheld: str = "",
) -> Verdict:
    """Fail when B is slower than A by more than ``threshold`` and the interval excludes it.

    ``a``/``b``: interleaved round durations (or any measure where bigger is
    worse). ``stalls_a``/``stalls_b``: (wall, cpu) of sustained blocks, if measured;
    the same number on both sides: block i of A and of B are a pair, resampled together.
    ``groups``: pair i's pair of processes, when each side ran several: the interval resamples
    the processes, then the pairs within each (a cluster bootstrap), so that it carries what
    differs from process to process, not only from round to round. ``withheld``: why no verdict
    can be given whatever the numbers (the CPU was busy with other work): unstable, saying so.
    """
    ratios = pair_ratios(a, b)
    speed = statistics.median(ratios)
    stall = stall_ratio(stalls_a, stalls_b)
    paired = len(stalls_a) == len(stalls_b)
    rng = random.Random(seed)
    n = len(ratios)
    boot, stall_boot = [], []
    clusters = [[r for r, g in zip(ratios, groups, strict=True) if g == key] for key in sorted(set(groups))]
    for _ in range(BOOTSTRAP):
        if len(clusters) > 1:
            picked = [clusters[rng.randrange(len(clusters))] for _ in clusters]
            s = statistics.median(c[rng.randrange(len(c))] for c in picked for _ in c)
        else:
            s = statistics.median(ratios[rng.randrange(n)] for _ in range(n))
        if stalls_a and stalls_b:
            if paired:
                picks = [rng.randrange(len(stalls_a)) for _ in stalls_a]
                sa, sb = [stalls_a[i] for i in picks], [stalls_b[i] for i in picks]
            else:
                sa = [stalls_a[rng.randrange(len(stalls_a))] for _ in stalls_a]
                sb = [stalls_b[rng.randrange(len(stalls_b))] for _ in stalls_b]
            stall_boot.append(stall_ratio(sa, sb))
            s *= stall_boot[-1]
        boot.append(s)
    tail = (1 - confidence) / 2 * 100
    ratio, low, high = speed * stall, percentile(boot, tail), percentile(boot, 100 - tail)
    stall_low, stall_high = (
        (percentile(stall_boot, tail), percentile(stall_boot, 100 - tail)) if stall_boot else (1.0, 1.0)
    )
    sp = spread(ratios)
    limit = 1 + threshold
    if withheld:
        outcome, note = "unstable", "; ".join(filter(None, [note, withheld]))
    elif beyond(ratio, low, threshold) or beyond(stall, stall_low, threshold):
        # the interval (the ratio's, or the stalls' own), which carries the noise, excludes the threshold
        outcome = "fail"
    elif (high <= limit or (sp <= UNSTABLE_SPREAD and ratio <= limit)) and not stall > limit:
        outcome = "pass"  # shown within the threshold, or within it and measured steadily enough to say so
    else:
        outcome = "unstable"  # no fail shown, and too noisy to call it a pass
    return Verdict(outcome, ratio, low, high, threshold, sp, speed, stall, note, stall_low, stall_high)
