"""File names (and other tree-controlled text) made safe to print for humans and CI logs.

A file in the scanned tree may be named `a\\n::error file=x::forged.c`: printed as is,
the second line is a GitHub Actions workflow command. Names may also hold terminal
escapes, or bytes that are not UTF-8 (Python keeps them as lone surrogates, which no
UTF-8 stream can encode). `display` escapes all of these the way Python writes them
in string literals, so each name is one line of plain, printable UTF-8; names made
of ordinary characters are unchanged.
"""

from __future__ import annotations

import os
import re

# C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_UNSAFE_OR_BACKSLASH = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\\\\]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode keeps it (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def display(path: str | os.PathLike[str]) -> str:
    """`path` as one printable line: control characters, line separators and undecodable
    bytes escaped (`\\n`, `\\x1b`, `\\xff`, `\\u2028`), and a backslash doubled where it is
    not the path separator, so that the escapes cannot be confused with a name's own text."""
    text = os.fspath(path)
    pattern = _UNSAFE if os.sep == "\\" else _UNSAFE_OR_BACKSLASH
    return pattern.sub(_escape, text)


def clean(text: str) -> str:
    """Free text (a message that may quote a name or the scanned code) as one printable line:
    the escapes of `display`, but backslashes kept as they are."""
    return _UNSAFE.sub(_escape, text)


def fs_bytes(path: str) -> bytes:
    """The bytes of a path as the file system has them (undecodable bytes restored), for hashing."""
    return path.encode("utf-8", "surrogateescape")


def utf8_safe(path: str) -> bool:
    """Whether `path` can be handed to an API that takes UTF-8 text (no undecodable bytes)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
