"""What a variant declares it carries, read from its ``[variants.NAME]`` table and checked: its
Python (``python_version``, else the suite's), a gpu variant's CUDA and cuDNN (``cuda``, ``cudnn``),
and whether paddle is installed at all (``paddle = false``: a build image). Each problem is a
:class:`~.model.ManifestError` naming the field (``fail`` makes it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .model import X_Y_RE, Carries, ManifestError

Fail = Callable[[str, str], ManifestError]  # (field, problem) -> the error naming the file and field


def x_y(table: Mapping[str, Any], key: str, fail: Fail, default: str | None = None) -> str | None:
    """A declared ``MAJOR.MINOR`` version (``"3.10"``, ``"12.6"``), or ``default`` when absent."""
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, str) or not X_Y_RE.match(value):
        raise fail(key, f'must be MAJOR.MINOR as a string (e.g. "12.6"), not {value!r}')
    return value


def read(table: Mapping[str, Any], flavour: str, role: str, python_version: str | None, fail: Fail) -> Carries:
    """The variant's :class:`Carries`; ``python_version``: the suite's, the default."""
    for key, what in (("cuda", "CUDA"), ("cudnn", "cuDNN")):
        if key in table and flavour != "gpu":
            raise fail(key, f"only a gpu variant carries {what} (this one is {flavour})")
    cuda, cudnn = x_y(table, "cuda", fail), x_y(table, "cudnn", fail)
    if cudnn is not None and cuda is None:
        raise fail("cudnn", "needs the variant's cuda too (the cuDNN of which CUDA?)")
    paddle = table.get("paddle", True)
    if not isinstance(paddle, bool):
        raise fail("paddle", f"must be true or false, not {paddle!r}")
    if not paddle and role != "devel":
        raise fail("paddle", f'false (a build image: no paddle installed) needs role = "devel", not {role!r}')
    return Carries(
        python_version=x_y(table, "python_version", fail, python_version), cuda=cuda, cudnn=cudnn, paddle=paddle
    )
