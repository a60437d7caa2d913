#!/usr/bin/env bash
# Time to first token at turn 10 of a conversation (~200 new tokens per turn), with the prefix cache (default 1 GiB)
# and without (--prefix-cache-bytes 0), against `capa serve` on Qwen2.5-0.5B shapes (random weights, q4). The two
# servers run side by side and the runs alternate (A B A B) so that machine noise falls on both; both the Responses API
# (a previous_response_id chain) and chat (the message list re-sent) are measured. Output: one JSON line per run.
#   CAPA_DLL=artifacts/<slot>/bin/Capa.Cli/release/capa.dll bench/prefix-cache.sh [ROUNDS] > lines.jsonl
# Environment: MODELS (a folder holding qwen2-0.5b; written with `capa testmodel` when missing), PORT (default 8090,
# and PORT+1), APIS ("responses chat"), TURNS (10), WORDS (55 words per turn: with the answer, ~200 tokens of the
# test model's small tokenizer).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
capa=${CAPA_DLL:?set CAPA_DLL to the Release capa.dll (dotnet build src/Capa.Cli -c Release)}
rounds=${1:-2}
port=${PORT:-8090}
work=$(mktemp -d /tmp/capa-prefix-cache.XXXXXX)
models=${MODELS:-$work/models}
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if [[ ! -f $models/qwen2-0.5b/onnx/model_q4.onnx ]]; then
  dotnet "$capa" testmodel "$models/qwen2-0.5b" --arch qwen2 --size 0.5b --quant q4 >&2
fi

start() { # PORT STATE EXTRA...
  local p=$1 state=$2; shift 2
  dotnet "$capa" serve --urls "http://127.0.0.1:$p" --models-dir "$models" --state-dir "$state" "$@" > "$state.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$p/v1/models" > /dev/null && return 0
    sleep 0.5
  done
  cat "$state.log" >&2
  exit 1
}

start "$port" "$work/cached"
start "$((port + 1))" "$work/plain" --prefix-cache-bytes 0
model=$(curl -sf "http://127.0.0.1:$port/v1/models" | /usr/bin/python3 -c 'import json,sys; print(next(m["id"] for m in json.load(sys.stdin)["data"] if "0.5b" in m["id"]))')
for r in $(seq 1 "$rounds"); do
  for api in ${APIS:-responses chat}; do
    /usr/bin/python3 "$here/prefix-cache.py" --base-url "http://127.0.0.1:$port" --model "$model" --api "$api" \
      --turns "${TURNS:-10}" --words "${WORDS:-55}" --salt "$r" --label "round $r, prefix cache 1 GiB"
    /usr/bin/python3 "$here/prefix-cache.py" --base-url "http://127.0.0.1:$((port + 1))" --model "$model" --api "$api" \
      --turns "${TURNS:-10}" --words "${WORDS:-55}" --salt "$r" --label "round $r, prefix cache off"
  done
done
