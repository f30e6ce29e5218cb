"""No false alarms: an image with every harmless change of tests/benign.py passes the whole contract.

One image holds all the changes (tests/benign.py says why); each entry is a test of its own here,
which sees its change in the image and the run of the whole contract (SSH checks aside) pass.
"""

from __future__ import annotations

import docker
import pytest

from .benign import BENIGN, Benign, dockerfile
from .conftest import ImageFactory, InnerRun, run_suite
from .defects import Defect
from .test_broken_images import NOT_SSH, manifest_for


@pytest.fixture(scope="module")
def benign_image(reference_images: dict[str, str], build_image: ImageFactory) -> str:
    return build_image("benign", dockerfile(reference_images["cpu"]))


@pytest.fixture(scope="module")
def benign_run(benign_image: str, tmp_path_factory: pytest.TempPathFactory) -> InnerRun:
    images = {"benign": (Defect("benign", "cpu", "runtime", ""), benign_image)}
    manifest = manifest_for(tmp_path_factory.mktemp("manifest") / "benign.toml", images)
    return run_suite(tmp_path_factory.mktemp("inner"), "--manifest", str(manifest), "--variant", "all", *NOT_SSH)


@pytest.mark.parametrize("entry", BENIGN, ids=[b.name for b in BENIGN])
def test_harmless_change_passes_the_whole_contract(
    entry: Benign, benign_image: str, benign_run: InnerRun, docker_client: docker.DockerClient
) -> None:
    try:
        docker_client.containers.run(
            benign_image, ["bash", "-c", entry.present], remove=True, network_mode="none", environment={}
        )
    except docker.errors.ContainerError as exc:
        pytest.fail(f"{entry.name}: the change is not in the image ({entry.present!r} exited {exc.exit_status})")
    outcomes = benign_run.outcomes()
    assert outcomes, f"no check ran:\n{benign_run.stdout[-3000:]}"
    messages = benign_run.messages()
    # alone: no other variant to compare paddle with
    bad = {k: messages.get(k, v) for k, v in outcomes.items() if v != "passed" and "test_same_paddle_as" not in k}
    assert not bad, f"{entry.name}: a harmless image fails the contract (a false alarm): {bad}"
    assert benign_run.ret == 0, benign_run.stdout[-2000:]
