#!/usr/bin/env bash
# Train on several processes with torchrun + DDP (GPUs with nccl, or CPU processes with gloo).
#   bash tools/dist_train.sh CONFIG NPROC [train.py options...]
# Paths (config, --work-dir, --data-root, --resume) are relative to the folder you call it from.
# Several machines: run it on each with NNODES, NODE_RANK, MASTER_ADDR (and PORT) set, e.g.
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 bash tools/dist_train.sh CONFIG 8     (first machine)
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 bash tools/dist_train.sh CONFIG 8     (second machine)
# See docs/training_at_scale.md.
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
exec python -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "$@"
