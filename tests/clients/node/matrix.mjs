// One client-matrix case with the Node `openai` package against the mock, as an app would
// call it. Usage: node matrix.mjs CASE (OPENAI_BASE_URL and OPENAI_API_KEY name the mock).
// Prints the case's observations as one JSON object; the Python test asserts on them, so
// both languages share one set of expectations (tests/clients/test_node_openai.py).
import OpenAI from "openai";
import { zodResponseFormat, zodTextFormat } from "openai/helpers/zod";
import { z } from "zod";

const MODEL = "gpt-4";
const HELLO = "Hello";
const WEATHER_QUESTION = "What's the weather in Paris?";
const CITY_QUESTION = "Tell me about Paris";
const WEATHER_PARAMETERS = {
  type: "object",
  properties: { city: { type: "string", description: "City name" } },
  required: ["city"],
};
const City = z.object({ name: z.string(), population: z.number().int() });

// The client reads OPENAI_BASE_URL and OPENAI_API_KEY, as apps configure it.
const client = new OpenAI({ maxRetries: 0 });
const user = (content) => [{ role: "user", content }];

const cases = {
  async chat() {
    const reply = await client.chat.completions.create({ model: MODEL, messages: user(HELLO) });
    return { content: reply.choices[0].message.content };
  },
  async chat_stream() {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: user(HELLO),
      stream: true,
    });
    const deltas = [];
    for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta?.content ?? "");
    const whole = await client.chat.completions.create({ model: MODEL, messages: user(HELLO) });
    return { streamed: deltas.join(""), content: whole.choices[0].message.content };
  },
  async chat_tools() {
    const reply = await client.chat.completions.create({
      model: MODEL,
      messages: user(WEATHER_QUESTION),
      tools: [
        {
          type: "function",
          function: { name: "get_weather", description: "Weather", parameters: WEATHER_PARAMETERS },
        },
      ],
    });
    const calls = reply.choices[0].message.tool_calls ?? [];
    return { calls: calls.map((c) => ({ name: c.function.name, arguments: c.function.arguments })) };
  },
  async chat_structured() {
    const reply = await client.chat.completions.parse({
      model: MODEL,
      messages: user(CITY_QUESTION),
      response_format: zodResponseFormat(City, "city"),
    });
    return { parsed: reply.choices[0].message.parsed };
  },
  async responses_create() {
    const response = await client.responses.create({ model: MODEL, input: HELLO });
    return { output_text: response.output_text, status: response.status };
  },
  async responses_stream() {
    const stream = client.responses.stream({ model: MODEL, input: HELLO });
    const deltas = [];
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") deltas.push(event.delta);
    }
    const final = await stream.finalResponse();
    return { streamed: deltas.join(""), output_text: final.output_text, status: final.status };
  },
  async responses_tools() {
    // A hand-written function tool, as the Responses docs show it: no `strict`.
    const response = await client.responses.create({
      model: MODEL,
      input: WEATHER_QUESTION,
      tools: [
        { type: "function", name: "get_weather", description: "Weather", parameters: WEATHER_PARAMETERS },
      ],
    });
    const calls = response.output.filter((item) => item.type === "function_call");
    return { calls: calls.map((c) => ({ name: c.name, arguments: c.arguments })) };
  },
  async responses_structured() {
    const response = await client.responses.parse({
      model: MODEL,
      input: CITY_QUESTION,
      text: { format: zodTextFormat(City, "city") },
    });
    return { parsed: response.output_parsed };
  },
};

const name = process.argv[2];
if (!(name in cases)) {
  console.error(`unknown case ${name}; cases: ${Object.keys(cases).join(", ")}`);
  process.exit(2);
}
try {
  console.log(JSON.stringify(await cases[name]()));
} catch (error) {
  // The SDK's own error line (class, status, message) is what the Python side reports.
  console.error(`${error?.constructor?.name}: ${error?.message}`);
  if (error?.error) console.error(JSON.stringify(error.error));
  process.exit(1);
}
