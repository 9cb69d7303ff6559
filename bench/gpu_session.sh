#!/usr/bin/env bash
# One GPU lease, one command: the training step's speed (eager against compiled), then the recipe's check on the
# paper's network, its epochs sized from the speed just measured. Everything it writes goes under $OUT (the device
# tool brings that folder back); the data travels in the git-ignored .data folder.
#
#   OUT=... bash bench/gpu_session.sh                                  # on the GPU machine, about 9 minutes
#   OUT=/tmp/gpu RUNS=/tmp/gpu_runs TINY=1 bash bench/gpu_session.sh   # the CPU test: stand-in networks, digits
set -u
OUT=${OUT:?set OUT to the folder for the results}
mkdir -p "$OUT"
export PYTHONPATH=src PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
TOTAL=${TOTAL:-540}                     # seconds for the whole session, within the device call's limit
BENCH_DEADLINE=${BENCH_DEADLINE:-150}   # no speed case starts after this many seconds
RUNS=${RUNS:-runs/gpu_check}            # the arms' run directories
if [ "${TINY:-0}" = 1 ]; then
  BENCH=(--tiny --images 256 --batch-size 64 --cases dnnet_joint --device cpu)
  CHECK=(--tiny --data digits --batch-size 64 --warmup-epochs 0 --arms D_default)
  EPOCHS=1
else
  BENCH=()
  CHECK=(--data .data/cifar10-jpg.tar.gz --batch-size 512 --warmup-epochs 2)
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  $PYTHON -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
  nproc; } | tee "$OUT/machine.txt"

start=$SECONDS
# the compiled network that the default recipe's arm trains goes first: inductor's on-disk cache then serves that arm
$PYTHON bench/bench_gpu_train.py "${BENCH[@]}" --kinds eager,compiled --deadline-s "$BENCH_DEADLINE" \
  --out "$OUT/bench_gpu_train.json" 2>&1 | grep -v '^DEBUG' | tail -n 40 | tee "$OUT/bench.log"
echo "speed phase: $((SECONDS - start)) s"
ARMS_DEADLINE=$((TOTAL - (SECONDS - start) - 30))  # the arms are stopped (checkpoints kept) then; 30 s to stop and pack

# the arms compile only where it paid in the speed phase; their epochs (of 45,000 images) are those that four arms
# sharing the GPU finish before the deadline, after compiling (four at once: 1.5x the measured time) and evaluating
read -r EPOCHS_FIT COMPILE < <($PYTHON bench/gpu_session_plan.py "$OUT/bench_gpu_train.json" "$ARMS_DEADLINE")
EPOCHS=${EPOCHS:-$EPOCHS_FIT}
COMPILE=${ARMS_COMPILE:-$COMPILE}  # the CPU test can force either
echo "recipe arms: $EPOCHS epochs, $COMPILE" | tee -a "$OUT/bench.log"
$PYTHON bench/recipe_gpu_check.py "${CHECK[@]}" --epochs "$EPOCHS" "$COMPILE" --deadline-s "$ARMS_DEADLINE" \
  --out "$RUNS" --summary "$OUT/recipe_gpu_check.json" 2>&1 | tail -n 20 | tee "$OUT/arms.log"
# the arms' small files (config, metrics, accuracy grids, logs); checkpoints stay behind (MBs each)
tar czf "$OUT/gpu_check_runs.tar.gz" --exclude='*.pt' -C "$(dirname "$RUNS")" "$(basename "$RUNS")"
echo "total: $((SECONDS - start)) s"
