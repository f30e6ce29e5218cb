"""Deliberately broken images, one defect each, built from the reference images.

Each defect names the checks it must fail (``{v}`` is the variant the image is
checked as) and words each failure's message must contain besides the variant.
Every other check of that variant must pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from paddle_verify.manifest import load

# The reference images' tag, from their manifest; OTHER: a version the images are not.
TAG = load(Path(__file__).resolve().parents[1] / "variants" / "reference.toml").default_tag
OTHER = f"{TAG}.post99"
LAUNCHER = "/usr/local/bin/paddle"
SITE = "/usr/local/lib/python3.11/dist-packages"

_LAUNCHER_GONE = {
    "test_launcher_subcommand_answers[{v}-version]": "did not run",
    "test_paddle_version_exits_0_offline[{v}]": "did not run",
    "test_paddle_version_prints_version_and_build[{v}]": "printed no 'PaddlePaddle",
    "test_with_gpu_matches_flavour[{v}]": "with_gpu: None",
    "test_version_matches_tag[{v}]": "says None",
    "test_launcher_and_package_agree[{v}]": "`paddle version` says None",
}


@dataclass(frozen=True)
class Defect:
    name: str
    base: str  # the reference variant it is built from
    role: str
    dockerfile: str  # what follows FROM
    fails: dict[str, str] = field(default_factory=dict)

    def expected(self, variant: str) -> dict[str, str]:
        return {check.format(v=variant): words for check, words in self.fails.items()}


DEFECTS = [
    Defect(
        "launcher-missing",
        "cpu",
        "runtime",
        f"RUN rm {LAUNCHER}",
        {
            "test_command_on_path_and_executable[{v}-paddle]": "`paddle` is not on PATH",
            **_LAUNCHER_GONE,
            "test_paddle_version_in_the_shell[{v}]": "exited with 127",
        },
    ),
    Defect(
        "launcher-not-executable",
        "cpu",
        "runtime",
        f"RUN chmod a-x {LAUNCHER}",
        {
            "test_command_on_path_and_executable[{v}-paddle]": "is not executable",
            **{k: (v if "did not run" not in v else "Permission denied") for k, v in _LAUNCHER_GONE.items()},
            "test_paddle_version_in_the_shell[{v}]": "exited with 126",
        },
    ),
    Defect(
        "import-fails",
        "cpu",
        "runtime",
        "RUN rm -f /usr/lib/x86_64-linux-gnu/libgomp.so.1*",
        {
            "test_package_imports[{v}-paddle]": "libgomp.so.1",
            "test_package_imports[{v}-paddle.inference]": "libgomp.so.1",
            "test_paddle_computes[{v}]": "libgomp.so.1",
            "test_launcher_and_package_agree[{v}]": "the paddle package says None",
            "test_same_paddle_as_the_other_variants[{v}]": "reports no version",
        },
    ),
    Defect(
        "wrong-version",
        "cpu",
        "runtime",
        f"RUN sed -i 's/echo \"PaddlePaddle {TAG},/echo \"PaddlePaddle {OTHER},/' {LAUNCHER}",
        {
            "test_version_matches_tag[{v}]": f"says {OTHER}, the tag {TAG}",
            "test_launcher_and_package_agree[{v}]": f"says {OTHER}, the paddle package says {TAG}",
        },
    ),
    Defect(
        "with-gpu-wrong",
        "cpu",
        "runtime",
        f"RUN sed -i 's/with_gpu: OFF/with_gpu: ON/' {LAUNCHER}",
        {"test_with_gpu_matches_flavour[{v}]": "with_gpu: ON, a cpu image needs OFF"},
    ),
    Defect(
        "no-shell",
        "cpu",
        "runtime",
        'CMD ["python3", "-c", "print(\'this image runs no shell\')"]',
        {
            "test_run_it_gives_a_shell[{v}]": "gave no shell",
            "test_paddle_version_in_the_shell[{v}]": "gave no shell",
        },
    ),
    Defect(
        "devel-tool-missing",
        "cpu-devel",
        "devel",
        "RUN rm /usr/bin/cmake",
        {"test_tool_runs[{v}-cmake]": "devel tool cmake missing"},
    ),
    Defect(
        "demo-dep-missing",
        "cpu-demo",
        "demo",
        "RUN PIP_BREAK_SYSTEM_PACKAGES=1 pip uninstall -q -y docopt",
        {"test_demo_package_imports[{v}-docopt]": "No module named 'docopt'"},
    ),
]

# The contract-package defect needs a contract with py_paddle (the install
# page's third part): a test double of it is added to the cpu image, then removed.
PY_PADDLE_DOUBLE = f"COPY doubles/py_paddle {SITE}/py_paddle"
CONTRACT_PACKAGE_MISSING = Defect(
    "contract-package-missing",
    "cpu",
    "runtime",
    f"RUN rm -r {SITE}/py_paddle",
    {
        "test_package_imports[{v}-py_paddle]": "No module named 'py_paddle'",
        "test_py_paddle_initialises[{v}]": "No module named 'py_paddle'",
    },
)
