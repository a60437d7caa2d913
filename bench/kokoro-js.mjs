// kokoro-js peer of `bench/Capa.Speech.Bench neural`: the same Kokoro folder and texts, spoken sentence by sentence
// with kokoro-js's own stream (its TextSplitterStream, phonemizer and ONNX Runtime for Node), timed in-process.
//   node bench/kokoro-js.mjs DIR VOICE
// then one JSON request per stdin line, {"text": "..."}, answered by one JSON line on stdout:
//   {"first_ms": time to the first sentence's audio, "total_ms": time to the last, "samples": 24 kHz samples}.
// Packages come from tests/oracle (npm ci there), or from the folder named by CAPA_ORACLE_DIR.
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const oracle = process.env.CAPA_ORACLE_DIR || path.join(here, '..', 'tests', 'oracle');
const require = createRequire(path.join(oracle, 'package.json'));
const { env } = await import(pathToFileURL(require.resolve('@huggingface/transformers')).href);
const { KokoroTTS, TextSplitterStream } = await import(pathToFileURL(require.resolve('kokoro-js')).href);

const [dir, voice] = process.argv.slice(2);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(path.resolve(dir)) + path.sep;
const tts = await KokoroTTS.from_pretrained(path.basename(path.resolve(dir)), { dtype: 'fp32', device: 'cpu', local_files_only: true });

async function speak(text) {
  const start = performance.now();
  let first = -1;
  let samples = 0;
  // A closed splitter: stream() on a plain string never flushes its last sentence.
  const splitter = new TextSplitterStream();
  splitter.push(text);
  splitter.close();
  for await (const { audio } of tts.stream(splitter, { voice })) {
    if (first < 0) first = performance.now() - start;
    samples += audio.audio.length;
  }
  return { first_ms: first, total_ms: performance.now() - start, samples };
}

await speak('Warming up.');
console.log(JSON.stringify({ ready: true }));
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  console.log(JSON.stringify(await speak(JSON.parse(line).text)));
}
