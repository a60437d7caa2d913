#!/usr/bin/env bash
# Neural voices through Capa (Kokoro-82M's shapes, a Piper medium voice's shapes; random weights) beside kokoro-js on
# the same Kokoro folder, in the same run. Writes the "Neural voices" section of bench/RESULTS-speech.md.
#   bench/speech-neural.sh [repetitions]
# Needs espeak-ng, node and kokoro-js (npm ci in tests/oracle, or CAPA_ORACLE_DIR pointing at such a folder).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$repo/bench/out/speech-neural"
reps="${1:-3}"
mkdir -p "$out"
capa=(dotnet run -c Release --project "$repo/src/Capa.Cli" --)
if [[ ! -f "$out/Kokoro-82M-real-shapes/onnx/model.onnx" ]]; then
  "${capa[@]}" testmodel "$out/Kokoro-82M-real-shapes" --arch kokoro --size real-shapes --force
fi
if [[ ! -f "$out/piper-medium-real-shapes/en_US-test-medium.onnx" ]]; then
  "${capa[@]}" testmodel "$out/piper-medium-real-shapes" --arch piper --size real-shapes --force
fi
dotnet run -c Release --project "$repo/bench/Capa.Speech.Bench" -- neural \
  "$out/Kokoro-82M-real-shapes" "$out/piper-medium-real-shapes" "$repo/bench/RESULTS-speech.md" "$reps"
