// Kokoro oracle: kokoro-js on a local Kokoro folder (onnx-community layout).
//
//   node kokoro.mjs --model DIR --texts FILE.json [--voice af_heart] [--speed 1] [--audio-dir DIR]
//       For each text of the JSON array, prints one JSON line per sentence kokoro-js speaks:
//       {"text", "phonemes", "ids"} and, with --audio-dir, writes the waveform (float32 little-endian, 24 kHz)
//       to DIR/<text index>-<sentence index>.f32.
//
// kokoro-js reads its voice tables from its own package (voices/*.bin), not from the model folder.
import fs from 'node:fs';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { KokoroTTS, TextSplitterStream } from 'kokoro-js';

const args = { voice: 'af_heart', speed: 1 };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i];
  const value = process.argv[i + 1];
  if (value === undefined) throw new Error(`missing value after ${key}`);
  switch (key) {
    case '--model': args.model = path.resolve(value); break;
    case '--texts': args.texts = value; break;
    case '--voice': args.voice = value; break;
    case '--speed': args.speed = Number.parseFloat(value); break;
    case '--audio-dir': args.audioDir = value; break;
    default: throw new Error(`unknown argument ${key}`);
  }
}
if (!args.model || !args.texts) throw new Error('--model DIR and --texts FILE are required');

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(args.model) + path.sep;
const tts = await KokoroTTS.from_pretrained(path.basename(args.model), { dtype: 'fp32', device: 'cpu', local_files_only: true });
const texts = JSON.parse(fs.readFileSync(args.texts, 'utf8'));
for (let t = 0; t < texts.length; t++) {
  let s = 0;
  // A closed splitter: stream() on a plain string never flushes its last sentence.
  const splitter = new TextSplitterStream();
  splitter.push(texts[t]);
  splitter.close();
  for await (const { text, phonemes, audio } of tts.stream(splitter, { voice: args.voice, speed: args.speed })) {
    const { input_ids } = tts.tokenizer(phonemes, { truncation: true });
    if (args.audioDir) {
      const data = audio.audio;
      fs.writeFileSync(path.join(args.audioDir, `${t}-${s}.f32`), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
    console.log(JSON.stringify({ index: t, text, phonemes, ids: Array.from(input_ids.data, Number) }));
    s++;
  }
}
