// Embeddings oracle: runs @huggingface/transformers' feature-extraction pipeline on a local sentence-encoder folder.
//
//   node embed.mjs --model DIR --pooling mean|cls --texts FILE.json
//       FILE.json holds an array of strings. Prints {"ids": [[...], ...], "vectors": [[...], ...]}: each text's
//       token ids (special tokens included) and its pooled, L2-normalised vector.
import fs from 'node:fs';
import path from 'node:path';
import { AutoTokenizer, pipeline, env } from '@huggingface/transformers';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i];
  const value = process.argv[i + 1];
  if (value === undefined) throw new Error(`missing value after ${key}`);
  args[key.replace(/^--/, '')] = value;
}
if (!args.model || !args.texts) throw new Error('--model DIR and --texts FILE are required');

const dir = path.resolve(args.model);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(dir) + path.sep;
const id = path.basename(dir);
const texts = JSON.parse(fs.readFileSync(args.texts, 'utf8'));

const tokenizer = await AutoTokenizer.from_pretrained(id);
const extractor = await pipeline('feature-extraction', id, { dtype: 'fp32', device: 'cpu' });
const ids = texts.map((t) => Array.from(tokenizer.encode(t)));
const vectors = [];
for (const text of texts) {
  const output = await extractor(text, { pooling: args.pooling ?? 'mean', normalize: true });
  vectors.push(Array.from(output.data));
}
process.stdout.write(JSON.stringify({ ids, vectors }));
