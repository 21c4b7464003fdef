"""SecretRedactor: whole texts, JSON-like values and output streamed in arbitrary chunks."""

from __future__ import annotations

import itertools

import pytest

from buildbot.util.redact import SecretRedactor


def redactor(**secrets: str) -> SecretRedactor:
    r = SecretRedactor()
    for name, value in secrets.items():
        r.add(value, name)
    return r


def stream(r: SecretRedactor, chunks: list[str]) -> str:
    """What a log receives when `chunks` arrive one by one and the stream then ends."""
    out, carry = [], ""
    for chunk in chunks:
        emitted, carry = r.feed(carry, chunk)
        out.append(emitted)
    out.append(r.redact(carry))
    return "".join(out)


def test_redact_replaces_every_occurrence_by_the_name() -> None:
    r = redactor(tok="S3cr3t")
    assert r.redact("a S3cr3t b S3cr3tS3cr3t") == "a <tok> b <tok><tok>"


def test_a_secret_containing_another_is_replaced_whole() -> None:
    r = redactor(short="abc", long="xabcx")
    assert r.redact("xabcx abc") == "<long> <short>"


def test_blank_values_are_not_registered() -> None:
    r = redactor(empty="", spaces="  \n")
    assert not r
    assert r.redact("  \n") == "  \n"


def test_no_secret_returns_the_same_objects() -> None:
    r = SecretRedactor()
    text, value = "S3cr3t", {"a": ["S3cr3t"]}
    assert r.redact(text) is text
    assert r.redact_value(value) is value
    assert r.feed("", text) == (text, "")


def test_redact_value_walks_containers_and_keys() -> None:
    r = redactor(tok="S3cr3t")
    value = {"S3cr3t-key": ["x S3cr3t", ("S3cr3t", 3)], "n": 1, "b": b"S3cr3t!"}
    assert r.redact_value(value) == {"<tok>-key": ["x <tok>", ("<tok>", 3)], "n": 1,
                                     "b": b"<tok>!"}


def test_special_regex_characters_are_literal() -> None:
    r = redactor(tok="a.b*(c")
    assert r.redact("axb a.b*(c") == "axb <tok>"


@pytest.mark.parametrize("cut", range(1, 6))
def test_a_secret_cut_in_two_chunks_is_redacted(cut: int) -> None:
    r = redactor(tok="S3cr3t")
    text = "pre S3cr3t post\n"
    start = text.index("S3cr3t")
    assert stream(r, [text[:start + cut], text[start + cut:]]) == "pre <tok> post\n"


def test_every_chunking_of_a_text_gives_the_same_redaction() -> None:
    r = redactor(a="abab", b="abc", c="bcx")
    text = "xababcabcxabab-ab"
    expected = r.redact(text)
    assert expected == "x<a>c<b>x<a>-ab"
    for cuts in itertools.combinations(range(1, len(text)), 3):
        bounds = [0, *cuts, len(text)]
        chunks = [text[i:j] for i, j in itertools.pairwise(bounds)]
        assert stream(r, chunks) == expected, chunks


def test_a_secret_split_over_many_one_character_chunks() -> None:
    r = redactor(key="-----BEGIN KEY-----\nMIIE\n-----END KEY-----")
    text = "key:\n-----BEGIN KEY-----\nMIIE\n-----END KEY-----\ndone\n"
    assert stream(r, list(text)) == "key:\n<key>\ndone\n"


def test_the_carry_holds_only_a_possible_beginning() -> None:
    r = redactor(tok="S3cr3t")
    assert r.feed("", "line one\nand S3c") == ("line one\nand ", "S3c")
    assert r.feed("", "no secret here\n") == ("no secret here\n", "")


def test_a_complete_short_secret_that_may_grow_into_a_longer_one_is_held() -> None:
    r = redactor(short="abc", long="abcdef")
    assert r.feed("", "x abc") == ("x ", "abc")
    assert stream(r, ["x abc", "def y"]) == "x <long> y"
    assert stream(r, ["x abc", " y"]) == "x <short> y"


def test_a_secret_added_later_is_hidden_from_then_on() -> None:
    r = SecretRedactor()
    assert r.redact("S3cr3t") == "S3cr3t"
    r.add("S3cr3t", "tok")
    assert r.redact("S3cr3t") == "<tok>"


def test_a_secret_is_hidden_in_the_forms_the_worker_echoes_it() -> None:
    # the first header line is shell-quoted, the argv line a repr of bytes; the master's
    # own commands show a repr of str
    value = "q'uo\\te \u00e4\"x"
    r = redactor(odd=value)
    texts = [
        "echo 'q'\"'\"'uo\\te \u00e4\"x'",
        " argv: [b'echo', b'q\\'uo\\\\te \\xc3\\xa4\"x']",
        " argv: ['echo', 'q\\'uo\\\\te \u00e4\"x']",
    ]
    assert [r.redact(t) for t in texts] == [
        "echo '<odd>'", " argv: [b'echo', b'<odd>']", " argv: ['echo', '<odd>']"]


def test_a_secret_with_a_trailing_newline_is_hidden_without_it() -> None:
    r = redactor(tok="S3cr3t\n")
    assert r.redact("echo S3cr3t; x='S3cr3t\\n'") == "echo <tok>; x='<tok>'"
    assert r.placeholders() == {"S3cr3t\n": "<tok>"}
