// transformers.js peer of bench/Capa.Retrieval.Bench: feature-extraction (mean pooling, normalised) on the same folder
// and texts, in batches of the same size.
//   node bench/embeddings-transformers-js.mjs DIR TEXTS.json BATCH   -> one JSON line {texts, seconds, textsPerSec, loadMs}
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'oracle', 'package.json'));
const { pipeline, env } = await import(pathToFileURL(require.resolve('@huggingface/transformers')).href);

const [dir, textsPath, batchArg] = process.argv.slice(2);
const batch = Number.parseInt(batchArg ?? '16', 10);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(path.resolve(dir)) + path.sep;
const texts = JSON.parse(fs.readFileSync(textsPath, 'utf8'));

const loadStart = performance.now();
const extractor = await pipeline('feature-extraction', path.basename(dir), { dtype: 'fp32', device: 'cpu', local_files_only: true });
const loadMs = performance.now() - loadStart;
await extractor(texts.slice(0, 2), { pooling: 'mean', normalize: true });

const start = performance.now();
for (let i = 0; i < texts.length; i += batch) {
  await extractor(texts.slice(i, i + batch), { pooling: 'mean', normalize: true });
}
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({ texts: texts.length, seconds, textsPerSec: texts.length / seconds, loadMs }));
