"""Values the user wrote, offered to the tool arguments whose names fit them.

A model asked "What's the weather in Paris?" calls ``get_weather`` with ``{"location":
"Paris"}``; the mock's arguments do the same where the last user message holds a fitting value:

* a capitalised name ("Paris", "New York", "Alice Smith") fills a string argument named or
  described as a place (``city``, ``location``, ``destination``, ...) or a person (``name``,
  ``recipient``, ...). A name after "in", "at", "near", ... is a place; after "from" it suits
  ``origin``-like arguments, after "to" ``destination``-like ones;
* a quoted string ("...", “...”, '...') fills a text argument (``query``, ``title``,
  ``message``, ...) or one whose name or description names a named thing (``restaurant``,
  "name of the hotel", ``venue``, ``product``, ...);
* a number fills a numeric argument when a word next to it names the argument ("3 nights" for
  ``nights``, "top 5 results" for ``max_results``, "4 people" for ``party_size``), a number
  next to a currency code or sign ("250 USD", "$30") an ``amount``/``price``-like one, or a
  year-like number a ``year``;
* ISO 4217-like codes (three capitals: "USD", "EUR") fill ``*currency*`` arguments (or ones
  described as a currency): the code after "from" (else the first) for ``from``/``source``/
  ``base`` ones, the code after "to"/"in"/"into" (else the last) for ``to``/``target`` ones;
* a word of the message that is one of an argument's ``enum`` values ("in fahrenheit") picks it;
* an argument that asks for the request in words (``query``, ``question``, ``input``,
  ``prompt``, ``task``, ...) and finds nothing quoted or fitting takes the message itself, as
  a model passes a request on (an agent used as a tool, a web search).

A message's opening verb ("Add user Bob Smith", "Greet Alice") is capitalised for starting
the sentence, not for being a name.

:meth:`Mentions.suggest` only proposes; the generator keeps a value only if the argument's
schema accepts it (type, enum, pattern, bounds), so arguments stay valid. Everything is
derived from the message text, so replies stay deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

# How much of the message is read: the values a tool call needs sit in the question itself.
_TEXT_LIMIT: Final = 4000
# Field names that ask for the answer itself: an agent's finishing tool (smolagents'
# final_answer(answer)), an output model's summary, a ReAct task's answer schema.
ANSWER_NAMES: Final = frozenset(
    {"answer", "final_answer", "response", "result", "output", "reply", "summary", "report"}
)
_QUOTED: Final = re.compile(
    r"\"([^\"\n]{1,200})\"|“([^”\n]{1,200})”|(?<!\w)'([^'\n]{1,200})'(?!\w)"
)
# A run of capitalised words ("New York", "São Paulo"); "'s" is dropped from the last word.
_CAPITALISED: Final = re.compile(r"(?<![\w'’])[A-Z][\w’'-]*(?: [A-Z][\w’'-]*)*")
# A number stands alone: not inside a word or a version ("1.2.3"), but it may end a
# sentence ("max price 300.").
_TOKEN: Final = re.compile(r"(?<![\w.-])-?\d+(?:\.\d+)?(?!\w|\.\d)|[^\W\d_]+")
_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?")
# Three capitals standing alone: an ISO 4217-like currency code ("USD"). Known codes are
# preferred, so that an all-caps word ("NOW") comes last.
_CODE: Final = re.compile(r"(?<![\w-])[A-Z]{3}(?![\w-])")
_KNOWN_CODES: Final = frozenset(
    [
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "CNY",
        "HKD",
        "SGD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RUB",
        "TRY",
        "INR",
        "BRL",
        "MXN",
        "ZAR",
        "KRW",
        "TWD",
        "THB",
        "IDR",
        "MYR",
        "PHP",
        "ILS",
        "AED",
        "SAR",
        "ARS",
        "CLP",
        "COP",
        "BTC",
    ]
)
_CURRENCY_SIGNS: Final = frozenset("$€£¥₹₩")
_MONEY_WORDS: Final = frozenset(
    {"amount", "price", "cost", "sum", "total", "value", "money", "budget", "fee", "payment"}
)
_CURRENCY_WORDS: Final = frozenset({"currency", "currencies", "4217"})
_FROM_CURRENCY: Final = frozenset({"from", "source", "base", "original", "sell"})
_TO_CURRENCY: Final = frozenset({"to", "target", "quote", "into", "destination", "buy"})
_TO_PREPOSITIONS: Final = frozenset({"to", "into", "in"})
# Words that say an argument holds the name of a thing: a quoted string fits it.
_NAMED_THINGS: Final = frozenset(
    [
        "name",
        "title",
        "restaurant",
        "place",
        "venue",
        "hotel",
        "business",
        "store",
        "shop",
        "company",
        "brand",
        "product",
        "item",
        "movie",
        "film",
        "book",
        "song",
        "album",
        "artist",
        "event",
        "label",
        "dish",
        "recipe",
        "game",
        "app",
        "project",
        "team",
        "channel",
        "playlist",
        "show",
    ]
)
# Words that count as one for tying a number to an argument ("4 people" for `party_size`).
_SAME_NUMBER_WORDS: Final = (
    frozenset({"people", "person", "persons", "guest", "guests", "party", "pax", "diners"}),
)
_NAME_TOKEN: Final = re.compile(r"[a-z0-9]+")
# Capitalised only because they start a sentence or a question, or always ("I").
_NOT_NAMES: Final = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "book",
        "can",
        "check",
        "could",
        "create",
        "did",
        "do",
        "does",
        "find",
        "get",
        "give",
        "hello",
        "hey",
        "hi",
        "how",
        "i",
        "i'm",
        "is",
        "it",
        "let",
        "list",
        "look",
        "make",
        "may",
        "my",
        "please",
        "search",
        "send",
        "set",
        "should",
        "show",
        "tell",
        "thanks",
        "the",
        "what",
        "what's",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "would",
        "yes",
        "no",
        "ok",
        "okay",
        # Verbs a request to a tool opens with, capitalised only for starting the sentence
        # ("Add user Bob Smith" named "Add"); names that are also verbs (Mark, Bill) stay out.
        "add",
        "ask",
        "assign",
        "buy",
        "calculate",
        "call",
        "cancel",
        "compare",
        "compute",
        "convert",
        "delete",
        "describe",
        "draft",
        "email",
        "explain",
        "extract",
        "fetch",
        "forward",
        "greet",
        "invite",
        "message",
        "notify",
        "open",
        "recommend",
        "order",
        "pay",
        "plan",
        "post",
        "register",
        "remind",
        "remove",
        "reply",
        "reserve",
        "save",
        "schedule",
        "share",
        "summarize",
        "text",
        "transfer",
        "translate",
        "update",
        "write",
    ]
)
_PLACE_PREPOSITIONS: Final = frozenset({"in", "at", "near", "around", "from", "to", "for", "of"})
_FROM_WORDS: Final = frozenset({"origin", "from", "departure", "source", "start", "leaving"})
_TO_WORDS: Final = frozenset({"destination", "to", "arrival", "target", "end", "going"})
_PLACE_WORDS: Final = frozenset(
    [
        "city",
        "town",
        "location",
        "place",
        "destination",
        "origin",
        "where",
        "region",
        "area",
        "country",
        "address",
        "venue",
        "airport",
        "departure",
        "arrival",
        "locality",
    ]
)
_PERSON_WORDS: Final = frozenset(
    [
        "person",
        "author",
        "recipient",
        "sender",
        "customer",
        "owner",
        "contact",
        "assignee",
        "attendee",
        "employee",
        "patient",
        "who",
        "fullname",
    ]
)
_PERSON_PREFIXES: Final = frozenset({"first", "last", "full", "display", "contact", "person"})
_TEXT_WORDS: Final = frozenset(
    [
        "query",
        "q",
        "search",
        "keyword",
        "keywords",
        "term",
        "terms",
        "text",
        "message",
        "title",
        "subject",
        "content",
        "body",
        "prompt",
        "question",
        "topic",
        "phrase",
        "string",
        "input",
        "note",
        "comment",
        "expression",
    ]
)
# Arguments that ask for what the user wants in their own words: without a quoted string, the
# message itself (a model passes the request on, where a canned phrase misleads).
_FREE_TEXT_WORDS: Final = frozenset(
    ["query", "q", "question", "input", "prompt", "request", "task", "instruction", "instructions"]
)
# The longest message passed on whole as such an argument.
_FREE_TEXT_LIMIT: Final = 500
_STRING_KEYWORDS: Final = ("pattern", "minLength", "maxLength", "format")
# Words too common to tie a number to an argument ("for 3 ..." says nothing about `for_x`).
_FILLER: Final = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "and",
        "or",
        "with",
        "from",
        "into",
        "per",
        "is",
        "are",
        "be",
        "number",
        "value",
    ]
)


@dataclass(frozen=True)
class _Name:
    text: str
    preposition: str  # the word before it, lower case ("" at the start)


@dataclass(frozen=True)
class _Number:
    value: int | float
    neighbours: frozenset[str]  # stems of the words just before and after it
    money: bool = False  # next to a currency code or sign ("250 USD", "$30")


@dataclass(frozen=True)
class Mentions:
    """The values a user message offers (see the module docstring)."""

    names: tuple[_Name, ...] = ()
    quoted: tuple[str, ...] = ()
    numbers: tuple[_Number, ...] = ()
    text: str = ""  # the message in lower case, for enum values
    codes: tuple[_Name, ...] = ()  # currency codes, in order, with the word before each
    request: str = ""  # the message as written, when short enough to pass on whole

    @classmethod
    def of(cls, message: str) -> Mentions:
        text = message[:_TEXT_LIMIT]
        quoted = tuple(next(g for g in match.groups() if g) for match in _QUOTED.finditer(text))
        unquoted = _QUOTED.sub(" , ", text)
        request = " ".join(message.split()) if len(message) <= _FREE_TEXT_LIMIT else ""
        return cls(
            _names(unquoted), quoted, _numbers(unquoted), text.lower(), _codes(unquoted), request
        )

    def suggest_answering(self, answer: str) -> Callable[[str, Mapping[str, Any]], Sequence[Any]]:
        """:meth:`suggest`, offering ``answer`` first to a text field named for the answer
        (:data:`ANSWER_NAMES`): what a finishing tool, a structured output or a ReAct final
        answer takes once tool results came back."""

        def suggest(name: str, schema: Mapping[str, Any]) -> Sequence[Any]:
            found = self.suggest(name, schema)
            if name.lower() in ANSWER_NAMES and "enum" not in schema:
                return [answer, *found]
            return found

        return suggest

    def suggest(self, name: str, schema: Mapping[str, Any]) -> Sequence[Any]:
        """Values for the argument ``name`` (schema ``schema``), best first; may be empty."""
        enum = schema.get("enum")
        if isinstance(enum, list):
            return [value for value in enum if isinstance(value, str) and self._says(value)]
        kinds = _kinds(schema)
        words = _words_of(name, schema)
        found: list[Any] = []
        if kinds & {"integer", "number"}:
            found += self._numbers_for(words)
        if "string" in kinds:
            found += self._strings_for(words)
        return found

    def _says(self, value: str) -> bool:
        return (
            len(value) > 1 and re.search(rf"\b{re.escape(value.lower())}\b", self.text) is not None
        )

    def _numbers_for(self, words: _Words) -> list[int | float]:
        wanted = {_stem(word) for word in words.all} - _FILLER
        for group in _SAME_NUMBER_WORDS:
            if wanted & group:
                wanted |= group
        found = [number.value for number in self.numbers if number.neighbours & wanted]
        if words.name & _MONEY_WORDS:
            found += [number.value for number in self.numbers if number.money]
        if "year" in words.name:
            found += [
                n.value
                for n in self.numbers
                if isinstance(n.value, int) and 1000 <= n.value <= 2999
            ]
        return found

    def _strings_for(self, words: _Words) -> list[str]:
        if words.all & _CURRENCY_WORDS and self.codes:
            return self._currencies(words.name)
        found = list(self.quoted) if words.name & _TEXT_WORDS else []
        if _is_place(words.name) or (not _is_person(words.name) and _is_place(words.described)):
            found += self._places(words.all)
        elif _is_person(words.name) or _is_person(words.described):
            found += [n.text for n in self.names if n.preposition not in _PLACE_PREPOSITIONS]
            found += [n.text for n in self.names if n.preposition in _PLACE_PREPOSITIONS]
        elif words.all & _NAMED_THINGS:
            # "name of the restaurant": a quoted string is how a user writes such a name.
            found += self.quoted
        if words.name & _FREE_TEXT_WORDS and self.request:
            found.append(self.request)  # after what the argument's words point at
        return found

    def _currencies(self, words: frozenset[str]) -> list[str]:
        """The codes, the one the argument's direction points at first: after "from" (else
        the first) for a source, after "to"/"in"/"into" (else the last) for a target."""
        codes = list(self.codes)
        if words & _TO_CURRENCY:
            codes.reverse()
            codes.sort(key=lambda code: code.preposition not in _TO_PREPOSITIONS)
        else:
            codes.sort(key=lambda code: code.preposition != "from")
        codes.sort(key=lambda code: code.text not in _KNOWN_CODES)
        return [code.text for code in codes]

    def _places(self, words: frozenset[str]) -> list[str]:
        """Names after a place preposition first, those after the preposition the argument
        suggests ("from" for an origin, "to" for a destination) before the others."""

        def rank(name: _Name) -> int:
            if name.preposition == "from":
                return 0 if words & _FROM_WORDS else 2 if words & _TO_WORDS else 1
            if name.preposition == "to":
                return 0 if words & _TO_WORDS else 2 if words & _FROM_WORDS else 1
            return 1 if name.preposition in _PLACE_PREPOSITIONS else 3

        return [name.text for name in sorted(self.names, key=rank)]


@dataclass(frozen=True)
class _Words:
    name: frozenset[str]  # the argument name's words ("max_results" -> max, results)
    described: frozenset[str]  # the words of its description

    @property
    def all(self) -> frozenset[str]:
        return self.name | self.described


def _words_of(name: str, schema: Mapping[str, Any]) -> _Words:
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    description = schema.get("description")
    described = description.lower()[:500] if isinstance(description, str) else ""
    return _Words(frozenset(_NAME_TOKEN.findall(snake)), frozenset(_NAME_TOKEN.findall(described)))


def _kinds(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    # Untyped: a string only when string keywords say so (an untyped node with `properties`
    # accepts a string too, but is meant to be an object).
    return {"string"} if any(key in schema for key in _STRING_KEYWORDS) else set()


def _is_place(words: frozenset[str]) -> bool:
    return bool(words & _PLACE_WORDS)


def _is_person(words: frozenset[str]) -> bool:
    named = "name" in words and (len(words) == 1 or bool(words & _PERSON_PREFIXES))
    return named or bool(words & _PERSON_WORDS)


def _stem(word: str) -> str:
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _names(text: str) -> tuple[_Name, ...]:
    found: list[_Name] = []
    for match in _CAPITALISED.finditer(text):
        words = match.group().split(" ")
        while words and _plain(words[0]) in _NOT_NAMES:
            words.pop(0)
        if not words:
            continue
        last = re.sub(r"['’]s$", "", words[-1]).rstrip("'’-")
        name = " ".join([*words[:-1], last]).strip()
        if not name or name in (n.text for n in found):
            continue
        start = match.start() + match.group().index(words[0])
        before = re.findall(r"[^\W\d_]+", text[max(0, start - 20) : start])
        found.append(_Name(name, before[-1].lower() if before else ""))
    return tuple(found)


def _plain(word: str) -> str:
    return word.lower().replace("’", "'")


def _numbers(text: str) -> tuple[_Number, ...]:
    matches = list(_TOKEN.finditer(text))
    tokens = [match.group() for match in matches]
    found = []
    for index, token in enumerate(tokens):
        if not _NUMBER.fullmatch(token):
            continue
        value: int | float = float(token) if "." in token else int(token)
        before = _nearest_word(reversed(tokens[max(0, index - 3) : index]))
        after = _nearest_word(tokens[index + 1 : index + 4])
        neighbours = frozenset(_stem(word) for word in (before, after) if word)
        if tokens[index + 1 : index + 3] == ["years", "old"]:  # "25 years old": an age
            neighbours |= {"age"}
        adjacent = tokens[max(0, index - 1) : index] + tokens[index + 1 : index + 2]
        sign = text[: matches[index].start()].rstrip()[-1:]
        money = sign in _CURRENCY_SIGNS or any(_CODE.fullmatch(word) for word in adjacent)
        found.append(_Number(value, neighbours, money))
    return tuple(found)


def _codes(text: str) -> tuple[_Name, ...]:
    """The currency-code-like words, each with the word before it (lower case)."""
    found = []
    for match in _CODE.finditer(text):
        before = _TOKEN.findall(text[max(0, match.start() - 24) : match.start()])
        found.append(_Name(match.group(), before[-1].lower() if before else ""))
    return tuple(found)


def _nearest_word(tokens: Iterable[str]) -> str:
    """The first word that says something ("budget of 350": "budget"), or ""."""
    for token in tokens:
        if _NUMBER.fullmatch(token):
            return ""
        if token.lower() not in _FILLER:
            return token
    return ""
