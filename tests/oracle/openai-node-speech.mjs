// The tutorial's text-to-speech call through the official OpenAI Node SDK, with only the base URL changed.
// Usage: node openai-node-speech.mjs BASE_URL  -> prints one JSON object describing what the SDK saw.
import OpenAI from "openai";

const [baseURL] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 120_000 });
const input = "你好，世界。Hello world.";

const formats = {};
for (const response_format of ["mp3", "opus", "aac", "flac", "wav", "pcm"]) {
  const response = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input, response_format });
  const bytes = Buffer.from(await response.arrayBuffer());
  formats[response_format] = {
    bytes: bytes.length,
    head: bytes.subarray(0, 4).toString("hex"),
    contentType: response.headers.get("content-type"),
    fingerprint: response.headers.get("x-capa-voice-fingerprint"),
  };
}

const sse = await client.audio.speech.create({
  model: "gpt-4o-mini-tts", voice: "coral", input, response_format: "pcm", stream_format: "sse", instructions: "Speak warmly.",
});
const events = (await sse.text()).split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => JSON.parse(e.slice(6)));

let badSpeed = null;
try {
  await client.audio.speech.create({ model: "tts-1", voice: "alloy", input, speed: 5 });
} catch (e) {
  badSpeed = { status: e.status, code: e.code, type: e.type, param: e.param ?? null, message: e.message, isBadRequest: e instanceof OpenAI.BadRequestError };
}

process.stdout.write(JSON.stringify({
  formats,
  sse: { contentType: sse.headers.get("content-type"), types: events.map((e) => e.type), audioBytes: events.filter((e) => e.audio).reduce((n, e) => n + Buffer.from(e.audio, "base64").length, 0), usage: events.at(-1)?.usage ?? null },
  badSpeed,
}));
