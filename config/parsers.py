"""The JSON parser of every API view: DRF's, plus what a request body must not carry into the hub.

DRF's parser answers malformed JSON with a 400 but lets through three things that end in a 500
further in: a body nested so deep that the decoder (or later the schema validator, the template
renderer, the encoder) runs out of stack (`RecursionError`); a NUL character, which PostgreSQL
refuses in text; and a lone surrogate (`"\\ud800"`), which no UTF-8 encoder accepts. One parser
for every view refuses them all with a clear 400, so no serializer, service or view has to. A
refused string inside a field is answered as that field's error, as a serializer would.
"""

import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deeper than anything the API takes (an integration's config is a handful of levels) and far
# below the interpreter's recursion limit.
MAX_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Django's own words for a NUL in a form or serializer field.
UNSTORABLE_TEXT = "Null characters are not allowed."
UNSTORABLE_DETAIL = "Invalid JSON: text must not contain NUL characters or unpaired surrogates"
TOO_DEEP = f"Invalid JSON: nested deeper than {MAX_DEPTH} levels."


def json_problem(data) -> dict | str | None:
    """Why a parsed JSON value cannot be taken — field errors (`{"city": [...]}`) or a message
    for the whole body — or None. Iterative: a deep value costs no stack."""
    pending = [(data, 1, "$")]
    while pending:
        value, depth, path = pending.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                return _unstorable_at(path)
            continue
        if isinstance(value, dict):
            for key, child in value.items():
                if _UNSTORABLE.search(key):
                    return f"{UNSTORABLE_DETAIL} (a key of {path})."
                pending.append((child, depth + 1, f"{path}.{key}"))
        elif isinstance(value, list):
            pending.extend((child, depth + 1, f"{path}[{index}]") for index, child in enumerate(value))
        else:
            continue
        if depth > MAX_DEPTH:
            return TOO_DEEP
    return None


def _unstorable_at(path: str) -> dict | str:
    field, _, rest = path.removeprefix("$.").partition(".")
    if path == "$" or "[" in field:
        return f"{UNSTORABLE_DETAIL} ({path})."
    return {field: [UNSTORABLE_TEXT if not rest else f"{UNSTORABLE_TEXT} ({path})"]}


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        problem = json_problem(data)
        if problem:
            raise ParseError(problem)
        return data
