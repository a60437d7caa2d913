// A plain onnxruntime-node Stable Diffusion loop on a diffusers ONNX folder, the peer of bench/images.sh:
// CLIP BPE tokens -> text encoder once -> N UNet calls with Euler discrete (trailing spacing) -> VAE decode -> RGB bytes.
// Usage: node bench/images-onnxruntime.mjs FOLDER PROMPT STEPS... ; prints one JSON line per generation.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.resolve('tests/oracle/node_modules/'));
const ort = require('onnxruntime-node');

const [folder, prompt, ...stepArgs] = process.argv.slice(2);
const stepCounts = stepArgs.map(Number);
const threads = Number(process.env.THREADS ?? 2);
const seed = Number(process.env.SEED ?? 42);

// CLIP's tokenizer: lower-case, clean whitespace, CLIP's word pattern, byte-level symbols, BPE with </w> word ends.
function clipTokenizer(dir) {
  const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
  const merges = fs.readFileSync(path.join(dir, 'merges.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#version'));
  const ranks = new Map(merges.map((m, i) => [m, i]));
  const byteChar = [];
  const printable = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  let extra = 0;
  for (let b = 0; b < 256; b++) byteChar[b] = String.fromCharCode(printable.includes(b) ? b : 256 + extra++);
  const pattern = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu;
  const bpe = (word) => {
    let symbols = [...word];
    symbols[symbols.length - 1] += '</w>';
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const r = ranks.get(symbols[i] + ' ' + symbols[i + 1]);
        if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
      }
      if (best < 0) return symbols;
      symbols = [...symbols.slice(0, best), symbols[best] + symbols[best + 1], ...symbols.slice(best + 2)];
    }
  };
  return (text, length = 77) => {
    const clean = text.replace(/\s+/g, ' ').trim().toLowerCase();
    const ids = [vocab['<|startoftext|>']];
    for (const m of clean.matchAll(pattern)) {
      const word = [...Buffer.from(m[0], 'utf8')].map((b) => byteChar[b]).join('');
      for (const s of bpe(word)) ids.push(vocab[s]);
    }
    const eos = vocab['<|endoftext|>'];
    const pad = vocab['!'] ?? eos;
    const out = ids.slice(0, length - 1);
    out.push(eos);
    while (out.length < length) out.push(pad);
    return Int32Array.from(out);
  };
}

// diffusers' EulerDiscreteScheduler, scaled_linear betas, "trailing" spacing, epsilon prediction.
function eulerTrailing(config, steps) {
  const n = config.num_train_timesteps;
  const a = Math.sqrt(config.beta_start);
  const b = Math.sqrt(config.beta_end);
  const sigmasAll = [];
  let cumprod = 1;
  for (let i = 0; i < n; i++) {
    const beta = (a + ((b - a) * i) / (n - 1)) ** 2;
    cumprod *= 1 - beta;
    sigmasAll.push(Math.sqrt((1 - cumprod) / cumprod));
  }
  const timesteps = [];
  for (let t = n; t > 0; t -= n / steps) timesteps.push(Math.round(t) - 1);
  const sigmas = timesteps.map((t) => sigmasAll[t]).concat([0]);
  return { timesteps, sigmas, initSigma: Math.sqrt(sigmas[0] ** 2 + 1) };
}

// Seeded standard normals (SplitMix64 + Box-Muller): timing does not depend on the noise's values.
function randn(count, s) {
  let state = BigInt(s);
  const mask = (1n << 64n) - 1n;
  const next = () => {
    state = (state + 0x9e3779b97f4a7c15n) & mask;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
    return Number((z ^ (z >> 31n)) >> 11n) / 2 ** 53;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

const options = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
const loadStart = performance.now();
const textEncoder = await ort.InferenceSession.create(path.join(folder, 'text_encoder/model.onnx'), options);
const unet = await ort.InferenceSession.create(path.join(folder, 'unet/model.onnx'), options);
const vae = await ort.InferenceSession.create(path.join(folder, 'vae_decoder/model.onnx'), options);
const loadSeconds = (performance.now() - loadStart) / 1000;
const tokenize = clipTokenizer(path.join(folder, 'tokenizer'));
const schedulerConfig = JSON.parse(fs.readFileSync(path.join(folder, 'scheduler/scheduler_config.json'), 'utf8'));
const scaling = JSON.parse(fs.readFileSync(path.join(folder, 'vae_decoder/config.json'), 'utf8')).scaling_factor ?? 0.18215;
const side = 64;
const latentSize = 4 * side * side;

for (const steps of stepCounts) {
  const start = performance.now();
  const ids = tokenize(prompt);
  const text = await textEncoder.run({ input_ids: new ort.Tensor('int32', ids, [1, 77]) });
  const hidden = text.last_hidden_state;
  const afterText = performance.now();
  const { timesteps, sigmas, initSigma } = eulerTrailing(schedulerConfig, steps);
  const latents = randn(latentSize, seed);
  for (let i = 0; i < latentSize; i++) latents[i] *= initSigma;
  for (let s = 0; s < timesteps.length; s++) {
    const scale = 1 / Math.sqrt(sigmas[s] ** 2 + 1);
    const input = new Float32Array(latentSize);
    for (let i = 0; i < latentSize; i++) input[i] = latents[i] * scale;
    const out = await unet.run({
      sample: new ort.Tensor('float32', input, [1, 4, side, side]),
      timestep: new ort.Tensor('float32', Float32Array.of(timesteps[s]), []),
      encoder_hidden_states: hidden,
    });
    const eps = out.out_sample.data;
    const dt = sigmas[s + 1] - sigmas[s];
    for (let i = 0; i < latentSize; i++) latents[i] += eps[i] * dt;
  }
  const afterUnet = performance.now();
  const scaled = latents.map((x) => x / scaling);
  const image = (await vae.run({ latent_sample: new ort.Tensor('float32', scaled, [1, 4, side, side]) })).sample;
  const plane = image.dims[2] * image.dims[3];
  const pixels = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) pixels[i * 3 + c] = Math.round(Math.min(1, Math.max(0, image.data[c * plane + i] / 2 + 0.5)) * 255);
  }
  const end = performance.now();
  console.log(JSON.stringify({
    steps,
    seconds: (end - start) / 1000,
    text_encoder_s: (afterText - start) / 1000,
    unet_per_step_s: (afterUnet - afterText) / 1000 / steps,
    vae_s: (end - afterUnet) / 1000,
    load_s: loadSeconds,
    tokens: ids.indexOf(Math.max(...ids)) + 1,
    rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
  }));
}
