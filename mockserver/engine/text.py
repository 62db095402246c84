"""Deterministic, plausible reply text.

The mock is not a language model; it writes short, readable English that refers to the
user's words, so a developer can tell replies apart and tests can rely on them. All choices
come from the ``random.Random`` passed in, which the planner seeds from the request.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

_GREETING = re.compile(
    r"^\W*(hi|hello|hey|hiya|greetings|good (morning|afternoon|evening))\b", re.I
)
_WORD = re.compile(r"[A-Za-z][a-z]{3,20}")
_STOPWORDS = frozenset(
    [
        "about",
        "above",
        "after",
        "again",
        "against",
        "also",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "could",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "from",
        "further",
        "have",
        "having",
        "here",
        "into",
        "just",
        "more",
        "most",
        "other",
        "over",
        "please",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "what",
        "when",
        "where",
        "which",
        "while",
        "with",
        "would",
        "your",
        "yours",
        "tell",
        "explain",
        "give",
        "know",
        "like",
        "want",
        "need",
        "make",
        "show",
        "write",
    ]
)

GREETINGS = (
    "Hello! How can I assist you today?",
    "Hi there! How can I help you today?",
    "Hello! What can I do for you today?",
)
# `{Summary}` starts a sentence, `{summary}` continues one.
AFTER_TOOL = (
    "Thanks, I have the result. {Summary}",
    "Here is what the tool returned: {summary}",
    "Based on the tool output, {summary}",
)
OPENERS = (
    "Sure! Here is a short answer.",
    "Good question.",
    "Here's what I can tell you.",
    "Certainly.",
    "Let me explain.",
)
SENTENCES = (
    "{Topic} is usually discussed in terms of {a} and {b}.",
    "A practical approach to {topic} is to start with {a}, then look at {b}.",
    "In most cases, {a} matters more than {b} when it comes to {topic}.",
    "It helps to keep {a} simple and to measure {b} carefully.",
    "Many teams find that {topic} improves once {a} and {b} are clear.",
    "A common mistake is to ignore {a} until {b} becomes a problem.",
    "If you are new to {topic}, focus on {a} first.",
)
NOUNS = (
    "clarity",
    "structure",
    "performance",
    "reliability",
    "cost",
    "context",
    "testing",
    "design",
    "data quality",
    "feedback",
    "timing",
    "scope",
    "security",
    "simplicity",
)
CLOSERS = (
    "Let me know if you would like more detail.",
    "I hope this helps!",
    "Would you like an example?",
    "",
)


# How much of the tool results an answer after them repeats.
_RESULT_CHARS = 200


def compose_reply(rng: random.Random, user_text: str, after_tool: str | None = None) -> str:
    """A reply to ``user_text``; ``after_tool`` is the last tool result, when one was sent."""
    if after_tool is not None:
        summary = _summarize(after_tool)
        return rng.choice(AFTER_TOOL).format(summary=summary, Summary=_capitalized(summary))
    if _GREETING.match(user_text):
        return rng.choice(GREETINGS)
    topic = _topic(user_text)
    sentences = [rng.choice(OPENERS)]
    for template in rng.sample(SENTENCES, rng.randint(1, 3)):
        first, second = rng.sample(NOUNS, 2)
        sentences.append(template.format(topic=topic, Topic=_capitalized(topic), a=first, b=second))
    closer = rng.choice(CLOSERS)
    if closer:
        sentences.append(closer)
    return " ".join(sentences)


def _capitalized(text: str) -> str:
    """``text`` with its first letter in upper case (``str.capitalize`` would lower the rest)."""
    return text[:1].upper() + text[1:]


def _topic(text: str) -> str:
    words = [word.lower() for word in _WORD.findall(text[:2000])]
    salient = [word for word in words if word not in _STOPWORDS]
    if not salient:
        return "this topic"
    # The longest salient words name the subject best; keep their order of appearance.
    chosen = sorted(sorted(set(salient), key=len, reverse=True)[:2], key=salient.index)
    return " ".join(chosen)


def join_results(results: Sequence[str]) -> str:
    """Several tool results as one text for :func:`compose_reply` ("A and B", "A, B and C");
    one result as it is. Each is cut as a single one is, so none crowds out the others."""
    if len(results) == 1:
        return results[0]
    # Each its share of what the answer repeats, less the ", " and " and " between them.
    share = max((_RESULT_CHARS - 5 * (len(results) - 1)) // len(results), 4)
    shown = [_cut(" ".join(result.split()), share) for result in results]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 1)] + "..."


def _summarize(tool_output: str) -> str:
    text = _cut(" ".join(tool_output.split()), _RESULT_CHARS)
    if not text:
        return "the tool returned nothing."
    # A result that ends its own sentence (or was cut with "...") gets no second full stop.
    return f"the result is {text}" + ("" if text.endswith((".", "!", "?")) else ".")
