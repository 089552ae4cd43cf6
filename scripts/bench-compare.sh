#!/usr/bin/env bash
# `kqat bench` of two builds, run alternately on the same machine so that load hits both alike:
# prints each round's figures and the after/before ratio of the medians.
#   bash scripts/bench-compare.sh BEFORE_REV [AFTER_REV=HEAD] [ROUNDS=3] [STEPS=50]
# Each revision is built in its own worktree under ${KQAT_BENCH_DIR:-/tmp/kqat-bench} (reactor
# `package`, nothing installed into ~/.m2).
set -euo pipefail
cd "$(dirname "$0")/.."
before="${1:?give the revision to compare against}"; after="${2:-HEAD}"; rounds="${3:-3}"; steps="${4:-50}"
work="${KQAT_BENCH_DIR:-/tmp/kqat-bench}"
mkdir -p "$work"
build() {
  local rev; rev="$(git rev-parse --short "$1")"
  local dir="$work/$rev"
  if [[ ! -f "$dir/scripts/target/classpath.txt" ]]; then
    rm -rf "$dir"; git worktree prune
    git worktree add -q --detach "$dir" "$rev"
    (cd "$dir" && mvn -q -B package -DskipTests -pl .,runtime,dsl,scripts) >&2
  fi
  echo "$dir"
}
dir_before="$(build "$before")"; dir_after="$(build "$after")"
bench() {
  TF_CPP_MIN_LOG_LEVEL=2 java -Xmx4g -cp "$1/scripts/target/classes:$(cat "$1/scripts/target/classpath.txt")" \
    dev.kqat.scripts.CliKt bench --steps "$steps" --rounds 1 2>/dev/null
}
figure() { awk -v k="$1" '$1 == k { print $2 }'; }
declare -A values
for ((r = 1; r <= rounds; r++)); do
  for side in before after; do
    d="dir_$side"; out="$(bench "${!d}")"
    for key in fp32_images_per_sec qat_w4a4_images_per_sec qat_oscillation_control_images_per_sec; do
      values[$side.$key]+="$(figure "$key" <<< "$out") "
    done
    echo "round $r $side ($(git rev-parse --short "$([[ $side == before ]] && echo "$before" || echo "$after")")):" \
      "fp32 $(figure fp32_images_per_sec <<< "$out") qat $(figure qat_w4a4_images_per_sec <<< "$out")" \
      "qat+osc $(figure qat_oscillation_control_images_per_sec <<< "$out") img/s"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for key in fp32_images_per_sec qat_w4a4_images_per_sec qat_oscillation_control_images_per_sec; do
  b="$(median <<< "${values[before.$key]}")"; a="$(median <<< "${values[after.$key]}")"
  echo "$key median before $b after $a ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')"
done
