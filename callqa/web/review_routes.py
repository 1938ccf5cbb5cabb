"""The forms that change something: confirm/overturn a verdict, dispute an item, answer a dispute, acknowledge.

Each handler calls one function of ``scorecards.people.review`` (which checks the viewer's rights and raises
NotFound/Forbidden/Invalid) and redirects back to the page the form was on (POST → 303 → GET).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from callqa.web.context import Person, person, web
from core.errors import Invalid, NotFound
from scorecards.people import review

router = APIRouter()
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def _back(to: str, anchor: str = "") -> RedirectResponse:
    """Back to a page of this site: ``to`` is a path the form names (checked: only our own pages)."""
    if not re.fullmatch(r"/(calls/[A-Za-z0-9_.:-]{1,128}|me|agents/[A-Za-z0-9_.:@-]{1,128}|disputes|queue)", to):
        to = "/"
    return RedirectResponse(to + (f"#{anchor}" if anchor else ""), status_code=303)


def _reviewers_only(who: Person) -> None:
    """An agent has no review forms: answered like a missing page, whatever the id (nothing to learn)."""
    if not who.viewer.reviews:
        raise NotFound("not found")


def _optional(value: str) -> str | None:
    return value.strip() or None


@router.post("/scorecards/{scorecard_id}/items/{item_idx}/review")
def post_review(request: Request, who: Annotated[Person, Depends(person)], scorecard_id: str, item_idx: int,
                decision: Annotated[str, Form()], comment: Annotated[str, Form()] = "",
                verdict: Annotated[str, Form()] = "", dispute_id: Annotated[str, Form()] = "",
                back: Annotated[str, Form()] = "/queue") -> Response:
    _reviewers_only(who)
    if decision not in ("confirm", "overturn"):
        raise Invalid(f"decision: {decision!r} is not confirm or overturn")
    review.review_verdict(web(request).store, who.viewer, scorecard_id, item_idx, decision=decision,  # type: ignore[arg-type]
                   verdict=_optional(verdict), comment=comment.strip(), dispute_id=_optional(dispute_id))
    return _back(back, f"item-{scorecard_id[:12]}-{item_idx}")


@router.post("/scorecards/{scorecard_id}/items/{item_idx}/dispute")
def post_dispute(request: Request, who: Annotated[Person, Depends(person)], scorecard_id: str, item_idx: int,
                 comment: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "/me") -> Response:
    review.open_dispute(web(request).store, who.viewer, scorecard_id, item_idx, comment.strip())
    return _back(back, f"item-{scorecard_id[:12]}-{item_idx}")


@router.post("/scorecards/{scorecard_id}/acknowledge")
def post_acknowledge(request: Request, who: Annotated[Person, Depends(person)], scorecard_id: str,
                     back: Annotated[str, Form()] = "/me") -> Response:
    review.acknowledge(web(request).store, who.viewer, scorecard_id)
    return _back(back)


@router.post("/disputes/{dispute_id}/answer")
def post_answer(request: Request, who: Annotated[Person, Depends(person)], dispute_id: str,
                upheld: Annotated[str, Form()], answer: Annotated[str, Form()] = "",
                verdict: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "/disputes") -> Response:
    _reviewers_only(who)
    if upheld not in ("1", "0"):
        raise Invalid(f"upheld: {upheld!r} is not 1 (uphold) or 0 (reject)")
    review.answer_dispute(web(request).store, who.viewer, dispute_id, upheld=upheld == "1", answer=answer.strip(),
                   verdict=_optional(verdict))
    return _back(back, f"dispute-{dispute_id[:12]}")
