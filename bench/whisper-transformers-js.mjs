// transformers.js side of bench/Capa.Whisper.Bench: one measurement of the automatic-speech-recognition pipeline.
//
//   node whisper-transformers-js.mjs MODEL_DIR AUDIO.f32      (@huggingface/transformers from tests/oracle)
//
// Prints "seconds peak_rss_bytes": model load and transcription, 30-second chunks without overlap, greedy, English,
// no timestamps, up to 224 new tokens per chunk.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'oracle', 'package.json'));
const { pipeline, env } = await import(pathToFileURL(require.resolve('@huggingface/transformers')).href);

const [dir, audioPath] = process.argv.slice(2).map((p) => path.resolve(p));
const start = process.hrtime.bigint();
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(dir) + path.sep;
const bytes = fs.readFileSync(audioPath);
const audio = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
const asr = await pipeline('automatic-speech-recognition', path.basename(dir), { dtype: 'fp32', device: 'cpu', local_files_only: true });
await asr(audio, { chunk_length_s: 30, stride_length_s: 0, language: 'en', task: 'transcribe', return_timestamps: false, max_new_tokens: 224 });
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`${seconds} ${process.resourceUsage().maxRSS * 1024}`);
