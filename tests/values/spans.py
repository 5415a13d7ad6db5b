"""Test helper: a span marked inside a quoted piece of a note."""


def span_at(text: str, marked: str) -> tuple[int, int]:
    """[start, end) in ``text`` of the ``[[...]]`` part of ``marked`` (a piece of ``text`` with the span in brackets)."""
    before, rest = marked.split("[[", 1)
    inner, after = rest.split("]]", 1)
    pos = text.index(before + inner + after) + len(before)
    return pos, pos + len(inner)


def unmarked(marked: str) -> tuple[str, int, int]:
    """A note text written with its span in ``[[...]]``: the plain text and the span's [start, end)."""
    plain = marked.replace("[[", "").replace("]]", "")
    return (plain, *span_at(plain, marked))
