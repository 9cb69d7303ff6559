#!/bin/bash
# second part: plain_s0 again (its checkpoint did not come back from the first part), then every experiment
EPOCHS=${EPOCHS:-6}; DEADLINE=${DEADLINE:-190}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
ROOT=/tmp/paper; mkdir -p $ROOT
(cd $ROOT && tar xzf $OLDPWD/.data/paper_results.tar.gz && tar xzf $OLDPWD/.data/paper_checkpoints.tar.gz && rm -rf runs/plain_s0 runs/plain_s0.log experiments/fig4.* )
cat > /tmp/dnnet_cli.py <<'PY'
import sys
from dnnet.cli.main import main
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
PY
ARGS="--protocol paper --data .data/cifar10-jpg.tar.gz --epochs $EPOCHS --out $ROOT --cache-dir /tmp/cache --quiet"
setsid bash -c "time python3 /tmp/dnnet_cli.py experiment all $ARGS" > $OUT/all2.log 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
  if [ $SECONDS -gt $DEADLINE ]; then echo "deadline: stopping at ${SECONDS}s"; kill -INT -- -$pid; sleep 10; kill -9 -- -$pid; break; fi
  sleep 3
done
echo "wall ${SECONDS}s"
cd $ROOT && tar czf $OUT/paper_results2.tar.gz --exclude=checkpoint.pt . && tar czf $OUT/plain_checkpoint.tar.gz runs/plain_s0/checkpoint.pt
ls -la $OUT
