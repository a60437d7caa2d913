#!/usr/bin/env bash
# Vision benchmark: SmolVLM-256M shapes (random weights, fp32), one 512×512 PNG and a ~20-token question, 64 new tokens,
# greedy. Capa is `capa serve` answering streamed chat completions over HTTP on 127.0.0.1 (the image sent as a base64
# data: URL); the peer is transformers.js (tests/oracle's @huggingface/transformers) in one process. Both sides use the
# same folder, image and question; rounds interleave the two. Each run makes two turns with the same image: Capa's second
# turn finds the image's features in its cache, transformers.js encodes again.
#
#   bench/vision.sh [ROUNDS] [MODES] > lines.jsonl     (MODES: "global split"; global = detail low, split = detail high)
#
# Writes the model folder once into $CAPA_BENCH_WORK (default /tmp/capa-vision-bench). bench/RESULTS-vision.md holds a
# run's table and how it was read.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-2}
modes=${2:-"global split"}
work=${CAPA_BENCH_WORK:-/tmp/capa-vision-bench}
question="What is shown in this picture? Describe the colours, the shapes and how they are laid out."
port=${CAPA_BENCH_PORT:-18431}
mkdir -p "$work/models" "$work/state"
dotnet build "$root/src/Capa.Cli" -c Release -nodeReuse:false -v q >&2
capa="$root/artifacts/${CAPA_BUILD_SLOT:-}/bin/Capa.Cli/release/capa"
capa=${capa//\/\//\/}
model="$work/models/smolvlm-256m-shapes"
[ -f "$model/config.json" ] || "$capa" testmodel "$model" --arch smolvlm --size 256m-real-shapes >&2
[ -f "$work/image.png" ] || node "$root/bench/vision/image.mjs" "$work/image.png" 512
[ -f "$work/warm.png" ] || node "$root/bench/vision/image.mjs" "$work/warm.png" 8

server=
stop() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; server=; }
trap stop EXIT
for round in $(seq 1 "$rounds"); do
  for mode in $modes; do
    detail=low; [ "$mode" = split ] && detail=high
    # A fresh server per run, so the first measured turn meets an empty feature cache. One unmeasured request with
    # another (8×8) image loads the model and warms ONNX Runtime first, as transformers.js' load is not timed either.
    "$capa" serve --models-dir "$work/models" --state-dir "$work/state" --urls "http://127.0.0.1:$port" >"$work/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null && break; sleep 0.5; done
    node "$root/bench/vision/capa-client.mjs" "http://127.0.0.1:$port" smolvlm-256m-shapes "$work/warm.png" low hi 1 1 >/dev/null
    node "$root/bench/vision/capa-client.mjs" "http://127.0.0.1:$port" smolvlm-256m-shapes "$work/image.png" "$detail" "$question" 64 2 \
      | sed "s/^{/{\"round\":$round,\"mode\":\"$mode\",/"
    stop
    node "$root/bench/vision/transformers-js.mjs" "$model" "$work/image.png" "$work/warm.png" "$mode" "$question" 64 2 \
      | sed "s/^{/{\"round\":$round,\"mode\":\"$mode\",/"
  done
done
