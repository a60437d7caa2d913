// Whisper oracle: runs @huggingface/transformers on raw audio and on a local Whisper model folder.
//
//   node whisper.mjs features --audio FILE.f32 --out FILE.f32 [--mels 80]
//       Writes WhisperFeatureExtractor's input_features ([mels, 3000] float32, little-endian) to --out.
//   node whisper.mjs generate --model DIR --audio FILE.f32 [--language en] [--task transcribe] [--max-new-tokens 32]
//       Prints {"ids": [...]}: greedy Whisper generate without timestamps, the full sequence (prompt included).
//   node whisper.mjs alignment --model DIR --audio FILE.f32 --tokens 1,2,3 --out FILE.f32 [--num-frames 1500]
//       Runs the decoder once over --tokens (no cache) on a model exported with cross-attentions, writes every layer's
//       cross_attentions.N ([heads, tokens, 1500] float32 each, in layer order) to --out, and prints
//       {"layers": N, "timestamps": [...]}: transformers.js' _extract_token_timestamps over the generation config's
//       alignment heads with no prefix skipped (the time each token row's warping path starts).
//   node whisper.mjs token-timestamps --model DIR --audio FILE.f32 [--language en] [--task transcribe] [--max-new-tokens 32]
//       Prints {"ids": [...], "timestamps": [...]}: greedy generate with return_token_timestamps (the cross-attentions
//       of every cached step, the generation config's alignment heads).
//
// Audio files are raw float32 little-endian mono samples at 16 kHz.
import fs from 'node:fs';
import path from 'node:path';
import { AutoModelForSpeechSeq2Seq, Tensor, WhisperFeatureExtractor, env } from '@huggingface/transformers';

function parseArgs(argv) {
  const args = { mels: 80, language: 'en', task: 'transcribe', maxNewTokens: 32 };
  args.command = argv[0];
  for (let i = 1; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value after ${key}`);
    switch (key) {
      case '--audio': args.audio = value; break;
      case '--out': args.out = value; break;
      case '--mels': args.mels = Number.parseInt(value, 10); break;
      case '--model': args.model = value; break;
      case '--language': args.language = value; break;
      case '--task': args.task = value; break;
      case '--max-new-tokens': args.maxNewTokens = Number.parseInt(value, 10); break;
      case '--tokens': args.tokens = value.split(',').map((t) => Number.parseInt(t, 10)); break;
      case '--num-frames': args.numFrames = Number.parseInt(value, 10); break;
      default: throw new Error(`unknown argument ${key}`);
    }
  }
  if (!args.audio) throw new Error('--audio FILE is required');
  return args;
}

function readAudio(file) {
  const bytes = fs.readFileSync(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function extractor(mels) {
  return new WhisperFeatureExtractor({
    feature_size: mels, sampling_rate: 16000, hop_length: 160, chunk_length: 30, n_fft: 400,
    n_samples: 480000, nb_max_frames: 3000, padding_value: 0.0, return_attention_mask: false,
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const audio = readAudio(args.audio);
  if (args.command === 'features') {
    const { input_features } = await extractor(args.mels)(audio);
    fs.writeFileSync(args.out, Buffer.from(input_features.data.buffer, input_features.data.byteOffset, input_features.data.byteLength));
    console.log(JSON.stringify({ dims: input_features.dims }));
    return;
  }
  if (!['generate', 'alignment', 'token-timestamps'].includes(args.command)) throw new Error(`unknown command ${args.command}`);
  const dir = path.resolve(args.model);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(dir) + path.sep;
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const model = await AutoModelForSpeechSeq2Seq.from_pretrained(path.basename(dir), { local_files_only: true, dtype: 'fp32', device: 'cpu' });
  const { input_features } = await extractor(config.num_mel_bins)(audio);
  if (args.command === 'alignment') {
    const generation = JSON.parse(fs.readFileSync(path.join(dir, 'generation_config.json'), 'utf8'));
    const ids = new Tensor('int64', BigInt64Array.from(args.tokens.map(BigInt)), [1, args.tokens.length]);
    const outputs = await model({ input_features, decoder_input_ids: ids });
    const layers = Object.keys(outputs).filter((name) => name.startsWith('cross_attentions'));
    if (layers.length !== config.decoder_layers) throw new Error(`expected ${config.decoder_layers} cross_attentions outputs, got ${layers.length}`);
    const buffers = layers.map((name) => Buffer.from(outputs[name].data.buffer, outputs[name].data.byteOffset, outputs[name].data.byteLength));
    fs.writeFileSync(args.out, Buffer.concat(buffers));
    // One more slot than tokens: the extraction appends the last jump time again (for a final end-of-text token).
    const sequences = { dims: [1, args.tokens.length + 1] };
    const timestamps = model._extract_token_timestamps(
      { cross_attentions: [layers.map((name) => outputs[name])], sequences },
      generation.alignment_heads, args.numFrames ?? 1500, 0.02, 0);
    console.log(JSON.stringify({ layers: layers.length, timestamps: Array.from(timestamps.data).slice(0, args.tokens.length) }));
    return;
  }
  if (args.command === 'token-timestamps') {
    const output = await model.generate({
      inputs: input_features,
      language: args.language,
      task: args.task,
      is_multilingual: true,
      return_timestamps: false,
      return_token_timestamps: true,
      do_sample: false,
      max_new_tokens: args.maxNewTokens,
    });
    console.log(JSON.stringify({
      ids: Array.from(output.sequences.tolist()[0], Number),
      timestamps: Array.from(output.token_timestamps.tolist()[0], Number),
    }));
    return;
  }
  const output = await model.generate({
    inputs: input_features,
    language: args.language,
    task: args.task,
    is_multilingual: true,
    return_timestamps: false,
    do_sample: false,
    max_new_tokens: args.maxNewTokens,
  });
  console.log(JSON.stringify({ ids: Array.from(output.tolist()[0], Number) }));
}

main().catch((error) => {
  console.error(error?.stack ?? String(error));
  process.exit(1);
});
