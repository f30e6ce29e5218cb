"""Podman's own API (libpod), for what its Docker-compatible API cannot carry: CDI device names.

Owns: :func:`create` (a container made through ``/libpod/containers/create``, then used through
the compatible API like any other) and the one place the suite sends a raw request through
docker-py's client (its private ``_url``/``_post_json``/``_result``: docker-py has no public call
for an endpoint outside Docker's API). Podman's compatible API refuses a CDI name such as
``nvidia.com/gpu=all`` in ``HostConfig.Devices`` ("stat nvidia.com/gpu=all: no such file or
directory", podman 4.3) and ignores ``DeviceRequests`` (``--gpus``; podman #22645); its libpod
API takes the name as a device path and resolves it through the host's CDI specs.
"""

from __future__ import annotations

from typing import Any

import docker

# The libpod API version the request names: 4.0 is the oldest Podman 4 (Debian 12 has 4.3.1).
LIBPOD = "/v4.0.0/libpod"
# The ``docker create`` keyword arguments this translation knows; any other is the suite's bug.
KNOWN = {"entrypoint", "command", "network_mode", "environment", "labels", "name"}


def spec(image: str, cdi_devices: tuple[str, ...], **kwargs: Any) -> dict[str, Any]:
    """The libpod SpecGenerator of ``docker create IMAGE`` with ``kwargs``, plus the CDI devices."""
    unknown = set(kwargs) - KNOWN
    if unknown:
        raise ValueError(f"libpod create: cannot translate {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {"image": image, "devices": [{"path": d} for d in cdi_devices]}
    if kwargs.get("name"):
        out["name"] = kwargs["name"]
    if kwargs.get("labels"):
        out["labels"] = dict(kwargs["labels"])
    if kwargs.get("entrypoint"):
        out["entrypoint"] = list(kwargs["entrypoint"])
    if kwargs.get("command"):
        out["command"] = list(kwargs["command"])
    if kwargs.get("environment"):
        out["env"] = dict(kwargs["environment"])
    if kwargs.get("network_mode"):
        out["netns"] = {"nsmode": kwargs["network_mode"]}
    return out


def create(client: docker.DockerClient, image: str, cdi_devices: tuple[str, ...], **kwargs: Any) -> str:
    """Create (not start) a container through the libpod API; its ID. docker-py's errors as usual."""
    api: Any = client.api  # its private request helpers (typed nowhere): see the module's docstring
    url = api._url(f"{LIBPOD}/containers/create", versioned_api=False)
    response = api._post_json(url, data=spec(image, cdi_devices, **kwargs))
    result: dict[str, Any] = api._result(response, json=True)
    return str(result["Id"])
