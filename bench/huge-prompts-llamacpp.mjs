// What llama.cpp pays for a huge prompt before its context check: llama.cpp's server tokenizes a request's prompt in
// full, then compares its length with n_ctx and answers an error. This measures that tokenization (node-llama-cpp,
// the llama.cpp tokenizer of the GGUF, no HTTP and no JSON), for the same 10 MiB user message as huge-prompts.py,
// wrapped in ChatML as a chat template would. One process; node-llama-cpp's tokenize is synchronous, so the requests
// of a burst are tokenized one after another here (a server with T HTTP threads on C cores would run min(T, C) at
// once). One JSON line: per-tokenization seconds (median, max), tokens, and the process's RSS.
//   node huge-prompts-llamacpp.mjs --model GGUF [--mib 10] [--rounds 8]   (run from the peer kit's folder)
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import fs from "node:fs";

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, v, i, all) => (i % 2 === 0 ? [...pairs, [v.slice(2), all[i + 1]]] : pairs), []));
const mib = Number(args.mib ?? 10);
const rounds = Number(args.rounds ?? 8);
const filler = "火星上有生命吗？ Is there life on Mars? <|im_end|> \n";
const text = filler.repeat(Math.floor(mib * 1024 * 1024 / Buffer.byteLength(filler)));
const prompt = "<|im_start|>user\n" + text + "<|im_end|>\n<|im_start|>assistant\n";

const mem = () => {
    const s = fs.readFileSync("/proc/self/status", "utf8");
    const kb = k => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m"))[1]);
    return {rss_mib: Math.round(kb("VmRSS") / 1024), peak_rss_mib: Math.round(kb("VmHWM") / 1024)};
};

const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: args.model, gpuLayers: 0, vocabOnly: true});
const before = mem();
const seconds = [];
let tokens = 0;
// As a server reads it: special-token text in a user message is parsed as special tokens by llama.cpp's server too.
for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    tokens = model.tokenize(prompt, true).length;
    seconds.push((performance.now() - t0) / 1000);
    // Progress on stderr: one tokenization can take minutes on a loaded machine.
    console.error(JSON.stringify({tokenization: i + 1, s: Math.round(seconds[i] * 1000) / 1000, tokens, ...mem()}));
}
seconds.sort((a, b) => a - b);
const median = seconds[Math.floor(seconds.length / 2)];
console.log(JSON.stringify({
    label: "llama.cpp tokenize (node-llama-cpp)",
    prompt_mib: Math.round(Buffer.byteLength(prompt) / 1048576 * 100) / 100,
    tokens,
    tokenizations: seconds.length,
    tokenize_s_median: Math.round(median * 1000) / 1000,
    tokenize_s_max: Math.round(seconds[seconds.length - 1] * 1000) / 1000,
    rss_mib_before: before.rss_mib,
    ...mem(),
    loadavg_1m: (await import("node:os")).loadavg()[0],
}));
