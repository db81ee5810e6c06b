"""The one rule for user text (app/security.py `clean_text`), used by the guestbook (app/web.py)
and the forum (app/forum.py): real-language text passes, control characters do not."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import forum, security, web

REAL_TEXT = [
    "Zoë", "می\u200cخواهم",  # Persian with ZWNJ (U+200C)
    "👨\u200d👩\u200d👧", "🇫🇷",  # an emoji ZWJ family (U+200D), a flag
    "Donau\u00addampf\u00adschiff",  # soft hyphens (U+00AD)
    "10\u00a0000\u202fm",  # no-break and narrow no-break spaces (French thousands, units)
    "\u200fשלום\u200e abc",  # RLM / LRM marks
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland: tag characters
    "\ue000",  # private use
    "\U0003134b",  # a code point this Python's Unicode tables do not know (newer characters look so)
]
CONTROLS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))]  # every Cc
REFUSED = CONTROLS + ["\ud800", "\udfff", "\u2028", "\u2029",  # lone surrogates, line/paragraph separators
                      *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]  # bidi controls


def _web(value: str) -> None:
    web.validate({"name": value, "address": "x"})


def _forum(value: str) -> None:
    forum._text("message", value, forum.MESSAGE_MAX, multiline=True)


@pytest.mark.parametrize("check", [_web, _forum], ids=["guestbook", "forum"])
@pytest.mark.parametrize("text", REAL_TEXT)
def test_real_language_text_is_accepted(check, text):
    assert security.clean_text(text)
    check(text)


@pytest.mark.parametrize("check,error", [(_web, web.ValidationError), (_forum, forum.Invalid)],
                         ids=["guestbook", "forum"])
@pytest.mark.parametrize("char", [c for c in REFUSED if c not in "\t\n\r"] + ["\r"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_controls_separators_and_bidi_overrides_are_refused_with_the_field_named(check, error, char):
    with pytest.raises(error, match="must not contain control characters") as caught:
        check(f"a{char}b")
    assert caught.value.field in ("name", "message")


def test_only_forum_messages_keep_newlines_and_tabs():
    assert forum._text("message", "one\r\ntwo\n\tthree", forum.MESSAGE_MAX, multiline=True)
    for char in "\n\t":
        with pytest.raises(forum.Invalid):
            forum._text("posted_by", f"a{char}b", forum.USER_MAX)
        with pytest.raises(web.ValidationError):
            _web(f"a{char}b")


@given(st.text(max_size=20))
def test_the_rule_is_wider_than_isprintable_and_refuses_every_control(text):
    """Everything str.isprintable() accepted is still accepted; every Cc/Cs is refused."""
    if text.isprintable():
        assert security.clean_text(text)
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        assert not security.clean_text(text)


def test_real_language_text_round_trips_through_the_database(client):
    """Both engines store what the rule lets in, byte for byte (MySQL's utf8mb4, PostgreSQL UTF8)."""
    for text in REAL_TEXT:
        created = client.post("/api/entries", json={"name": text, "address": text})
        assert created.status_code == 201 and created.get_json()["name"] == text, text
        listed = client.get("/api/entries?limit=20").get_json()["entries"]
        assert text in [e["name"] for e in listed], text
