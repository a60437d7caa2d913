// Vision: an image (dropped, pasted, chosen or by URL) and a question, answered by a model that sees.
import { field, h, numberOrUndefined, select, showError } from '../dom.js';
import { codeView } from '../code.js';
import { isAbort, runChat } from '../chatrun.js';

export default {
  id: 'vision',
  title: 'Vision',
  available: ctx => ctx.served('chat') && ctx.models.some(m => m.capabilities?.includes('vision')),
  create(ctx) {
    const model = select(ctx.models.filter(m => m.capabilities?.includes('vision')).map(m => m.id));
    model.name = 'model';
    const file = h('input', { type: 'file', name: 'image', accept: 'image/*' });
    const url = h('input', { type: 'url', name: 'image_url', placeholder: 'https://… or data:image/…' });
    const drop = h('div', { class: 'drop', tabindex: '0', text: 'Drop or paste an image here' });
    const preview = h('div', { class: 'preview' });
    const question = h('textarea', { name: 'question', rows: 2, value: '这个图片里面有什么内容？' });
    const detail = select(['auto', 'low', 'high'], 'auto');
    detail.name = 'detail';
    const maxTokens = h('input', { type: 'number', name: 'max_tokens', min: 1, step: 1, value: '64' });
    const seed = h('input', { type: 'number', name: 'seed', step: 1, placeholder: 'none' });
    const stream = h('input', { type: 'checkbox', name: 'stream', checked: true });
    const ask = h('button', { type: 'submit', text: 'Ask' });
    const stop = h('button', { type: 'button', class: 'secondary', text: 'Stop', disabled: true });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const answer = h('div', { class: 'message assistant', dataset: { vision: 'answer' } });
    const code = codeView();
    let dataUrl = null;
    let controller = null;

    function imageUrl() {
      return url.value.trim() || dataUrl || '';
    }

    function request() {
      const body = {
        model: model.value,
        messages: [{ role: 'user', content: [
          { type: 'text', text: question.value },
          { type: 'image_url', image_url: { url: imageUrl(), detail: detail.value } },
        ] }],
      };
      const m = numberOrUndefined(maxTokens);
      if (m !== undefined) body.max_tokens = m;
      const s = numberOrUndefined(seed);
      if (s !== undefined) body.seed = s;
      if (stream.checked) {
        body.stream = true;
        body.stream_options = { include_usage: true };
      }
      return body;
    }

    function showPreview() {
      const src = imageUrl();
      preview.replaceChildren();
      // Only images this page holds are shown: the policy of the page loads nothing from other origins.
      if (src.startsWith('data:image/')) {
        const img = h('img', { src, alt: 'The image to ask about' });
        // A preview replaced since (the URL typed on) says nothing about the image shown now.
        img.addEventListener('load', () => img.isConnected && preview.append(h('p', { class: 'muted', text: `${img.naturalWidth} × ${img.naturalHeight}` })));
        // Bytes the browser cannot draw: said in words, not a broken picture (the server still gets to judge them).
        img.addEventListener('error', () => img.isConnected && preview.replaceChildren(h('p', { class: 'muted', dataset: { preview: 'unreadable' }, text: 'This browser cannot show this image.' })));
        preview.append(img);
      } else if (src) {
        preview.append(h('p', { class: 'muted', text: `The server fetches ${src}` }));
      }
      code.show({ op: 'chat', body: request() });
    }

    function readFile(blob) {
      if (!blob?.type.startsWith('image/')) return;
      const reader = new FileReader();
      reader.addEventListener('load', () => {
        dataUrl = reader.result;
        url.value = '';
        showPreview();
      });
      reader.readAsDataURL(blob);
    }

    file.addEventListener('change', () => readFile(file.files?.[0]));
    drop.addEventListener('dragover', e => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', e => {
      e.preventDefault();
      drop.classList.remove('over');
      readFile(e.dataTransfer?.files?.[0]);
    });
    drop.addEventListener('paste', e => readFile([...(e.clipboardData?.items ?? [])].find(i => i.type.startsWith('image/'))?.getAsFile()));

    async function run() {
      if (!imageUrl()) {
        showError(error, new Error('Choose, drop or paste an image, or give its URL.'));
        return;
      }
      const body = request();
      code.show({ op: 'chat', body });
      showError(error, null);
      answer.replaceChildren();
      const content = h('div', { class: 'content' });
      const meta = h('div', { class: 'meta' });
      answer.append(content, meta);
      controller = new AbortController();
      ask.disabled = true;
      stop.disabled = false;
      try {
        const result = await runChat(body, { signal: controller.signal, onDelta: (_, text) => { content.textContent = text; } });
        const usage = result.usage;
        meta.append(
          h('span', { dataset: { meta: 'prompt_tokens' } }, 'prompt tokens (text + image) ', h('b', { text: usage?.prompt_tokens ?? '—' })),
          h('span', { dataset: { meta: 'completion_tokens' } }, 'completion tokens ', h('b', { text: usage?.completion_tokens ?? '—' })),
          h('span', { dataset: { meta: 'seed' } }, 'x-capa-seed ', h('b', { text: result.seed ?? '—' })),
          h('span', { dataset: { meta: 'system_fingerprint' } }, 'system_fingerprint ', h('b', { text: result.fingerprint ?? '—' })));
        if (usage?.prompt_tokens_details) meta.append(h('span', {}, 'details ', h('b', { text: JSON.stringify(usage.prompt_tokens_details) })));
      } catch (e) {
        if (isAbort(e)) meta.append(h('span', { text: 'Stopped.' }));
        else showError(error, e);
      } finally {
        controller = null;
        ask.disabled = false;
        stop.disabled = true;
      }
    }

    const form = h('form', { 'aria-label': 'Vision request' },
      field('Model', model).wrap, drop, field('Image file', file).wrap, field('Image URL', url).wrap, preview,
      field('Question', question).wrap,
      h('div', { class: 'grid4' }, field('detail', detail).wrap, field('max_tokens', maxTokens).wrap, field('seed', seed).wrap),
      h('div', { class: 'row' }, h('label', { class: 'inline' }, stream, 'stream')),
      h('div', { class: 'row' }, ask, stop), error);
    form.addEventListener('submit', event => {
      event.preventDefault();
      run();
    });
    form.addEventListener('input', showPreview);
    stop.addEventListener('click', () => controller?.abort());
    showPreview();
    return h('div', { class: 'columns' }, h('div', {}, form), h('div', {}, h('h2', { text: 'Answer' }), answer, h('h2', { text: 'Code' }), code.element));
  },
};
