// The tutorial's JSON-mode example, structured outputs and streamed tool calls through the official OpenAI Node SDK,
// with only the base URL changed. Usage: node openai-node-json.mjs BASE_URL MODEL -> prints one JSON object
// describing what the SDK saw; the caller asserts on it.
import OpenAI from "openai";
import Ajv2020 from "ajv/dist/2020.js";

const [baseURL, model] = process.argv.slice(2);
if (!baseURL || !model) {
  process.stderr.write("usage: node openai-node-json.mjs BASE_URL MODEL\n");
  process.exit(2);
}

const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 60_000 });
const ajv = new Ajv2020({ strict: false, allErrors: true });
const validate = (schema, instance) => {
  const check = ajv.compile(schema);
  return check(instance) ? "" : ajv.errorsText(check.errors);
};
const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
// A random-weight model may not close its object within the token limit; a few fixed seeds are tried until one does,
// and every attempt is reported so that the caller checks them all.
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const MAX_TOKENS = 64;

const describeError = (e) => ({
  name: e?.constructor?.name ?? null,
  isBadRequest: e instanceof OpenAI.BadRequestError,
  status: e?.status ?? null,
  param: e?.param ?? null,
  type: e?.type ?? null,
  code: e?.code ?? null,
  message: e?.error?.message ?? e?.message ?? String(e),
});

// 1 and 2. The tutorial's example exactly (plus a seed and a token limit), non-streamed then streamed with the same seed.
const tutorialMessages = [
  { role: "system", content: "You are a helpful assistant designed to output JSON." },
  {
    role: "user",
    content: "Now I want you to score the sentence 'I like apples' on a scale of 1 to 10 with output format as:{'score': score}, for example, {'score': 0.5}",
  },
];

const jsonObject = [];
for (const seed of SEEDS) {
  const request = { model, response_format: { type: "json_object" }, messages: tutorialMessages, seed, max_tokens: MAX_TOKENS };
  const completion = await client.chat.completions.create(request);
  const choice = completion.choices[0];
  const content = choice.message.content;
  let parsed = null;
  let parseError = null;
  try {
    parsed = JSON.parse(content);
  } catch (e) {
    parseError = e.message;
  }

  const stream = await client.chat.completions.create({ ...request, stream: true });
  let streamed = "";
  let streamedFinish = null;
  const ids = new Set();
  for await (const chunk of stream) {
    ids.add(chunk.id);
    for (const c of chunk.choices) {
      streamed += c.delta?.content ?? "";
      streamedFinish ??= c.finish_reason ?? null;
    }
  }

  jsonObject.push({
    seed,
    id: completion.id,
    object: completion.object,
    model: completion.model,
    content,
    finish_reason: choice.finish_reason,
    completion_tokens: completion.usage?.completion_tokens ?? null,
    parsedIsPlainObject: isPlainObject(parsed),
    parseError,
    streamed: { content: streamed, finish_reason: streamedFinish, distinctIds: ids.size },
  });
  if (choice.finish_reason === "stop") break;
}

// 3. The same request with no message mentioning JSON: OpenAI's 400, thrown by the SDK as BadRequestError.
let missingJsonWord = null;
try {
  await client.chat.completions.create({
    model,
    response_format: { type: "json_object" },
    seed: SEEDS[0],
    max_tokens: MAX_TOKENS,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "Now I want you to score the sentence 'I like apples' on a scale of 1 to 10." },
    ],
  });
} catch (e) {
  missingJsonWord = describeError(e);
}

// 4. Structured outputs through the SDK's parse helper: message.parsed is the SDK's own parse of the content.
const scoreSchema = {
  type: "object",
  properties: { score: { type: "number" }, reason: { type: "string", maxLength: 40 } },
  required: ["score", "reason"],
  additionalProperties: false,
};
const jsonSchema = [];
for (const seed of SEEDS) {
  try {
    const completion = await client.chat.completions.parse({
      model,
      seed,
      max_tokens: MAX_TOKENS,
      messages: tutorialMessages,
      response_format: { type: "json_schema", json_schema: { name: "score", strict: true, schema: scoreSchema } },
    });
    const message = completion.choices[0].message;
    jsonSchema.push({
      seed,
      finish_reason: completion.choices[0].finish_reason,
      content: message.content,
      parsed: message.parsed,
      refusal: message.refusal ?? null,
      validation: validate(scoreSchema, message.parsed),
    });
    break;
  } catch (e) {
    // The helper refuses an answer cut at max_tokens (LengthFinishReasonError); anything else is a failure to report.
    jsonSchema.push({ seed, error: describeError(e) });
    if (!(e instanceof OpenAI.LengthFinishReasonError)) break;
  }
}

// 5. Streamed tool calls through the SDK's streaming helper, then the tool result sent back for a plain answer.
const weatherSchema = {
  type: "object",
  properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
  required: ["city", "unit"],
  additionalProperties: false,
};
const tools = [
  {
    type: "function",
    function: { name: "get_weather", description: "Current weather in a city", parameters: weatherSchema, strict: true },
  },
];
const toolMessages = [
  { role: "system", content: "You can look up the weather." },
  { role: "user", content: "What's the weather in Oslo?" },
];
let toolCall = null;
try {
  const toolRequest = { model, seed: 11, max_tokens: 400, messages: toolMessages, tools, tool_choice: "required", parallel_tool_calls: false };
  // The same request non-streamed: what the streaming helper accumulates must be this message (ids aside).
  const whole = await client.chat.completions.create(toolRequest);
  const wholeMessage = whole.choices[0].message;
  const reference = {
    finish_reason: whole.choices[0].finish_reason,
    content: wholeMessage.content ?? null,
    calls: (wholeMessage.tool_calls ?? []).map((c) => ({ id: c.id, type: c.type, name: c.function.name, arguments: c.function.arguments })),
    prompt_tokens: whole.usage?.prompt_tokens ?? null,
  };

  const runner = client.chat.completions.stream(toolRequest);
  let chunkCount = 0;
  let argumentDeltas = 0;
  runner.on("chunk", () => chunkCount++);
  runner.on("tool_calls.function.arguments.delta", () => argumentDeltas++);
  const final = await runner.finalChatCompletion();
  const choice = final.choices[0];
  const calls = (choice.message.tool_calls ?? []).map((c) => {
    let parsedArguments = null;
    let parseError = null;
    try {
      parsedArguments = JSON.parse(c.function.arguments);
    } catch (e) {
      parseError = e.message;
    }
    return {
      id: c.id,
      type: c.type,
      name: c.function.name,
      arguments: c.function.arguments,
      sdkParsedArguments: c.function.parsed_arguments ?? null,
      parseError,
      validation: parsedArguments === null ? "unparsable" : validate(weatherSchema, parsedArguments),
    };
  });

  // The round trip: the SDK's own assistant message goes back as history, with the tool's result after it.
  const history = [...toolMessages, choice.message];
  for (const c of choice.message.tool_calls ?? []) {
    history.push({ role: "tool", tool_call_id: c.id, content: '{"temp": 22}' });
  }
  let answer = null;
  try {
    const reply = await client.chat.completions.create({ model, seed: 12, max_tokens: 16, messages: history, tools, tool_choice: "none" });
    answer = {
      finish_reason: reply.choices[0].finish_reason,
      role: reply.choices[0].message.role,
      content: reply.choices[0].message.content,
      tool_calls: reply.choices[0].message.tool_calls ?? null,
      prompt_tokens: reply.usage?.prompt_tokens ?? null,
    };
  } catch (e) {
    answer = { error: describeError(e) };
  }

  toolCall = {
    finish_reason: choice.finish_reason,
    content: choice.message.content ?? null,
    chunkCount,
    argumentDeltas,
    calls,
    nonStreamed: reference,
    answer,
  };
} catch (e) {
  toolCall = { error: describeError(e) };
}

process.stdout.write(JSON.stringify({ jsonObject, missingJsonWord, jsonSchema, toolCall }));
