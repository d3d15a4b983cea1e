#!/usr/bin/env bash
# Runs the paper's MNIST experiments at full scale, one after another (one heavy job at a time),
# reusing the teacher trained by mnist-distillation, then regenerates the result tables.
# About 2 hours on 2 cores (the 150-epoch teacher is 45 minutes of it, the jittered student 20). Usage: scripts/reproduce-full.sh [more ./dk run options, e.g. --set run.seed=2]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

./dk run mnist-distillation --scale full "$@"
run_dir=$(grep -l '^run.scale=full$' runs/mnist-distillation/*/config.properties | xargs -n1 dirname | sort | tail -1)
teacher="$ROOT/$run_dir/teacher.zip"
[[ -f "$teacher" ]] || { echo "error: no teacher checkpoint at $teacher" >&2; exit 1; }
# The student on a jittered transfer set, taught online by the same teacher (docs/mnist-distillation.md).
./dk run mnist-distillation --config configs/mnist-distillation-jittered-student.properties --set inputs.teacher="$teacher" "$@"
for exp in mnist-omitted-class soft-target-regularizer temperature-sweep; do
  ./dk run "$exp" --scale full --set inputs.teacher="$teacher" "$@"
done
./dk tables
