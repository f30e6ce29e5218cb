"""Reports: the rows and summary.json (recorder; rows), report.html (html), and ``paddle-verify merge``
of shards' reports into one (merge)."""

from .html import render_html
from .recorder import Recorder
from .rows import FAULTS, column, faults, several_engines, totals

__all__ = ["FAULTS", "Recorder", "column", "faults", "render_html", "several_engines", "totals"]
