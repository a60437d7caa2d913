// Capa side of bench/vision.sh: streamed chat completions with one image through a running `capa serve`.
//
//   node capa-client.mjs URL MODEL IMAGE.png low|high QUESTION MAX_TOKENS TURNS
//
// Prints one JSON line per turn: time to first token (the first content delta, measured from sending the request, so
// it includes reading the data URL, decoding, resizing, the vision encoder and the prefill), decode tokens per second
// after it, and the usage. The turns send the same image again: from the second turn on, the server's feature cache
// holds its encoding.
import fs from 'node:fs';

const [url, model, imagePath, detail, question, maxTokens, turns] = process.argv.slice(2);
const image = `data:image/png;base64,${fs.readFileSync(imagePath).toString('base64')}`;
for (let turn = 1; turn <= Number(turns); turn++) {
  const body = {
    model,
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0,
    max_tokens: Number(maxTokens),
    // The image first, then the question, as transformers-js.mjs builds its prompt, so both sides see the same tokens.
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image, detail } }, { type: 'text', text: question }] }],
  };
  const start = performance.now();
  const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);
  let first = null;
  let last = null;
  let usage = null;
  let pending = '';
  const decoder = new TextDecoder();
  for await (const bytes of response.body) {
    pending += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const data = event.split('\n').find((l) => l.startsWith('data: '))?.slice(6);
      if (!data || data === '[DONE]') continue;
      const chunk = JSON.parse(data);
      const now = performance.now();
      if (chunk.choices?.[0]?.delta?.content) {
        first ??= now;
        last = now;
      }
      if (chunk.choices?.[0]?.finish_reason) last = now;
      if (chunk.usage) usage = chunk.usage;
    }
  }
  const generated = usage?.completion_tokens ?? 0;
  console.log(JSON.stringify({
    side: 'capa',
    turn,
    ttft_ms: first === null ? null : first - start,
    decode_tok_s: first !== null && generated > 1 ? (generated - 1) / ((last - first) / 1000) : null,
    prompt_tokens: usage?.prompt_tokens,
    completion_tokens: generated,
  }));
}
