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
WHEEL_PLATFORM := --only-binary=:all: --implementation cp --python-version 3.11 \
	--platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64
PYTEST_ARGS ?=

.PHONY: all check test unit test-engine test-images venv engine tools wheelhouse wheelhouse-gpu images cpu-images gpu-images \
	gpu-images-cuda-base base lint clean-images

all: check

$(BIN)/.installed: pyproject.toml
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
	$(download-wheelhouse)

images/wheelhouse-gpu/.complete: images/wheelhouse-gpu.txt
	$(download-wheelhouse)

wheelhouse: images/wheelhouse/.complete

wheelhouse-gpu: images/wheelhouse-gpu/.complete

base: engine
	bash images/base/build-base.sh $(BASE)

# All six reference images. images/build.sh skips an image when nothing it is built from
# changed, and the engine caches layers: a rebuild with nothing changed takes seconds.
images: cpu-images gpu-images

cpu-images: base wheelhouse
	bash images/build.sh $(REPO):$(TAG)-cpu images/cpu/Dockerfile images/wheelhouse/runtime BASE=$(BASE)
	bash images/build.sh $(REPO):$(TAG)-cpu-devel images/devel/Dockerfile images/devel RUNTIME=$(REPO):$(TAG)-cpu
	bash images/build.sh $(REPO):$(TAG)-cpu-demo images/demo/Dockerfile images/wheelhouse/demo DEVEL=$(REPO):$(TAG)-cpu-devel

# GPU reference images: paddlepaddle-gpu 2.6.2 and NVIDIA's CUDA 11.8 / cuDNN 8.6 wheels
# on the same Debian 12 base, no CUDA base image needed (images/gpu/Dockerfile).
gpu-images: base wheelhouse-gpu
	bash images/build.sh $(REPO):$(GPU_TAG)-gpu images/gpu/Dockerfile images/wheelhouse-gpu/runtime BASE=$(BASE)
	bash images/build.sh $(REPO):$(GPU_TAG)-gpu-devel images/devel/Dockerfile images/devel RUNTIME=$(REPO):$(GPU_TAG)-gpu
	bash images/build.sh $(REPO):$(GPU_TAG)-gpu-demo images/demo/Dockerfile images/wheelhouse-gpu/demo DEVEL=$(REPO):$(GPU_TAG)-gpu-devel

# The same three GPU images (same tags: `make gpu-images` builds over them) on a CUDA
# base image that is on this engine already, with the wheels for its Python, e.g.
#   make gpu-images-cuda-base CUDA_BASE=nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 GPU_PYTHON=3.10
# The base must carry CUDA 11.8 and cuDNN 8, what paddlepaddle-gpu 2.6.2 was built with.
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

# All six reference variants: the cpu ones (paddlepaddle 3.3.1), then the gpu ones
# (paddlepaddle-gpu 2.6.2, another release: its own manifest and reports). --allow-no-gpu:
# on a host without a GPU their image checks run on the CPU and their GPU-device checks are
# reported as not run; on a host with a GPU they run.
check: venv images
	$(BIN)/pytest checks/ --manifest variants/reference.toml --variant all $(PYTEST_ARGS)
	$(BIN)/pytest checks/ --manifest variants/reference-gpu.toml --variant all --allow-no-gpu \
		--report-dir reports/gpu $(PYTEST_ARGS)

# The self-tests in tiers (markers applied by tests/conftest.py from the fixtures each test uses):
#   unit          no engine, no images (seconds; `DOCKER_HOST=unix:///nonexistent make unit` passes)
#   test-engine   the engine, root and disruptive tests that need no image (no image is built)
#   test-images   the tests that need images: the reference images, built test images, runs of checks/
# `make test` runs the three, so every self-test; each tier has its own reports/selftest/TIER.
unit: venv
	$(BIN)/pytest tests/ -m unit --report-dir reports/selftest/unit $(PYTEST_ARGS)

test-engine: venv engine tools
	$(BIN)/pytest tests/ -m "not unit and not images" --report-dir reports/selftest/engine $(PYTEST_ARGS)

test-images: venv tools images
	$(BIN)/pytest tests/ -m images --report-dir reports/selftest/images $(PYTEST_ARGS)

test: unit test-engine test-images

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean-images:
	-docker rmi $(foreach v,$(CPU_VARIANTS),$(REPO):$(TAG)-$(v)) $(foreach v,$(GPU_VARIANTS),$(REPO):$(GPU_TAG)-$(v)) $(BASE)
