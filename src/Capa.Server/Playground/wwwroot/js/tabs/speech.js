// Speech: text to a voice, played in the page (as it streams, for PCM) and downloadable.
import { field, h, numberOrUndefined, select, showError, uid } from '../dom.js';
import { codeView } from '../code.js';
import { call, events } from '../api.js';
import { PcmPlayer, fromBase64, wavFromPcm } from '../audio.js';
import { isAbort } from '../chatrun.js';

const VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse'];
const FORMATS = ['mp3', 'wav', 'opus', 'aac', 'flac', 'pcm'];
const TYPES = { mp3: 'audio/mpeg', wav: 'audio/wav', opus: 'audio/ogg', aac: 'audio/aac', flac: 'audio/flac', pcm: 'audio/wav' };

/** An <input> with suggestions (a datalist) that still takes any id. */
export function modelInput(name, suggestions, value) {
  const listId = uid('models');
  const input = h('input', { type: 'text', name, value, list: listId, spellcheck: false, autocomplete: 'off' });
  // OpenAI's ids are suggested first; /v1/models may list them too (served locally): each id once.
  return { input, list: h('datalist', { id: listId }, [...new Set(suggestions)].map(s => h('option', { value: s }))) };
}

export default {
  id: 'speech',
  title: 'Speech',
  available: ctx => ctx.served('speech'),
  create(ctx) {
    const model = modelInput('model', ['tts-1', 'tts-1-hd', 'gpt-4o-mini-tts', ...ctx.modelsWith('speech')], 'tts-1');
    const input = h('textarea', { name: 'input', rows: 4, value: '你好，欢迎使用 Capa。Hello from Capa.' });
    const voice = select(VOICES, 'alloy');
    voice.name = 'voice';
    const format = select(FORMATS, 'mp3');
    format.name = 'response_format';
    const speed = h('input', { type: 'number', name: 'speed', min: 0.25, max: 4, step: 0.05, value: '1' });
    const instructions = h('input', { type: 'text', name: 'instructions', placeholder: 'optional (gpt-4o-mini-tts)' });
    const stream = h('input', { type: 'checkbox', name: 'stream' });
    const speak = h('button', { type: 'submit', text: 'Speak' });
    const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel', disabled: true });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
    const output = h('div', { class: 'speech-output' });
    const code = codeView();
    let controller = null;
    let player = null;
    let objectUrl = null;

    function request() {
      const body = { model: model.input.value, input: input.value, voice: voice.value, response_format: format.value };
      const s = numberOrUndefined(speed);
      if (s !== undefined && s !== 1) body.speed = s;
      if (instructions.value.trim()) body.instructions = instructions.value;
      if (stream.checked) body.stream_format = 'sse';
      return { op: 'speech', body, fileName: `speech.${format.value}` };
    }

    async function run() {
      const req = request();
      code.show(req);
      showError(error, null);
      output.replaceChildren();
      player?.stop();
      player = null;
      controller = new AbortController();
      speak.disabled = true;
      cancel.disabled = false;
      status.replaceChildren(h('span', { class: 'progress', 'aria-hidden': 'true' }), ' Speaking…');
      try {
        const response = await call('/v1/audio/speech', { json: req.body, signal: controller.signal });
        const fingerprint = response.headers.get('x-capa-voice-fingerprint');
        let blob;
        if (req.body.stream_format === 'sse') {
          const chunks = [];
          if (req.body.response_format === 'pcm') player = new PcmPlayer();
          for await (const { data } of events(response)) {
            if (data.type === 'speech.audio.delta') {
              const bytes = fromBase64(data.audio);
              chunks.push(bytes);
              player?.push(bytes);
              status.textContent = `Streaming: ${chunks.reduce((n, c) => n + c.length, 0)} bytes`;
            }
          }
          blob = req.body.response_format === 'pcm' ? wavFromPcm(chunks) : new Blob(chunks, { type: TYPES[req.body.response_format] });
        } else {
          const bytes = new Uint8Array(await response.arrayBuffer());
          blob = req.body.response_format === 'pcm' ? wavFromPcm([bytes]) : new Blob([bytes], { type: TYPES[req.body.response_format] });
        }
        if (objectUrl) URL.revokeObjectURL(objectUrl);
        objectUrl = URL.createObjectURL(blob);
        const audio = h('audio', { controls: true, src: objectUrl, preload: 'metadata', dataset: { speech: 'result' } });
        const duration = h('span', { dataset: { meta: 'duration' } });
        audio.addEventListener('loadedmetadata', () => {
          duration.textContent = Number.isFinite(audio.duration) ? `${audio.duration.toFixed(2)} s` : '';
        });
        output.append(audio,
          h('div', { class: 'meta' },
            h('span', {}, 'size ', h('b', { text: `${blob.size} bytes` })),
            h('span', {}, 'duration ', duration),
            h('span', {}, 'x-capa-voice-fingerprint ', h('b', { text: fingerprint ?? '—' }))),
          h('p', {}, h('a', { href: objectUrl, download: req.fileName, text: `Download ${req.fileName}` })));
        status.textContent = 'Done.';
        if (!player) audio.play().catch(() => { /* Autoplay may be refused; the controls are there. */ });
      } catch (e) {
        status.textContent = isAbort(e) ? 'Cancelled.' : '';
        if (!isAbort(e)) showError(error, e);
      } finally {
        controller = null;
        speak.disabled = false;
        cancel.disabled = true;
      }
    }

    const form = h('form', { 'aria-label': 'Speech request' },
      field('Model', model.input).wrap, model.list,
      field('Text', input).wrap,
      h('div', { class: 'grid4' }, field('voice', voice).wrap, field('response_format', format).wrap, field('speed', speed).wrap, field('instructions', instructions).wrap),
      h('div', { class: 'row' }, h('label', { class: 'inline' }, stream, 'stream (server-sent events; PCM plays as it arrives)')),
      h('div', { class: 'row' }, speak, cancel), status, error);
    form.addEventListener('submit', event => {
      event.preventDefault();
      run();
    });
    form.addEventListener('input', () => code.show(request()));
    form.addEventListener('change', () => code.show(request()));
    cancel.addEventListener('click', () => {
      controller?.abort();
      player?.stop();
    });
    code.show(request());
    return h('div', { class: 'columns' }, h('div', {}, form, output), h('div', {}, h('h2', { text: 'Code' }), code.element));
  },
};
