// Peer side of bench/vision.sh: @huggingface/transformers (tests/oracle's install) on the same SmolVLM folder, image and
// question, greedy, in one process.
//
//   node transformers-js.mjs MODEL_DIR IMAGE.png WARM.png split|global QUESTION MAX_TOKENS TURNS
//
// Prints one JSON line per turn, as capa-client.mjs does: time to first token from reading the image file (decoding,
// processor, vision encoder, prefill and the first token) and decode tokens per second after it. Model load and one
// warm-up generation on WARM.png (one token) are not timed, as on Capa's side. transformers.js keeps no image features between calls, so every turn encodes the image again.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'tests', 'oracle', 'package.json'));
const { AutoProcessor, AutoModelForVision2Seq, BaseStreamer, RawImage, env } = await import(pathToFileURL(require.resolve('@huggingface/transformers')).href);

const [dirArg, imagePath, warmPath, mode, question, maxTokens, turns] = process.argv.slice(2);
const dir = path.resolve(dirArg);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(dir) + path.sep;
const name = path.basename(dir);
const processor = await AutoProcessor.from_pretrained(name, { local_files_only: true });
const model = await AutoModelForVision2Seq.from_pretrained(name, { local_files_only: true, dtype: 'fp32', device: 'cpu' });

class Clock extends BaseStreamer {
  constructor() {
    super();
    this.calls = 0;
    this.first = null;
    this.last = null;
    this.tokens = 0;
  }

  put() {
    // The first call carries the prompt; each later one, one new token.
    if (this.calls++ === 0) return;
    const now = performance.now();
    this.first ??= now;
    this.last = now;
    this.tokens++;
  }

  end() {}
}

async function run(file, prompt, tokens, clock) {
  const image = await RawImage.read(path.resolve(file));
  const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: prompt }] }];
  const text = processor.apply_chat_template(messages, { add_generation_prompt: true });
  const inputs = await processor(text, [image], { do_image_splitting: mode === 'split' });
  await model.generate({ ...inputs, do_sample: false, max_new_tokens: tokens, streamer: clock });
  return inputs;
}

await run(warmPath, 'hi', 1, new Clock());
for (let turn = 1; turn <= Number(turns); turn++) {
  const start = performance.now();
  const clock = new Clock();
  const inputs = await run(imagePath, question, Number(maxTokens), clock);
  console.log(JSON.stringify({
    side: 'transformers.js',
    turn,
    ttft_ms: clock.first === null ? null : clock.first - start,
    decode_tok_s: clock.tokens > 1 ? (clock.tokens - 1) / ((clock.last - clock.first) / 1000) : null,
    prompt_tokens: inputs.input_ids.dims[1],
    completion_tokens: clock.tokens,
  }));
}
