#!/usr/bin/env bash
# Phase 3 of the embedded model (see README, model card): continue from the packaged model on one
# GPU, time-boxed. Writes best.tar, last.tar, train_log.jsonl and train.log under $OUT (or ./build).
# Usage: scripts/train_on_gpu.sh [MINUTES] [WORKERS] [BATCH]
set -uo pipefail
OUT=${OUT:-build/gpu-out}
MINUTES=${1:-7}
WORKERS=${2:-14}
BATCH=${3:-128}
WORK=${WORK:-/tmp/mannsim-train3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
$PY -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())"
args=(--init mannsim/models/mannsim-tiny --dialect schuurmans,compact --seed 3 --steps 15000
      --batch "$BATCH" --lr 1e-3 --eval-every 500 --val-machines 400 --symbols-max 6
      --long-names 0.7 --name-max 11 --max-minutes "$MINUTES")
$PY -m mannsim.train --out "$WORK" --workers "$WORKERS" "${args[@]}" 2>&1 \
    | grep -v --line-buffered "Writing model\|Loading weights" | tee "$OUT/train.log"
if [ ! -d "$WORK/best" ]; then   # the worker pool failed: train in one process, shorter
    echo "retrying without workers" | tee -a "$OUT/train.log"
    $PY -m mannsim.train --out "$WORK" --workers 0 "${args[@]/$MINUTES/3}" 2>&1 \
        | grep -v --line-buffered "Writing model\|Loading weights" | tee -a "$OUT/train.log"
fi
cp "$WORK/train_log.jsonl" "$OUT/" 2>/dev/null
tar -C "$WORK" -cf "$OUT/best.tar" best 2>/dev/null
tar -C "$WORK" -cf "$OUT/last.tar" last 2>/dev/null
ls -la "$OUT"
