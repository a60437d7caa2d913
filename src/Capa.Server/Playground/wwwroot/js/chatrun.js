// One chat completion, streamed or not, gathered into one result.
import { call, events } from './api.js';

/**
 * Sends `body` to /v1/chat/completions. `onDelta(text, soFar)` sees the answer grow when streaming.
 * Resolves to { content, toolCalls, finishReason, fingerprint, seed, usage, logprobs, model, id }.
 */
export async function runChat(body, { signal, onDelta = () => {} } = {}) {
  const response = await call('/v1/chat/completions', { json: body, signal });
  const result = {
    content: '', toolCalls: [], finishReason: null, fingerprint: null, usage: null, logprobs: [], model: null, id: null,
    seed: response.headers.get('x-capa-seed'),
  };
  if (!body.stream) {
    const completion = await response.json();
    const choice = completion.choices?.[0] ?? {};
    result.content = choice.message?.content ?? '';
    result.toolCalls = choice.message?.tool_calls ?? [];
    result.finishReason = choice.finish_reason ?? null;
    result.fingerprint = completion.system_fingerprint ?? null;
    result.usage = completion.usage ?? null;
    result.logprobs = choice.logprobs?.content ?? [];
    result.model = completion.model;
    result.id = completion.id;
    onDelta(result.content, result.content);
    return result;
  }
  for await (const { data: chunk } of events(response)) {
    result.id ??= chunk.id;
    result.model ??= chunk.model;
    result.fingerprint = chunk.system_fingerprint ?? result.fingerprint;
    if (chunk.usage) result.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    const delta = choice.delta ?? {};
    if (delta.content) {
      result.content += delta.content;
      onDelta(delta.content, result.content);
    }
    for (const part of delta.tool_calls ?? []) {
      const index = part.index ?? 0;
      const target = result.toolCalls[index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } };
      if (part.id) target.id = part.id;
      if (part.function?.name) target.function.name += part.function.name;
      if (part.function?.arguments) target.function.arguments += part.function.arguments;
    }
    if (choice.logprobs?.content) result.logprobs.push(...choice.logprobs.content);
    if (choice.finish_reason) result.finishReason = choice.finish_reason;
  }
  return result;
}

/** Whether an error is the user's own stop. */
export function isAbort(error) {
  return error?.name === 'AbortError';
}
