// GPTs: an assistant with file_search over dropped files (the calls `capa gpt create` makes), its ingestion progress,
// the list of GPTs, a streamed chat with one whose file_citation annotations open the cited chunk, and delete.
import { field, h, select, showError } from '../dom.js';
import { call, callJson, events } from '../api.js';
import { codeView } from '../code.js';
import { gptCode } from '../gptcode.js';

/** Metadata key naming the vector store made for a GPT, as `capa gpt create` sets it, so delete removes only that. */
const VECTOR_STORE_KEY = 'capa_gpt_vector_store';

/** Polling interval of the vector store while its files are indexed. */
const POLL_MS = 250;

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new DOMException('Cancelled', 'AbortError'));
    }, { once: true });
  });
}

function isAbort(error) {
  return error?.name === 'AbortError';
}

export default {
  id: 'gpts',
  title: 'GPTs',
  available: ctx => ['files', 'vector_stores', 'assistants', 'threads'].every(area => ctx.served(area)),
  create(ctx) {
    // ---- Create ----
    const name = h('input', { type: 'text', name: 'name', value: 'Capa notes', required: true, autocomplete: 'off' });
    const instructions = h('textarea', { name: 'instructions', rows: 3, value: 'Answer from the attached files and cite them.' });
    const model = select(ctx.modelsWith('chat'));
    model.name = 'model';
    const file = h('input', { type: 'file', name: 'files', multiple: true });
    const drop = h('div', { class: 'drop', tabindex: '0', dataset: { gpt: 'drop' }, text: 'Drop files here (text, Markdown, PDF, …)' });
    const chosen = h('ul', { class: 'files', 'aria-label': 'Files for the GPT' });
    const createButton = h('button', { type: 'submit', text: 'Create GPT' });
    const cancelButton = h('button', { type: 'button', class: 'secondary', text: 'Cancel', disabled: true });
    const createError = h('p', { class: 'error', role: 'alert', hidden: true });
    const progress = h('progress', { max: 1, value: 0, 'aria-label': 'Ingestion progress', hidden: true });
    const ingestion = h('p', { class: 'muted', dataset: { gpt: 'ingestion' } });
    const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite', dataset: { gpt: 'status' } });
    const code = codeView();
    let files = [];
    let creating = null;

    function showFiles() {
      chosen.replaceChildren(...files.map((f, i) => h('li', { dataset: { file: f.name } },
        `${f.name} (${f.size} bytes) `,
        h('button', { type: 'button', class: 'secondary', text: 'Remove', 'aria-label': `Remove ${f.name}`, onclick: () => {
          files.splice(i, 1);
          showFiles();
        } }))));
      showCreateCode();
    }

    function addFiles(list) {
      for (const f of list ?? []) files.push(f);
      showFiles();
    }

    function creation() {
      return { name: name.value.trim(), instructions: instructions.value, model: model.value, fileNames: files.map(f => f.name) };
    }

    function showCreateCode() {
      code.show({ op: 'gpt', generate: language => gptCode(language, 'create', creation()) });
    }

    file.addEventListener('change', () => {
      addFiles(file.files);
      file.value = '';
    });
    drop.addEventListener('dragover', e => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', e => {
      e.preventDefault();
      drop.classList.remove('over');
      addFiles(e.dataTransfer?.files);
    });
    drop.addEventListener('keydown', e => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        file.click();
      }
    });

    /** Uploads, indexes and creates, showing each stage; resolves to the assistant. */
    async function createGpt(signal) {
      const spec = creation();
      let vectorStore = null;
      if (files.length > 0) {
        const ids = [];
        for (const [i, f] of files.entries()) {
          status.textContent = `Uploading ${f.name} (${i + 1} of ${files.length})…`;
          const form = new FormData();
          form.append('purpose', 'assistants');
          form.append('file', f, f.name);
          ids.push((await callJson('/v1/files', { form, signal })).data.id);
        }
        status.textContent = 'Indexing…';
        vectorStore = (await callJson('/v1/vector_stores', { json: { name: spec.name, file_ids: ids }, signal })).data;
        progress.hidden = false;
        progress.max = Math.max(1, ids.length);
        for (;;) {
          const counts = vectorStore.file_counts ?? {};
          const done = (counts.completed ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0);
          progress.value = done;
          ingestion.dataset.ingestion = vectorStore.status;
          ingestion.textContent = `Indexing: ${counts.completed ?? 0} of ${counts.total ?? ids.length} file(s) indexed` +
            `${counts.failed ? `, ${counts.failed} failed` : ''} (${vectorStore.status}).`;
          if (vectorStore.status !== 'in_progress') break;
          await sleep(POLL_MS, signal);
          vectorStore = (await callJson(`/v1/vector_stores/${encodeURIComponent(vectorStore.id)}`, { method: 'GET', signal })).data;
        }
        if ((vectorStore.file_counts?.completed ?? 0) === 0) {
          throw new Error(`No file could be indexed (vector store ${vectorStore.id} is ${vectorStore.status}).`);
        }
      }
      const body = { model: spec.model, name: spec.name, instructions: spec.instructions, tools: [{ type: 'file_search' }] };
      if (vectorStore) {
        body.tool_resources = { file_search: { vector_store_ids: [vectorStore.id] } };
        body.metadata = { [VECTOR_STORE_KEY]: vectorStore.id };
      }
      return (await callJson('/v1/assistants', { json: body, signal })).data;
    }

    async function onCreate() {
      if (!name.value.trim()) {
        showError(createError, new Error('Give the GPT a name.'));
        return;
      }
      showError(createError, null);
      showCreateCode();
      creating = new AbortController();
      createButton.disabled = true;
      cancelButton.disabled = false;
      delete ingestion.dataset.ingestion;
      delete status.dataset.created;
      ingestion.textContent = '';
      progress.hidden = true;
      progress.value = 0;
      try {
        const assistant = await createGpt(creating.signal);
        status.textContent = `Created ${assistant.name} (${assistant.id}).`;
        status.dataset.created = assistant.id;
        files = [];
        showFiles();
        await refresh();
        openChat(assistant);
      } catch (e) {
        if (isAbort(e)) status.textContent = 'Cancelled.';
        else showError(createError, e);
      } finally {
        creating = null;
        createButton.disabled = false;
        cancelButton.disabled = true;
      }
    }

    const createForm = h('form', { 'aria-label': 'Create a GPT' },
      h('h2', { text: 'Create a GPT' }),
      field('Name', name).wrap, field('Instructions', instructions).wrap, field('Model', model).wrap,
      drop, field('Files', file).wrap, chosen,
      h('div', { class: 'row' }, createButton, cancelButton), progress, ingestion, status, createError);
    createForm.addEventListener('submit', event => {
      event.preventDefault();
      onCreate();
    });
    createForm.addEventListener('input', showCreateCode);
    cancelButton.addEventListener('click', () => creating?.abort());

    // ---- List ----
    const listBody = h('tbody');
    const listError = h('p', { class: 'error', role: 'alert', hidden: true });
    const listTable = h('table', { class: 'runs gpts' },
      h('thead', {}, h('tr', {}, ['Name', 'Model', 'Files', ''].map(t => h('th', { scope: 'col', text: t })))), listBody);

    async function refresh() {
      try {
        const { data } = await callJson('/v1/assistants?order=desc&limit=100', { method: 'GET' });
        showError(listError, null);
        const rows = (data.data ?? []).map(a => {
          const stores = a.tool_resources?.file_search?.vector_store_ids ?? [];
          return h('tr', { dataset: { gpt: a.id } },
            h('td', {}, h('b', { text: a.name || a.id }), h('br'), h('code', { text: a.id })),
            h('td', { text: a.model }),
            h('td', { text: stores.length ? stores.join(', ') : '—' }),
            h('td', {},
              h('button', { type: 'button', text: 'Chat', 'aria-label': `Chat with ${a.name || a.id}`, dataset: { action: 'chat' }, onclick: () => openChat(a) }),
              ' ',
              h('button', { type: 'button', class: 'secondary', text: 'Delete', 'aria-label': `Delete ${a.name || a.id}`, dataset: { action: 'delete' }, onclick: () => remove(a) })));
        });
        listBody.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 4, class: 'muted', text: 'No GPTs yet.' }))]));
      } catch (e) {
        showError(listError, e);
      }
    }

    async function ignoreMissing(promise) {
      try {
        await promise;
      } catch (e) {
        if (e.status !== 404) throw e;
      }
    }

    /** Deletes the assistant with the vector store and files made for it, the way `capa gpt rm` does. */
    async function remove(assistant) {
      try {
        const storeId = assistant.metadata?.[VECTOR_STORE_KEY];
        if (storeId) {
          const path = `/v1/vector_stores/${encodeURIComponent(storeId)}`;
          let fileIds = [];
          try {
            fileIds = ((await callJson(`${path}/files?limit=100`, { method: 'GET' })).data.data ?? []).map(f => f.id);
          } catch (e) {
            if (e.status !== 404) throw e;
          }
          await ignoreMissing(call(path, { method: 'DELETE' }));
          for (const id of fileIds) await ignoreMissing(call(`/v1/files/${encodeURIComponent(id)}`, { method: 'DELETE' }));
        }
        await ignoreMissing(call(`/v1/assistants/${encodeURIComponent(assistant.id)}`, { method: 'DELETE' }));
        if (current?.assistant.id === assistant.id) closeChat();
        await refresh();
      } catch (e) {
        showError(listError, e);
      }
    }

    // ---- Chat ----
    const chatTitle = h('h2', { text: 'Chat' });
    const transcript = h('div', { class: 'thread', dataset: { gpt: 'thread' } });
    const message = h('textarea', { name: 'message', rows: 2, value: 'What does the file say?' });
    const maxTokens = h('input', { type: 'number', name: 'max_completion_tokens', min: 256, step: 1, placeholder: 'no limit' });
    const send = h('button', { type: 'submit', text: 'Send', disabled: true });
    const stop = h('button', { type: 'button', class: 'secondary', text: 'Stop', disabled: true });
    const chatError = h('p', { class: 'error', role: 'alert', hidden: true });
    const chatCode = codeView();
    // Shown once a GPT is open: an empty code box says nothing (and is an unnamed, empty region to a screen reader).
    const chatCodeSection = h('div', { hidden: true }, h('h3', { text: 'Code: chat' }), chatCode.element);
    let current = null;
    let running = null;

    function showChatCode() {
      if (!current) return;
      const run = runBody(current.assistant.id);
      chatCode.show({ op: 'gpt', generate: language => gptCode(language, 'chat', { run, message: message.value }) });
    }

    /** The body of the streamed run. */
    function runBody(assistantId) {
      const body = { assistant_id: assistantId, stream: true };
      const max = Number(maxTokens.value.trim() || NaN);
      if (Number.isInteger(max) && max > 0) body.max_completion_tokens = max;
      return body;
    }

    function openChat(assistant) {
      current = { assistant, threadId: null };
      chatTitle.textContent = `Chat with ${assistant.name || assistant.id}`;
      transcript.replaceChildren();
      transcript.dataset.assistant = assistant.id;
      send.disabled = false;
      chatCodeSection.hidden = false;
      showError(chatError, null);
      showChatCode();
    }

    function closeChat() {
      running?.abort();
      current = null;
      chatTitle.textContent = 'Chat';
      transcript.replaceChildren();
      delete transcript.dataset.assistant;
      send.disabled = true;
      chatCodeSection.hidden = true;
      chatCode.show(null);
    }

    function bubble(role, text = '') {
      const content = h('div', { class: 'content', text });
      const meta = h('div', { class: 'meta' });
      const element = h('article', { class: `message ${role}`, dataset: { role } }, h('div', { class: 'role', text: role }), content, meta);
      transcript.append(element);
      return { element, content, meta };
    }

    /** The chunks of `fileId` that answer `question`, from the vector store's own search. */
    async function citedChunks(storeIds, fileId, question) {
      const chunks = [];
      for (const storeId of storeIds) {
        const { data } = await callJson(`/v1/vector_stores/${encodeURIComponent(storeId)}/search`, { json: { query: question, max_num_results: 20 } });
        for (const result of data.data ?? []) {
          if (result.file_id !== fileId) continue;
          chunks.push({ score: result.score, text: (result.content ?? []).map(c => c.text ?? '').join('\n') });
        }
      }
      return chunks;
    }

    /** The citation buttons of an answer; each opens the cited file's matching chunks below it. */
    function citations(view, annotations, searched, storeIds, question) {
      const cited = annotations.filter(a => a.type === 'file_citation' && a.file_citation?.file_id);
      if (cited.length === 0) return;
      const list = h('ol', { class: 'citations', 'aria-label': 'Citations' });
      for (const [i, annotation] of cited.entries()) {
        const fileId = annotation.file_citation.file_id;
        const found = searched.find(r => r.file_id === fileId);
        const label = found?.file_name || fileId;
        const detail = h('div', { class: 'cited', hidden: true, dataset: { citedFile: fileId } });
        const button = h('button', {
          type: 'button', class: 'citation secondary', 'aria-expanded': 'false', dataset: { citation: fileId },
          text: `[${i + 1}] ${label}${found ? ` (score ${found.score.toFixed(3)})` : ''}`,
        });
        let loaded = false;
        button.addEventListener('click', async () => {
          const open = detail.hidden;
          detail.hidden = !open;
          button.setAttribute('aria-expanded', String(open));
          if (!open || loaded) return;
          loaded = true;
          detail.replaceChildren(h('span', { class: 'progress', role: 'img', 'aria-label': 'Loading' }));
          try {
            const quote = annotation.file_citation.quote || annotation.text;
            const chunks = await citedChunks(storeIds, fileId, question);
            const items = [];
            if (quote) items.push(h('blockquote', { dataset: { citedChunk: 'quote' }, text: quote }));
            for (const chunk of chunks) {
              items.push(h('blockquote', { dataset: { citedChunk: 'search' } },
                h('div', { class: 'muted', text: `${label} — score ${chunk.score.toFixed(3)}` }), h('div', { class: 'content', text: chunk.text })));
            }
            if (items.length === 0) items.push(h('p', { class: 'muted', text: `${label}: no passage of this file matches the question now.` }));
            detail.replaceChildren(...items);
          } catch (e) {
            loaded = false;
            detail.replaceChildren(h('p', { class: 'error', role: 'alert', text: e.message }));
          }
        });
        list.append(h('li', {}, button, detail));
      }
      view.element.append(list);
    }

    async function onSend() {
      const text = message.value.trim();
      if (!current || !text) return;
      showError(chatError, null);
      showChatCode();
      const chat = current;
      const storeIds = chat.assistant.tool_resources?.file_search?.vector_store_ids ?? [];
      running = new AbortController();
      const { signal } = running;
      send.disabled = true;
      stop.disabled = false;
      bubble('user', text);
      const view = bubble('assistant');
      view.element.dataset.streaming = 'true';
      let runId = null;
      let final = null;
      let annotations = [];
      const searched = [];
      try {
        if (!chat.threadId) chat.threadId = (await callJson('/v1/threads', { json: {}, signal })).data.id;
        const thread = encodeURIComponent(chat.threadId);
        await callJson(`/v1/threads/${thread}/messages`, { json: { role: 'user', content: text }, signal });
        const response = await call(`/v1/threads/${thread}/runs`, { json: runBody(chat.assistant.id), signal });
        for await (const { name, data } of events(response)) {
          switch (name) {
            case 'thread.run.created':
              runId = data.id;
              break;
            case 'thread.message.delta':
              for (const part of data.delta?.content ?? []) {
                if (part.type === 'text' && part.text?.value) view.content.textContent += part.text.value;
              }
              break;
            case 'thread.message.completed':
            case 'thread.message.incomplete':
              view.content.textContent = (data.content ?? []).filter(p => p.type === 'text').map(p => p.text.value).join('');
              annotations = (data.content ?? []).flatMap(p => p.text?.annotations ?? []);
              break;
            case 'thread.run.step.completed':
              for (const toolCall of data.step_details?.tool_calls ?? []) {
                if (toolCall.type === 'file_search') searched.push(...(toolCall.file_search?.results ?? []));
              }
              break;
            case 'thread.run.requires_action':
              // A GPT with function tools: this page cannot answer them, so the run ends here.
              await call(`/v1/threads/${thread}/runs/${encodeURIComponent(data.id)}/cancel`, { json: {} });
              final = data;
              break;
            case 'thread.run.completed':
            case 'thread.run.failed':
            case 'thread.run.incomplete':
            case 'thread.run.cancelled':
            case 'thread.run.expired':
              final = data;
              break;
            default:
              break;
          }
        }
        // An incomplete run (a token limit reached) still answered: its reason is shown with the answer, not as an error.
        if (final?.status && final.status !== 'completed' && final.status !== 'incomplete') {
          const why = final.last_error?.message ?? final.incomplete_details?.reason ?? (final.status === 'requires_action' ? 'the GPT asked to call a function' : 'no reason given');
          showError(chatError, new Error(`The run ended ${final.status}: ${why}`));
        }
        view.meta.append(
          h('span', { dataset: { meta: 'run_status' } }, 'run ', h('b', { text: final?.status ?? 'ended without a status' })),
          final?.incomplete_details?.reason && h('span', { dataset: { meta: 'incomplete_reason' } }, 'reason ', h('b', { text: final.incomplete_details.reason })),
          h('span', {}, 'searched ', h('b', { text: `${searched.length} result(s)` })));
        if (final?.usage) view.meta.append(h('span', {}, 'tokens ', h('b', { text: String(final.usage.total_tokens) })));
        citations(view, annotations, searched, storeIds, text);
      } catch (e) {
        if (isAbort(e)) {
          view.meta.append(h('span', { dataset: { meta: 'stopped' }, text: 'Stopped.' }));
          if (runId) call(`/v1/threads/${encodeURIComponent(chat.threadId)}/runs/${encodeURIComponent(runId)}/cancel`, { json: {} }).catch(() => {});
        } else {
          showError(chatError, e);
        }
      } finally {
        view.element.dataset.streaming = 'false';
        running = null;
        send.disabled = current === null;
        stop.disabled = true;
      }
    }

    const chatForm = h('form', { 'aria-label': 'Chat with the GPT' },
      field('Message', message).wrap, field('max_completion_tokens', maxTokens).wrap, h('div', { class: 'row' }, send, stop), chatError);
    chatForm.addEventListener('submit', event => {
      event.preventDefault();
      onSend();
    });
    chatForm.addEventListener('input', showChatCode);
    stop.addEventListener('click', () => running?.abort());

    showCreateCode();
    refresh();
    return h('div', { class: 'columns' },
      h('div', {}, createForm, h('h2', { text: 'Your GPTs' }), listTable, listError, h('h3', { text: 'Code: create' }), code.element),
      h('div', {}, chatTitle, transcript, chatForm, chatCodeSection));
  },
};
