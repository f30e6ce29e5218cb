"""The manifest: the shipped ones load, roles nest, and every problem names file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paddle_verify.manifest import ManifestError, load, parse
from paddle_verify.manifest.shipped import resolve, shipped
from paddle_verify.plugin.selection import packaged_manifest

ROOT = Path(__file__).resolve().parents[1]
SEED_VARIANTS = ["cpu", "gpu", "cpu-devel", "gpu-devel", "cpu-demo", "gpu-demo"]


def test_paddledev_manifest_has_the_seed_images() -> None:
    manifest = load(packaged_manifest())
    assert list(manifest.variants) == SEED_VARIANTS
    assert manifest.variants["gpu-demo"].image == "paddledev/paddlepaddle:latest-gpu-demo"
    cpu = manifest.variants["cpu"]
    assert cpu.runtime.packages == ("paddle", "py_paddle")
    assert cpu.runtime.py_paddle_init
    assert set(cpu.runtime.launcher_subcommands) >= {"train", "pserver", "version", "dump_config", "make_diagram"}
    assert cpu.expected_version is None  # latest names no version
    devel = manifest.variants["cpu-devel"].devel
    assert devel is not None
    assert devel.source_dirs == ("/paddle", "/root/paddle")


def test_release_tag_sets_image_and_expected_version() -> None:
    manifest = load(packaged_manifest(), tag="0.9.0")
    assert manifest.variants["cpu"].image == "paddledev/paddlepaddle:0.9.0-cpu"
    assert manifest.variants["cpu"].expected_version == "0.9.0"


def test_reference_manifest_matches_what_3_3_1_meets() -> None:
    manifest = load(ROOT / "variants" / "reference.toml")
    assert list(manifest.variants) == ["cpu", "cpu-devel", "cpu-demo"]
    cpu = manifest.variants["cpu"]
    assert "py_paddle" not in cpu.runtime.packages
    assert cpu.runtime.launcher_subcommands == ("version",)
    assert cpu.image == "paddle-verify/paddlepaddle:3.3.1-cpu"
    assert cpu.expected_version == "3.3.1"


def test_py27_manifest_matches_what_1_8_5_meets() -> None:
    manifest = load(ROOT / "variants" / "reference-py27.toml")
    assert list(manifest.variants) == ["py27", "py27-devel"]
    cpu = manifest.variants["py27"]
    assert cpu.python == "python"  # python-is-python2: 2.7
    assert {"paddle", "paddle.fluid"} <= set(cpu.runtime.packages)
    assert cpu.runtime.launcher_subcommands == ("version",)
    assert "with_mkldnn" in cpu.runtime.build_lines
    assert cpu.image == "paddle-verify/paddlepaddle:1.8.5-cpu"
    assert cpu.expected_version == "1.8.5"


def test_roles_nest() -> None:
    variants = load(ROOT / "variants" / "reference.toml").variants
    runtime, devel, demo = variants["cpu"], variants["cpu-devel"], variants["cpu-demo"]
    assert (runtime.devel, runtime.demo) == (None, None)
    assert devel.devel is not None
    assert devel.demo is None
    assert demo.devel is not None
    assert demo.demo is not None
    assert demo.has_role("runtime")
    assert demo.has_role("devel")
    assert not devel.has_role("demo")


def test_with_image_keeps_the_contract_and_escapes_braces() -> None:
    cpu = load(ROOT / "variants" / "reference.toml").variants["cpu"]
    other = cpu.with_image("reg.example/paddle:{weird}")
    assert other.image == "reg.example/paddle:{weird}"
    assert other.runtime == cpu.runtime


def test_select_all_keeps_manifest_order() -> None:
    manifest = load(packaged_manifest())
    assert [v.name for v in manifest.select(["gpu-demo", "cpu"])] == ["cpu", "gpu-demo"]
    assert [v.name for v in manifest.select(["all"])] == SEED_VARIANTS
    with pytest.raises(KeyError):
        manifest.select(["tpu"])


CPU_RT = {"flavour": "cpu", "role": "runtime"}
GPU = {"flavour": "gpu", "role": "runtime"}
MINIMAL: dict[str, Any] = {
    "suite": {"image": "x/y:{tag}-{variant}"},
    "variants": {"cpu": {"flavour": "cpu", "role": "runtime"}},
}


@pytest.mark.parametrize(
    ("patch", "field", "words"),
    [
        ({"suite": {"image": 3}}, "suite.image", "must be a non-empty string"),
        ({"suite": {"image": "x:{tag}", "default_tag": "a b"}}, "suite.default_tag", "not a valid image tag"),
        ({"contract": {"runtime": {"version_pattern": "("}}}, "contract.runtime.version_pattern", "not a valid"),
        ({"contract": {"runtime": {"version_pattern": "x"}}}, "contract.runtime.version_pattern", "(?P<version>"),
        ({"contract": {"runtime": {"py_paddle_init": "yes"}}}, "contract.runtime.py_paddle_init", "true or false"),
        ({"contract": {"devel": {"toolchain": {"gcc": []}}}}, "contract.devel.toolchain.gcc", "non-empty list"),
        ({"contract": {"demo": {"train": "no_such_demo"}}}, "contract.demo.train", "unknown demo"),
        ({"contract": {"gpu": {}}}, "contract.gpu", "unknown field"),
        ({"variants": {"all": {"flavour": "cpu", "role": "runtime"}}}, "variants.all", "not a valid variant name"),
        ({"variants": {"cpu": {"flavour": "cpu", "role": "base"}}}, "variants.cpu.role", "runtime, devel, demo"),
        ({"variants": {"cpu": {"flavour": "cpu"}}}, "variants.cpu.role", "is required"),
        ({"variants": {"cpu": "cpu"}}, "variants.cpu", "must be a table"),
        (
            {"suite": {"image": "x:{tag}", "python_version": "3"}},
            "suite.python_version",
            'MAJOR.MINOR as a string (e.g. "12.6")',
        ),
        (
            {"variants": {"g": {**GPU, "cuda": 12.6}}},
            "variants.g.cuda",
            'MAJOR.MINOR as a string (e.g. "12.6"), not 12.6',
        ),
        ({"variants": {"g": {**GPU, "paddle": False}}}, "variants.g.paddle", "needs role = \"devel\", not 'runtime'"),
        ({"variants": {"g": {**GPU, "paddle": "no"}}}, "variants.g.paddle", "true or false"),
        ({"variants": {"g": {**GPU, "cuda": "12.6.1"}}}, "variants.g.cuda", "MAJOR.MINOR"),
        ({"variants": {"g": {**GPU, "cudnn": "9.5"}}}, "variants.g.cudnn", "needs the variant's cuda too"),
        ({"variants": {"c": {**CPU_RT, "cuda": "12.6"}}}, "variants.c.cuda", "only a gpu variant carries CUDA"),
        ({"variants": {"c": {**CPU_RT, "cudnn": "9.5"}}}, "variants.c.cudnn", "only a gpu variant carries cuDNN"),
        ({"variants": {"g": {**GPU, "python_version": "three"}}}, "variants.g.python_version", "MAJOR.MINOR"),
        ({"contract": {"runtime": {"run_check": "yes"}}}, "contract.runtime.run_check", "true or false"),
        ({"variants": {"g": {**GPU, "cuda_version": "12.6"}}}, "variants.g.cuda_version", "unknown field"),
    ],
)
def test_problems_name_the_field(patch: dict[str, Any], field: str, words: str) -> None:
    raw = {**MINIMAL, **patch}
    with pytest.raises(ManifestError) as err:
        parse(raw, "m.toml")
    assert err.value.field == field
    assert str(err.value).startswith(f"m.toml: {field}: ")
    assert words in str(err.value)


FAMILY_DEV = ["latest-dev", "cuda118-dev", "cuda126-dev", "cuda129-dev"]
FAMILY_GPU = ["gpu-cuda11.8-cudnn8.9", "gpu-cuda12.6-cudnn9.5", "gpu-cuda12.9-cudnn9.9", "gpu-cuda13.0-cudnn9.13"]


def test_the_family_manifest_names_the_published_images() -> None:
    family = load(shipped()["paddlepaddle"])
    assert list(family.variants) == ["cpu", *FAMILY_GPU, *FAMILY_DEV]
    assert family.variants["cpu"].image == "paddlepaddle/paddle:3.3.0"
    assert load(shipped()["paddlepaddle"], tag="3.2.0").variants["cpu"].image == "paddlepaddle/paddle:3.2.0"
    for name in FAMILY_GPU:
        variant = family.variants[name]
        assert variant.image == f"paddlepaddle/paddle:3.3.0-{name}"
        cuda, cudnn = name.removeprefix("gpu-cuda").split("-cudnn")
        assert (variant.flavour, variant.carries.cuda, variant.carries.cudnn) == ("gpu", cuda, cudnn)
        major = cuda.split(".")[0]
        assert variant.runtime.cuda_runtime == ("libcudart.so.11.0" if major == "11" else f"libcudart.so.{major}")
    releases = [family.variants[n] for n in ["cpu", *FAMILY_GPU]]
    assert {v.carries.python_version for v in releases} == {"3.10"}
    assert all(v.role == "runtime" and v.carries.paddle for v in releases)  # no demo image
    for name in FAMILY_DEV:  # build images, one tag each: the devel contract, paddle not promised
        dev = family.variants[name]
        assert (dev.image, dev.role, dev.carries.paddle) == (f"paddlepaddle/paddle:{name}", "devel", False)
        assert dev.devel is not None
        assert dev.devel.source_dirs == ()
    assert family.variants["cuda126-dev"].carries.cuda == "12.6"
    assert family.variants["latest-dev"].carries.python_version is None
    assert family.variants["cpu"].carries.cuda is None
    assert family.variants["cpu"].runtime.run_check is True


def test_declared_versions_default_from_the_suite_and_run_check_is_on_unless_off() -> None:
    raw = {
        **MINIMAL,
        "suite": {"image": "x/y:{tag}-{variant}", "python_version": "3.10"},
        "variants": {"cpu": CPU_RT, "old": {**CPU_RT, "python_version": "2.7"}},
    }
    variants = parse(raw, "m.toml").variants
    assert (variants["cpu"].carries.python_version, variants["old"].carries.python_version) == ("3.10", "2.7")
    assert variants["cpu"].runtime.run_check is None
    assert variants["cpu"].runtime.runs_run_check
    off = parse({**raw, "contract": {"runtime": {"run_check": False}}}, "m.toml").variants["cpu"].runtime
    assert not off.runs_run_check


def test_shipped_manifests_by_name_and_paths(tmp_path: Path) -> None:
    assert list(shipped()) == ["paddledev", "paddlepaddle"]
    assert resolve(None, tmp_path) == shipped()["paddledev"] == packaged_manifest()
    assert resolve("paddlepaddle", tmp_path) == shipped()["paddlepaddle"]
    assert resolve("mine.toml", tmp_path) == tmp_path / "mine.toml"  # a path, even before it exists
    assert resolve("sub/mine", tmp_path) == tmp_path / "sub" / "mine"
    with pytest.raises(LookupError, match=r"neither a shipped manifest \(paddledev, paddlepaddle\) nor a file"):
        resolve("paddlepadle", tmp_path)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(ManifestError, match="cannot be read"):
        load(bad)
    bad.write_text("[suite")
    with pytest.raises(ManifestError, match="not valid TOML"):
        load(bad)


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
known_keys = st.sampled_from(
    [
        "suite",
        "contract",
        "variants",
        "runtime",
        "devel",
        "demo",
        "image",
        "flavour",
        "role",
        "cpu",
        "packages",
        "toolchain",
        "train",
        "env",
        "default_tag",
        "version_pattern",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(known_keys, st.dictionaries(known_keys | st.text(max_size=6), toml_values, max_size=4), max_size=4)
)
def test_fuzzed_manifests_load_or_raise_manifest_error(raw: dict[str, Any]) -> None:
    try:
        parse(raw, "fuzz.toml")
        message = "fuzz.toml: loaded"
    except ManifestError as exc:
        message = str(exc)
    assert message.startswith("fuzz.toml")
