"""What a container of a variant sees of the GPUs: one exec of ``inimage/gpu_probe.py``.

:func:`gather` starts a container with a mapping (or uses the variant's keep-alive
container, started the default way) and runs the GPU probe in it: device nodes,
libcuda through ctypes, ``nvidia-smi -L``, paddle's GPU count and a matmul on GPU 0
against the CPU. :class:`GpuFacts` is what the GPU checks read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import docker.errors

from .. import inimage
from ..engine import EngineError, Session, cid, container_state, daemon_error, exec_bounded, translated
from ..facts.devel import devel_builds_config
from ..facts.missing import Met, VariantFacts, met
from ..facts.probe import ENGINE_GONE, keep_alive
from ..facts.schema import ChildResult, DevelBuild, RunCheck, RunResult
from ..facts.schema_gpu import DeviceNode, GpuProbe, Libcuda, PaddleGpu
from ..manifest import Variant
from .host import SMI_RE, HostGpus
from .mapping import GpuMapping

MARKER = inimage.GPU_MARKER


def probe_config(variant: Variant, gpu_mapping: GpuMapping | None, timeout: float) -> dict[str, Any]:
    """The probe's input: where to look for libcuda, and whether to ask paddle (gpu variants)."""
    extra = gpu_mapping.libcuda_paths if gpu_mapping else ()
    return {
        "libcuda_names": ["libcuda.so.1", "libcuda.so", *extra],
        "lib_dirs": list(gpu_mapping.lib_dirs) if gpu_mapping else [],
        "paddle": gpu_mapping is not None,
        "run_check": gpu_mapping is not None and variant.runtime.runs_run_check and variant.carries.paddle,
        # devel gpu variants: the contract's CUDA program, compiled and run on the GPU (inimage/devel.py)
        "cuda_program": cuda_program_config(variant, timeout) if gpu_mapping is not None else None,
        "timeout": timeout,
        "env": dict(variant.runtime.env),
    }


def cuda_program_config(variant: Variant, timeout: float) -> dict[str, Any] | None:
    """The "cuda" devel build, run too; None when the contract's builds lack it. Its phases here are
    bounded by ``timeout`` itself: the probe's jobs are waited for that long."""
    config = devel_builds_config(variant, timeout, cuda_run=True)
    return {**config, "timeout": timeout} if config and "cuda" in config["steps"] else None


@dataclass
class GpuFacts(VariantFacts):
    """What one container of a variant sees of the GPUs; ``mode`` None: started the default way."""

    mode: str | None
    description: str = "default (no GPU asked for)"
    raw: GpuProbe | None = None
    error: str | None = None
    error_met: Met = field(default_factory=Met)  # whose ``error`` is, as typed where it arose
    container_id: str | None = None
    seconds: float = 0.0
    execs: int = 0

    @property
    def probe(self) -> GpuProbe:
        if self.raw is None:
            raise self.missing(f"no GPU facts from the container ({self.description}): {self.error}", self.error_met)
        return self.raw

    @property
    def libcuda(self) -> Libcuda:
        return cast(Libcuda, self._child(self.probe["libcuda"], "loading libcuda (ctypes)"))

    @property
    def paddle(self) -> PaddleGpu:
        return cast(PaddleGpu, self._child(self.probe["paddle"], "paddle's GPU probe"))

    @property
    def run_check(self) -> tuple[ChildResult, RunCheck]:
        """paddle's install check in this container (with the host's GPUs): its run and its answer."""
        run = cast(ChildResult | None, self._step(self.probe.get("run_check")))
        if run is None:
            raise self.missing(f"paddle's run_check was not run in the container ({self.description})")
        return run, cast(RunCheck, self._child(run, "paddle's run_check on the GPUs"))

    @property
    def cuda_program(self) -> DevelBuild:
        """The contract's CUDA program, compiled and run in this container (devel gpu variants)."""
        ran = cast(DevelBuild | None, self._step(self.probe.get("cuda_program")))
        if ran is None:
            raise self.missing(f"the CUDA program was not run in the container ({self.description})")
        return ran

    @property
    def device_nodes(self) -> list[DeviceNode]:
        return self.probe["device_nodes"]

    @property
    def libcuda_files(self) -> list[str]:
        return self.probe["libcuda_files"]

    @property
    def nvidia_smi(self) -> RunResult | None:
        """``nvidia-smi -L`` in the container; None when the container has no nvidia-smi."""
        return cast(RunResult | None, self._step(self.probe["nvidia_smi"]))


def smi_uuids(output: str) -> list[str]:
    return sorted(m["uuid"] for m in SMI_RE.finditer(output))


def probe_deadline(timeout: float) -> float:
    """The probe's children run side by side, each bounded by ``timeout``."""
    return 2 * timeout + 15


def gather(
    session: Session,
    variant: Variant,
    gpu_mapping: GpuMapping | None,
    *,
    timeout: float,
    container_id: str | None = None,
) -> GpuFacts:
    """Start a container of ``variant`` with ``gpu_mapping`` (or use ``container_id``, started the
    default way) and run the GPU probe in it, in one exec. Never raises for the engine's errors:
    they are the facts' ``error``."""
    start = time.monotonic()
    facts = GpuFacts(
        variant=variant,
        mode=gpu_mapping.mode if gpu_mapping else None,
        description=gpu_mapping.description if gpu_mapping else "started the default way, no GPU asked for",
        container_id=container_id,
    )
    try:
        if container_id is None:
            assert gpu_mapping is not None, "a container of its own needs a mapping"
            container = keep_alive(session, variant, f"gpu-{gpu_mapping.mode}", **gpu_mapping.create_kwargs)
            facts.container_id = cid(container)
        _probe(session, facts, gpu_mapping, timeout)
    except EngineError as exc:
        facts.error, facts.error_met = str(exc), met(exc)
    except docker.errors.APIError as exc:
        facts.error, facts.error_met = f"{variant.name}: exec in the container failed: {daemon_error(exc)}", met(exc)
    except ENGINE_GONE as exc:
        lost = translated(exc, session.url, variant=variant.name)
        facts.error, facts.error_met = str(lost), met(lost)
    facts.seconds = time.monotonic() - start
    return facts


def _probe(session: Session, facts: GpuFacts, gpu_mapping: GpuMapping | None, timeout: float) -> None:
    variant = facts.variant
    assert facts.container_id is not None
    config = probe_config(variant, gpu_mapping, timeout)
    argv = inimage.probe_argv(variant.python, "gpu_probe.py", config)
    result = exec_bounded(session.client, facts.container_id, argv, timeout=probe_deadline(timeout), env=config["env"])
    facts.execs += 1
    raw = inimage.read_marked(result.stdout, MARKER)
    if raw is not None:
        facts.raw = cast(GpuProbe, raw)
        return
    if result.timed_out:
        facts.error = f"the GPU probe did not finish within {result.seconds:.0f}s"
        return
    container = session.client.containers.get(facts.container_id)
    state = container_state(container)
    if state["status"] != "running":
        facts.error = f"the container stopped (exit code {state['exit_code']}): {state['logs'].strip()[-300:]}"
    else:
        facts.error = f"exit code {result.rc}: {(result.stderr or result.stdout).strip()[-500:]}"


@dataclass(frozen=True)
class GpuCheck:
    """What a GPU-device check of one variant works with: the host's GPUs, the mode, the container's view."""

    variant: Variant
    host: HostGpus
    mode: str
    view: Callable[[], GpuFacts]
    no_gpu: str = ""  # on a host without a GPU: the run's one failure message

    @property
    def facts(self) -> GpuFacts:
        return self.view()
