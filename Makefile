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
WHEEL_PLATFORM := --only-binary=:all: --implementation cp --python-version 3.11 \
	--platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64
PYTEST_ARGS ?=

.PHONY: all check test venv engine wheelhouse images base gpu-images lint clean-images

all: check

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

engine:
	bash scripts/ensure-docker.sh

images/wheelhouse/.complete: images/wheelhouse.txt
	mkdir -p images/wheelhouse
	$(PY) -m pip download -q --no-deps $(WHEEL_PLATFORM) -d images/wheelhouse -r images/wheelhouse.txt
	# docopt (a demo dependency) only exists as an sdist: build its wheel here.
	$(PY) -m pip wheel -q --no-deps -w images/wheelhouse docopt==0.6.2
	touch $@

wheelhouse: images/wheelhouse/.complete

base: engine
	bash images/base/build-base.sh $(BASE)

# Layers are cached by the engine: a rebuild with nothing changed takes seconds.
images: base wheelhouse
	docker build -q --build-arg BASE=$(BASE) -t $(REPO):$(TAG)-cpu -f images/cpu/Dockerfile images
	docker build -q --build-arg RUNTIME=$(REPO):$(TAG)-cpu -t $(REPO):$(TAG)-cpu-devel images/devel
	docker build -q --build-arg DEVEL=$(REPO):$(TAG)-cpu-devel -t $(REPO):$(TAG)-cpu-demo -f images/demo/Dockerfile images

# GPU reference images: needs a CUDA base image on this engine, e.g.
#   make gpu-images CUDA_BASE=nvidia/cuda:12.0.1-cudnn8-runtime-ubuntu22.04
GPU_TAG := 2.6.2
GPU_PYTHON ?= 3.10
gpu-images: engine
	@test -n "$(CUDA_BASE)" || { echo "make gpu-images: set CUDA_BASE=<a CUDA runtime image on this engine>" >&2; exit 2; }
	docker image inspect $(CUDA_BASE) >/dev/null
	mkdir -p images/wheelhouse-gpu
	$(PY) -m pip download -q $(subst 3.11,$(GPU_PYTHON),$(WHEEL_PLATFORM)) -d images/wheelhouse-gpu paddlepaddle-gpu==$(GPU_TAG) matplotlib beautifulsoup4 PyYAML
	$(PY) -m pip wheel -q --no-deps -w images/wheelhouse-gpu docopt==0.6.2
	docker build -q --build-arg CUDA_BASE=$(CUDA_BASE) -t $(REPO):$(GPU_TAG)-gpu -f images/gpu/Dockerfile images
	docker build -q --build-arg RUNTIME=$(REPO):$(GPU_TAG)-gpu -t $(REPO):$(GPU_TAG)-gpu-devel images/devel
	docker build -q --build-arg DEVEL=$(REPO):$(GPU_TAG)-gpu-devel --build-arg WHEELS=wheelhouse-gpu -t $(REPO):$(GPU_TAG)-gpu-demo -f images/demo/Dockerfile images

check: venv images
	$(BIN)/pytest checks/ --manifest variants/reference.toml --variant all $(PYTEST_ARGS)

test: venv images
	$(BIN)/pytest tests/ --report-dir reports/selftest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean-images:
	-docker rmi $(foreach v,$(CPU_VARIANTS),$(REPO):$(TAG)-$(v)) $(BASE)
