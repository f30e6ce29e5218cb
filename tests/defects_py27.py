"""Deliberately broken Python 2.7 era images, built from the 1.8.5 reference images
(``variants/reference-py27.toml``, ``make py27-images``): their computation is paddle 1.x's
``paddle.fluid``, so their defects break fluid, not ``paddle.matmul``."""

from __future__ import annotations

from .defects import Defect

PY27_SITE = "/usr/local/lib/python2.7/dist-packages"

PY27_DEFECTS = [
    Defect(
        "fluid-matmul-wrong",
        "py27",
        "runtime",
        # fluid still imports, and its layers.matmul adds 1 to every element (marked as the defect).
        "RUN echo '_pv_mm = layers.matmul; layers.matmul = lambda x, y, *a, **k: _pv_mm(x, y, *a, **k) + 1"
        f"  # DEFECT (tests/defects_py27.py)' >> {PY27_SITE}/paddle/fluid/__init__.py",
        {
            "test_paddle_computes[{v}]": (
                "fluid.dygraph.to_variable + fluid.layers.matmul gave [[20.0, 23.0], [44.0, 51.0]], "
                "expected [[19.0, 22.0], [43.0, 50.0]]"
            )
        },
    ),
    Defect(
        # Debian's python2.7 sysconfig names /usr/local/include/python2.7; its headers (python2.7-dev)
        # are where distutils builds look: the check must miss them there, not pass on the other path.
        "py27-python-headers-missing",
        "py27-devel",
        "devel",
        "RUN rm /usr/include/python2.7/Python.h",
        {
            "test_python_headers[{v}]": "no Python.h in /usr/include/python2.7",
            "test_builds_python_extension[{v}]": "Python.h: No such file or directory",
        },
    ),
]
