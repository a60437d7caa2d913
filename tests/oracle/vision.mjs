// Vision-language oracle: runs @huggingface/transformers' Idefics3ForConditionalGeneration (SmolVLM) on a local folder.
//
//   node vision.mjs generate --model DIR --pixels FILE.f32 --width W --height H --split true|false
//                            --question TEXT [--max-new-tokens 16]
//       Prints {"prompt": [...], "generated": [...], "pixel_dims": [...], "rows": R, "cols": C}.
//
// The prompt is built by the model's own processor: its chat template with one {"type": "image"} part and the
// question, and the <image> expansion for the tile grid its image processor gives a blank W×H image (with or without
// splitting). The pixel values it computed are then REPLACED by the raw float32 tensor in --pixels (same dims, checked),
// with an all-true pixel_attention_mask, so that Capa and transformers.js run the model on the same pixels: the two
// resize differently (transformers.js rounds its own way), which is tested elsewhere against Pillow.
import fs from 'node:fs';
import path from 'node:path';
import { AutoProcessor, Idefics3ForConditionalGeneration, RawImage, Tensor, env } from '@huggingface/transformers';

function parseArgs(argv) {
  const args = { maxNewTokens: 16, split: false };
  args.command = argv[0];
  for (let i = 1; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value after ${key}`);
    switch (key) {
      case '--model': args.model = value; break;
      case '--pixels': args.pixels = value; break;
      case '--width': args.width = Number.parseInt(value, 10); break;
      case '--height': args.height = Number.parseInt(value, 10); break;
      case '--split': args.split = value === 'true'; break;
      case '--question': args.question = value; break;
      case '--max-new-tokens': args.maxNewTokens = Number.parseInt(value, 10); break;
      default: throw new Error(`unknown argument ${key}`);
    }
  }
  for (const required of ['model', 'pixels', 'width', 'height', 'question']) {
    if (args[required] === undefined) throw new Error(`--${required} is required`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.command !== 'generate') throw new Error(`unknown command ${args.command}`);
  const dir = path.resolve(args.model);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(dir) + path.sep;
  const name = path.basename(dir);
  const processor = await AutoProcessor.from_pretrained(name, { local_files_only: true });
  const model = await Idefics3ForConditionalGeneration.from_pretrained(name, { local_files_only: true, dtype: 'fp32', device: 'cpu' });

  const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: args.question }] }];
  const text = processor.apply_chat_template(messages, { add_generation_prompt: true });
  const blank = new RawImage(new Uint8ClampedArray(args.width * args.height * 3).fill(128), args.width, args.height, 3);
  const inputs = await processor(text, [blank], { do_image_splitting: args.split });

  const bytes = fs.readFileSync(args.pixels);
  const pixels = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const dims = inputs.pixel_values.dims;
  if (dims.reduce((a, b) => a * b, 1) !== pixels.length) {
    throw new Error(`the processor made pixel_values ${JSON.stringify(dims)}, but --pixels holds ${pixels.length} floats`);
  }
  const pixel_values = new Tensor('float32', pixels, dims);
  const maskDims = [dims[0], dims[1], dims[3], dims[4]];
  const pixel_attention_mask = new Tensor('bool', new Uint8Array(maskDims.reduce((a, b) => a * b, 1)).fill(1), maskDims);

  const output = await model.generate({
    ...inputs,
    pixel_values,
    pixel_attention_mask,
    do_sample: false,
    max_new_tokens: args.maxNewTokens,
  });
  const prompt = Array.from(inputs.input_ids.tolist()[0], Number);
  const all = Array.from(output.tolist()[0], Number);
  console.log(JSON.stringify({
    prompt,
    generated: all.slice(prompt.length),
    pixel_dims: dims,
    rows: inputs.rows?.[0]?.[0] ?? 0,
    cols: inputs.cols?.[0]?.[0] ?? 0,
  }));
}

main().catch((error) => {
  console.error(error?.stack ?? String(error));
  process.exit(1);
});
