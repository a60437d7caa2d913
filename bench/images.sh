#!/usr/bin/env bash
# Image generation benchmark: SD-Turbo's shapes (random float32 weights) at 512x512, 1 and 4 steps.
# Capa is driven over HTTP (`capa serve`, POST /v1/images/generations, b64_json PNG); the peer is a plain
# onnxruntime-node loop (bench/images-onnxruntime.mjs) on the same folder. Each round starts a fresh Capa server and a
# fresh node process, alternating (A B A B ...); each process makes a 1-step then a 4-step image. Session loading is
# reported apart from generation for both. Writes a table to bench/RESULTS-images.md unless RESULTS=... says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
STORE=${STORE:-/tmp/sdstore}
MODEL=bench/sd-turbo
PROMPT=${PROMPT:-a photograph of an astronaut riding a horse}
PORT=${PORT:-18461}
CAPA=${CAPA:-artifacts/${CAPA_BUILD_SLOT:-images}/bin/Capa.Cli/release/capa.dll}
[[ -f "$CAPA" ]] || CAPA=artifacts/${CAPA_BUILD_SLOT:-images}/bin/Capa.Cli/debug/capa.dll
OUT=${OUT:-/tmp/images-bench}
RESULTS=${RESULTS:-bench/RESULTS-images.md}
mkdir -p "$OUT"
[[ -d tests/oracle/node_modules ]] || ln -s /work/main/tests/oracle/node_modules tests/oracle/node_modules 2>/dev/null || true
if [[ ! -f "$STORE/$MODEL/unet/model.onnx" ]]; then
  timeout 1200 dotnet "$CAPA" testmodel "$STORE/$MODEL" --arch sd --size sd-turbo
fi

capa_round() { # $1 = round; prints JSON lines like the node script's
  local log="$OUT/capa-$1.log" time="$OUT/capa-$1.time"
  env "Logging__LogLevel__Capa.Server.Images.LocalImageProvider=Debug" \
    /usr/bin/time -v -o "$time" timeout 1800 dotnet "$CAPA" serve --models-dir "$STORE" --urls "http://127.0.0.1:$PORT" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null && break; sleep 1; done
  local steps quality
  for steps in 1 4; do
    quality=$([[ $steps == 1 ]] && echo standard || echo hd)
    local seconds
    seconds=$(curl -s -o "$OUT/capa-$1-$steps.json" -w '%{time_total}' --max-time 1500 "http://127.0.0.1:$PORT/v1/images/generations" \
      -H 'Content-Type: application/json' \
      -d "{\"model\":\"$MODEL\",\"prompt\":\"$PROMPT\",\"size\":\"512x512\",\"quality\":\"$quality\",\"response_format\":\"b64_json\",\"seed\":42}")
    grep -q '"b64_json"' "$OUT/capa-$1-$steps.json" || { echo "Capa failed: $(head -c 400 "$OUT/capa-$1-$steps.json")" >&2; kill "$pid"; exit 1; }
    echo "capa $steps $seconds"
  done
  pkill -INT -P "$(pgrep -P "$pid" -x timeout || echo "$pid")" 2>/dev/null || true; wait "$pid" || true
}

node_round() {
  /usr/bin/time -v -o "$OUT/node-$1.time" timeout 1800 node bench/images-onnxruntime.mjs "$STORE/$MODEL" "$PROMPT" 1 4 >"$OUT/node-$1.jsonl"
}

uptime | tee "$OUT/uptime-start"
for round in $(seq 1 "$ROUNDS"); do
  capa_round "$round" | tee "$OUT/capa-$round.txt"
  uptime | tee -a "$OUT/uptime-rounds"
  node_round "$round"; cat "$OUT/node-$round.jsonl"
  uptime | tee -a "$OUT/uptime-rounds"
done
uptime | tee "$OUT/uptime-end"
node bench/images-summary.mjs "$OUT" "$ROUNDS" | tee "$OUT/table.md"
