#!/usr/bin/env bash
# Train on a Slurm cluster: one task per process, as mmdetection's slurm_train.sh, surviving preemption.
#   [GPUS=16] [GPUS_PER_NODE=8] bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options...]
# GPUS is the total number of processes, GPUS_PER_NODE the processes per machine, CPUS_PER_TASK the cores
# each gets. On CPU-only partitions set GRES= (empty) and GPUS / GPUS_PER_NODE to the process counts; the
# backend then is gloo. SRUN_ARGS passes more options to srun (e.g. "--quotatype=auto").
#
# Preemption and time limits (docs/training_at_scale.md): srun asks Slurm to send the training processes
# SIGUSR1 SIGNAL_TIME seconds (default 120) before the time limit; on SIGUSR1, or on the SIGTERM of a
# preemption, training finishes its step, writes a checkpoint and exits with 128 + the signal (138, 143).
# Run from a batch job (sbatch --requeue ...), this script then requeues the job, which starts again and
# resumes: train.py gets --resume (from WORK_DIR's last_checkpoint, or from scratch if there is none)
# unless RESUME=0.
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
SIGNAL_TIME=${SIGNAL_TIME:-120}
RESUME_FLAG=--resume
[ "${RESUME:-1}" = 1 ] || RESUME_FLAG=""
# A preemption signals this script too: wait for the training's checkpoint instead of dying before it.
trap 'echo "slurm_train.sh: SIGTERM received, waiting for training to write its checkpoint" >&2' TERM
status=0
# shellcheck disable=SC2086  # SRUN_ARGS holds several options
srun -p "$PARTITION" --job-name="$JOB_NAME" ${GRES:+--gres="$GRES"} --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
    --signal="USR1@${SIGNAL_TIME}" $SRUN_ARGS \
    python -u "$(dirname "$0")/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm ${RESUME_FLAG:+"$RESUME_FLAG"} \
    "$@" || status=$?
if { [ "$status" -eq 138 ] || [ "$status" -eq 143 ]; } && [ -n "${SLURM_JOB_ID:-}" ]; then
    echo "slurm_train.sh: training stopped by a signal after writing a checkpoint; requeueing job $SLURM_JOB_ID" >&2
    scontrol requeue "$SLURM_JOB_ID" || echo "slurm_train.sh: requeue failed; submit again to resume" >&2
fi
exit "$status"
