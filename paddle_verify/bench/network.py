"""The network comparison: request/response latency and bulk throughput from this host to the
same agent on bare metal, loopback, ``--net=host``, the bridge and a published port."""

from __future__ import annotations

import os
import socket
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors

from .. import inimage
from ..engine import EngineError, Session, daemon_error, daemon_fault, require_image
from ..manifest import Variant
from . import netclient
from .agents import agent_env
from .baremetal import bare_metal, start_bare_agent
from .log import BenchLog, Comparison
from .stats import verdict

SLOW_CONTAINER_AGENT = "PADDLE_VERIFY_TEST_SLOW_CONTAINER_AGENT_PERCENT"  # a test seam: see measure_network


@dataclass
class NetSettings:
    rounds: int = 22  # the gated pair: two pairs a round
    messages: int = 300
    bulk_seconds: float = 0.1
    threshold: float = 0.05
    timeout: float = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_network(
    session: Session, variant: Variant, log: BenchLog, cache: Path, settings: NetSettings
) -> list[netclient.PathSamples]:
    """Four paths between this host and servers the benchmark starts, measured in one run."""
    image = variant.image
    require_image(session.client, image, variant=variant.name)
    bare = bare_metal(session, image, cache, variant=variant.name)
    source = inimage.source("netagent.py")
    env = agent_env(dict(variant.runtime.env))
    # TEST SEAM (self-tests only): slow the container-side agents by a known percentage.
    slow = os.environ.get(SLOW_CONTAINER_AGENT)
    container_env = {**env, "PADDLE_VERIFY_TEST_SLOW_FACTOR": str(float(slow) / 100)} if slow else env
    paths: list[netclient.PathSamples] = []
    local = None
    try:
        port = free_port()
        local = start_bare_agent(bare, variant.python, "netagent.py", ["127.0.0.1", str(port)], env)
        paths.append(netclient.PathSamples("loopback", ("127.0.0.1", port), f"bare metal, loopback ({bare.mode})"))
        host_port = free_port()
        hostnet = session.create_container(
            image, variant=variant.name, purpose="bench-net-host", network_mode="host", environment=container_env,
            entrypoint=[variant.python, "-c", source, "127.0.0.1", str(host_port)],
        )  # fmt: skip
        session.start_container(hostnet, variant=variant.name)
        paths.append(netclient.PathSamples("host", ("127.0.0.1", host_port), "container, --net=host"))
        bridged = session.create_container(
            image, variant=variant.name, purpose="bench-net-bridge", environment=container_env,
            entrypoint=[variant.python, "-c", source, "0.0.0.0", "7000"],
            ports={"7000/tcp": ("127.0.0.1", None)},
        )  # fmt: skip
        session.start_container(bridged, variant=variant.name)
        bridged.reload()
        net = bridged.attrs["NetworkSettings"]
        ip = net.get("IPAddress") or next(iter(net["Networks"].values()))["IPAddress"]
        published = int(net["Ports"]["7000/tcp"][0]["HostPort"])
        paths.append(netclient.PathSamples("bridge", (ip, 7000), f"container, bridge address {ip}"))
        paths.append(
            netclient.PathSamples(
                "published", ("127.0.0.1", published), "container, -p 127.0.0.1:PORT:7000 (docker-proxy)"
            )
        )
        for path in paths:
            netclient.wait_listening(path.address, settings.timeout)
        started = time.monotonic()
        netclient.measure(paths, rounds=settings.rounds, messages=settings.messages, bulk_seconds=settings.bulk_seconds)
        log.extra.setdefault("network_seconds", {})[variant.name] = round(time.monotonic() - started, 2)
    except (OSError, TimeoutError, docker.errors.APIError) as exc:
        raise EngineError(f"{variant.name}: network benchmark: {daemon_error(exc)}", fault=daemon_fault(exc)) from None
    finally:
        if local is not None:
            local.close()
    base = paths[0]
    for path in paths[1:]:
        # The gated pair has two samples a round; another path one, paired with the round's first.
        step = len(base.round_p50) // len(path.round_p50)
        ctx = {
            "path": path.description,
            "baseline": base.description,
            "address": f"{path.address[0]}:{path.address[1]}",
        }
        lat = log.add(
            Comparison(
                group=f"net {variant.name} latency {path.name}",
                variant=variant.name, kind="network", unit="seconds per round trip (round median)",
                a_name="bare-metal loopback", b_name=path.name, a=base.round_p50[::step], b=path.round_p50,
                gated=path.name == "host", context={**ctx, **_percentiles(base, path)},
            )
        )  # fmt: skip
        lat.verdict = verdict(lat.a, lat.b, threshold=settings.threshold)
        thr = log.add(
            Comparison(
                group=f"net {variant.name} throughput {path.name}",
                variant=variant.name, kind="network", unit="seconds per GiB (1/throughput)",
                a_name="bare-metal loopback", b_name=path.name,
                a=[(1 << 30) / t for t in base.throughput[::step]], b=[(1 << 30) / t for t in path.throughput],
                gated=path.name == "host", context={**ctx, "gbit_per_s": _gbits(base, path)},
            )
        )  # fmt: skip
        thr.verdict = verdict(thr.a, thr.b, threshold=settings.threshold)
    log.extra.setdefault("network_ranking", {})[variant.name] = ranking(paths)
    return paths


def _percentiles(base: netclient.PathSamples, path: netclient.PathSamples) -> dict[str, Any]:
    from .stats import percentile

    return {f"{p.name}_{q}_us": round(percentile(p.rtts, q) * 1e6, 1) for p in (base, path) for q in (50, 99)}


def _gbits(base: netclient.PathSamples, path: netclient.PathSamples) -> dict[str, float]:
    return {p.name: round(statistics.median(p.throughput) * 8 / 1e9, 2) for p in (base, path)}


def ranking(paths: list[netclient.PathSamples], tie: float = 0.10) -> dict[str, list[list[str]]]:
    """Paths from best to worst by median latency and by median throughput, in tiers.

    Paths within ``tie`` (10%, the spread this machine gives) of the best of a tier share it: their order inside
    a tier is noise, and would not repeat from run to run.
    """

    def tiers(values: dict[str, float]) -> list[list[str]]:
        out: list[list[str]] = []
        head = 0.0
        for name, value in sorted(values.items(), key=lambda kv: kv[1]):
            if out and value <= head * (1 + tie):
                out[-1].append(name)
            else:
                out.append([name])
                head = value
        return out

    return {
        "latency": tiers({p.name: statistics.median(p.round_p50) for p in paths}),
        "throughput": tiers({p.name: 1 / statistics.median(p.throughput) for p in paths}),
    }
