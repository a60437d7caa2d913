// Chat: streamed answers with stop, sampling settings, seed and fingerprint, JSON mode and schemas, tools as cards.
import { field, h, numberOrUndefined, pretty, select, showError } from '../dom.js';
import { codeView } from '../code.js';
import { isAbort, runChat } from '../chatrun.js';
import { validate } from '../schema.js';

export const DEFAULT_SCHEMA = {
  type: 'object',
  properties: {
    score: { type: 'integer', minimum: 1, maximum: 10 },
    reason: { type: 'string' },
  },
  required: ['score', 'reason'],
  additionalProperties: false,
};

const DEFAULT_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: '查询城市的天气 (the weather in a city)',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', description: '城市, e.g. 北京' } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  },
];

function messageView(role, text = '') {
  const content = h('div', { class: 'content', text });
  const meta = h('div', { class: 'meta' });
  const element = h('article', { class: `message ${role}`, dataset: { role } }, h('div', { class: 'role', text: role }), content, meta);
  return { element, content, meta };
}

function metaItem(label, value, name) {
  return h('span', { dataset: { meta: name } }, `${label} `, h('b', { text: value ?? '—' }));
}

export default {
  id: 'chat',
  title: 'Chat',
  available: ctx => ctx.served('chat'),
  create(ctx) {
    const model = select(ctx.modelsWith('chat'));
    model.name = 'model';
    const system = h('textarea', { name: 'system', rows: 2, value: 'You are a helpful assistant.' });
    const user = h('textarea', { name: 'user', rows: 3, value: '谁获得了2022年英雄联盟S赛世界冠军？' });
    const temperature = h('input', { type: 'number', name: 'temperature', min: 0, max: 2, step: 0.1, value: '0.7' });
    const topP = h('input', { type: 'number', name: 'top_p', min: 0, max: 1, step: 0.05, placeholder: '1' });
    const maxTokens = h('input', { type: 'number', name: 'max_tokens', min: 1, step: 1, value: '64' });
    const seed = h('input', { type: 'number', name: 'seed', step: 1, placeholder: 'none' });
    const stream = h('input', { type: 'checkbox', name: 'stream', checked: true });
    const logprobs = h('input', { type: 'checkbox', name: 'logprobs' });
    const format = select([['text', 'Text'], ['json_object', 'JSON mode (json_object)'], ['json_schema', 'JSON schema (json_schema)']], 'text');
    format.name = 'response_format';
    const schemaName = h('input', { type: 'text', name: 'schema_name', value: 'score', spellcheck: false });
    const schema = h('textarea', { class: 'code', name: 'schema', spellcheck: false, value: pretty(DEFAULT_SCHEMA) });
    const strict = h('input', { type: 'checkbox', name: 'strict', checked: true });
    const schemaError = h('p', { class: 'error', role: 'alert', hidden: true });
    const useTools = h('input', { type: 'checkbox', name: 'use_tools' });
    const tools = h('textarea', { class: 'code', name: 'tools', spellcheck: false, value: pretty(DEFAULT_TOOLS) });
    const toolChoice = select(['auto', 'none', 'required'], 'auto');
    toolChoice.name = 'tool_choice';
    const toolsError = h('p', { class: 'error', role: 'alert', hidden: true });

    const send = h('button', { type: 'submit', text: 'Send' });
    const stop = h('button', { type: 'button', class: 'secondary', text: 'Stop', disabled: true });
    const clear = h('button', { type: 'button', class: 'secondary', text: 'Clear' });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const transcript = h('div', { class: 'transcript', 'aria-live': 'polite', dataset: { transcript: 'chat' } });
    const jsonOut = h('div', { class: 'json-result' });
    const code = codeView();

    const schemaBox = h('div', { hidden: true },
      field('Schema name', schemaName).wrap, field('JSON schema', schema).wrap,
      h('label', { class: 'inline' }, strict, 'strict'), schemaError);
    const toolsBox = h('div', { hidden: true }, field('Tools (JSON)', tools).wrap, field('tool_choice', toolChoice).wrap, toolsError);

    /** The conversation so far (without the system prompt and the draft). */
    let history = [];
    let controller = null;

    function parseJsonField(textarea, errorElement, what) {
      try {
        const value = JSON.parse(textarea.value);
        showError(errorElement, null);
        return value;
      } catch (e) {
        showError(errorElement, new Error(`${what} is not valid JSON: ${e.message}`));
        return undefined;
      }
    }

    /** The request the form describes; `draft` adds the user box as the last message. */
    function buildRequest(draft) {
      const messages = [];
      if (system.value.trim()) messages.push({ role: 'system', content: system.value });
      messages.push(...history);
      if (draft && user.value.trim()) messages.push({ role: 'user', content: user.value });
      const body = { model: model.value, messages };
      const t = numberOrUndefined(temperature);
      if (t !== undefined) body.temperature = t;
      const p = numberOrUndefined(topP);
      if (p !== undefined) body.top_p = p;
      const m = numberOrUndefined(maxTokens);
      if (m !== undefined) body.max_tokens = m;
      const s = numberOrUndefined(seed);
      if (s !== undefined) body.seed = s;
      if (logprobs.checked) {
        body.logprobs = true;
        body.top_logprobs = 3;
      }
      if (format.value === 'json_object') body.response_format = { type: 'json_object' };
      if (format.value === 'json_schema') {
        const parsed = parseJsonField(schema, schemaError, 'The schema');
        body.response_format = { type: 'json_schema', json_schema: { name: schemaName.value || 'schema', strict: strict.checked, schema: parsed ?? {} } };
      }
      if (useTools.checked) {
        const parsed = parseJsonField(tools, toolsError, 'The tools');
        body.tools = Array.isArray(parsed) ? parsed : [];
        body.tool_choice = toolChoice.value;
      }
      if (stream.checked) {
        body.stream = true;
        body.stream_options = { include_usage: true };
      }
      return body;
    }

    function refreshCode() {
      schemaBox.hidden = format.value !== 'json_schema';
      toolsBox.hidden = !useTools.checked;
      code.show({ op: 'chat', body: buildRequest(true) });
    }

    function showJson(text, body) {
      jsonOut.replaceChildren();
      if (!body.response_format) return;
      let value;
      try {
        value = JSON.parse(text);
      } catch (e) {
        jsonOut.append(h('p', { class: 'error', dataset: { json: 'invalid' }, text: `Not valid JSON: ${e.message}` }));
        return;
      }
      const problems = body.response_format.type === 'json_schema' ? validate(value, body.response_format.json_schema.schema) : [];
      jsonOut.append(
        h('p', { class: problems.length ? 'error' : 'ok', dataset: { json: problems.length ? 'schema-mismatch' : 'valid' },
          text: problems.length ? `Valid JSON, but not what the schema says:\n${problems.join('\n')}`
            : body.response_format.type === 'json_schema' ? 'Valid JSON that matches the schema.' : 'Valid JSON.' }),
        h('pre', { class: 'json', text: pretty(value) }));
    }

    function toolCards(calls, view) {
      const answers = new Map();
      const box = h('div', { class: 'tool-cards' });
      for (const toolCall of calls) {
        let args = toolCall.function.arguments;
        try {
          args = pretty(JSON.parse(args));
        } catch {
          // Shown as sent.
        }
        const result = h('textarea', { rows: 2, name: `tool-result-${toolCall.id}`, value: '{"temperature": "22°C", "condition": "晴"}' });
        const answer = h('button', { type: 'button', text: 'Send result' });
        const card = h('section', { class: 'card', dataset: { toolCall: toolCall.function.name } },
          h('h3', { text: `Tool call: ${toolCall.function.name}` }),
          h('pre', { class: 'json', text: args }),
          field('Result to send back', result).wrap, answer);
        answer.addEventListener('click', () => {
          answers.set(toolCall.id, result.value);
          answer.disabled = true;
          result.readOnly = true;
          if (answers.size === calls.length) {
            for (const c of calls) history.push({ role: 'tool', tool_call_id: c.id, content: answers.get(c.id) });
            run(false);
          }
        });
        box.append(card);
      }
      view.element.append(box);
    }

    async function run(withDraft) {
      const body = buildRequest(withDraft);
      code.show({ op: 'chat', body });
      showError(error, null);
      if (withDraft && user.value.trim()) {
        const mine = messageView('user', user.value);
        transcript.append(mine.element);
      }
      const view = messageView('assistant');
      view.element.dataset.streaming = 'true';
      transcript.append(view.element);
      controller = new AbortController();
      send.disabled = true;
      stop.disabled = false;
      try {
        const result = await runChat(body, { signal: controller.signal, onDelta: (_, text) => { view.content.textContent = text; } });
        if (withDraft && user.value.trim()) {
          history.push({ role: 'user', content: user.value });
          user.value = '';
        }
        const assistant = { role: 'assistant', content: result.content || null };
        if (result.toolCalls.length) assistant.tool_calls = result.toolCalls;
        history.push(assistant);
        view.meta.append(
          metaItem('finish_reason', result.finishReason, 'finish_reason'),
          metaItem('system_fingerprint', result.fingerprint, 'system_fingerprint'),
          metaItem('x-capa-seed', result.seed, 'seed'),
          metaItem('tokens', result.usage ? `${result.usage.prompt_tokens} + ${result.usage.completion_tokens}` : null, 'usage'));
        if (result.logprobs.length) {
          view.element.append(h('details', {}, h('summary', { text: `logprobs (${result.logprobs.length} tokens)` }),
            h('pre', { class: 'json', text: result.logprobs.map(t => `${JSON.stringify(t.token)}  p=${Math.exp(t.logprob).toFixed(3)}`
              + (t.top_logprobs?.length ? `   top: ${t.top_logprobs.map(a => `${JSON.stringify(a.token)} ${Math.exp(a.logprob).toFixed(3)}`).join(', ')}` : '')).join('\n') })));
        }
        showJson(result.content, body);
        if (result.toolCalls.length) toolCards(result.toolCalls, view);
      } catch (e) {
        if (isAbort(e)) view.meta.append(h('span', { dataset: { meta: 'stopped' }, text: 'Stopped.' }));
        else {
          view.element.remove();
          showError(error, e);
        }
      } finally {
        view.element.dataset.streaming = 'false';
        controller = null;
        send.disabled = false;
        stop.disabled = true;
        // The code box keeps the request just sent until the form changes.
      }
    }

    const form = h('form', { class: 'chat-form', 'aria-label': 'Chat request' },
      field('Model', model).wrap,
      field('System prompt', system).wrap,
      field('Message', user).wrap,
      h('div', { class: 'grid4' },
        field('temperature', temperature).wrap, field('top_p', topP).wrap,
        field('max_tokens', maxTokens).wrap, field('seed', seed).wrap),
      h('div', { class: 'row' },
        h('label', { class: 'inline' }, stream, 'stream'),
        h('label', { class: 'inline' }, logprobs, 'logprobs'),
        h('label', { class: 'inline' }, useTools, 'tools')),
      field('response_format', format).wrap,
      schemaBox, toolsBox,
      h('div', { class: 'row' }, send, stop, clear),
      error);
    form.addEventListener('submit', event => {
      event.preventDefault();
      run(true);
    });
    form.addEventListener('input', refreshCode);
    form.addEventListener('change', refreshCode);
    user.addEventListener('keydown', event => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !send.disabled) {
        event.preventDefault();
        run(true);
      }
    });
    stop.addEventListener('click', () => controller?.abort());
    clear.addEventListener('click', () => {
      controller?.abort();
      history = [];
      transcript.replaceChildren();
      jsonOut.replaceChildren();
      refreshCode();
    });
    refreshCode();

    return h('div', { class: 'columns' },
      h('div', {}, form),
      h('div', {}, h('h2', { text: 'Conversation' }), transcript, jsonOut, h('h2', { text: 'Code' }), code.element));
  },
};
