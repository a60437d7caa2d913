#!/usr/bin/env bash
# Prefill before and after the last-position logits rewrite (Qwen2.5-0.5B shapes, q4, accuracy level 4, 512-token
# prompt, 2 threads), interleaved with llama.cpp Q4_0 (node-llama-cpp, ../shared/peers/llamacpp) in the same run.
#   bench/serving-prefill.sh MODELS_DIR LLAMACPP_DIR GGUF ROUNDS > lines.jsonl
# MODELS_DIR/qwen2-0.5b must hold the q4 test model (capa-bench --models MODELS_DIR --quants q4 writes it).
set -euo pipefail
models=$1 llama=$2 gguf=$3 rounds=${4:-3}
bench="dotnet ${BENCH_DLL:?set BENCH_DLL to the Release Capa.Bench.dll}"
for r in $(seq 1 "$rounds"); do
  # DIR QUANT PROMPT DECODE THREADS LOGITS_MIB MEMORY_PATTERN ACCURACY LAST_LOGITS_ONLY PREFILL_CHUNK
  echo "{\"round\":$r,\"config\":\"capa all-positions logits, chunk 110\",\"m\":$($bench --child "$models/qwen2-0.5b" q4 512 16 2 64 1 4 0 256)}"
  echo "{\"round\":$r,\"config\":\"capa last-position logits, chunk 256\",\"m\":$($bench --child "$models/qwen2-0.5b" q4 512 16 2 64 1 4 1 256)}"
  echo "{\"round\":$r,\"config\":\"capa last-position logits, chunk 512\",\"m\":$($bench --child "$models/qwen2-0.5b" q4 512 16 2 64 1 4 1 512)}"
  echo "{\"round\":$r,\"config\":\"llama.cpp Q4_0\",\"m\":$(cd "$llama" && node single.mjs --model "$gguf" --prompt-tokens 512 --tokens 16 --threads 2 --quiet-wait 0 | tail -1)}"
done
