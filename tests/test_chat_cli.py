"""`rag chat` in a pseudo-terminal, as a person types: follow-ups understood, /new forgets, Ctrl-D leaves."""

import os
import sys

from rag.cli import shown
from tests.conftest import ROOT


def test_a_chat_understands_follow_ups_starts_over_and_leaves_on_ctrl_d(articles_index, qa):
    import pexpect

    chat = pexpect.spawn(
        sys.executable,
        ["-m", "rag.cli", "chat", "--index-dir", str(articles_index)],
        cwd=str(ROOT),
        env={**os.environ, "TERM": "dumb"},
        encoding="utf-8",
        timeout=180,
    )
    chat.expect("Ctrl-D leaves")
    chat.expect("you> ")
    chat.sendline("Who said Putin is trying to manipulate Trump?")
    chat.expect("you> ")
    assert "Zelenskyy" in chat.before and "confidence" in chat.before
    said = shown(
        qa.ask("Who said Putin is trying to manipulate Trump?")
    )  # as `rag ask` prints it, in its state's words
    assert said.replace("\n", "\r\n") in chat.before
    chat.sendline("When did he say it?")
    chat.expect("you> ")
    assert "about: Zelenskyy, from your previous question" in chat.before
    chat.sendline("/new")
    chat.expect("a new conversation")
    chat.expect("you> ")
    chat.sendline("When did he say it?")
    chat.expect("you> ")
    assert "about:" not in chat.before
    chat.sendline("   ")  # an empty line is no question
    chat.expect("you> ")
    chat.sendeof()
    chat.expect(pexpect.EOF)
    chat.close()
    assert chat.exitstatus == 0
