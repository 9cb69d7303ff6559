#!/usr/bin/env bash
# One GPU lease, one command: the joint step's speed in each kind (eager, compiled, CUDA graphs), then the paper's
# network trained on CIFAR-10 with the fastest kind for as many of the paper's 160 epochs as fit. Everything it
# writes goes under $OUT (the device tool brings that folder back: the run, its checkpoint, its logs); the data
# travels in the git-ignored .data folder. A run cut by the time limit keeps its checkpoint: `dnnet train --resume
# --out RUN` continues it on a later lease.
#
#   OUT=... bash bench/gpu_paper_run.sh                       # on the GPU machine, about 9.5 minutes
#   OUT=/tmp/gpu_paper TINY=1 bash bench/gpu_paper_run.sh     # the CPU test: stand-in networks, digits, seconds
set -u
OUT=${OUT:?set OUT to the folder for the results}
mkdir -p "$OUT"
export PYTHONPATH=src PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
TOTAL=${TOTAL:-570}                     # seconds for the whole session, within the device call's limit
BENCH_DEADLINE=${BENCH_DEADLINE:-200}   # no speed case starts after this many seconds
if [ "${TINY:-0}" = 1 ]; then
  BENCH=(--tiny --images 256 --batch-size 64 --device cpu)
  TRAIN=(--preset dnnet_resnet8_g4 --data digits --batch-size 64 --device cpu)
  MAX_EPOCHS=2
else
  BENCH=()
  TRAIN=(--preset dnnet_resnet32_g22 --data .data/cifar10-jpg.tar.gz --batch-size 512 --warmup-epochs 2)
  MAX_EPOCHS=160
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  $PYTHON -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
  nproc; } | tee "$OUT/machine.txt"

start=$SECONDS
$PYTHON bench/bench_gpu_train.py "${BENCH[@]}" --cases dnnet_joint --kinds eager,compiled,cuda-graphs \
  --deadline-s "$BENCH_DEADLINE" --out "$OUT/bench_gpu_train.json" 2>&1 | grep -v '^DEBUG' | tail -n 40 | tee "$OUT/bench.log"
echo "speed phase: $((SECONDS - start)) s" | tee -a "$OUT/bench.log"
LEFT=$((TOTAL - (SECONDS - start) - 30))  # 30 s to stop and pack
read -r EPOCHS FLAGS < <($PYTHON bench/gpu_paper_plan.py "$OUT/bench_gpu_train.json" "$LEFT" "$MAX_EPOCHS")
echo "paper run: $EPOCHS epochs, flags: ${FLAGS:-none}" | tee -a "$OUT/bench.log"
# SIGTERM before the limit: the run saves its position and exits 130, its checkpoint comes back for a resume
# shellcheck disable=SC2086  # FLAGS is a list of words
timeout --signal=TERM "$LEFT" $PYTHON -m dnnet train "${TRAIN[@]}" --epochs "$EPOCHS" --schedule cosine --seed 0 \
  $FLAGS --quiet --out "$OUT/paper_run" 2>&1 | tail -n 20 | tee "$OUT/train.log"
echo "train exit: ${PIPESTATUS[0]}; total: $((SECONDS - start)) s" | tee -a "$OUT/train.log"
