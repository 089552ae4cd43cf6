#!/usr/bin/env bash
# Compiles kqat's CPU kernels (every .c file of SOURCE_DIR) into one library against TensorFlow's
# framework library (the runtime module's build calls this): build.sh SOURCE_DIR TENSORFLOW_NATIVE_DIR OUTPUT
set -euo pipefail
source_dir=$1 natives=$2 output=$3
sources=("$source_dir"/*.c)

compiler=${CC:-}
if [[ -z $compiler ]]; then
  for candidate in cc gcc clang; do
    if command -v "$candidate" >/dev/null; then compiler=$candidate; break; fi
  done
fi
if [[ -z $compiler ]] || ! command -v "$compiler" >/dev/null; then
  echo "kqat: the runtime's CPU kernels ($source_dir/*.c) need a C compiler." >&2
  echo "      Install one (Debian: apt-get install -y gcc) or name it in CC." >&2
  exit 1
fi
framework=$(find "$natives" -name 'libtensorflow_framework.so.2' -print -quit)
if [[ -z $framework ]]; then
  echo "kqat: libtensorflow_framework.so.2 not found under $natives (unpacked from tensorflow-core-native)" >&2
  exit 1
fi
mkdir -p "$(dirname "$output")"
# -O3 vectorises the element loops (SSE2 baseline, so the library runs on any x86-64).
"$compiler" -O3 -std=c11 -Wall -Wextra -fPIC -shared -pthread -o "$output" "${sources[@]}" \
  -L"$(dirname "$framework")" -l:libtensorflow_framework.so.2 -lm
