// Embeddings: several lines in, vectors out, and how alike each pair is (cosine similarity).
import { field, h, numberOrUndefined, showError } from '../dom.js';
import { codeView } from '../code.js';
import { callJson } from '../api.js';
import { modelInput } from './speech.js';

function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

export default {
  id: 'embeddings',
  title: 'Embeddings',
  available: ctx => ctx.served('embeddings'),
  create(ctx) {
    const model = modelInput('model', ['text-embedding-3-small', 'text-embedding-3-large', ...ctx.modelsWith('embeddings')], 'text-embedding-3-small');
    const input = h('textarea', { name: 'input', rows: 4, value: '我喜欢吃苹果。\nI like apples.\n今天的天气很好。' });
    const dimensions = h('input', { type: 'number', name: 'dimensions', min: 1, step: 1, placeholder: 'model default' });
    const go = h('button', { type: 'submit', text: 'Embed' });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const output = h('div', { dataset: { embeddings: 'result' } });
    const code = codeView();

    function request() {
      const lines = input.value.split('\n').map(l => l.trim()).filter(Boolean);
      const body = { model: model.input.value, input: lines.length === 1 ? lines[0] : lines };
      const d = numberOrUndefined(dimensions);
      if (d !== undefined) body.dimensions = d;
      return { op: 'embeddings', body, lines };
    }

    async function run() {
      const req = request();
      code.show(req);
      showError(error, null);
      output.replaceChildren();
      go.disabled = true;
      try {
        const { data } = await callJson('/v1/embeddings', { json: req.body });
        const vectors = data.data.map(d => d.embedding);
        output.append(h('p', { class: 'muted', text: `${vectors.length} vectors of ${vectors[0]?.length ?? 0} dimensions · ${data.usage?.prompt_tokens ?? '—'} tokens` }));
        if (vectors.length > 1) {
          output.append(h('table', { class: 'runs' }, h('tbody', {}, vectors.map((v, i) => h('tr', {},
            h('th', { scope: 'row', text: req.lines[i] }),
            vectors.map(w => h('td', { text: cosine(v, w).toFixed(3) })))))));
        }
        output.append(h('pre', { class: 'json', text: vectors.map((v, i) => `${i}: [${v.slice(0, 6).map(x => x.toFixed(4)).join(', ')}, …]`).join('\n') }));
      } catch (e) {
        showError(error, e);
      } finally {
        go.disabled = false;
      }
    }

    const form = h('form', { 'aria-label': 'Embeddings request' },
      field('Model', model.input).wrap, model.list, field('Inputs (one per line)', input).wrap, field('dimensions', dimensions).wrap,
      h('div', { class: 'row' }, go), error);
    form.addEventListener('submit', event => {
      event.preventDefault();
      run();
    });
    form.addEventListener('input', () => code.show(request()));
    code.show(request());
    return h('div', { class: 'columns' }, h('div', {}, form, output), h('div', {}, h('h2', { text: 'Code' }), code.element));
  },
};
