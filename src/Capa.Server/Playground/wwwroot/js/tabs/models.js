// Models: the store (size, variant, capabilities, fingerprint), pulling from the hub with live progress, removing;
// and which API areas this server serves. Pull and remove use Capa's own /capa/v1/models, which SDKs do not cover.
import { field, h, select, showError } from '../dom.js';
import { codeView, shellQuote } from '../code.js';
import { auth, call, callJson, events } from '../api.js';
import { isAbort } from '../chatrun.js';

const STORE = '/capa/v1/models';
const VARIANTS = ['q4', 'int8', 'fp16', 'fp32'];

/** 1536 -> "1.5 KB" (binary units, as capa list prints them). */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 1024) return `${n ?? 0} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** The URL path of a model id: each segment escaped, the slash of ORG/NAME kept. */
function storePath(id) {
  return `${STORE}/${id.split('/').map(encodeURIComponent).join('/')}`;
}

/** "Show code" for a pull: curl against this server, and the CLI that does the same from a terminal. */
function pullCode(body) {
  const lines = [`curl -N ${location.origin}${STORE}/pull`];
  if (auth.required) lines.push('  -H "Authorization: Bearer $OPENAI_API_KEY"');
  lines.push('  -H "Content-Type: application/json"');
  lines.push(`  -d ${shellQuote(JSON.stringify(body))}`);
  const reference = body.revision ? `${body.model}@${body.revision}` : body.model;
  const cli = `capa pull ${shellQuote(reference || 'ORG/NAME')}${body.variant && body.variant !== 'q4' ? ` --variant ${body.variant}` : ''}`;
  const text = `${lines.join(' \\\n')}\n\n# The same from a terminal on the server's machine:\n${cli}\n`;
  return language => language === 'curl'
    ? text
    : `# The OpenAI SDKs have no call to pull or remove models (Capa's own ${STORE} endpoints do it): use curl or the CLI.\n\n${text}`;
}

function readOnly(ctx) {
  return h('div', {},
    h('table', { class: 'runs' },
      h('caption', { class: 'sr-only', text: 'Models this server lists' }),
      h('thead', {}, h('tr', {}, ['Model', 'Capabilities', 'Owner'].map(t => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ctx.models.map(m => h('tr', { dataset: { model: m.id } },
        h('td', {}, h('code', { text: m.id })),
        h('td', { text: m.capabilities ? m.capabilities.join(', ') : 'unknown' }),
        h('td', { text: m.ownedBy ?? '' }))))),
    h('p', { class: 'muted', text: 'This server does not let clients pull or remove models. Use capa pull ORG/NAME and capa rm on its machine.' }));
}

export default {
  id: 'models',
  title: 'Models',
  available: () => true,
  create(ctx) {
    const areas = Object.entries(ctx.features.areas ?? {}).map(([area, how]) =>
      h('tr', { dataset: { area } }, h('td', { text: area }), h('td', { text: how === 'local' ? 'served here' : how === 'upstream' ? 'forwarded upstream' : 'not available' })));
    const areaTable = h('div', {},
      h('h2', { text: 'API areas' }),
      h('table', { class: 'runs' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Area' }), h('th', { scope: 'col', text: 'This server' }))),
        h('tbody', {}, areas)));
    if (!ctx.served('model_store')) {
      return h('div', {}, h('h2', { text: 'Models' }), readOnly(ctx), areaTable);
    }

    // The store.
    const tbody = h('tbody');
    const listStatus = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
    const listError = h('p', { class: 'error', role: 'alert', hidden: true });
    const refresh = h('button', { type: 'button', class: 'secondary', text: 'Refresh' });

    function confirmRemove(row, model, removeButton) {
      const cell = removeButton.parentElement;
      const yes = h('button', { type: 'button', text: 'Remove', 'aria-label': `Confirm: remove ${model.id}`, dataset: { confirm: 'remove' } });
      const no = h('button', { type: 'button', class: 'secondary', text: 'Keep', 'aria-label': `Keep ${model.id}` });
      const question = h('span', { text: `Remove ${model.id} from the store? ` });
      const restore = () => {
        cell.replaceChildren(removeButton);
        removeButton.focus();
      };
      no.addEventListener('click', restore);
      cell.addEventListener('keydown', event => {
        if (event.key === 'Escape') restore();
      });
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        no.disabled = true;
        showError(listError, null);
        try {
          await call(storePath(model.id), { method: 'DELETE' });
          listStatus.textContent = `Removed ${model.id}.`;
          await load();
          refresh.focus();
        } catch (e) {
          showError(listError, e);
          restore();
        }
      });
      cell.replaceChildren(h('div', { class: 'row confirm', role: 'group', 'aria-label': `Remove ${model.id}?` }, question, yes, no));
      yes.focus();
    }

    function row(model) {
      const remove = h('button', { type: 'button', class: 'secondary', text: 'Remove', 'aria-label': `Remove ${model.id}`, dataset: { action: 'remove' } });
      const tr = h('tr', { dataset: { model: model.id } },
        h('th', { scope: 'row' }, h('code', { text: model.id })),
        h('td', { dataset: { col: 'size' }, text: formatBytes(model.size_bytes) }),
        h('td', { dataset: { col: 'variant' }, text: model.variant ?? '—' }),
        h('td', { dataset: { col: 'capabilities' }, text: model.capabilities?.length ? model.capabilities.join(', ') : '—' }),
        h('td', { dataset: { col: 'fingerprint' } }, model.fingerprint
          ? h('code', { title: model.fingerprint, text: model.fingerprint.slice(0, 19) })
          : h('span', { class: 'muted', text: 'placed by hand' })),
        h('td', { dataset: { col: 'revision' }, text: model.revision ? `${model.revision}${model.commit ? ` (${model.commit.slice(0, 12)})` : ''}` : 'local' }),
        h('td', {}, remove));
      remove.addEventListener('click', () => confirmRemove(tr, model, remove));
      return tr;
    }

    async function load() {
      showError(listError, null);
      try {
        const { data } = await callJson(STORE, { method: 'GET' });
        const models = data.data ?? [];
        tbody.replaceChildren(...models.map(row));
        if (models.length === 0) {
          tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'muted', text: 'No models in the store: this server answers with its built-in test models. Pull one below.' })));
        }
        tbody.dataset.loaded = String(models.length);
      } catch (e) {
        showError(listError, e);
      }
    }
    refresh.addEventListener('click', load);

    const table = h('table', { class: 'runs store' },
      h('caption', { class: 'sr-only', text: 'Models in the store' }),
      h('thead', {}, h('tr', {}, ['Model', 'Size', 'Variant', 'Capabilities', 'Fingerprint', 'Revision', 'Actions'].map(t => h('th', { scope: 'col', text: t })))),
      tbody);

    // Pulling.
    const model = h('input', { type: 'text', name: 'model', required: true, spellcheck: false, autocomplete: 'off', placeholder: 'onnx-community/Qwen2.5-0.5B-Instruct' });
    const variant = select(VARIANTS, 'q4');
    variant.name = 'variant';
    const revision = h('input', { type: 'text', name: 'revision', spellcheck: false, autocomplete: 'off', placeholder: 'main' });
    const pull = h('button', { type: 'submit', text: 'Pull' });
    const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel', disabled: true });
    const progressId = 'pull-progress';
    const bar = h('progress', { id: progressId, max: 1, value: 0, 'aria-describedby': 'pull-status', dataset: { state: 'idle' } });
    const status = h('p', { id: 'pull-status', class: 'muted', role: 'status', 'aria-live': 'polite' });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const code = codeView();
    let controller = null;

    function request() {
      const body = { model: model.value.trim() };
      if (variant.value !== 'q4') body.variant = variant.value;
      if (revision.value.trim()) body.revision = revision.value.trim();
      return { body, generate: pullCode(body) };
    }

    function describe(p) {
      if (p.stage === 'retrying') return `Retry ${p.attempt} after: ${p.note ?? 'a failure'}`;
      if (p.stage === 'installing') return `Verified ${formatBytes(p.bytes_done)}; installing…`;
      const file = `${p.file} (${p.file_index + 1}/${p.file_count})`;
      const speed = p.bytes_per_second > 0 ? `, ${formatBytes(p.bytes_per_second)}/s` : '';
      return `${file}: ${formatBytes(p.bytes_done)} of ${formatBytes(p.total_bytes)}${speed}`;
    }

    async function run() {
      const req = request();
      code.show(req);
      showError(error, null);
      controller = new AbortController();
      pull.disabled = true;
      cancel.disabled = false;
      bar.removeAttribute('value');
      bar.dataset.state = 'running';
      status.textContent = `Asking the hub for ${req.body.model}…`;
      try {
        const response = await call(`${STORE}/pull`, { json: req.body, signal: controller.signal });
        let installed = null;
        for await (const { event, data } of events(response)) {
          if (event === 'model.pull.progress') {
            bar.max = Math.max(1, data.total_bytes);
            bar.value = Math.min(data.bytes_done, bar.max);
            status.textContent = describe(data);
          } else if (event === 'model.pull.completed') {
            installed = data.model;
          }
        }
        if (!installed) throw new Error('The pull ended without installing the model.');
        bar.value = bar.max;
        bar.dataset.state = 'done';
        status.textContent = `Pulled ${installed.id} (${installed.variant ?? 'unknown variant'}, ${formatBytes(installed.size_bytes)}).`;
        await load();
      } catch (e) {
        bar.value = 0;
        bar.dataset.state = isAbort(e) ? 'cancelled' : 'failed';
        status.textContent = isAbort(e) ? 'Cancelled: nothing was kept.' : '';
        if (!isAbort(e)) showError(error, e);
      } finally {
        controller = null;
        pull.disabled = false;
        cancel.disabled = true;
      }
    }

    const form = h('form', { 'aria-label': 'Pull a model' },
      field('Hub repository (ORG/NAME, or ORG/NAME/VOICE for one Piper voice)', model).wrap,
      h('div', { class: 'grid4' }, field('variant', variant).wrap, field('revision (branch, tag or commit)', revision).wrap),
      h('div', { class: 'row' }, pull, cancel),
      h('label', { for: progressId, text: 'Pull progress' }), bar, status, error);
    form.addEventListener('submit', event => {
      event.preventDefault();
      run();
    });
    form.addEventListener('input', () => code.show(request()));
    form.addEventListener('change', () => code.show(request()));
    cancel.addEventListener('click', () => controller?.abort());
    code.show(request());
    load();

    return h('div', {},
      h('div', { class: 'row' }, h('h2', { text: 'Models in the store' }), refresh),
      table, listStatus, listError,
      h('div', { class: 'columns' },
        h('div', {}, h('h2', { text: 'Pull a model' }), form),
        h('div', {}, h('h2', { text: 'Code' }), code.element)),
      areaTable);
  },
};
