"""langchain-openai's ChatOpenAI against `harness serve`, on Chat Completions and Responses."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.prompts import PromptTemplate

from tests.clients.expect import (
    CITY_QUESTION,
    HELLO,
    STRUCTURED_MODEL,
    TOOL_RESULT,
    WEATHER_QUESTION,
    City,
    assert_city,
    assert_text,
    assert_used_tool_result,
    assert_weather_call,
    get_weather,
)
from tests.clients.langchain_models import chat_model
from tests.fixtures.servers import RunningServer

# LangChain sends gpt-4's structured output as a function call (gpt-4 predates json_schema on
# the live API) and says so with this warning; the test expects it rather than hiding it.
FUNCTION_CALLING_FALLBACK = "Overriding to method='function_calling'"

API = pytest.mark.parametrize("responses_api", [False, True], ids=["chat", "responses"])


@API
def test_invoke(mock: RunningServer, responses_api: bool) -> None:
    reply = chat_model(mock, responses_api).invoke(HELLO)
    assert isinstance(reply, AIMessage)
    assert_text(reply.text)


@API
def test_stream(mock: RunningServer, responses_api: bool) -> None:
    model = chat_model(mock, responses_api)
    chunks = list(model.stream(HELLO))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert assert_text(whole.text) == model.invoke(HELLO).text


@API
def test_a_conversation_carries_on_with_the_earlier_reply(
    mock: RunningServer, responses_api: bool
) -> None:
    # On Responses, LangChain sends the earlier reply as an assistant message of output_text
    # parts, with no status (and no id unless it has a provider's): the live API takes it.
    model = chat_model(mock, responses_api)
    history = [HumanMessage(HELLO)]
    history.append(model.invoke(history))
    history.append(AIMessage("A reply written by the application, not by the model."))
    history.append(HumanMessage("And how are you?"))
    assert_text(model.invoke(history).text)


@API
def test_bind_tools_and_answer_with_the_result(mock: RunningServer, responses_api: bool) -> None:
    model = chat_model(mock, responses_api).bind_tools([get_weather])
    question = HumanMessage(WEATHER_QUESTION)
    call_message = model.invoke([question])
    assert isinstance(call_message, AIMessage)
    assert call_message.tool_calls, call_message
    for call in call_message.tool_calls:
        assert_weather_call(call["name"], call["args"])
    results = [ToolMessage(TOOL_RESULT, tool_call_id=c["id"]) for c in call_message.tool_calls]
    answer = model.invoke([question, call_message, *results])
    assert not getattr(answer, "tool_calls", None), answer
    assert_used_tool_result(answer.text)


@API
def test_with_structured_output_json_schema(mock: RunningServer, responses_api: bool) -> None:
    # LangChain's default method for models it knows take json_schema: response_format on
    # chat, text.format on Responses, parsed into the model.
    structured = chat_model(mock, responses_api, STRUCTURED_MODEL).with_structured_output(City)
    assert_city(structured.invoke(CITY_QUESTION))


@API
def test_with_structured_output_on_gpt_4_falls_back_to_a_tool(
    mock: RunningServer, responses_api: bool
) -> None:
    with pytest.warns(UserWarning, match=FUNCTION_CALLING_FALLBACK):
        structured = chat_model(mock, responses_api).with_structured_output(City)
    assert_city(structured.invoke(CITY_QUESTION))


@API
def test_with_structured_output_function_calling(mock: RunningServer, responses_api: bool) -> None:
    structured = chat_model(mock, responses_api).with_structured_output(
        City, method="function_calling"
    )
    assert_city(structured.invoke(CITY_QUESTION))


@API
@pytest.mark.parametrize("parser_class", [PydanticOutputParser, JsonOutputParser])
def test_an_output_parser_reads_an_instance_of_the_schema_in_the_prompt(
    mock: RunningServer, responses_api: bool, parser_class: type
) -> None:
    # The parsers' format instructions hold an example schema first, then the model's schema:
    # the answer is an instance of the last.
    parser = parser_class(pydantic_object=City)
    prompt = PromptTemplate(
        template="Answer the user query.\n{format_instructions}\n{query}\n",
        input_variables=["query"],
        partial_variables={"format_instructions": parser.get_format_instructions()},
    )
    chain = prompt | chat_model(mock, responses_api) | parser
    assert_city(chain.invoke({"query": CITY_QUESTION}))
