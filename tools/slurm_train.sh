#!/usr/bin/env bash
# Train on a Slurm cluster: one task per process, as mmdetection's slurm_train.sh.
#   [GPUS=16] [GPUS_PER_NODE=8] bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options...]
# GPUS is the total number of processes, GPUS_PER_NODE the processes per machine, CPUS_PER_TASK the cores
# each gets. On CPU-only partitions set GRES= (empty) and GPUS / GPUS_PER_NODE to the process counts; the
# backend then is gloo. SRUN_ARGS passes more options to srun (e.g. "--quotatype=auto").
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
shift 4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
GRES=${GRES-gpu:${GPUS_PER_NODE}}
SRUN_ARGS=${SRUN_ARGS:-""}
# shellcheck disable=SC2086  # SRUN_ARGS holds several options
srun -p "$PARTITION" --job-name="$JOB_NAME" ${GRES:+--gres="$GRES"} --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 $SRUN_ARGS \
    python -u "$(dirname "$0")/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm "$@"
