"""The variant manifest: which images to check and what each one promises (model, loader)."""

from .loader import load, parse
from .model import (
    FLAVOURS,
    ROLES,
    TAG_RE,
    X_Y_RE,
    Accepted,
    Carries,
    DeclaredChanges,
    DemoContract,
    DevelContract,
    Manifest,
    ManifestError,
    RuntimeContract,
    Variant,
)

__all__ = [
    "FLAVOURS",
    "ROLES",
    "TAG_RE",
    "X_Y_RE",
    "Accepted",
    "Carries",
    "DeclaredChanges",
    "DemoContract",
    "DevelContract",
    "Manifest",
    "ManifestError",
    "RuntimeContract",
    "Variant",
    "load",
    "parse",
]
