"""Facts about the images, gathered once per session in few execs: the per-variant gatherer
(gatherer), the declared shape of the probes' JSON (schema), the image facts the checks read
(image) and the probe runner that gathers them (probe), a missing fact (missing), what
counts as a secret in an image's settings (secrets), and the run's facts snapshot (snapshot)."""

from . import baseline, secrets, snapshot
from .gatherer import Gatherer, Kind
from .image import ImageFacts, PaddleVersion, parse_kernel, parse_version
from .missing import FactMissing
from .probe import ImageSettings

__all__ = [
    "FactMissing",
    "Gatherer",
    "ImageFacts",
    "ImageSettings",
    "Kind",
    "PaddleVersion",
    "baseline",
    "parse_kernel",
    "parse_version",
    "secrets",
    "snapshot",
]
