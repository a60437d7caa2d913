#!/usr/bin/env bash
# Huge-prompt bursts: 1, then 8, then 32 concurrent chat requests of one 10 MiB user message each, against `capa serve`
# (Release build, 127.0.0.1, the default capa-tiny model in a fresh model store), all refused with OpenAI's 400
# context_length_exceeded. Per burst: request latency (median, max), the server's peak RSS during the burst and its RSS
# after idle. Then, when a llama.cpp peer kit is given (../shared/peers/llamacpp, installed as its README says), what
# llama.cpp pays before its own context check: tokenizing the same 10 MiB prompt (llama.cpp's server tokenizes a prompt
# in full before comparing it with n_ctx).
#   CAPA_DLL=artifacts/<slot>/bin/Capa.Cli/release/capa.dll bench/huge-prompts.sh [LLAMACPP_DIR GGUF] > lines.jsonl
# Wrap it in `flock /tmp/capa-peers.lock` like the other benchmarks. Environment: PORT (default 8089), NS (1,8,32),
# MIB (10), LLAMA_ROUNDS (tokenizations of the peer, default 3), IDLE_WAIT (seconds between a burst and its idle RSS, default 2), FINAL_IDLE_WAIT (default 70: past the
# server's end-of-burst collections, including the one that lets the shared array pool drop its large buffers).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
capa=${CAPA_DLL:?set CAPA_DLL to the Release capa.dll (dotnet build src/Capa.Cli -c Release)}
llama=${1:-} gguf=${2:-}
port=${PORT:-8089} ns=${NS:-1,8,32} mib=${MIB:-10}
work=$(mktemp -d /tmp/capa-huge-prompts.XXXXXX)
server=
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

dotnet "$capa" serve --urls "http://127.0.0.1:$port" --models-dir "$work/models" --state-dir "$work/state" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/v1/models" > /dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/v1/models" > /dev/null || { echo "capa serve did not answer in 300 s" >&2; exit 1; }

/usr/bin/python3 "$here/huge-prompts.py" --base-url "http://127.0.0.1:$port" --server-pid "$server" --ns "$ns" --mib "$mib" \
  --idle-wait "${IDLE_WAIT:-2}" --final-idle-wait "${FINAL_IDLE_WAIT:-70}" --label capa
kill "$server"; wait "$server" 2>/dev/null || true; server=

if [[ -n $llama ]]; then
  # node-llama-cpp resolves from the kit's node_modules; the script runs from a file there (see the kit's README).
  cp "$here/huge-prompts-llamacpp.mjs" "$llama/.huge-prompts-llamacpp.mjs"
  (cd "$llama" && node .huge-prompts-llamacpp.mjs --model "$gguf" --mib "$mib" --rounds "${LLAMA_ROUNDS:-3}")
  rm -f "$llama/.huge-prompts-llamacpp.mjs"
fi
