// Qwen2-VL oracle: runs @huggingface/transformers' Qwen2VLForConditionalGeneration on a local folder (or
// Qwen2_5_VLForConditionalGeneration, which feeds the grid as image_grid_thw, when config.json's model_type is qwen2_5_vl).
//
//   node qwen2vl.mjs generate --model DIR --pixels FILE.f32 --width W --height H --question TEXT [--max-new-tokens 16]
//       Prints {"prompt": [...], "generated": [...], "pixel_dims": [...], "grid": [t, h, w]}.
//
// The prompt is built by the model's own processor: its chat template with one {"type": "image"} part and the
// question, and the <|image_pad|> expansion for the grid its image processor gives a blank W×H image. Its pixel values
// are then REPLACED by the raw float32 rows in --pixels (same dims, checked), so that Capa and transformers.js run the
// model on the same pixels: the two resize differently (transformers.js has its own bicubic and rounds halves up in
// smart_resize), and Capa's preprocessing is tested against Pillow elsewhere. Positions (get_rope_index, rope deltas
// while decoding) are transformers.js' own.
import fs from 'node:fs';
import path from 'node:path';
import { AutoProcessor, Qwen2VLForConditionalGeneration, Qwen2_5_VLForConditionalGeneration, RawImage, Tensor, env } from '@huggingface/transformers';

function parseArgs(argv) {
  const args = { maxNewTokens: 16 };
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
  const modelType = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).model_type;
  const ModelClass = modelType === 'qwen2_5_vl' ? Qwen2_5_VLForConditionalGeneration : Qwen2VLForConditionalGeneration;
  const model = await ModelClass.from_pretrained(name, { local_files_only: true, dtype: 'fp32', device: 'cpu' });

  const messages = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: args.question }] }];
  const text = processor.apply_chat_template(messages, { add_generation_prompt: true });
  const blank = new RawImage(new Uint8ClampedArray(args.width * args.height * 3).fill(128), args.width, args.height, 3);
  const inputs = await processor(text, [blank]);

  const bytes = fs.readFileSync(args.pixels);
  const pixels = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const dims = inputs.pixel_values.dims;
  if (dims.reduce((a, b) => a * b, 1) !== pixels.length) {
    throw new Error(`the processor made pixel_values ${JSON.stringify(dims)}, but --pixels holds ${pixels.length} floats`);
  }
  const pixel_values = new Tensor('float32', pixels, dims);

  const output = await model.generate({
    ...inputs,
    pixel_values,
    do_sample: false,
    max_new_tokens: args.maxNewTokens,
  });
  const prompt = Array.from(inputs.input_ids.tolist()[0], Number);
  const all = Array.from(output.tolist()[0], Number);
  console.log(JSON.stringify({
    prompt,
    generated: all.slice(prompt.length),
    pixel_dims: dims,
    grid: Array.from(inputs.image_grid_thw.tolist()[0], Number),
  }));
}

main().catch((error) => {
  console.error(error?.stack ?? String(error));
  process.exit(1);
});
