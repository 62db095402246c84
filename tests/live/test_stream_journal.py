"""A streamed answer is journaled however its body ends: a journal read right after a stream
finds it, and the count of answers still finishing never stays up (it did, now and then, and
from then on every journal read waited out its timeout and the entry was never written)."""

from __future__ import annotations

from openai import OpenAI

from harness.testing import LiveServer
from mockserver import MockConfig


def test_every_stream_is_in_the_journal_read_right_after_it() -> None:
    with LiveServer(MockConfig()) as server:
        client = OpenAI(base_url=server.base_url, api_key="test-key")
        for turn in range(20):
            server.reset()
            stub = server.stub(match={"last_user_message": "hi"}, reply={"text": "Hello there"})
            with client.chat.completions.create(
                model="gpt-4", messages=[{"role": "user", "content": "hi"}], stream=True
            ) as stream:
                for _ in stream:
                    pass
            found = server.requests.filter(stub_id=stub["id"], stream=True)
            assert len(found) == 1, f"turn {turn}: {len(server.requests)} entries"
