#!/usr/bin/env bash
# One GPU lease, one command: bench/causal_conv_schemes.py on the GPU for the paper's network and the cpu protocol's,
# at the CPU's batch (128) and a GPU's (512). Everything it writes goes under $OUT (the device tool brings it back).
#
#   OUT=... bash bench/gpu_causal_conv_schemes.sh                 # on the GPU machine, about 3 minutes
#   OUT=/tmp/gpu TINY=1 bash bench/gpu_causal_conv_schemes.sh     # the CPU test: a small network, batch 8
set -u
OUT=${OUT:?set OUT to the folder for the results}
mkdir -p "$OUT"
export PYTHONPATH=src PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
if [ "${TINY:-0}" = 1 ]; then
  CASES=("dnnet_resnet8_g4 resnet20 2")
  BATCHES=(8)
  COMMON=(--device cpu --layer-repeats 1 --step-repeats 1)
else
  CASES=("dnnet_resnet32_g22 resnet32 16" "dnnet_resnet20_g8 resnet20 6")
  BATCHES=(128 512)
  COMMON=(--device cuda --layer-repeats 20 --step-repeats 20)
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  $PYTHON -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
  nproc; } | tee "$OUT/machine.txt"
for case in "${CASES[@]}"; do
  read -r preset plain groups <<<"$case"
  for batch in "${BATCHES[@]}"; do
    $PYTHON bench/causal_conv_schemes.py "${COMMON[@]}" --preset "$preset" --plain "$plain" --plain-groups "$groups" \
      --batch-size "$batch" --out "$OUT/schemes_${preset#dnnet_}_b${batch}.json" 2>&1 | tee -a "$OUT/log.txt"
  done
done
