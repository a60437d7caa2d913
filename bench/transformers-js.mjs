// transformers.js peer of bench/Capa.Bench: the same model folder, prompt length and greedy token count.
//   node bench/transformers-js.mjs DIR QUANT PROMPT DECODE   -> one JSON line (the Measurement shape of Capa.Bench)
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'oracle', 'package.json'));
const { AutoModelForCausalLM, Tensor, env } = await import(pathToFileURL(require.resolve('@huggingface/transformers')).href);

const [dir, quant, promptArg, decodeArg] = process.argv.slice(2);
const prompt = Number.parseInt(promptArg, 10);
const decode = Number.parseInt(decodeArg, 10);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(path.resolve(dir)) + path.sep;

const loadStart = performance.now();
const model = await AutoModelForCausalLM.from_pretrained(path.basename(dir), { local_files_only: true, dtype: quant, device: 'cpu' });
const loadMs = performance.now() - loadStart;

let seed = 1234;
const ids = Array.from({ length: prompt }, () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % 100000; });
const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, prompt]);
const attention_mask = new Tensor('int64', new BigInt64Array(prompt).fill(1n), [1, prompt]);
const run = (n) => model.generate({ input_ids, attention_mask, max_new_tokens: n, min_new_tokens: n, do_sample: false });

await model.generate({ input_ids: input_ids.slice(null, [0, 16]), attention_mask: attention_mask.slice(null, [0, 16]), max_new_tokens: 2, do_sample: false });
let t = performance.now();
await run(1);
const ttft = performance.now() - t;
t = performance.now();
await run(decode);
const total = performance.now() - t;
console.log(JSON.stringify({
  Runtime: 'transformers.js',
  Quant: quant,
  PrefillTokPerSec: prompt / (ttft / 1000),
  DecodeTokPerSec: (decode - 1) / ((total - ttft) / 1000),
  TtftMs: ttft,
  PeakRssMiB: process.resourceUsage().maxRSS / 1024,
  LoadMs: loadMs,
}));
