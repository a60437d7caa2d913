// "Show code": the request the form sends, as the official SDKs (Python, Node.js, .NET) and curl would send it.
import { h, uid } from './dom.js';
import { auth, baseUrl } from './api.js';

/** The SDK call of each operation. */
const OPERATIONS = {
  chat: { path: '/chat/completions', py: 'client.chat.completions.create', js: 'client.chat.completions.create', cs: ['ChatClient', 'GetChatClient', 'CompleteChatAsync', true] },
  responses: { path: '/responses', py: 'client.responses.create', js: 'client.responses.create', cs: ['ResponsesClient', 'GetResponsesClient', 'CreateResponseAsync', false] },
  images: { path: '/images/generations', py: 'client.images.generate', js: 'client.images.generate', cs: ['ImageClient', 'GetImageClient', 'GenerateImagesAsync', true] },
  embeddings: { path: '/embeddings', py: 'client.embeddings.create', js: 'client.embeddings.create', cs: ['EmbeddingClient', 'GetEmbeddingClient', 'GenerateEmbeddingsAsync', true] },
  speech: { path: '/audio/speech', py: 'client.audio.speech.with_streaming_response.create', js: 'client.audio.speech.create', cs: ['AudioClient', 'GetAudioClient', 'GenerateSpeechAsync', true] },
  transcription: { path: '/audio/transcriptions', py: 'client.audio.transcriptions.create', js: 'client.audio.transcriptions.create' },
  translation: { path: '/audio/translations', py: 'client.audio.translations.create', js: 'client.audio.translations.create' },
};

export const LANGUAGES = [
  ['python', 'Python'],
  ['node', 'Node.js'],
  ['dotnet', '.NET'],
  ['curl', 'curl'],
];

/** Python literal of a JSON value (True/False/None), indented like black would. */
export function py(value, indent = '') {
  const inner = `${indent}    `;
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string' || typeof value === 'number') return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map(v => `${inner}${py(v, inner)},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${py(v, inner)},`).join('\n')}\n${indent}}`;
}

/** Python keyword arguments of a request body. */
function pyKwargs(body) {
  return Object.entries(body).map(([k, v]) => `    ${k}=${py(v, '    ')},`).join('\n');
}

export function shellQuote(text) {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** A C# raw string literal that holds any text: one more quote than the longest run inside. */
function csRaw(text, indent) {
  const longest = Math.max(2, ...(text.match(/"+/g) ?? []).map(q => q.length));
  const quotes = '"'.repeat(longest + 1);
  const body = text.split('\n').map(line => indent + line).join('\n');
  return `${quotes}\n${body}\n${indent}${quotes}`;
}

export function csString(text) {
  return JSON.stringify(text);
}

export const PY_CLIENT = key => `import os
from openai import OpenAI

client = OpenAI(base_url=${JSON.stringify(baseUrl())}, api_key=os.environ.get("OPENAI_API_KEY", ${key ? '""' : '"capa"'}))
`;

export const JS_CLIENT = key => `import fs from "node:fs";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: ${JSON.stringify(baseUrl())}, apiKey: process.env.OPENAI_API_KEY${key ? '' : ' ?? "capa"'} });
`;

// C# top-level statements: every using directive must come before the first statement, so the client takes the
// namespaces the rest of the program needs.
export const CS_CLIENT = (key, ...namespaces) => `// dotnet add package OpenAI
using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
${namespaces.map(n => `using ${n};\n`).join('')}
OpenAIClient openai = new(
    new ApiKeyCredential(Environment.GetEnvironmentVariable("OPENAI_API_KEY")${key ? '!' : ' ?? "capa"'}),
    new OpenAIClientOptions { Endpoint = new Uri(${csString(baseUrl())}) });
`;

function python(request) {
  const op = OPERATIONS[request.op];
  const key = auth.required;
  if (request.op === 'transcription' || request.op === 'translation') {
    const args = { ...request.fields };
    const rest = Object.entries(args).map(([k, v]) => `    ${k}=${py(v, '    ')},`).join('\n');
    return `${PY_CLIENT(key)}
with open(${JSON.stringify(request.fileName)}, "rb") as audio:
    result = ${op.py}(
        file=audio,
${rest.replaceAll(/^/gm, '    ')}
    )
print(result${textFormats(args.response_format) ? '' : '.text'})
`;
  }
  if (request.op === 'speech') {
    return `${PY_CLIENT(key)}
with ${op.py}(
${pyKwargs(request.body)}
) as response:
    response.stream_to_file(${JSON.stringify(request.fileName)})
`;
  }
  const call = `${op.py}(\n${pyKwargs(pythonArgs(request))}\n)`;
  let tail;
  switch (request.op) {
    case 'chat':
      tail = request.body.stream
        ? `stream = ${call}\nfor chunk in stream:\n    if chunk.choices and chunk.choices[0].delta.content:\n        print(chunk.choices[0].delta.content, end="", flush=True)\nprint()\n`
        : `completion = ${call}\nprint(completion.choices[0].message.content)\n${request.body.tools ? 'print(completion.choices[0].message.tool_calls)\n' : ''}`;
      break;
    case 'responses':
      tail = request.body.stream
        ? `stream = ${call}\nfor event in stream:\n    if event.type == "response.output_text.delta":\n        print(event.delta, end="", flush=True)\nprint()\n`
        : `response = ${call}\nprint(response.output_text)\n`;
      break;
    case 'images':
      tail = request.body.stream
        ? `import base64\n\nstream = ${call}\ni = 0\nfor event in stream:\n    if event.type == "image_generation.partial_image":\n        print("partial preview", event.partial_image_index)\n    elif event.type == "image_generation.completed":\n        with open(f"image-{i}.${imageExtension(request.body)}", "wb") as f:\n            f.write(base64.b64decode(event.b64_json))\n        i += 1\n`
        : `import base64\n\nresult = ${call}\nfor i, image in enumerate(result.data):\n    with open(f"image-{i}.${imageExtension(request.body)}", "wb") as f:\n        f.write(base64.b64decode(image.b64_json))\n    print(image.revised_prompt)\n`;
      break;
    case 'embeddings':
      tail = `result = ${call}\nprint(len(result.data[0].embedding), result.data[0].embedding[:4])\n`;
      break;
    default:
      tail = `result = ${call}\nprint(result)\n`;
  }
  return `${PY_CLIENT(key)}\n${tail}`;
}

function node(request) {
  const op = OPERATIONS[request.op];
  const key = auth.required;
  if (request.op === 'transcription' || request.op === 'translation') {
    const args = { file: '__FILE__', ...request.fields };
    const literal = JSON.stringify(args, null, 2).replace('"__FILE__"', `fs.createReadStream(${JSON.stringify(request.fileName)})`);
    return `${JS_CLIENT(key)}
const result = await ${op.js}(${literal});
console.log(result${textFormats(args.response_format) ? '' : '.text'});
`;
  }
  const call = `await ${op.js}(${JSON.stringify(request.body, null, 2)})`;
  switch (request.op) {
    case 'chat':
      return request.body.stream
        ? `${JS_CLIENT(key)}\nconst stream = ${call};\nfor await (const chunk of stream) {\n  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");\n}\nconsole.log();\n`
        : `${JS_CLIENT(key)}\nconst completion = ${call};\nconsole.log(completion.choices[0].message.content);\n${request.body.tools ? 'console.log(JSON.stringify(completion.choices[0].message.tool_calls ?? []));\n' : ''}`;
    case 'responses':
      return request.body.stream
        ? `${JS_CLIENT(key)}\nconst stream = ${call};\nfor await (const event of stream) {\n  if (event.type === "response.output_text.delta") process.stdout.write(event.delta);\n}\nconsole.log();\n`
        : `${JS_CLIENT(key)}\nconst response = ${call};\nconsole.log(response.output_text);\n`;
    case 'speech':
      return `${JS_CLIENT(key)}\nconst response = ${call};\nfs.writeFileSync(${JSON.stringify(request.fileName)}, Buffer.from(await response.arrayBuffer()));\n`;
    case 'images':
      return request.body.stream
        ? `${JS_CLIENT(key)}\nconst stream = ${call};\nlet i = 0;\nfor await (const event of stream) {\n  if (event.type === "image_generation.partial_image") console.log("partial preview", event.partial_image_index);\n  else if (event.type === "image_generation.completed") fs.writeFileSync(\`image-\${i++}.${imageExtension(request.body)}\`, Buffer.from(event.b64_json, "base64"));\n}\n`
        : `${JS_CLIENT(key)}\nconst result = ${call};\nresult.data.forEach((image, i) => {\n  fs.writeFileSync(\`image-\${i}.${imageExtension(request.body)}\`, Buffer.from(image.b64_json, "base64"));\n  console.log(image.revised_prompt);\n});\n`;
    case 'embeddings':
      return `${JS_CLIENT(key)}\nconst result = ${call};\nconsole.log(result.data[0].embedding.length, result.data[0].embedding.slice(0, 4));\n`;
    default:
      return `${JS_CLIENT(key)}\nconst result = ${call};\nconsole.log(result);\n`;
  }
}

/**
 * The Python SDK's keyword arguments: it refuses names its method does not declare, so Capa's own `seed` of an image
 * request travels in `extra_body` (the SDK merges it into the JSON body).
 */
function pythonArgs(request) {
  if (request.op !== 'images' || request.body.seed === undefined) return request.body;
  const { seed, ...declared } = request.body;
  return { ...declared, extra_body: { seed } };
}

/** The file extension of a generated image. */
function imageExtension(body) {
  return body.output_format === 'jpeg' || body.output_format === 'webp' ? body.output_format : 'png';
}

function textFormats(format) {
  return format === 'text' || format === 'srt' || format === 'vtt';
}

function dotnet(request) {
  const key = auth.required;
  if (request.op === 'transcription' || request.op === 'translation') {
    const f = request.fields;
    const formats = { json: 'Simple', text: 'Text', srt: 'Srt', vtt: 'Vtt', verbose_json: 'Verbose' };
    const translation = request.op === 'translation';
    const options = [];
    if (f.language && !translation) options.push(`Language = ${csString(f.language)}`);
    if (f.prompt) options.push(`Prompt = ${csString(f.prompt)}`);
    if (f.temperature !== undefined) options.push(`Temperature = ${Number(f.temperature)}f`);
    if (f.response_format) options.push(`ResponseFormat = Audio${translation ? 'Translation' : 'Transcription'}Format.${formats[f.response_format] ?? 'Simple'}`);
    if (!translation && Array.isArray(f.timestamp_granularities) && f.timestamp_granularities.length) {
      options.push(`TimestampGranularities = ${f.timestamp_granularities.map(g => `AudioTimestampGranularities.${g === 'word' ? 'Word' : 'Segment'}`).join(' | ')}`);
    }
    const type = translation ? 'Translation' : 'Transcription';
    return `${CS_CLIENT(key, 'OpenAI.Audio')}
AudioClient client = openai.GetAudioClient(${csString(f.model)});
Audio${type} result = await client.${translation ? 'TranslateAudioAsync' : 'TranscribeAudioAsync'}(
    ${csString(request.fileName)},
    new Audio${type}Options { ${options.join(', ')} });
Console.WriteLine(result.Text);
`;
  }
  const [type, getter, method, takesModel] = OPERATIONS[request.op].cs;
  const ns = { ChatClient: 'OpenAI.Chat', ResponsesClient: 'OpenAI.Responses', ImageClient: 'OpenAI.Images', EmbeddingClient: 'OpenAI.Embeddings', AudioClient: 'OpenAI.Audio' }[type];
  const experimental = request.op === 'responses' ? '#pragma warning disable OPENAI001 // the Responses client is marked experimental\n' : '';
  const json = JSON.stringify(request.body, null, 2);
  const stream = request.body.stream === true;
  const options = stream ? ', new RequestOptions { BufferResponse = false }' : '';
  let output;
  if (request.op === 'speech') {
    output = `File.WriteAllBytes(${csString(request.fileName)}, result.GetRawResponse().Content.ToArray());`;
  } else if (stream) {
    output = 'using StreamReader events = new(result.GetRawResponse().ContentStream!);\nwhile (await events.ReadLineAsync() is { } line)\n{\n    if (line.StartsWith("data: ", StringComparison.Ordinal)) Console.WriteLine(line[6..]);\n}';
  } else {
    output = 'Console.WriteLine(result.GetRawResponse().Content);';
  }
  return `${experimental}${CS_CLIENT(key, ns)}
${type} client = openai.${getter}(${takesModel ? csString(request.body.model) : ''});

// The request body exactly as the playground sent it (the SDK's protocol method).
using BinaryContent body = BinaryContent.Create(BinaryData.FromString(${csRaw(json, '    ')}));
ClientResult result = await client.${method}(body${options});
${output}
`;
}

function curl(request) {
  const url = baseUrl() + OPERATIONS[request.op].path;
  const lines = [`curl ${request.body?.stream ? '-N ' : ''}${url}`];
  if (auth.required) lines.push('  -H "Authorization: Bearer $OPENAI_API_KEY"');
  if (request.op === 'transcription' || request.op === 'translation') {
    lines.push(`  -F file=@${shellQuote(request.fileName)}`);
    for (const [k, v] of Object.entries(request.fields)) {
      const name = Array.isArray(v) ? `${k}[]` : k;
      for (const item of Array.isArray(v) ? v : [v]) lines.push(`  -F ${shellQuote(`${name}=${item}`)}`);
    }
  } else {
    lines.push('  -H "Content-Type: application/json"');
    lines.push(`  -d ${shellQuote(JSON.stringify(request.body, null, 2))}`);
    if (request.op === 'speech') lines.push(`  --output ${shellQuote(request.fileName)}`);
  }
  return `${lines.join(' \\\n')}\n`;
}

const GENERATORS = { python, node, dotnet, curl };

/** The code of `request` in `language` (python, node, dotnet, curl). */
export function generate(language, request) {
  // Requests made of several calls (a GPT's create and chat) bring their own code.
  if (typeof request.generate === 'function') return request.generate(language);
  return GENERATORS[language](request);
}

/**
 * A "Show code" box: language tabs, the code, a copy button. `show(request)` replaces the code; the selected
 * language is remembered for the session.
 */
export function codeView() {
  let current = null;
  let language = sessionStorage.getItem('capa.codeLanguage') ?? 'python';
  const pre = h('pre', { tabindex: '0', 'aria-label': 'SDK code' });
  const code = h('code');
  pre.append(code);
  const status = h('span', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const buttons = LANGUAGES.map(([id, label]) => h('button', {
    type: 'button', 'aria-pressed': String(id === language), dataset: { lang: id }, text: label,
    onclick: () => select(id),
  }));
  const copy = h('button', {
    type: 'button', class: 'secondary copy', text: 'Copy',
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(code.textContent);
        status.textContent = 'Copied.';
      } catch {
        const range = document.createRange();
        range.selectNodeContents(code);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        status.textContent = 'Selected: press Ctrl+C to copy.';
      }
    },
  });
  const id = uid('code');
  const element = h('section', { class: 'code-view', 'aria-labelledby': id },
    h('h3', { id, class: 'sr-only', text: 'Show code' }),
    h('div', { class: 'code-tabs' }, h('div', { class: 'languages', role: 'group', 'aria-label': 'Language' }, buttons), status, copy),
    pre);

  function render() {
    code.dataset.lang = language;
    code.textContent = current ? generate(language, current) : '';
    // Every language's text, for readers (and tests) that compare them without switching tabs.
    for (const [lang] of LANGUAGES) {
      pre.dataset[lang] = current ? generate(lang, current) : '';
    }
  }

  function select(id) {
    language = id;
    sessionStorage.setItem('capa.codeLanguage', id);
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.dataset.lang === id));
    status.textContent = '';
    render();
  }

  return {
    element,
    show(request) {
      current = request;
      status.textContent = '';
      render();
    },
  };
}
