#!/usr/bin/env bash
# Bring up the one-node SLURM cluster that tests/test_slurm.py runs the demo on.
# CI calls this before `make test`; developers may too (as root, Debian 12).
#
#   - sinfo already answers with a usable node: nothing to do.
#   - ../shared/tools/slurm_up.sh (beside the repository) is absent: say so and exit 0;
#     tests/test_slurm.py then skips with the reason.
#   - it exists: run it (bounded by SLURM_UP_TIMEOUT, default 600 s, it installs
#     slurm-wlm and munge with apt on a fresh machine) and FAIL if SLURM is not up
#     afterwards, so that a CI run that should show the SLURM run cannot pass silently
#     with the test skipped.
set -uo pipefail
cd "$(dirname "$0")/.."

SCRIPT=../shared/tools/slurm_up.sh
LIMIT=${SLURM_UP_TIMEOUT:-600}

usable() {  # a node in a state that takes jobs
  command -v sinfo >/dev/null 2>&1 \
    && timeout 20 sinfo --noheader --format=%t 2>/dev/null | grep -qE '^(idle|mix|alloc|comp)'
}
show() { timeout 20 sinfo --noheader --format='%P %a nodes=%D %t cpus=%c mem=%mMB' 2>&1; }

if usable; then
  echo "slurm_up: SLURM already answers: $(show)"
  exit 0
fi
if [ ! -f "$SCRIPT" ]; then
  echo "slurm_up: $SCRIPT not found: no SLURM for this run, tests/test_slurm.py will skip"
  exit 0
fi

echo "slurm_up: starting SLURM with $SCRIPT (at most ${LIMIT} s)"
timeout -k 10 "$LIMIT" bash "$SCRIPT"
rc=$?
if [ "$rc" -eq 0 ] && usable; then
  echo "slurm_up: ready: $(show)"
  exit 0
fi

if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  why="$SCRIPT did not finish within ${LIMIT} s"
elif [ "$rc" -ne 0 ]; then
  why="$SCRIPT exited with status $rc"
else
  why="$SCRIPT succeeded but sinfo shows no usable node"
fi
{
  echo "slurm_up: FAILED: $why"
  echo "--- sinfo -R"; timeout 20 sinfo -R 2>&1
  for f in /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log /var/log/munge/munged.log; do
    [ -f "$f" ] && { echo "--- tail $f"; tail -n 20 "$f"; }
  done
} >&2
exit 1
