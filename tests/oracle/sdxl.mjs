// SDXL conditioning oracle: what diffusers' StableDiffusionXLPipeline.encode_prompt and _get_add_time_ids feed the UNet,
// computed with @huggingface/transformers' CLIPTokenizer and a plain onnxruntime-node run of both text encoders.
// Usage: node sdxl.mjs REQUEST.json RESPONSE.json
// Request:  { "folder": "/abs/sdxl/folder", "prompt": "...", "prompt_2": "..." | null, "width": 64, "height": 48 }
// Response: { "hidden": [...], "hidden_shape": [1, 77, D1 + D2], "text_embeds": [...], "time_ids": [...] }
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { env, AutoTokenizer } from "@huggingface/transformers";

const ort = createRequire(import.meta.url)("onnxruntime-node");
const [requestPath, responsePath] = process.argv.slice(2);
if (!requestPath || !responsePath) {
  console.error("usage: node sdxl.mjs REQUEST.json RESPONSE.json");
  process.exit(2);
}

const request = JSON.parse(readFileSync(requestPath, "utf8"));
const folder = path.resolve(request.folder);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.useBrowserCache = false;
env.useFSCache = false;
env.localModelPath = folder + path.sep;

// tokenizer(prompt, padding="max_length", max_length=tokenizer.model_max_length, truncation=True)
async function tokenize(subfolder, text) {
  const tokenizer = await AutoTokenizer.from_pretrained(subfolder, { local_files_only: true });
  const { input_ids } = tokenizer(text, { padding: "max_length", max_length: tokenizer.model_max_length, truncation: true });
  return Array.from(input_ids.data, Number);
}

// text_encoder(input_ids, output_hidden_states=True): hidden_states[-2] and, for the projection model, text_embeds.
async function encode(subfolder, ids) {
  const session = await ort.InferenceSession.create(path.join(folder, subfolder, "model.onnx"));
  let outputs;
  try {
    outputs = await session.run({ input_ids: new ort.Tensor("int32", Int32Array.from(ids), [1, ids.length]) });
  } catch {
    outputs = await session.run({ input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) });
  }
  const hiddenStates = session.outputNames
    .filter((name) => name.startsWith("hidden_states."))
    .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
  return { penultimate: outputs[hiddenStates.at(-2)], textEmbeds: outputs.text_embeds };
}

const first = await encode("text_encoder", await tokenize("tokenizer", request.prompt));
const second = await encode("text_encoder_2", await tokenize("tokenizer_2", request.prompt_2 ?? request.prompt));

// torch.concat([prompt_embeds_1, prompt_embeds_2], dim=-1)
const [, tokens, d1] = first.penultimate.dims;
const d2 = second.penultimate.dims[2];
const hidden = [];
for (let t = 0; t < tokens; t++) {
  hidden.push(...first.penultimate.data.slice(t * d1, (t + 1) * d1));
  hidden.push(...second.penultimate.data.slice(t * d2, (t + 1) * d2));
}

// add_time_ids = original_size + crops_coords_top_left + target_size, sizes as (height, width)
const timeIds = [request.height, request.width, 0, 0, request.height, request.width];
writeFileSync(responsePath, JSON.stringify({
  hidden: Array.from(hidden),
  hidden_shape: [1, tokens, d1 + d2],
  text_embeds: Array.from(second.textEmbeds.data),
  time_ids: timeIds,
}));
