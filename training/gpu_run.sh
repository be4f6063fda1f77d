#!/usr/bin/env bash
# Continue the committed training state on a lent GPU (the device tool), then hand everything back in $OUT.
#
# Here, once:  .venv/bin/python -m engine.training.pack        (writes .train-data/, git-ignored)
# There:       device run, carry [".train-data"], command "bash training/gpu_run.sh 7 [train.py flags]"
#
# MINUTES is the training loop's budget: keep it a few minutes under the call's limit (the photos take
# ~10 s to load, the state and the export a few seconds). Extra flags go to engine.training.train, e.g.
# `--plan 60000` to stretch the lr schedule over the many more steps a GPU makes. No validation there
# (the Kodak photos do not travel): score the export here on the wide validation split. See
# training/README.md, "On a lent GPU".
set -euo pipefail
minutes=${1:?usage: bash training/gpu_run.sh MINUTES [train.py flags]}
shift
out=${OUT:-out/gpu-run}
python=${PYTHON:-python3}
device=${HOURGLASS_TRAIN_DEVICE:-cuda}
state=${HOURGLASS_TRAIN_STATE:-training/state/diffuir-t.pt}
log=${HOURGLASS_TRAIN_LOG:-training/log.md}
mkdir -p "$out"
if [ ! -d .train-data ]; then
    echo "no .train-data here: run '.venv/bin/python -m engine.training.pack' first and carry .train-data" >&2
    exit 2
fi
"$python" -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA')"
PYTHONUNBUFFERED=1 "$python" -m engine.training.train --resume --device "$device" --minutes "$minutes" \
    --state "$state" --log "$log" --data .train-data --batch 32 --crop 256 --workers 12 --no-val \
    --export "$out/hourglass-diffuir-t.safetensors" "$@" 2>&1 | tee "$out/train.txt"
cp "$state" "$out/diffuir-t.pt"
cp "$log" "$out/log.md"
echo "state, log row, export and output in $out"
