#!/usr/bin/env bash
# Runs FailurePathsSpec with 20 kill points (CI runs 3): each kills a real two-phase run with
# kill -9 at a seeded moment (the first while a checkpoint is written), checks the checkpoints,
# resumes with `kqat run --resume` and compares the final loss, top-1 and oscillation figures
# with the uninterrupted run. Prints one line per kill point.
#   bash scripts/kill-resume.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B install -DskipTests -pl .,runtime,dsl
mvn -B test -pl scripts -Dtest=FailurePathsSpec -Dsurefire.failIfNoSpecifiedTests=false -Dkqat.killPoints="${1:-20}" \
  | grep -E "kill point|full disk|Tests run:|FAIL"
