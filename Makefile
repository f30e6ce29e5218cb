# paddle-verify: `make check` verifies the locally built reference images,
# `make test` runs the suite's own tests. Both do all the set-up they need.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
REPO := paddle-verify/paddlepaddle
TAG := 3.3.1
BASE := paddle-verify/debian:12
CPU_VARIANTS := cpu cpu-devel cpu-demo
GPU_TAG := 2.6.2
GPU_VARIANTS := gpu gpu-devel gpu-demo
# The Python 2.7 era: paddlepaddle 1.8.5 (cp27mu) on Debian 11's python2.7 (images/py27/).
PY27_TAG := 1.8.5
PY27_VARIANTS := cpu cpu-devel
PY27_BASE := paddle-verify/debian:11
PY27_WHEELS := --only-binary=:all: --implementation cp --python-version 2.7 --abi cp27mu \
	--platform manylinux1_x86_64 --platform manylinux2014_x86_64
WHEEL_PLATFORM := --only-binary=:all: --implementation cp --python-version 3.11 \
	--platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64
PYTEST_ARGS ?=

.PHONY: all check check-podman podman test unit test-engine test-images test-long venv engine tools wheelhouse wheelhouse-gpu \
	wheelhouse-py27 images cpu-images gpu-images gpu-images-cuda-base py27-images base base-py27 lint clean-images

all: check

# The virtualenv; scripts/ensure-python.sh first installs python3-venv/python3-pip on a fresh
# Debian (as root), or says in one line what is missing.
$(BIN)/.installed: pyproject.toml
	bash scripts/ensure-python.sh $(PY)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

engine:
	bash scripts/ensure-docker.sh

# The self-tests' registry, sshd and headless browser (Debian packages; installed, not started).
tools:
	bash scripts/ensure-tools.sh

# A wheelhouse per flavour (images/wheelhouse.txt: cpu, images/wheelhouse-gpu.txt: gpu),
# downloaded once (the .complete stamp; a changed list downloads it anew) in two parts,
# each the whole build context of the image that installs it, so that no build sends
# more than it needs (the legacy builder sends all of a context, every build):
#   runtime/  the list's lines before "# demo": the runtime image (cpu: 0.2 GB, gpu: 2.5 GB)
#   demo/     the lines after it, and docopt, a demo dependency that only exists as an
#             sdist (its wheel is built here): the demo image
# Each part keeps its lines as requirements.txt.
define download-wheelhouse
rm -rf $(@D)
mkdir -p $(@D)/runtime $(@D)/demo
sed '/^# demo/,$$d' $< > $(@D)/runtime/requirements.txt
sed -n '/^# demo/,$$p' $< > $(@D)/demo/requirements.txt
$(PY) -m pip download -q --no-deps $(WHEEL_PLATFORM) -d $(@D)/runtime -r $(@D)/runtime/requirements.txt
$(PY) -m pip download -q --no-deps $(WHEEL_PLATFORM) -d $(@D)/demo -r $(@D)/demo/requirements.txt
$(PY) -m pip wheel -q --no-deps -w $(@D)/demo docopt==0.6.2
touch $@
endef

images/wheelhouse/.complete: images/wheelhouse.txt
	bash scripts/ensure-python.sh $(PY)
	$(download-wheelhouse)

images/wheelhouse-gpu/.complete: images/wheelhouse-gpu.txt
	bash scripts/ensure-python.sh $(PY)
	$(download-wheelhouse)

wheelhouse: images/wheelhouse/.complete

wheelhouse-gpu: images/wheelhouse-gpu/.complete

# The Python 2.7 wheelhouse (images/wheelhouse-py27.txt): one part, runtime/, the build
# context of images/py27. The lines under "# sdist" are pure-Python source distributions:
# their universal (py2.py3) wheels are built here, tagged by --python-tag (setuptools 84, what
# pip's isolated build takes today, ignores --universal: py3-only wheels, and Python 2.7's pip
# finds no nltk), not taken from pip's cache (a wheel built there earlier may be py3 only); named
# on the command line: pip 23.2 does not pass -C to the requirements of an -r file.
images/wheelhouse-py27/.complete: images/wheelhouse-py27.txt
	rm -rf $(@D)
	mkdir -p $(@D)/runtime
	sed '/^# sdist/,$$d' $< > $(@D)/runtime/requirements.txt
	sed -n '/^# sdist/,$$p' $< > $(@D)/runtime/requirements-sdist.txt
	$(PY) -m pip download -q --no-deps $(PY27_WHEELS) -d $(@D)/runtime -r $(@D)/runtime/requirements.txt
	$(PY) -m pip wheel -q --no-cache-dir --no-deps --no-binary :all: -C--build-option=--python-tag=py2.py3 \
		-w $(@D)/runtime $$(grep -v '^#' $(@D)/runtime/requirements-sdist.txt)
	touch $@

wheelhouse-py27: images/wheelhouse-py27/.complete

base: engine
	bash images/base/build-base.sh $(BASE)

base-py27: engine
	bash images/base/build-base.sh $(PY27_BASE) bullseye

# All six reference images. images/build.sh skips an image when nothing it is built from
# changed, and the engine caches layers: a rebuild with nothing changed takes seconds.
images: cpu-images gpu-images py27-images

cpu-images: base wheelhouse
	bash images/build.sh $(REPO):$(TAG)-cpu images/cpu/Dockerfile images/wheelhouse/runtime BASE=$(BASE)
	bash images/build.sh $(REPO):$(TAG)-cpu-devel images/devel/Dockerfile images/devel RUNTIME=$(REPO):$(TAG)-cpu
	bash images/build.sh $(REPO):$(TAG)-cpu-demo images/demo/Dockerfile images/wheelhouse/demo DEVEL=$(REPO):$(TAG)-cpu-devel

# Python 2.7 era reference images: paddlepaddle 1.8.5 on Debian 11 (images/py27/).
py27-images: base-py27 wheelhouse-py27
	bash images/build.sh $(REPO):$(PY27_TAG)-cpu images/py27/Dockerfile images/wheelhouse-py27/runtime BASE=$(PY27_BASE)
	bash images/build.sh $(REPO):$(PY27_TAG)-cpu-devel images/py27-devel/Dockerfile images/py27-devel RUNTIME=$(REPO):$(PY27_TAG)-cpu

# GPU reference images: paddlepaddle-gpu 2.6.2 and NVIDIA's CUDA 11.8 / cuDNN 8.6 wheels
# on the same Debian 12 base, no CUDA base image needed (images/gpu/Dockerfile); gpu-devel
# adds nvcc of that CUDA (GPU_CUDA: Debian 12's nvidia-cuda-toolkit, see images/devel/Dockerfile).
GPU_CUDA := 11.8
gpu-images: base wheelhouse-gpu
	bash images/build.sh $(REPO):$(GPU_TAG)-gpu images/gpu/Dockerfile images/wheelhouse-gpu/runtime BASE=$(BASE)
	bash images/build.sh $(REPO):$(GPU_TAG)-gpu-devel images/devel/Dockerfile images/devel RUNTIME=$(REPO):$(GPU_TAG)-gpu \
		CUDA_TOOLKIT=$(GPU_CUDA)
	bash images/build.sh $(REPO):$(GPU_TAG)-gpu-demo images/demo/Dockerfile images/wheelhouse-gpu/demo DEVEL=$(REPO):$(GPU_TAG)-gpu-devel

# The same three GPU images (same tags: `make gpu-images` builds over them) on a CUDA
# base image that is on this engine already, with the wheels for its Python, e.g.
#   make gpu-images-cuda-base CUDA_BASE=nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 GPU_PYTHON=3.10
# The base must carry CUDA 11.8 and cuDNN 8, what paddlepaddle-gpu 2.6.2 was built with; its
# gpu-devel gets no nvcc of its own (the toolkit step needs Debian 12's archive): take a CUDA
# *devel* base (nvcc in /usr/local/cuda/bin) for the devel contract's cuda build.
# Its wheels are resolved for that Python (the pins are for Debian 12's; only numpy and
# protobuf keep theirs) into images/wheelhouse-gpu-py$(GPU_PYTHON), reusing the files of
# the pinned GPU wheelhouse.
GPU_PYTHON ?= 3.10
CUDA_BASE_WHEELS := images/wheelhouse-gpu-py$(GPU_PYTHON)
GPU_PINS = $(shell grep -E '^(numpy|protobuf)==' images/wheelhouse-gpu.txt)
gpu-images-cuda-base: engine
	@test -n "$(CUDA_BASE)" || { echo "make gpu-images-cuda-base: set CUDA_BASE=<a CUDA 11.8 + cuDNN 8 image on this engine>" >&2; exit 2; }
	docker image inspect $(CUDA_BASE) >/dev/null
	mkdir -p $(CUDA_BASE_WHEELS)/runtime $(CUDA_BASE_WHEELS)/demo
	$(PY) -m pip download -q $(subst 3.11,$(GPU_PYTHON),$(WHEEL_PLATFORM)) --find-links images/wheelhouse-gpu/runtime \
		-d $(CUDA_BASE_WHEELS)/runtime paddlepaddle-gpu==$(GPU_TAG) $(GPU_PINS)
	$(PY) -m pip download -q $(subst 3.11,$(GPU_PYTHON),$(WHEEL_PLATFORM)) --find-links images/wheelhouse-gpu/demo \
		-d $(CUDA_BASE_WHEELS)/demo $(GPU_PINS) matplotlib beautifulsoup4 PyYAML
	$(PY) -m pip wheel -q --no-deps -w $(CUDA_BASE_WHEELS)/demo docopt==0.6.2
	bash images/build.sh $(REPO):$(GPU_TAG)-gpu images/gpu-cuda-base/Dockerfile $(CUDA_BASE_WHEELS)/runtime CUDA_BASE=$(CUDA_BASE)
	bash images/build.sh $(REPO):$(GPU_TAG)-gpu-devel images/devel/Dockerfile images/devel RUNTIME=$(REPO):$(GPU_TAG)-gpu
	bash images/build.sh $(REPO):$(GPU_TAG)-gpu-demo images/demo/Dockerfile $(CUDA_BASE_WHEELS)/demo DEVEL=$(REPO):$(GPU_TAG)-gpu-devel

# The manifests `make check` gates, one line each: the cpu variants (paddlepaddle 3.3.1), the
# gpu ones (paddlepaddle-gpu 2.6.2, another release: its own manifest), the Python 2.7 era's
# (paddlepaddle 1.8.5).
CHECK_MANIFESTS := \
	variants/reference.toml \
	variants/reference-gpu.toml \
	variants/reference-py27.toml

# All the manifests' variants, one report: each manifest's run in reports/runs/<name>, merged into
# reports/ (summary.json, junit.xml, report.html, facts.json); the exit status is the worst run's
# (scripts/check-manifests.sh). --allow-no-gpu: on a host without a GPU the gpu variants' image
# checks run on the CPU and their GPU-device checks are reported as not run; with a GPU they run.
check: venv images
	BIN=$(BIN) bash scripts/check-manifests.sh reports $(CHECK_MANIFESTS) -- $(PYTEST_ARGS)

# Podman beside Docker: the Podman service on its Docker-compatible socket (scripts/ensure-podman.sh),
# the cpu reference images copied into it (by ID: only when it lacks them), and the gate of the
# three cpu variants on both engines in one run: one report, a column per variant and engine.
PODMAN_URL := unix:///run/podman/podman.sock
podman:
	bash scripts/ensure-podman.sh >/dev/null

check-podman: venv cpu-images podman
	bash scripts/copy-to-podman.sh $(foreach v,$(CPU_VARIANTS),$(REPO):$(TAG)-$(v))
	$(BIN)/pytest checks/ --manifest variants/reference.toml --variant all \
		--engine docker=unix:///var/run/docker.sock --engine podman=$(PODMAN_URL) \
		--report-dir reports/podman $(PYTEST_ARGS)

# The self-tests in tiers (markers applied by tests/conftest.py from the fixtures each test uses):
#   unit          no engine, no images (seconds; `DOCKER_HOST=unix:///nonexistent make unit` passes)
#   test-engine   the engine and root tests that need no image (no image is built)
#   test-images   the tests that need images: the reference images, built test images, runs of checks/
#   test-long     the disruptive tests (engines stopped, runs interrupted by signals at random
#                 moments), the soak tests (thirty runs in a row, serial against xdist) and the
#                 measure tests (the benchmark gate's self-tests: timed workloads, verdicts that
#                 want a quiet host, not one shared with the other self-tests)
# `make test` runs the first three: the self-test of every check in checks/ (the benchmark gates'
# are the measure tests); CI (.ci/run) runs test-long as well.
# Each tier has its own reports/selftest/TIER.
unit: venv
	$(BIN)/pytest tests/ -m unit --report-dir reports/selftest/unit $(PYTEST_ARGS)

test-engine: venv engine tools
	$(BIN)/pytest tests/ -m "not unit and not images and not disruptive and not soak and not measure" \
		--report-dir reports/selftest/engine $(PYTEST_ARGS)

test-images: venv tools images
	$(BIN)/pytest tests/ -m "images and not disruptive and not soak and not measure" --report-dir reports/selftest/images $(PYTEST_ARGS)

test-long: venv engine tools images
	$(BIN)/pytest tests/ -m "disruptive or soak or measure" --report-dir reports/selftest/long $(PYTEST_ARGS)

test: unit test-engine test-images

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean-images:
	-docker image ls -q --filter label=org.paddle-verify.selftest-image | sort -u | xargs -r docker rmi -f
	-docker rmi $(foreach v,$(CPU_VARIANTS),$(REPO):$(TAG)-$(v)) $(foreach v,$(GPU_VARIANTS),$(REPO):$(GPU_TAG)-$(v)) \
		$(foreach v,$(PY27_VARIANTS),$(REPO):$(PY27_TAG)-$(v)) $(BASE) $(PY27_BASE)
