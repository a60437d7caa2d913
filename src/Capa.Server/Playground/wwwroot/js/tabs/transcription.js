// Transcription: upload or record audio, get text, subtitles, and timestamps that seek in the audio.
import { field, h, numberOrUndefined, select, showError } from '../dom.js';
import { codeView } from '../code.js';
import { call } from '../api.js';
import { isAbort } from '../chatrun.js';
import { modelInput } from './speech.js';

const FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'];

function clock(seconds) {
  const ms = Math.round(seconds * 1000);
  const m = Math.floor(ms / 60000);
  const s = Math.floor((ms % 60000) / 1000);
  return `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}`;
}

/** Cue start times of SRT or WebVTT text: [{ start, line }]. */
function cues(text) {
  const out = [];
  for (const line of text.split(/\r?\n/)) {
    const match = /^(\d+):(\d{2}):(\d{2})[.,](\d{3})\s+-->/.exec(line) ?? /^(\d{2}):(\d{2})[.,](\d{3})\s+-->/.exec(line);
    if (!match) continue;
    const parts = match.slice(1).map(Number);
    const start = parts.length === 4 ? parts[0] * 3600 + parts[1] * 60 + parts[2] + parts[3] / 1000 : parts[0] * 60 + parts[1] + parts[2] / 1000;
    out.push({ start, line });
  }
  return out;
}

export default {
  id: 'transcription',
  title: 'Transcription',
  available: ctx => ctx.served('transcription'),
  create(ctx) {
    const model = modelInput('model', ['whisper-1', 'gpt-4o-transcribe', 'gpt-4o-mini-transcribe', ...ctx.modelsWith('transcription')], 'whisper-1');
    const task = select(ctx.served('translation') ? [['transcription', 'Transcribe'], ['translation', 'Translate to English']] : [['transcription', 'Transcribe']], 'transcription');
    task.name = 'task';
    const file = h('input', { type: 'file', name: 'file', accept: 'audio/*,video/*,.wav,.mp3,.m4a,.webm,.ogg,.flac' });
    const record = h('button', { type: 'button', class: 'secondary', text: 'Record' });
    const sample = h('button', { type: 'button', class: 'secondary', text: 'Speak a sample', hidden: !ctx.served('speech') });
    const language = h('input', { type: 'text', name: 'language', placeholder: 'e.g. zh, en (optional)', maxlength: 8 });
    const prompt = h('input', { type: 'text', name: 'prompt', placeholder: 'optional' });
    const temperature = h('input', { type: 'number', name: 'temperature', min: 0, max: 1, step: 0.1, placeholder: '0' });
    const format = select(FORMATS, 'verbose_json');
    format.name = 'response_format';
    const words = h('input', { type: 'checkbox', name: 'word_timestamps' });
    const go = h('button', { type: 'submit', text: 'Transcribe', disabled: true });
    const cancel = h('button', { type: 'button', class: 'secondary', text: 'Cancel', disabled: true });
    const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const player = h('audio', { controls: true, hidden: true, dataset: { transcription: 'audio' } });
    const output = h('div', { class: 'transcription-output' });
    const code = codeView();
    let audio = null;
    let audioUrl = null;
    let controller = null;
    let recorder = null;

    function useAudio(blob, name) {
      audio = { blob, name };
      if (audioUrl) URL.revokeObjectURL(audioUrl);
      audioUrl = URL.createObjectURL(blob);
      player.src = audioUrl;
      player.hidden = false;
      go.disabled = false;
      status.textContent = `${name}: ${blob.size} bytes`;
      refresh();
    }

    function fields() {
      const f = { model: model.input.value };
      if (task.value === 'transcription' && language.value.trim()) f.language = language.value.trim();
      if (prompt.value.trim()) f.prompt = prompt.value;
      const t = numberOrUndefined(temperature);
      if (t !== undefined) f.temperature = t;
      f.response_format = format.value;
      if (task.value === 'transcription' && format.value === 'verbose_json') f.timestamp_granularities = words.checked ? ['segment', 'word'] : ['segment'];
      return f;
    }

    function request() {
      return { op: task.value, fields: fields(), fileName: audio?.name ?? 'audio.wav' };
    }

    function refresh() {
      go.textContent = task.value === 'translation' ? 'Translate' : 'Transcribe';
      code.show(request());
    }

    function seekButton(start, label) {
      return h('button', { type: 'button', dataset: { seek: String(start) }, text: label, 'aria-label': `Play from ${clock(start)}`,
        onclick: () => {
          player.currentTime = start;
          player.play().catch(() => {});
        } });
    }

    function show(req, response, body) {
      output.replaceChildren();
      if (req.fields.response_format === 'json' || req.fields.response_format === 'verbose_json') {
        const data = JSON.parse(body);
        output.append(h('p', { class: 'transcript-text', dataset: { transcript: 'text' }, text: data.text }));
        if (data.language || data.duration) output.append(h('p', { class: 'meta', text: `language ${data.language ?? '—'} · duration ${data.duration ?? '—'} s` }));
        if (data.segments?.length) {
          output.append(h('h3', { text: 'Segments' }), h('ul', { class: 'segments' }, data.segments.map(s =>
            h('li', {}, seekButton(s.start, `[${clock(s.start)} → ${clock(s.end)}]`), ` ${s.text}`))));
        }
        if (data.words?.length) {
          output.append(h('h3', { text: 'Words' }), h('p', {}, data.words.map(w => [seekButton(w.start, w.word), ' '])));
        }
      } else {
        output.append(h('pre', { class: 'json', dataset: { transcript: req.fields.response_format }, text: body }));
        const list = cues(body);
        if (list.length) output.append(h('ul', { class: 'segments' }, list.map(c => h('li', {}, seekButton(c.start, c.line)))));
      }
      const seed = response.headers.get('x-capa-seed');
      if (seed) output.append(h('p', { class: 'muted', text: `x-capa-seed ${seed}` }));
    }

    async function run() {
      if (!audio) return;
      const req = request();
      code.show(req);
      const form = new FormData();
      form.append('file', audio.blob, audio.name);
      for (const [k, v] of Object.entries(req.fields)) {
        for (const item of Array.isArray(v) ? v : [v]) form.append(Array.isArray(v) ? `${k}[]` : k, String(item));
      }
      showError(error, null);
      controller = new AbortController();
      go.disabled = true;
      cancel.disabled = false;
      status.replaceChildren(h('span', { class: 'progress', 'aria-hidden': 'true' }), ' Transcribing…');
      try {
        const response = await call(`/v1/audio/${req.op === 'translation' ? 'translations' : 'transcriptions'}`, { form, signal: controller.signal });
        show(req, response, await response.text());
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

    file.addEventListener('change', () => {
      if (file.files?.[0]) useAudio(file.files[0], file.files[0].name);
    });

    record.addEventListener('click', async () => {
      if (recorder) {
        recorder.stop();
        return;
      }
      showError(error, null);
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        const chunks = [];
        recorder = new MediaRecorder(stream);
        recorder.addEventListener('dataavailable', e => chunks.push(e.data));
        recorder.addEventListener('stop', () => {
          stream.getTracks().forEach(t => t.stop());
          const type = recorder.mimeType || 'audio/webm';
          recorder = null;
          record.textContent = 'Record';
          useAudio(new Blob(chunks, { type }), `recording.${type.includes('ogg') ? 'ogg' : 'webm'}`);
        });
        recorder.start();
        record.textContent = 'Stop recording';
        status.textContent = 'Recording…';
      } catch (e) {
        recorder = null;
        showError(error, new Error(`Cannot record: ${e.message}`));
      }
    });

    sample.addEventListener('click', async () => {
      showError(error, null);
      status.replaceChildren(h('span', { class: 'progress', 'aria-hidden': 'true' }), ' Making a sample with /v1/audio/speech…');
      try {
        const response = await call('/v1/audio/speech', { json: { model: 'tts-1', input: '今天天气很好。The weather is nice today.', voice: 'alloy', response_format: 'wav' } });
        useAudio(await response.blob(), 'sample.wav');
      } catch (e) {
        status.textContent = '';
        showError(error, e);
      }
    });

    const form = h('form', { 'aria-label': 'Transcription request' },
      field('Audio file', file).wrap,
      h('div', { class: 'row' }, record, sample),
      player,
      field('Task', task).wrap,
      field('Model', model.input).wrap, model.list,
      h('div', { class: 'grid4' }, field('language', language).wrap, field('prompt', prompt).wrap, field('temperature', temperature).wrap, field('response_format', format).wrap),
      h('div', { class: 'row' }, h('label', { class: 'inline' }, words, 'word timestamps (verbose_json)')),
      h('div', { class: 'row' }, go, cancel), status, error);
    form.addEventListener('submit', event => {
      event.preventDefault();
      run();
    });
    form.addEventListener('input', refresh);
    form.addEventListener('change', refresh);
    cancel.addEventListener('click', () => controller?.abort());
    refresh();
    return h('div', { class: 'columns' }, h('div', {}, form, output), h('div', {}, h('h2', { text: 'Code' }), code.element));
  },
};
