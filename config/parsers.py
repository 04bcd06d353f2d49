"""The JSON parser of every API view: DRF's, plus what a request body must not carry into the hub.

DRF's parser answers malformed JSON with a 400 but lets through three things that end in a 500
further in: a body nested so deep that the decoder (or later the schema validator, the template
renderer, the encoder) runs out of stack (`RecursionError`); a NUL character, which PostgreSQL
refuses in text; and a lone surrogate (`"\\ud800"`), which no UTF-8 encoder accepts. One parser
for every view refuses them all with a clear 400, so no serializer, service or view has to.
"""

import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deeper than anything the API takes (an integration's config is a handful of levels) and far
# below the interpreter's recursion limit.
MAX_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def json_problem(data) -> str | None:
    """Why a parsed JSON value cannot be taken, or None. Iterative: a deep value costs no stack."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                return "strings must not contain NUL characters or unpaired surrogates."
            continue
        if isinstance(value, dict):
            children = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels."
        pending.extend((child, depth + 1) for child in children)
    return None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"Invalid JSON: nested deeper than {MAX_DEPTH} levels.") from None
        problem = json_problem(data)
        if problem:
            raise ParseError(f"Invalid JSON: {problem}")
        return data
