"""Text that may reach a log or an admin page, with what could identify a customer masked: digit runs as
long as a phone, 户号 or ID number (record ids are at most 10 digits), e-mail addresses."""

from __future__ import annotations

import re

LONG_DIGITS = re.compile(r"\d{11,}[\dXx]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def redact(text: str) -> str:
    text = LONG_DIGITS.sub(lambda m: "*" * len(m.group()), text)
    return _EMAIL.sub("***@***", text)
