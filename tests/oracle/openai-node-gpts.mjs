// A custom GPT built both ways through the official OpenAI Node SDK, with only the base URL changed: Files, a vector
// store and its search, a Responses call with file_search and citations, and Assistants (a file attached to a thread
// message and searched by a run; a streamed run with a function tool round trip through submitToolOutputs).
// Usage: node openai-node-gpts.mjs BASE_URL SEARCH_MODEL TOOL_MODEL  -> prints one JSON object of what the SDK saw.
import OpenAI, { toFile } from "openai";

const [baseURL, searchModel, toolModel] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 90_000 });
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const all = async page => { const items = []; for await (const item of page) items.push(item); return items; };

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return { name: e.constructor.name, status: e.status ?? null, code: e.code ?? null, param: e.param ?? null, message: e.message, isNotFound: e instanceof OpenAI.NotFoundError };
  }
}

// Files.
const baron = await client.files.create({
  file: await toFile(Buffer.from("Baron Nashor spawns at twenty minutes. The codeword is heliotrope."), "baron.md"),
  purpose: "assistants",
});
const dragon = await client.files.create({
  file: await toFile(Buffer.from("Elemental drakes spawn at five minutes. The codeword is marzipan."), "dragon.md"),
  purpose: "assistants",
});
const retrievedFile = await client.files.retrieve(baron.id);
const fileContent = await (await client.files.content(baron.id)).text();

// A vector store, ingested in the background and polled as the SDK's users do.
let vectorStore = await client.vectorStores.create({ name: "英雄联盟 notes", file_ids: [baron.id, dragon.id] });
for (let i = 0; i < 600 && vectorStore.status === "in_progress"; i++) {
  await sleep(100);
  vectorStore = await client.vectorStores.retrieve(vectorStore.id);
}
const vectorStoreFiles = await all(client.vectorStores.files.list(vectorStore.id));
const search = await all(client.vectorStores.search(vectorStore.id, { query: "heliotrope", max_num_results: 5 }));

// Responses with file_search: the call with its results, the answer with citations.
const response = await client.responses.create({
  model: searchModel,
  input: "When is the heliotrope codeword used?",
  tools: [{ type: "file_search", vector_store_ids: [vectorStore.id], max_num_results: 3 }],
  include: ["file_search_call.results"],
});
const streamedTypes = [];
let streamedCompleted = null;
const responseStream = await client.responses.create({
  model: searchModel,
  input: "marzipan?",
  tools: [{ type: "file_search", vector_store_ids: [vectorStore.id] }],
  stream: true,
});
for await (const event of responseStream) {
  streamedTypes.push(event.type);
  if (event.type === "response.completed") streamedCompleted = event.response;
}

// Assistants: a file attached to a thread's message goes into the thread's own vector store; the run searches it.
const notes = await client.files.create({
  file: await toFile(Buffer.from("The jungle camp password is quetzalcoatl."), "jungle.md"),
  purpose: "assistants",
});
const searcher = await client.beta.assistants.create({ model: searchModel, instructions: "Answer from the files.", tools: [{ type: "file_search" }] });
const attachedThread = await client.beta.threads.create({
  messages: [{ role: "user", content: "What is the jungle camp password? quetzalcoatl", attachments: [{ file_id: notes.id, tools: [{ type: "file_search" }] }] }],
});
const searchRun = await client.beta.threads.runs.createAndPoll(attachedThread.id, { assistant_id: searcher.id }, { pollIntervalMs: 100 });
const searchSteps = await all(client.beta.threads.runs.steps.list(searchRun.id, { thread_id: attachedThread.id, order: "asc" }));
const searchMessages = await all(client.beta.threads.messages.list(attachedThread.id, { order: "asc" }));

// Assistants: a streamed run that calls a function, the output sent back, the answer streamed.
const assistant = await client.beta.assistants.create({
  model: toolModel,
  name: "weather",
  instructions: "Use the tools.",
  tools: [{
    type: "function",
    function: { name: "get_weather", description: "The weather of a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  }],
});
const thread = await client.beta.threads.create({ messages: [{ role: "user", content: "上海天气如何？" }] });
const firstEvents = [];
let waiting = null;
for await (const event of client.beta.threads.runs.stream(thread.id, { assistant_id: assistant.id })) {
  firstEvents.push(event.event);
  if (event.event === "thread.run.requires_action") waiting = event.data;
}
const toolCall = waiting?.required_action?.submit_tool_outputs?.tool_calls?.[0] ?? null;
const secondEvents = [];
let streamedText = "";
let finalRun = null;
if (toolCall) {
  const stream = client.beta.threads.runs.submitToolOutputsStream(waiting.id, {
    thread_id: thread.id,
    tool_outputs: [{ tool_call_id: toolCall.id, output: "晴，25°C" }],
  });
  for await (const event of stream) {
    secondEvents.push(event.event);
    if (event.event === "thread.message.delta") {
      for (const part of event.data.delta.content ?? []) if (part.type === "text") streamedText += part.text.value;
    }
  }
  finalRun = await stream.finalRun();
}
const toolSteps = waiting ? await all(client.beta.threads.runs.steps.list(waiting.id, { thread_id: thread.id, order: "asc" })) : [];
const toolMessages = await all(client.beta.threads.messages.list(thread.id, { order: "asc" }));

const notFound = await errorOf(client.beta.assistants.retrieve("asst_missing"));
const badAttachment = await errorOf(client.beta.threads.create({
  messages: [{ role: "user", content: "x", attachments: [{ file_id: "file-missing", tools: [{ type: "file_search" }] }] }],
}));

const deleted = {
  assistant: await client.beta.assistants.delete(assistant.id),
  thread: await client.beta.threads.delete(thread.id),
  vectorStore: await client.vectorStores.delete(vectorStore.id),
  file: await client.files.delete(dragon.id),
};

process.stdout.write(JSON.stringify({
  files: { baron, dragon, retrievedFile, fileContent },
  vectorStore, vectorStoreFiles, search,
  response, outputText: response.output_text, streamedTypes, streamedCompleted,
  attachments: { thread: attachedThread, run: searchRun, steps: searchSteps, messages: searchMessages },
  tools: { firstEvents, waiting, toolCall, secondEvents, streamedText, finalRun, steps: toolSteps, messages: toolMessages },
  notFound, badAttachment, deleted,
}));
