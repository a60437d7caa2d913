// Summarises a bench/images.sh run directory into a Markdown table (medians, [min–max] over rounds).
import fs from 'node:fs';
import path from 'node:path';

const [dir, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg);
const read = (f) => fs.readFileSync(path.join(dir, f), 'utf8');
const rssMb = (f) => Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(read(f))[1]) / 1024;
const capa = { 1: [], 4: [] };
const plain = { 1: [], 4: [] };
const capaRss = [];
const plainRss = [];
const capaLoad = [];
const plainLoad = [];
for (let r = 1; r <= rounds; r++) {
  const log = read(`capa-${r}.log`);
  const load = Number(/Loaded image model .* in ([\d.]+) s\./.exec(log)[1]);
  capaLoad.push(load);
  const splits = [...log.matchAll(/Image of (\d+) step\(s\): text encoder ([\d.]+) s, UNet ([\d.]+) s, VAE ([\d.]+) s\./g)];
  const lines = read(`capa-${r}.txt`).trim().split('\n').map((l) => l.split(' '));
  lines.forEach(([, steps, seconds], i) => {
    const [, , te, unet, vae] = splits[i].map(Number);
    // The first request of a fresh server loads the sessions; loading is reported apart, as for the plain loop.
    capa[steps].push({ seconds: Number(seconds) - (i === 0 ? load : 0), te, unetStep: unet / Number(steps), vae });
  });
  capaRss.push(rssMb(`capa-${r}.time`));
  for (const line of read(`node-${r}.jsonl`).trim().split('\n')) {
    const j = JSON.parse(line);
    plain[j.steps].push({ seconds: j.seconds, te: j.text_encoder_s, unetStep: j.unet_per_step_s, vae: j.vae_s });
    plainLoad.push(j.load_s);
  }
  plainRss.push(rssMb(`node-${r}.time`));
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (xs, d = 2) => `${median(xs).toFixed(d)} [${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}]`;
const out = [];
out.push('| steps | | seconds/image | text encoder s | UNet s/step | VAE decode s |');
out.push('|---|---|---|---|---|---|');
for (const steps of [1, 4]) {
  for (const [name, runs] of [['Capa (HTTP)', capa[steps]], ['plain onnxruntime-node', plain[steps]]]) {
    out.push(`| ${steps} | ${name} | ${fmt(runs.map((x) => x.seconds))} | ${fmt(runs.map((x) => x.te))} | ${fmt(runs.map((x) => x.unetStep))} | ${fmt(runs.map((x) => x.vae))} |`);
  }
  const ratios = capa[steps].map((c, i) => c.seconds / plain[steps][i].seconds);
  out.push(`| ${steps} | **Capa / plain** (per round) | **${fmt(ratios)}** | | | |`);
}
out.push('');
out.push(`Session loading (not in the seconds above): Capa ${fmt(capaLoad, 1)} s, plain ${fmt(plainLoad, 1)} s.`);
out.push(`Peak RSS (whole process, /usr/bin/time): Capa server ${fmt(capaRss.map((x) => x / 1024))} GiB, plain loop ${fmt(plainRss.map((x) => x / 1024))} GiB.`);
console.log(out.join('\n'));
