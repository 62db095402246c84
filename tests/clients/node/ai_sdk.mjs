// One client-matrix case with the Vercel AI SDK (`ai` and `@ai-sdk/openai`) against the mock,
// as an app would call it. Usage: node ai_sdk.mjs API CASE, where API is `responses`
// (openai(model), the provider's default) or `chat` (openai.chat(model)); OPENAI_BASE_URL and
// OPENAI_API_KEY name the mock. Prints the case's observations as one JSON object; the Python
// test asserts on them (tests/clients/test_node_ai_sdk.py), with the expectations every client
// of the matrix shares (tests/clients/expect.py).
import { openai } from "@ai-sdk/openai";
import { generateObject, generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const MODEL = "gpt-4";
const HELLO = "Hello";
const WEATHER_QUESTION = "What's the weather in Paris?";
const WEATHER_DESCRIPTION = "Get the current weather in a city.";
const CITY_QUESTION = "Tell me about Paris";
const FOLLOW_UP = "Tell me more about that.";
const TOOL_RESULT = "sunny";
// The City of the other clients: population is an integer there, so it is one here too.
const City = z.object({ name: z.string(), population: z.number().int() });
const MAX_STEPS = 5;

// The provider's default instance reads OPENAI_BASE_URL and OPENAI_API_KEY, as apps configure it.
const models = { responses: () => openai(MODEL), chat: () => openai.chat(MODEL) };

// get_weather as the AI SDK defines a tool: it records each city asked for and returns TOOL_RESULT.
// `extra` adds options such as toModelOutput.
function weatherTool(calls, extra = {}) {
  return tool({
    description: WEATHER_DESCRIPTION,
    inputSchema: z.object({ city: z.string().describe("City name") }),
    execute: async ({ city }) => {
      calls.push(city);
      return TOOL_RESULT;
    },
    ...extra,
  });
}

function toolLoopObservations(result, calls) {
  return {
    calls,
    tool_calls: result.steps.flatMap((step) =>
      step.toolCalls.map((call) => ({ name: call.toolName, arguments: call.input })),
    ),
    steps: result.steps.length,
    text: result.text,
    finish_reason: result.finishReason,
  };
}

const cases = {
  async generate_text(model) {
    const result = await generateText({ model, prompt: HELLO, maxRetries: 0 });
    return { text: result.text, finish_reason: result.finishReason, usage: result.usage };
  },
  async stream_text(model) {
    const result = streamText({ model, prompt: HELLO, maxRetries: 0 });
    const deltas = [];
    for await (const delta of result.textStream) deltas.push(delta);
    const whole = await generateText({ model, prompt: HELLO, maxRetries: 0 });
    return {
      streamed: deltas.join(""),
      text: await result.text,
      generated: whole.text,
      finish_reason: await result.finishReason,
      usage: await result.usage,
    };
  },
  async tool_loop(model) {
    const calls = [];
    const result = await generateText({
      model,
      prompt: WEATHER_QUESTION,
      tools: { get_weather: weatherTool(calls) },
      stopWhen: stepCountIs(MAX_STEPS),
      maxRetries: 0,
    });
    return toolLoopObservations(result, calls);
  },
  async tool_content_output(model) {
    // A tool result as content parts: on Responses the SDK sends function_call_output.output
    // as an array of input_text items, which the API takes as well as a string.
    const calls = [];
    const toModelOutput = () => ({ type: "content", value: [{ type: "text", text: TOOL_RESULT }] });
    const result = await generateText({
      model,
      prompt: WEATHER_QUESTION,
      tools: { get_weather: weatherTool(calls, { toModelOutput }) },
      stopWhen: stepCountIs(MAX_STEPS),
      maxRetries: 0,
    });
    return toolLoopObservations(result, calls);
  },
  async generate_object(model) {
    const result = await generateObject({ model, schema: City, prompt: CITY_QUESTION, maxRetries: 0 });
    return { object: result.object, finish_reason: result.finishReason };
  },
  async multi_turn(model) {
    // The SDK's documented way to continue a conversation: push response.messages back. On
    // Responses with store on, the earlier assistant output goes back as an item_reference.
    const messages = [{ role: "user", content: HELLO }];
    const first = await generateText({
      model,
      messages,
      providerOptions: { openai: { store: true } },
      maxRetries: 0,
    });
    messages.push(...first.response.messages, { role: "user", content: FOLLOW_UP });
    const second = await generateText({ model, messages, maxRetries: 0 });
    // The same turn with the earlier answer written inline, as plain assistant text.
    const inline = await generateText({
      model,
      messages: [
        { role: "user", content: HELLO },
        { role: "assistant", content: first.text },
        { role: "user", content: FOLLOW_UP },
      ],
      maxRetries: 0,
    });
    return {
      first: first.text,
      second: second.text,
      second_input_tokens: second.usage.inputTokens,
      inline_input_tokens: inline.usage.inputTokens,
      inline: inline.text,
    };
  },
};

const [api, name] = process.argv.slice(2);
if (!(api in models) || !(name in cases)) {
  console.error(
    `usage: node ai_sdk.mjs API CASE; APIs: ${Object.keys(models).join(", ")}; ` +
      `cases: ${Object.keys(cases).join(", ")}`,
  );
  process.exit(2);
}
try {
  console.log(JSON.stringify(await cases[name](models[api]())));
} catch (error) {
  // The SDK's own error line (name, status, message, body) is what the Python side reports.
  console.error(`${error?.name}: ${error?.message}`);
  if (error?.statusCode) console.error(`status ${error.statusCode}: ${error.responseBody ?? ""}`);
  if (error?.lastError) console.error(`last error: ${error.lastError.message}`);
  process.exit(1);
}
