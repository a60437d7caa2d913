// The playground: finds what this server serves, asks for a key when it needs one, and builds one tab per capability.
import { h, showError } from './dom.js';
import { apiKey, auth, callJson, setApiKey } from './api.js';
import chat from './tabs/chat.js';
import repro from './tabs/repro.js';
import responses from './tabs/responses.js';
import vision from './tabs/vision.js';
import images from './tabs/images.js';
import speech from './tabs/speech.js';
import transcription from './tabs/transcription.js';
import embeddings from './tabs/embeddings.js';
import gpts from './tabs/gpts.js';
import models from './tabs/models.js';

const TABS = [chat, repro, responses, vision, images, speech, transcription, embeddings, gpts, models];

const fatal = document.getElementById('fatal');
const keyPanel = document.getElementById('key-panel');
const keyForm = document.getElementById('key-form');
const keyInput = document.getElementById('key-input');
const keyError = document.getElementById('key-error');
const keyButton = document.getElementById('key-button');
const serverLine = document.getElementById('server-line');

let started = false;

function askForKey(message) {
  keyPanel.hidden = false;
  showError(keyError, message ? new Error(message) : null);
  keyInput.focus();
}

keyForm.addEventListener('submit', event => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  keyInput.value = '';
  start();
});
keyButton.addEventListener('click', () => askForKey());

/** Model objects of /v1/models with their capabilities (Capa lists them; other servers may not). */
function context(features, list) {
  const all = list.map(m => ({ id: m.id, ownedBy: m.owned_by, created: m.created, capabilities: m.capabilities ?? null }));
  return {
    features,
    models: all,
    served: area => features.areas?.[area] && features.areas[area] !== 'none',
    /** Ids of models with a capability; models whose capabilities are unknown are offered too. */
    modelsWith: capability => all.filter(m => m.capabilities === null || m.capabilities.includes(capability)).map(m => m.id),
  };
}

async function start() {
  let features;
  try {
    const response = await fetch('/playground/features', { cache: 'no-store' });
    features = await response.json();
  } catch (error) {
    showError(fatal, new Error(`Cannot reach the server: ${error.message}`));
    return;
  }
  auth.required = features.requires_api_key === true;
  auth.onMissing = askForKey;
  keyButton.hidden = !auth.required;
  if (auth.required && !apiKey()) {
    serverLine.textContent = `${location.origin} — needs an API key`;
    askForKey();
    return;
  }

  let list;
  try {
    list = (await callJson('/v1/models', { method: 'GET' })).data.data ?? [];
  } catch (error) {
    if (error.status === 401) {
      setApiKey('');
      askForKey(error.message);
    } else {
      showError(fatal, error);
    }
    return;
  }
  keyPanel.hidden = true;
  if (started) return;
  started = true;

  const ctx = context(features, list);
  serverLine.textContent = `${location.origin}/v1 — ${list.length} model${list.length === 1 ? '' : 's'}`;
  buildTabs(TABS.filter(tab => tab.available(ctx)), ctx);
}

function buildTabs(tabs, ctx) {
  const nav = document.getElementById('tabs');
  const main = document.getElementById('panels');
  const buttons = [];
  const panels = new Map();

  function activate(id, focus) {
    for (const button of buttons) {
      const selected = button.dataset.tab === id;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      if (selected && focus) button.focus();
    }
    for (const [tabId, panel] of panels) panel.hidden = tabId !== id;
    if (location.hash !== `#${id}`) history.replaceState(null, '', `#${id}`);
  }

  for (const tab of tabs) {
    const button = h('button', {
      type: 'button', role: 'tab', id: `tab-${tab.id}`, 'aria-controls': `panel-${tab.id}`, dataset: { tab: tab.id },
      text: tab.title, onclick: () => activate(tab.id, false),
    });
    buttons.push(button);
    nav.append(button);
    let content;
    try {
      content = tab.create(ctx);
    } catch (error) {
      content = h('p', { class: 'error', role: 'alert', text: `This tab failed to load: ${error.message}` });
    }
    const panel = h('section', { class: 'panel', role: 'tabpanel', id: `panel-${tab.id}`, 'aria-labelledby': `tab-${tab.id}`, hidden: true }, content);
    panels.set(tab.id, panel);
    main.append(panel);
  }

  nav.addEventListener('keydown', event => {
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: buttons.length - 1 - index };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = buttons[(index + moves[event.key] + buttons.length) % buttons.length];
    activate(next.dataset.tab, true);
  });

  const wanted = location.hash.slice(1);
  activate(panels.has(wanted) ? wanted : tabs[0]?.id, false);
  document.body.dataset.ready = 'true';
}

start().catch(error => showError(fatal, error));
