#!/bin/bash
# the paper protocol on one GPU: every run of `experiment all` trained 9 at a time, EPOCHS epochs each
EPOCHS=${EPOCHS:-6}; DEADLINE=${DEADLINE:-470}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
ROOT=/tmp/paper; mkdir -p $ROOT
nvidia-smi -L; python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0))"
cat > /tmp/dnnet_cli.py <<'PY'
import sys
from dnnet.cli.main import main
if __name__ == "__main__":  # spawned workers import this file again
    sys.exit(main(sys.argv[1:]))
PY
ARGS="--protocol paper --data .data/cifar10-jpg.tar.gz --epochs $EPOCHS --out $ROOT --cache-dir /tmp/cache --quiet"
start=$(date +%s)
setsid bash -c "time python3 /tmp/dnnet_cli.py experiment all $ARGS --jobs 9" > $OUT/all.log 2>&1 &
pid=$!
fig5_done=0
while kill -0 $pid 2>/dev/null; do
  now=$(( $(date +%s) - start ))
  if [ $fig5_done = 0 ] && [ -f $ROOT/runs/dnnet_s0/accuracy_test.json ] && [ -f $ROOT/runs/anytime_s0/accuracy_test.json ]; then
    python3 /tmp/dnnet_cli.py experiment fig5 $ARGS > $OUT/fig5.log 2>&1; fig5_done=1
  fi
  if [ $now -gt $DEADLINE ]; then echo "deadline: stopping at ${now}s"; kill -INT -- -$pid; sleep 15; kill -9 -- -$pid; break; fi
  sleep 5
done
echo "wall ${SECONDS}s"
nvidia-smi --query-gpu=name,memory.used --format=csv
tail -3 $ROOT/runs/*.log
cd $ROOT && tar czf $OUT/paper_results.tar.gz --exclude=checkpoint.pt . && tar czf $OUT/paper_checkpoints.tar.gz runs/dnnet_s0/checkpoint.pt runs/anytime_s0/checkpoint.pt
ls -la $OUT
