// Greedy generation oracle: runs @huggingface/transformers (onnxruntime-node) on a local model folder.
//
//   node generate.mjs --model DIR [--dtype fp32|q4|int8] [--max-new-tokens 16] (--ids 1,2,3 | --text "...")
//
// Prints one JSON line: {"prompt_ids": [...], "generated_ids": [...]} where generated_ids are the new tokens
// only. Greedy (do_sample false) with no repetition penalty, so the result depends only on the model's logits;
// generation stops at generation_config's eos ids or after max-new-tokens.
import path from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, Tensor, env } from '@huggingface/transformers';

function parseArgs(argv) {
  const args = { dtype: 'fp32', maxNewTokens: 16 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value after ${key}`);
    switch (key) {
      case '--model': args.model = value; break;
      case '--dtype': args.dtype = value; break;
      case '--max-new-tokens': args.maxNewTokens = Number.parseInt(value, 10); break;
      case '--ids': args.ids = value.split(',').filter((s) => s.length > 0).map((s) => Number.parseInt(s, 10)); break;
      case '--text': args.text = value; break;
      default: throw new Error(`unknown argument ${key}`);
    }
    i++;
  }
  if (!args.model) throw new Error('--model DIR is required');
  if (!['fp32', 'q4', 'int8'].includes(args.dtype)) throw new Error(`unsupported --dtype ${args.dtype}`);
  if (!Number.isInteger(args.maxNewTokens) || args.maxNewTokens < 1 || args.maxNewTokens > 4096) {
    throw new Error('--max-new-tokens must be an integer in 1..4096');
  }
  if ((args.ids === undefined) === (args.text === undefined)) throw new Error('give exactly one of --ids or --text');
  if (args.ids && (args.ids.length === 0 || args.ids.some((n) => !Number.isInteger(n) || n < 0))) {
    throw new Error('--ids must be a comma-separated list of non-negative integers');
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = path.resolve(args.model);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(dir) + path.sep;
  const id = path.basename(dir);

  let ids = args.ids;
  if (args.text !== undefined) {
    const tokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: true });
    ids = tokenizer.encode(args.text, { add_special_tokens: false });
  }

  const model = await AutoModelForCausalLM.from_pretrained(id, { local_files_only: true, dtype: args.dtype, device: 'cpu' });
  const n = ids.length;
  const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]);
  const attention_mask = new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  const output = await model.generate({
    input_ids,
    attention_mask,
    max_new_tokens: args.maxNewTokens,
    do_sample: false,
    repetition_penalty: 1.0,
  });
  const all = Array.from(output.data, (v) => Number(v));
  await model.dispose();
  process.stdout.write(JSON.stringify({ prompt_ids: ids, generated_ids: all.slice(n) }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`generate.mjs: ${error?.stack ?? error}\n`);
  process.exit(1);
});
