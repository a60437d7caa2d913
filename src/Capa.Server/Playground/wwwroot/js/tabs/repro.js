// Reproducibility: the tutorial's experiment. N runs without a seed and N with one, a table per run, the line diff
// of each run against the first, and the determinism rate.
import { field, h, numberOrUndefined, select, showError } from '../dom.js';
import { codeView } from '../code.js';
import { isAbort, runChat } from '../chatrun.js';
import { lineDiff } from '../diff.js';

function runTable(index, result) {
  const row = (label, value, name) => h('tr', {}, h('th', { scope: 'row', text: label }), h('td', { dataset: { field: name }, text: value ?? '—' }));
  return h('table', { class: 'runs', dataset: { run: String(index) } },
    h('caption', { class: 'muted', text: `Run ${index}` }),
    h('tbody', {},
      row('Response', result.content, 'response'),
      row('System Fingerprint', result.fingerprint, 'fingerprint'),
      row('x-capa-seed', result.seed, 'seed'),
      row('Number of prompt tokens', result.usage?.prompt_tokens, 'prompt_tokens'),
      row('Number of completion tokens', result.usage?.completion_tokens, 'completion_tokens')));
}

/** The tutorial's compare_responses: red "- " and green "+ " lines, or "No differences found.". */
export function diffView(previous, current, label) {
  const lines = lineDiff(previous, current);
  const changed = lines.some(l => l.sign !== ' ');
  if (!changed) return h('p', { class: 'ok', dataset: { diff: 'same' }, text: `${label}: No differences found.` });
  return h('div', { dataset: { diff: 'different' } },
    h('p', { text: `${label}:` }),
    h('table', { class: 'diff' }, h('tbody', {}, lines.map(l =>
      h('tr', { class: l.sign === '-' ? 'del' : l.sign === '+' ? 'add' : '' }, h('td', { text: `${l.sign} ${l.line}` }))))));
}

export default {
  id: 'repro',
  title: 'Reproducibility',
  available: ctx => ctx.served('chat'),
  create(ctx) {
    const model = select(ctx.modelsWith('chat'));
    model.name = 'model';
    const system = h('textarea', { name: 'system', rows: 2, value: 'You are a helpful assistant that generates short stories.' });
    const user = h('textarea', { name: 'user', rows: 2, value: 'Generate a short story about a journey to Mars.' });
    const runs = h('input', { type: 'number', name: 'runs', min: 2, max: 10, step: 1, value: '2' });
    const seed = h('input', { type: 'number', name: 'seed', step: 1, value: '123' });
    const temperature = h('input', { type: 'number', name: 'temperature', min: 0, max: 2, step: 0.1, value: '0.7' });
    const maxTokens = h('input', { type: 'number', name: 'max_tokens', min: 1, step: 1, value: '200' });
    const withoutSeed = h('input', { type: 'checkbox', name: 'without_seed', checked: true });
    const withSeed = h('input', { type: 'checkbox', name: 'with_seed', checked: true });
    const start = h('button', { type: 'submit', text: 'Run the experiment' });
    const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel', disabled: true });
    const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const results = h('div', { class: 'repro-results' });
    const code = codeView();
    let controller = null;

    function request(withSeedValue) {
      const body = {
        model: model.value,
        messages: [{ role: 'system', content: system.value }, { role: 'user', content: user.value }],
      };
      if (withSeedValue) {
        const s = numberOrUndefined(seed);
        if (s !== undefined) body.seed = s;
      }
      const m = numberOrUndefined(maxTokens);
      if (m !== undefined) body.max_tokens = m;
      const t = numberOrUndefined(temperature);
      if (t !== undefined) body.temperature = t;
      return body;
    }

    async function series(label, withSeedValue, count, signal) {
      const section = h('section', { dataset: { series: withSeedValue ? 'seeded' : 'unseeded' } }, h('h3', { text: label }));
      results.append(section);
      const texts = [];
      for (let i = 1; i <= count; i++) {
        status.replaceChildren(h('span', { class: 'progress', 'aria-hidden': 'true' }), ` ${label}: run ${i} of ${count}…`);
        const body = request(withSeedValue);
        code.show({ op: 'chat', body });
        const result = await runChat(body, { signal });
        texts.push(result.content);
        section.append(runTable(i, result));
        if (i > 1) section.append(diffView(texts[0], result.content, `Run 1 → run ${i}`));
      }
      const same = texts.filter(t => t === texts[0]).length;
      section.append(h('p', { dataset: { rate: withSeedValue ? 'seeded' : 'unseeded' },
        text: `Determinism: ${same} of ${count} runs gave the first run's text (${Math.round((100 * same) / count)} %).` }));
    }

    async function run() {
      const count = Math.min(10, Math.max(2, numberOrUndefined(runs) ?? 2));
      results.replaceChildren();
      showError(error, null);
      controller = new AbortController();
      start.disabled = true;
      cancel.disabled = false;
      try {
        if (withoutSeed.checked) await series('Without a seed', false, count, controller.signal);
        if (withSeed.checked) await series(`With seed ${seed.value}`, true, count, controller.signal);
        status.textContent = 'Done.';
      } catch (e) {
        status.textContent = isAbort(e) ? 'Cancelled.' : '';
        if (!isAbort(e)) showError(error, e);
      } finally {
        controller = null;
        start.disabled = false;
        cancel.disabled = true;
      }
    }

    const form = h('form', { 'aria-label': 'Reproducibility experiment' },
      field('Model', model).wrap, field('System message', system).wrap, field('User request', user).wrap,
      h('div', { class: 'grid4' }, field('Runs per series', runs).wrap, field('seed', seed).wrap,
        field('temperature', temperature).wrap, field('max_tokens', maxTokens).wrap),
      h('div', { class: 'row' }, h('label', { class: 'inline' }, withoutSeed, 'runs without a seed'), h('label', { class: 'inline' }, withSeed, 'runs with the seed')),
      h('div', { class: 'row' }, start, cancel), status, error);
    form.addEventListener('submit', event => {
      event.preventDefault();
      run();
    });
    form.addEventListener('input', () => code.show({ op: 'chat', body: request(true) }));
    cancel.addEventListener('click', () => controller?.abort());
    code.show({ op: 'chat', body: request(true) });

    return h('div', {},
      h('p', { class: 'muted', text: 'The same request sent several times: without a seed the answers differ; with a seed (and the same system_fingerprint) they are the same.' }),
      h('div', { class: 'columns' }, h('div', {}, form), h('div', {}, h('h2', { text: 'Code' }), code.element)),
      results);
  },
};
