#!/usr/bin/env bash
# One GPU lease, one command: the training speed of the ImageNet-style presets at 224 px and 1000 classes (eager, bf16,
# channels-last, as `dnnet train` runs on a GPU), the doubly nested networks with the joint loss against their plain
# twins; the time of an ImageNet epoch follows from it. Everything it writes goes under $OUT (the device tool brings it back).
#
#   OUT=... bash bench/gpu_imagenet_speed.sh               # on the GPU machine, about 3 minutes
#   OUT=/tmp/gpu TINY=1 bash bench/gpu_imagenet_speed.sh   # the CPU test: stand-in networks, 48 px
set -u
OUT=${OUT:?set OUT to the folder for the results}
mkdir -p "$OUT"
export PYTHONPATH=src PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
CASES=dnnet_resnet18_joint,resnet18_plain,dnnet_resnet50_joint,resnet50_plain
if [ "${TINY:-0}" = 1 ]; then
  ARGS=(--tiny --device cpu --image-size 48 --classes 1000 --batch-size 16 --images 64)
else
  ARGS=(--image-size 224 --classes 1000 --batch-size 256 --images 7680 --deadline-s 420)
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  $PYTHON -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
  nproc; } | tee "$OUT/machine.txt"
$PYTHON bench/bench_gpu_train.py "${ARGS[@]}" --kinds eager --cases "$CASES" --out "$OUT/imagenet_speed.json" 2>&1 | tee "$OUT/log.txt"
