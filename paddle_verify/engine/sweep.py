"""What sessions leave on an engine: the sweep at start and at close, and the list the self-tests read.

Owns: the label selectors. A session's own leftovers are removed at its close; a dead
session's (its owner process is gone) by the next session's :func:`sweep` with ``dead_only``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import docker
import docker.errors

from .labels import LABEL_OWNER, LABEL_RUN, LABEL_SESSION, LABEL_SUITE, SUITE, owner_alive


def sweep(client: docker.DockerClient, *, session: str | None = None, dead_only: bool = False) -> int:
    """Remove the suite's containers, networks and volumes (of one session, or of dead ones)."""
    selector = f"{LABEL_SESSION}={session}" if session else f"{LABEL_SUITE}={SUITE}"
    removed = 0

    def doomed(labels: Mapping[str, str]) -> bool:
        # Without an owner it is no session's: a build's intermediate container inherits the
        # suite's labels from an image the suite labelled (an SSH image, a self-test's image).
        if not dead_only:
            return True
        return LABEL_OWNER in labels and not owner_alive(labels[LABEL_OWNER])

    # The low-level list: the high-level one inspects each container, and one that
    # another session removes in between would make it fail.
    with contextlib.suppress(docker.errors.APIError):
        for c in client.api.containers(all=True, filters={"label": selector}):
            if doomed(c.get("Labels") or {}):
                with contextlib.suppress(docker.errors.NotFound):
                    client.api.remove_container(c["Id"], force=True, v=True)
                    removed += 1
    with contextlib.suppress(docker.errors.APIError):
        for n in client.networks.list(filters={"label": selector}):
            if doomed(n.attrs.get("Labels") or {}):
                with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                    n.remove()
                    removed += 1
    with contextlib.suppress(docker.errors.APIError):
        for v in client.volumes.list(filters={"label": selector}):
            if doomed(v.attrs.get("Labels") or {}):
                with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                    v.remove(force=True)
                    removed += 1
    return removed


def leftovers(client: docker.DockerClient, session: str | None = None, *, run: str | None = None) -> list[str]:
    """Names of the suite's resources still on the engine: of a session, a run label, or all."""
    selector = f"{LABEL_RUN}={run}" if run else f"{LABEL_SESSION}={session}" if session else f"{LABEL_SUITE}={SUITE}"
    names = [
        f"container {c['Names'][0].lstrip('/')}" for c in client.api.containers(all=True, filters={"label": selector})
    ]
    names += [f"network {n.name}" for n in client.networks.list(filters={"label": selector})]
    names += [f"volume {v.name}" for v in client.volumes.list(filters={"label": selector})]
    return names
