// The tutorial's chat example through the official OpenAI Node SDK, with only the base URL changed.
// Usage: node openai-node-chat.mjs BASE_URL MODEL  -> prints one JSON object describing what the SDK saw.
import OpenAI from "openai";

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 60_000 });
const messages = [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "谁获得了2022年英雄联盟S赛世界冠军？" },
];

const completion = await client.chat.completions.create({ model, messages, max_tokens: 24, seed: 7 });

const stream = await client.chat.completions.create({
  model, messages, max_tokens: 24, seed: 7, stream: true, stream_options: { include_usage: true },
});
const chunks = [];
for await (const chunk of stream) chunks.push(chunk);

let notFound = null;
try {
  await client.chat.completions.create({ model: "no-such-model", messages });
} catch (e) {
  notFound = { status: e.status, code: e.code, type: e.type, param: e.param ?? null, message: e.message, isNotFound: e instanceof OpenAI.NotFoundError };
}

const models = [];
for await (const m of client.models.list()) models.push(m.id);

process.stdout.write(JSON.stringify({ completion, chunks, notFound, models }));
