// Tokenizer oracle for Capa's tests: encodes and decodes with @huggingface/transformers' AutoTokenizer.
// Usage: node tokenize.mjs REQUEST.json RESPONSE.json
// Request:  { "folder": "/abs/path/with/tokenizer.json",
//             "encode": [ { "text": "...", "add_special_tokens": false } ],
//             "decode": [ { "ids": [1, 2], "skip_special_tokens": false } ] }
// Response: { "encode": [[ids...]], "decode": ["text"] }
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { env, AutoTokenizer } from "@huggingface/transformers";

const [requestPath, responsePath] = process.argv.slice(2);
if (!requestPath || !responsePath) {
  console.error("usage: node tokenize.mjs REQUEST.json RESPONSE.json");
  process.exit(2);
}

const request = JSON.parse(readFileSync(requestPath, "utf8"));
const folder = path.resolve(request.folder);

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.useBrowserCache = false;
env.useFSCache = false;
env.localModelPath = path.dirname(folder) + path.sep;

const tokenizer = await AutoTokenizer.from_pretrained(path.basename(folder), { local_files_only: true });

const encode = (request.encode ?? []).map(({ text, add_special_tokens = false }) =>
  tokenizer.encode(text, { add_special_tokens }));
const decode = (request.decode ?? []).map(({ ids, skip_special_tokens = false }) =>
  ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens }));

writeFileSync(responsePath, JSON.stringify({ encode, decode }));
