// "Show code" for a GPT: creating one (upload, vector store, wait for indexing, assistant) and chatting with one
// (thread, message, streamed run, citations), as the official SDKs and curl make those calls.
import { CS_CLIENT, JS_CLIENT, PY_CLIENT, csString, py, shellQuote } from './code.js';
import { auth, baseUrl } from './api.js';

const KEY = 'capa_gpt_vector_store';

function pyCreate(s) {
  const assistant = { model: s.model, name: s.name, instructions: s.instructions, tools: [{ type: 'file_search' }] };
  const files = s.fileNames.length ? s.fileNames : ['notes.txt'];
  return `${PY_CLIENT(auth.required).replace('import os\n', 'import os\nimport time\n')}
files = [client.files.create(file=open(path, "rb"), purpose="assistants") for path in ${py(files, '')}]
store = client.vector_stores.create(name=${JSON.stringify(s.name)}, file_ids=[f.id for f in files])
while store.status == "in_progress":
    time.sleep(0.25)
    store = client.vector_stores.retrieve(store.id)
print(store.status, store.file_counts)

assistant = client.beta.assistants.create(
${Object.entries(assistant).map(([k, v]) => `    ${k}=${py(v, '    ')},`).join('\n')}
    tool_resources={"file_search": {"vector_store_ids": [store.id]}},
    metadata={${JSON.stringify(KEY)}: store.id},
)
print(assistant.id)
`;
}

function pyChat(s) {
  return `${PY_CLIENT(auth.required)}
thread = client.beta.threads.create()
client.beta.threads.messages.create(thread.id, role="user", content=${JSON.stringify(s.message)})
with client.beta.threads.runs.stream(
    thread_id=thread.id,
${Object.entries(s.run).filter(([k]) => k !== 'stream').map(([k, v]) => `    ${k}=${py(v, '    ')},`).join('\n')}
) as stream:
    for delta in stream.text_deltas:
        print(delta, end="", flush=True)
    print()
    for message in stream.get_final_messages():
        for part in message.content:
            for annotation in part.text.annotations:
                print("cites", annotation.file_citation.file_id)
`;
}

function nodeCreate(s) {
  const files = s.fileNames.length ? s.fileNames : ['notes.txt'];
  const assistant = { model: s.model, name: s.name, instructions: s.instructions, tools: [{ type: 'file_search' }] };
  const literal = JSON.stringify(assistant, null, 2).replace(/\n}$/, ',\n  tool_resources: { file_search: { vector_store_ids: [store.id] } },\n' +
    `  metadata: { ${KEY}: store.id },\n}`);
  return `${JS_CLIENT(auth.required)}
const files = [];
for (const path of ${JSON.stringify(files)}) {
  files.push(await client.files.create({ file: fs.createReadStream(path), purpose: "assistants" }));
}
let store = await client.vectorStores.create({ name: ${JSON.stringify(s.name)}, file_ids: files.map(f => f.id) });
while (store.status === "in_progress") {
  await new Promise(resolve => setTimeout(resolve, 250));
  store = await client.vectorStores.retrieve(store.id);
}
console.log(store.status, store.file_counts);

const assistant = await client.beta.assistants.create(${literal});
console.log(assistant.id);
`;
}

function nodeChat(s) {
  return `${JS_CLIENT(auth.required)}
const thread = await client.beta.threads.create();
await client.beta.threads.messages.create(thread.id, { role: "user", content: ${JSON.stringify(s.message)} });
const stream = client.beta.threads.runs.stream(thread.id, ${JSON.stringify(Object.fromEntries(Object.entries(s.run).filter(([k]) => k !== 'stream')))})
  .on("textDelta", delta => process.stdout.write(delta.value ?? ""));
for (const message of await stream.finalMessages()) {
  for (const part of message.content) {
    for (const annotation of part.text?.annotations ?? []) console.log("\\ncites", annotation.file_citation?.file_id);
  }
}
`;
}

function csCreate(s) {
  const files = s.fileNames.length ? s.fileNames : ['notes.txt'];
  return `#pragma warning disable OPENAI001 // the Assistants and vector store clients are marked experimental
${CS_CLIENT(auth.required, 'OpenAI.Assistants', 'OpenAI.Files', 'OpenAI.VectorStores')}
OpenAIFileClient files = openai.GetOpenAIFileClient();
VectorStoreCreationOptions creation = new() { Name = ${csString(s.name)} };
foreach (string path in new[] { ${files.map(csString).join(', ')} })
{
    OpenAIFile file = await files.UploadFileAsync(path, FileUploadPurpose.Assistants);
    creation.FileIds.Add(file.Id);
}

VectorStoreClient stores = openai.GetVectorStoreClient();
VectorStore store = await stores.CreateVectorStoreAsync(creation);
while (store.Status == VectorStoreStatus.InProgress)
{
    await Task.Delay(250);
    store = await stores.GetVectorStoreAsync(store.Id);
}
Console.WriteLine($"{store.Status}: {store.FileCounts.Completed} of {store.FileCounts.Total} indexed");

AssistantCreationOptions options = new()
{
    Name = ${csString(s.name)},
    Instructions = ${csString(s.instructions)},
    Tools = { new FileSearchToolDefinition() },
    ToolResources = new() { FileSearch = new() { VectorStoreIds = { store.Id } } },
    Metadata = { [${csString(KEY)}] = store.Id },
};
Assistant assistant = await openai.GetAssistantClient().CreateAssistantAsync(${csString(s.model)}, options);
Console.WriteLine(assistant.Id);
`;
}

function csChat(s) {
  return `#pragma warning disable OPENAI001 // the Assistants client is marked experimental
${CS_CLIENT(auth.required, 'OpenAI.Assistants')}
AssistantClient assistants = openai.GetAssistantClient();
AssistantThread thread = await assistants.CreateThreadAsync();
await assistants.CreateMessageAsync(thread.Id, MessageRole.User, [MessageContent.FromText(${csString(s.message)})]);
RunCreationOptions options = new() { ${s.run.max_completion_tokens ? `MaxOutputTokenCount = ${s.run.max_completion_tokens}` : ''} };
await foreach (StreamingUpdate update in assistants.CreateRunStreamingAsync(thread.Id, ${csString(s.run.assistant_id)}, options))
{
    if (update is MessageContentUpdate content) Console.Write(content.Text);
    if (update is MessageStatusUpdate { UpdateKind: StreamingUpdateReason.MessageCompleted } done)
    {
        foreach (TextAnnotation annotation in done.Value.Content.SelectMany(c => c.TextAnnotations))
            Console.WriteLine($"\\ncites {annotation.InputFileId}");
    }
}
`;
}

function curlHead() {
  return auth.required ? ' \\\n  -H "Authorization: Bearer $OPENAI_API_KEY"' : '';
}

function curlCreate(s) {
  const base = baseUrl();
  const files = s.fileNames.length ? s.fileNames : ['notes.txt'];
  const assistant = JSON.stringify({ model: s.model, name: s.name, instructions: s.instructions, tools: [{ type: 'file_search' }] });
  return `# needs jq
FILE_IDS=()
for f in ${files.map(shellQuote).join(' ')}; do
  FILE_IDS+=("$(curl -s ${base}/files${curlHead()} -F purpose=assistants -F "file=@$f" | jq -r .id)")
done
STORE=$(curl -s ${base}/vector_stores${curlHead()} -H "Content-Type: application/json" \\
  -d "$(jq -n --arg name ${shellQuote(s.name)} '{name: $name, file_ids: $ARGS.positional}' --args "\${FILE_IDS[@]}")" | jq -r .id)
until [ "$(curl -s ${base}/vector_stores/$STORE${curlHead()} | jq -r .status)" != in_progress ]; do sleep 0.25; done

curl ${base}/assistants${curlHead()} -H "Content-Type: application/json" \\
  -d "$(jq --arg store "$STORE" '. + {tool_resources: {file_search: {vector_store_ids: [$store]}}, metadata: {${KEY}: $store}}' <<< ${shellQuote(assistant)})"
`;
}

function curlChat(s) {
  const base = baseUrl();
  return `# needs jq
THREAD=$(curl -s ${base}/threads${curlHead()} -H "Content-Type: application/json" -d '{}' | jq -r .id)
curl -s ${base}/threads/$THREAD/messages${curlHead()} -H "Content-Type: application/json" \\
  -d ${shellQuote(JSON.stringify({ role: 'user', content: s.message }))} > /dev/null
curl -N ${base}/threads/$THREAD/runs${curlHead()} -H "Content-Type: application/json" \\
  -d ${shellQuote(JSON.stringify(s.run))}
`;
}

const CODE = {
  create: { python: pyCreate, node: nodeCreate, dotnet: csCreate, curl: curlCreate },
  chat: { python: pyChat, node: nodeChat, dotnet: csChat, curl: curlChat },
};

/** The code of a GPT operation (`create` or `chat`) in `language`. */
export function gptCode(language, operation, spec) {
  return CODE[operation][language](spec);
}
