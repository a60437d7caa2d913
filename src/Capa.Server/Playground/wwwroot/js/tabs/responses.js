// Responses: one input, streamed output text, chained turns (previous_response_id) or a stored conversation.
import { field, h, numberOrUndefined, select, showError } from '../dom.js';
import { codeView } from '../code.js';
import { call, callJson, events } from '../api.js';
import { isAbort } from '../chatrun.js';

function outputText(response) {
  if (typeof response.output_text === 'string') return response.output_text;
  return (response.output ?? []).flatMap(item => item.content ?? []).filter(c => c.type === 'output_text').map(c => c.text).join('');
}

export default {
  id: 'responses',
  title: 'Responses',
  available: ctx => ctx.served('responses'),
  create(ctx) {
    const model = select(ctx.modelsWith('chat'));
    model.name = 'model';
    const instructions = h('textarea', { name: 'instructions', rows: 2, value: 'You are a helpful assistant.' });
    const input = h('textarea', { name: 'input', rows: 3, value: '用一句话介绍一下长城。' });
    const maxTokens = h('input', { type: 'number', name: 'max_output_tokens', min: 16, step: 1, value: '64' });
    const temperature = h('input', { type: 'number', name: 'temperature', min: 0, max: 2, step: 0.1, placeholder: '1' });
    const stream = h('input', { type: 'checkbox', name: 'stream', checked: true });
    const store = h('input', { type: 'checkbox', name: 'store', checked: true });
    const modes = [['chain', 'Chain turns (previous_response_id)'], ['none', 'Each turn alone']];
    if (ctx.served('conversations')) modes.push(['conversation', 'A stored conversation (/v1/conversations)']);
    const mode = select(modes, 'chain');
    mode.name = 'mode';
    const send = h('button', { type: 'submit', text: 'Send' });
    const stop = h('button', { type: 'button', class: 'secondary', text: 'Stop', disabled: true });
    const reset = h('button', { type: 'button', class: 'secondary', text: 'New thread' });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const transcript = h('div', { class: 'transcript', 'aria-live': 'polite', dataset: { transcript: 'responses' } });
    const code = codeView();
    let previous = null;
    let conversation = null;
    let controller = null;

    function request() {
      const body = { model: model.value, input: input.value };
      if (instructions.value.trim()) body.instructions = instructions.value;
      const m = numberOrUndefined(maxTokens);
      if (m !== undefined) body.max_output_tokens = m;
      const t = numberOrUndefined(temperature);
      if (t !== undefined) body.temperature = t;
      if (!store.checked) body.store = false;
      if (mode.value === 'chain' && previous) body.previous_response_id = previous;
      if (mode.value === 'conversation' && conversation) body.conversation = conversation;
      if (stream.checked) body.stream = true;
      return { op: 'responses', body };
    }

    async function run() {
      showError(error, null);
      controller = new AbortController();
      send.disabled = true;
      stop.disabled = false;
      const mine = h('article', { class: 'message user', dataset: { role: 'user' } }, h('div', { class: 'role', text: 'user' }), h('div', { class: 'content', text: input.value }));
      const content = h('div', { class: 'content' });
      const meta = h('div', { class: 'meta' });
      const theirs = h('article', { class: 'message assistant', dataset: { role: 'assistant' } }, h('div', { class: 'role', text: 'assistant' }), content, meta);
      try {
        if (mode.value === 'conversation' && !conversation) {
          conversation = (await callJson('/v1/conversations', { json: {}, signal: controller.signal })).data.id;
        }
        const req = request();
        code.show(req);
        transcript.append(mine, theirs);
        const response = await call('/v1/responses', { json: req.body, signal: controller.signal });
        let final;
        if (req.body.stream) {
          for await (const { data } of events(response)) {
            if (data.type === 'response.output_text.delta') content.textContent += data.delta;
            if (data.type === 'response.completed' || data.type === 'response.incomplete' || data.type === 'response.failed') final = data.response;
          }
        } else {
          final = await response.json();
          content.textContent = outputText(final);
        }
        if (final) {
          if (final.store !== false) previous = final.id;
          meta.append(
            h('span', { dataset: { meta: 'id' } }, 'id ', h('b', { text: final.id })),
            h('span', {}, 'status ', h('b', { text: final.status })),
            h('span', {}, 'tokens ', h('b', { text: final.usage ? `${final.usage.input_tokens} + ${final.usage.output_tokens}` : '—' })));
          if (final.error) showError(error, new Error(final.error.message));
        }
        if (conversation) meta.append(h('span', {}, 'conversation ', h('b', { text: conversation })));
        input.value = '';
      } catch (e) {
        if (isAbort(e)) meta.append(h('span', { text: 'Stopped.' }));
        else {
          mine.remove();
          theirs.remove();
          showError(error, e);
        }
      } finally {
        controller = null;
        send.disabled = false;
        stop.disabled = true;
      }
    }

    const form = h('form', { 'aria-label': 'Responses request' },
      field('Model', model).wrap, field('Instructions', instructions).wrap, field('Input', input).wrap,
      h('div', { class: 'grid4' }, field('max_output_tokens', maxTokens).wrap, field('temperature', temperature).wrap, field('Turns', mode).wrap),
      h('div', { class: 'row' }, h('label', { class: 'inline' }, stream, 'stream'), h('label', { class: 'inline' }, store, 'store')),
      h('div', { class: 'row' }, send, stop, reset), error);
    form.addEventListener('submit', event => {
      event.preventDefault();
      run();
    });
    form.addEventListener('input', () => code.show(request()));
    form.addEventListener('change', () => code.show(request()));
    stop.addEventListener('click', () => controller?.abort());
    reset.addEventListener('click', () => {
      previous = null;
      conversation = null;
      transcript.replaceChildren();
      code.show(request());
    });
    code.show(request());
    return h('div', { class: 'columns' }, h('div', {}, form), h('div', {}, h('h2', { text: 'Thread' }), transcript, h('h2', { text: 'Code' }), code.element));
  },
};
