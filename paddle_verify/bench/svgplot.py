"""A small SVG plot: distributions side by side (box, median, every sample as a dot).

Written by hand to keep the suite's dependencies small; any browser shows it.
"""

from __future__ import annotations

import html
import random
from collections.abc import Sequence

from .stats import percentile

WIDTH, HEIGHT, MARGIN = 640, 360, 60
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def distributions(title: str, unit: str, series: Sequence[tuple[str, Sequence[float]]], subtitle: str = "") -> str:
    values = [v for _, samples in series for v in samples]
    if not values:
        raise ValueError("nothing to plot")
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.1 or abs(hi) * 0.1 or 1.0
    lo, hi = lo - pad, hi + pad
    plot_h = HEIGHT - 2 * MARGIN
    col_w = (WIDTH - 2 * MARGIN) / len(series)

    def y(v: float) -> float:
        return MARGIN + plot_h * (1 - (v - lo) / (hi - lo))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{html.escape(title)}</text>',
        f'<text x="{WIDTH / 2}" y="38" text-anchor="middle" fill="#555">{html.escape(subtitle)}</text>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="black"/>',
    ]
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        out.append(f'<text x="{MARGIN - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.4g}</text>')
        out.append(f'<line x1="{MARGIN}" y1="{y(v):.1f}" x2="{WIDTH - MARGIN}" y2="{y(v):.1f}" stroke="#eee"/>')
    out.append(
        f'<text x="16" y="{HEIGHT / 2}" transform="rotate(-90 16 {HEIGHT / 2})" text-anchor="middle">{html.escape(unit)}</text>'
    )
    rng = random.Random(0)
    for i, (name, samples) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        cx = MARGIN + col_w * (i + 0.5)
        q1, med, q3 = (percentile(samples, q) for q in (25, 50, 75))
        out.append(
            f'<rect x="{cx - col_w / 6:.1f}" y="{y(q3):.1f}" width="{col_w / 3:.1f}" '
            f'height="{max(y(q1) - y(q3), 1):.1f}" fill="none" stroke="{colour}"/>'
        )
        out.append(
            f'<line x1="{cx - col_w / 5:.1f}" y1="{y(med):.1f}" x2="{cx + col_w / 5:.1f}" y2="{y(med):.1f}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        for v in samples:
            jitter = rng.uniform(-col_w / 8, col_w / 8)
            out.append(f'<circle cx="{cx + jitter:.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}" fill-opacity="0.5"/>')
        label = f"{name} (median {med:.4g}, n={len(samples)})"
        out.append(f'<text x="{cx:.1f}" y="{HEIGHT - MARGIN + 20}" text-anchor="middle">{html.escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
