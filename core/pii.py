"""The kinds of personal data callqa hides, and the placeholders that stand for them in stored text.

Shared by the redaction stage (which writes placeholders), the rule engine (which lets a checklist test that one
was said, ``says: {entity: phone}``) and the store's checks (which look for anything left in clear).
"""

from __future__ import annotations

import re
from enum import StrEnum


class PiiKind(StrEnum):
    """What kind of personal data a span is; the placeholder shown instead is ``[KIND]``."""

    PHONE = "PHONE"
    ID = "ID"
    CARD = "CARD"
    EMAIL = "EMAIL"
    ADDRESS = "ADDRESS"
    NAME = "NAME"
    DATE = "DATE"
    NUMBER = "NUMBER"

    @property
    def placeholder(self) -> str:
        return f"[{self.value}]"


# When two findings overlap, the kind a reader most needs hidden names the span (an ID number over a number).
KIND_PRIORITY = {PiiKind.ID: 7, PiiKind.CARD: 7, PiiKind.PHONE: 6, PiiKind.EMAIL: 6, PiiKind.ADDRESS: 5,
                 PiiKind.DATE: 4, PiiKind.NAME: 3, PiiKind.NUMBER: 2}
PLACEHOLDER = re.compile(r"\[(?:" + "|".join(k.value for k in PiiKind) + r")\]")
