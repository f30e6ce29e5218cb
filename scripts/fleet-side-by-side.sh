#!/usr/bin/env bash
# One run over two engines against the two single-engine runs one after the other, side by side:
#   scripts/fleet-side-by-side.sh [PAIRS]
# The self-test's fleet (tests/test_fleet_engines.py: a registry on loopback, a second dockerd in
# its own network namespace pulling the three cpu reference images from it, reached over
# ssh://root@127.0.0.1:PORT) runs PAIRS pairs (default 5) of: local alone, b alone, both in one
# run (three cpu variants, -m "not ssh"); the two-engine run comes first in odd pairs, last in
# even ones. Prints each pair's ratio both / (local + b), then the median and the range. Root.
set -euo pipefail
pairs=${1:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PADDLE_VERIFY_FLEET_PAIRS=$pairs .venv/bin/pytest tests/test_fleet_engines.py -p no:cacheprovider -q -s \
  -k test_a_real_second_engine_over_ssh 2>&1 | grep -E "^pair |median|passed|failed|error"
