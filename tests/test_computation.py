"""The computation check in each era's API (``inimage/children.py``'s IMPORTS and
``checks/test_packages.py::test_paddle_computes``), no engine: the real probe runs in this
host's Python against a stand-in ``paddle`` package, and its JSON goes to the real check.

A paddle for which the suite knows no computation (0.x) is not run; a 2.x that lacks
``to_tensor`` fails (the era decides the API, not what the module happens to hold)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from checks import test_packages as package_checks
from paddle_verify.facts import ImageFacts
from paddle_verify.facts.schema import Probe
from paddle_verify.manifest import load

from .conftest import REFERENCE
from .test_probe import base_config, run_probe

CPU = load(REFERENCE).variants["cpu"]


def probe_with_paddle(tmp_path: Path, init: str) -> dict[str, Any]:
    """TEST DOUBLE: the probe's facts where ``import paddle`` finds a package whose
    ``__init__.py`` is ``init``."""
    (tmp_path / "site" / "paddle").mkdir(parents=True, exist_ok=True)
    (tmp_path / "site" / "paddle" / "__init__.py").write_text(init)
    cfg = base_config(tmp_path, "true\n", computation=True, env={"PYTHONPATH": str(tmp_path / "site")})
    return run_probe(cfg)


def computes(facts: dict[str, Any]) -> None:
    package_checks.test_paddle_computes(CPU, ImageFacts(CPU, probe_raw=cast(Probe, facts)))


def test_paddle_with_no_known_computation_is_not_run(tmp_path: Path) -> None:
    facts = probe_with_paddle(tmp_path, '__version__ = "0.9.0"\n')
    assert facts["imports"]["data"]["computation"] == {"ok": False, "known": False, "paddle_version": "0.9.0"}
    with pytest.raises(pytest.skip.Exception) as skipped:
        computes(facts)
    assert str(skipped.value) == "cpu: not run: no computation known for paddle 0.9.0"


@pytest.mark.parametrize("version", ["2.6.2", "0.0.0"])  # 0.0.0: a build of the develop branch
def test_paddle_2x_without_to_tensor_fails(tmp_path: Path, version: str) -> None:
    facts = probe_with_paddle(tmp_path, f'__version__ = "{version}"\n')
    with pytest.raises(AssertionError) as failed:
        computes(facts)
    message = str(failed.value).splitlines()[0]
    assert message.startswith("cpu: a paddle matmul (paddle.to_tensor + paddle.matmul) failed: AttributeError"), message
    assert "to_tensor" in message


def test_paddle_1x_computes_with_fluid_and_is_judged_by_its_result(tmp_path: Path) -> None:
    """A 1.x stand-in whose fluid answers like 1.8.5's dygraph, one element wrong (and a
    stand-in numpy, whose arrays the 1.x path builds)."""
    fluid = tmp_path / "site" / "paddle" / "fluid"
    fluid.mkdir(parents=True)
    (tmp_path / "site" / "numpy.py").write_text(
        "class _A(object):\n"
        "    def __init__(self, rows): self.rows = rows\n"
        "    def tolist(self): return self.rows\n"
        "array = lambda rows, dtype=None: _A(rows)\n"
    )
    (fluid / "__init__.py").write_text(
        "import contextlib\n"
        "class _V(object):\n"
        "    def __init__(self, rows): self.rows = rows\n"
        "    def numpy(self): return self\n"
        "    def tolist(self): return self.rows\n"
        "class dygraph(object):\n"
        "    guard = staticmethod(lambda place: contextlib.contextmanager(lambda: (yield))())\n"
        "    to_variable = staticmethod(lambda a: _V(a.tolist()))\n"
        "class layers(object):\n"
        "    matmul = staticmethod(lambda x, y: _V([[19.0, 22.0], [43.0, 51.0]]))\n"
        "CPUPlace = lambda: 'cpu'\n"
    )
    facts = probe_with_paddle(tmp_path, '__version__ = "1.8.5"\n')
    with pytest.raises(AssertionError) as failed:
        computes(facts)
    assert str(failed.value).splitlines()[0] == (
        "cpu: fluid.dygraph.to_variable + fluid.layers.matmul gave [[19.0, 22.0], [43.0, 51.0]], "
        "expected [[19.0, 22.0], [43.0, 50.0]]"
    )
