#!/usr/bin/env bash
# Many users at once: aggregate tok/s and time to first token at 1, 2, 4, 8 and 16 concurrent streams, Capa over HTTP
# (`capa serve`, streamed chat completions) against llama.cpp (node-llama-cpp with `sequences: N`), same shapes
# (Qwen2.5-0.5B, random weights; Capa q4 at accuracy level 4, llama.cpp Q4_0), in the same run, rounds alternating.
#   CAPA_DLL=artifacts/bin/Capa.Cli/release/capa.dll bench/serving-load.sh MODELS_DIR LLAMACPP_DIR GGUF [ROUNDS] > lines.jsonl
# MODELS_DIR/qwen2-0.5b holds the q4 test model (written with `capa testmodel` when missing). LLAMACPP_DIR is a copy of
# ../shared/peers/llamacpp with node-llama-cpp installed and GGUF its Q4_0 model (its README says how). NS (default
# 1,2,4,8,16) and TOKENS (128) as in the peer's scripts. Summarize with `node LLAMACPP_DIR/summarize.mjs`.
set -euo pipefail
models=$1 llama=$2 gguf=$3 rounds=${4:-2}
capa=${CAPA_DLL:?set CAPA_DLL to the Release capa.dll}
ns=${NS:-1,2,4,8,16} tokens=${TOKENS:-128} port=${PORT:-8095}
state=$(mktemp -d /tmp/capa-serving-load.XXXXXX)
pid=
cleanup() { [[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$state"; }
trap cleanup EXIT
if [[ ! -f $models/qwen2-0.5b/onnx/model_q4.onnx ]]; then
  dotnet "$capa" testmodel "$models/qwen2-0.5b" --arch qwen2 --size 0.5b --quant q4 >&2
fi
for r in $(seq 1 "$rounds"); do
  (cd "$llama" && node concurrent.mjs --model "$gguf" --ns "$ns" --tokens "$tokens" --threads 2)
  # The prefix cache is off: every N re-sends the same texts, which llama.cpp (a fresh context per N) cannot reuse.
  dotnet "$capa" serve --urls "http://127.0.0.1:$port" --models-dir "$models" --state-dir "$state/$r" \
    --prefix-cache-bytes 0 > "$state/$r.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$port/v1/models" > /dev/null && break; sleep 0.5; done
  model=$(curl -sf "http://127.0.0.1:$port/v1/models" | /usr/bin/python3 -c 'import json,sys; print(next(m["id"] for m in json.load(sys.stdin)["data"] if "0.5b" in m["id"]))')
  (cd "$llama" && node load-openai.mjs --base-url "http://127.0.0.1:$port" --model "$model" --ns "$ns" --tokens "$tokens" \
    --server-pid "$pid" --label capa)
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
