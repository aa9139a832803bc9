#!/usr/bin/env bash
# GPU check for course_nn: runs the CUDA tests and the CUDA benchmark, prints everything.
#
# Usage (from anywhere, on a machine with an NVIDIA GPU and a python that has torch):
#   scripts/gpu_check.sh                  # tests + 'course-nn bench --device cuda'
#   scripts/gpu_check.sh --compile        # extra arguments go to 'course-nn bench'
#   PYTHON=/path/to/python scripts/gpu_check.sh
#   GPU_CHECK_OUT=/tmp/gpu scripts/gpu_check.sh     # where bench_cuda.json is written (default: out/)
#
# Needs no network: if course_nn is not installed it runs from this checkout via PYTHONPATH (torch is
# never installed or upgraded). 'pip install -e .[dev]' beforehand works too where pip can reach an index.
# Takes a few minutes: each step has its own time limit. Exit status: 0 only if every step passed.
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

if [ -n "${PYTHON:-}" ]; then
    PY="$PYTHON"
elif [ -x .venv/bin/python ] && .venv/bin/python -c "import torch" 2>/dev/null; then
    PY=.venv/bin/python
else
    PY=python3
fi
OUT_DIR="${GPU_CHECK_OUT:-$ROOT/out}"
mkdir -p "$OUT_DIR"
export PYTHONUNBUFFERED=1
failed=()

step() {  # step NAME SECONDS COMMAND...: run with a time limit, remember failures, never stop early
    local name="$1" limit="$2"
    shift 2
    echo
    echo "=== $name ($*)"
    timeout --kill-after=10 "$limit" "$@"
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 124 ] && echo "--- $name: timed out after ${limit}s"
        failed+=("$name (exit $rc)")
    fi
    return 0
}

echo "=== machine"
date -u
uname -a
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "nvidia-smi not found"
if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "error: $PY cannot import torch; set PYTHON=/path/to/python-with-torch" >&2
    exit 2
fi
"$PY" - <<'EOF'
import sys, torch
print(f"python {sys.version.split()[0]} ({sys.executable}), torch {torch.__version__}, CUDA {torch.version.cuda}")
if torch.cuda.is_available():
    print(f"GPU: {torch.cuda.get_device_name(0)}, {torch.cuda.device_count()} device(s)")
else:
    print("torch.cuda.is_available() is False: the CUDA tests will be skipped and the bench will refuse to run")
EOF

if ! "$PY" -c "import course_nn" 2>/dev/null; then
    echo "course_nn is not installed for $PY: running from this checkout (PYTHONPATH=$ROOT)"
    export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
fi
"$PY" -c "import pytest" 2>/dev/null || echo "warning: pytest is missing for $PY ('pip install pytest'); the test step will fail"

step "pytest -m cuda" 300 "$PY" -m pytest -m cuda tests/ -q -rs -p no:cacheprovider
step "course-nn bench --device cuda" 400 "$PY" -m course_nn bench --device cuda --json "$OUT_DIR/bench_cuda.json" "$@"

echo
if [ -f "$OUT_DIR/bench_cuda.json" ]; then
    echo "=== $OUT_DIR/bench_cuda.json"
    cat "$OUT_DIR/bench_cuda.json"
fi
echo
if [ "${#failed[@]}" -eq 0 ]; then
    echo "gpu_check: all steps passed"
    exit 0
fi
echo "gpu_check: FAILED: ${failed[*]}"
exit 1
