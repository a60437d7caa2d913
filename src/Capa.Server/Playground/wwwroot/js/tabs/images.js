// Images: a prompt (Chinese welcome) to a gallery, with revised prompts, downloads and partial previews when streaming.
import { field, h, numberOrUndefined, select, showError } from '../dom.js';
import { codeView } from '../code.js';
import { call, events } from '../api.js';
import { isAbort } from '../chatrun.js';
import { modelInput } from './speech.js';

export default {
  id: 'images',
  title: 'Images',
  available: ctx => ctx.served('images'),
  create(ctx) {
    const model = modelInput('model', ['dall-e-2', 'dall-e-3', 'gpt-image-1', ...ctx.modelsWith('image')], 'dall-e-3');
    const prompt = h('textarea', { name: 'prompt', rows: 3, value: '一只猫' });
    const size = select(['256x256', '512x512', '1024x1024', '1792x1024', '1024x1792', '1536x1024', '1024x1536', 'auto'], '1024x1024');
    size.name = 'size';
    const quality = select(['', 'standard', 'hd', 'low', 'medium', 'high', 'auto'], '');
    quality.name = 'quality';
    const n = h('input', { type: 'number', name: 'n', min: 1, max: 10, step: 1, value: '1' });
    const seed = h('input', { type: 'number', name: 'seed', step: 1, placeholder: 'none' });
    const stream = h('input', { type: 'checkbox', name: 'stream' });
    const go = h('button', { type: 'submit', text: 'Generate' });
    const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel', disabled: true });
    const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const gallery = h('div', { class: 'gallery', dataset: { images: 'gallery' } });
    const code = codeView();
    let controller = null;

    function request() {
      const body = { model: model.input.value, prompt: prompt.value, size: size.value };
      if (quality.value) body.quality = quality.value;
      const count = numberOrUndefined(n);
      if (count !== undefined && count !== 1) body.n = count;
      const s = numberOrUndefined(seed);
      if (s !== undefined) body.seed = s;
      // GPT image models always answer base64; DALL·E is asked for it, so that the page needs no other origin.
      if (!body.model.startsWith('gpt-image')) body.response_format = 'b64_json';
      if (stream.checked) {
        body.stream = true;
        body.partial_images = 2;
      }
      return { op: 'images', body };
    }

    // One image of the gallery; a partial preview is marked as such and carries no revised prompt.
    function figure(b64, format, index, { revised, partial } = {}) {
      const src = `data:image/${format ?? 'png'};base64,${b64}`;
      const caption = partial !== undefined ? `Partial preview ${partial + 1}` : revised;
      const img = h('img', { src, alt: caption || prompt.value, dataset: partial !== undefined ? { image: String(index), partial: String(partial) } : { image: String(index) } });
      const dims = h('span', { class: 'muted' });
      img.addEventListener('load', () => { dims.textContent = `${img.naturalWidth} × ${img.naturalHeight}`; });
      return h('figure', {}, img, h('figcaption', {},
        revised && partial === undefined ? h('p', { dataset: { revised: String(index) }, text: revised }) : null,
        partial !== undefined ? h('p', { class: 'muted', text: caption }) : null,
        dims, ' ',
        partial === undefined ? h('a', { href: src, download: `image-${index}.${format ?? 'png'}`, text: 'Download' }) : null));
    }

    async function run() {
      const req = request();
      code.show(req);
      showError(error, null);
      gallery.replaceChildren();
      controller = new AbortController();
      go.disabled = true;
      cancel.disabled = false;
      status.replaceChildren(h('span', { class: 'progress', 'aria-hidden': 'true' }), ' Generating…');
      try {
        const response = await call('/v1/images/generations', { json: req.body, signal: controller.signal });
        if (req.body.stream) {
          // Partial previews of an image are replaced by the next one, then by the finished image.
          const shown = new Map();
          let completed = 0;
          for await (const { event, data } of events(response)) {
            const final = event.endsWith('.completed');
            const index = data.image_index ?? (final ? completed++ : completed);
            const next = figure(data.b64_json, data.output_format, index, final ? { revised: data.revised_prompt } : { partial: data.partial_image_index ?? 0 });
            if (shown.has(index)) shown.get(index).replaceWith(next);
            else gallery.append(next);
            shown.set(index, next);
            if (!final) status.replaceChildren(h('span', { class: 'progress', 'aria-hidden': 'true' }), ` Partial preview ${(data.partial_image_index ?? 0) + 1}…`);
          }
        } else {
          const result = await response.json();
          (result.data ?? []).forEach((image, i) => gallery.append(figure(image.b64_json, result.output_format, i, { revised: image.revised_prompt })));
        }
        status.textContent = 'Done.';
      } catch (e) {
        status.textContent = isAbort(e) ? 'Cancelled.' : '';
        if (!isAbort(e)) showError(error, e);
      } finally {
        controller = null;
        go.disabled = false;
        cancel.disabled = true;
      }
    }

    const form = h('form', { 'aria-label': 'Image request' },
      field('Model', model.input).wrap, model.list, field('Prompt', prompt).wrap,
      h('div', { class: 'grid4' }, field('size', size).wrap, field('quality', quality).wrap, field('n', n).wrap, field('seed', seed).wrap),
      h('div', { class: 'row' }, h('label', { class: 'inline' }, stream, 'stream partial previews')),
      h('div', { class: 'row' }, go, cancel), status, error);
    form.addEventListener('submit', event => {
      event.preventDefault();
      run();
    });
    form.addEventListener('input', () => code.show(request()));
    form.addEventListener('change', () => code.show(request()));
    cancel.addEventListener('click', () => controller?.abort());
    code.show(request());
    return h('div', {}, h('div', { class: 'columns' }, h('div', {}, form), h('div', {}, h('h2', { text: 'Code' }), code.element)), h('h2', { text: 'Gallery' }), gallery);
  },
};
