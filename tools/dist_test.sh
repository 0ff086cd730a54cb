#!/usr/bin/env bash
# Evaluate a checkpoint on several processes with torchrun (GPUs with nccl, or CPU processes with gloo);
# the metrics and --out predictions equal one process's.
#   bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py options...]
# Paths are relative to the folder you call it from. Several machines: NNODES, NODE_RANK, MASTER_ADDR
# and PORT as for tools/dist_train.sh.
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
exec python -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$(dirname "$0")/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
