"""Pages that show things: queue, call page and its audio, agent home, team heat-map, rule health, runs,
disputes, exports, the audit of personal data read in clear.

Each handler is thin: parse the query, call one function of :mod:`scorecards.people.views` or
:mod:`scorecards.people.exports` with the signed-in person's viewer, render a template. Access is decided there
(in SQL), never here.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, RedirectResponse, Response

from callqa.web import charts, playback
from callqa.web.context import Person, language_of, log, person, render, text, web, words_of
from callqa.web.i18n import export_labels
from core.errors import CallQAError, Invalid, NotFound
from scorecards.people import exports, regressions, review, views
from scorecards.people.access import UserRole

router = APIRouter()
Who = Annotated[Person, Depends(person)]
_AUDIO_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
                ".opus": "audio/ogg", ".m4a": "audio/mp4", ".webm": "audio/webm"}


def _date(field: str, value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{field}: {value!r} is not a date (YYYY-MM-DD)") from None


def _opt(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _staff_only(who: Person) -> None:
    """Agents have their own pages; a staff page answers them like a missing page (nothing to learn)."""
    if who.viewer.role is UserRole.AGENT:
        raise NotFound("not found")


@router.get("/queue")
def queue(request: Request, who: Who, since: str | None = None, until: str | None = None, team: str | None = None,
          agent: str | None = None, item: str | None = None, reason: str | None = None, status: str | None = None,
          page: int = 1) -> Response:
    """The review queue; ``status`` todo (the default: still to review), done or all (see ``views.review_queue``)."""
    _staff_only(who)
    settings = web(request).settings
    size = settings.queue_page_size
    page = max(page, 1)
    shown = _opt(status) or "todo"
    result = views.review_queue(web(request).store, who.viewer, since=_date("since", since),
                                until=_date("until", until), team=_opt(team), agent=_opt(agent), item=_opt(item),
                                reason=_opt(reason), status=shown, limit=size, offset=(page - 1) * size,
                                anger_threshold=settings.anger_threshold,
                                sample_per_agent_week=settings.sample_per_agent_week)
    filters = {"since": since or "", "until": until or "", "team": team or "", "agent": agent or "",
               "item": item or "", "reason": reason or "", "status": shown}
    return render(request, "queue.html", q=result, filters=filters, page=page, size=size)


@router.get("/calls/{call_id}")
def call_page(request: Request, who: Who, call_id: str, clear: bool = False) -> Response:
    """The call page; ``clear=1`` (``pii:clear`` holders only, audited) shows it with the personal data in clear."""
    ctx = web(request)
    page = views.call_page(ctx.store, who.viewer, call_id)
    page, privacy = views.call_page_privacy(ctx.store, who.viewer, page, clear=clear,
                                            roles=ctx.settings.pii_clear_roles)
    open_disputes = {(d.scorecard_id, d.item_idx) for d in page.disputes if d.status == "open"}
    return render(request, "call.html", page=page, reviews=who.viewer.reviews, open_disputes=open_disputes,
                  is_agent=who.viewer.role is UserRole.AGENT, privacy=privacy)


@router.get("/calls/{call_id}/audio")
def call_audio(request: Request, who: Who, call_id: str, clear: bool = False) -> Response:
    """The recording, with HTTP range requests (206 + Content-Range) so the player can seek.

    The spans the call's transcript hides are silenced (a cached WAV copy; the file itself is never changed).
    ``clear=1`` serves the original to a ``pii:clear`` holder, audited once per hearing
    (:func:`scorecards.people.views.should_audit_audio`) and kept out of the browser's cache.
    """
    ctx = web(request)
    found = views.call_audio(ctx.store, who.viewer, call_id)
    if clear:
        views.require_clear(who.viewer, ctx.settings.pii_clear_roles)
    if found.hidden and not clear:
        # No fallback to the file as it is: a recording that cannot be silenced is not served.
        path = playback.silenced(found.path, ctx.audio_cache, found.hidden)
    else:
        path = found.path
        try:
            path = playback.playable(path, ctx.audio_cache)
        except CallQAError as exc:
            log.warning("call %s: cannot convert %s for the browser (%s); serving it as it is", call_id, path, exc)
    if clear and found.hidden and views.should_audit_audio(ctx.store, who.viewer, call_id,
                                                           request.headers.get("range")):
        ctx.store.log_clear_access(who.viewer.user_id, call_id, "audio")  # before a byte of it is sent
    media = _AUDIO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    cache = "no-store" if clear else "private, max-age=3600"
    return FileResponse(path, media_type=media, headers={"Cache-Control": cache})


@router.get("/me")
def my_home(request: Request, who: Who) -> Response:
    if who.viewer.role is not UserRole.AGENT or who.viewer.agent_id is None:
        return RedirectResponse("/queue", status_code=303)
    return _agent_page(request, who, who.viewer.agent_id)


@router.get("/agents/{agent_id}")
def agent_page(request: Request, who: Who, agent_id: str) -> Response:
    return _agent_page(request, who, agent_id)


def _agent_page(request: Request, who: Person, agent_id: str) -> Response:
    store = web(request).store
    home = views.agent_home(store, who.viewer, agent_id)
    if who.viewer.role is UserRole.AGENT:
        # The answers shown on this page now count as seen by the agent (the supervisor's queue shows it):
        # one write for all of them, and none when there is nothing new (a write ends the server's warm read).
        unseen = [d.dispute_id for d in home.disputes if d.status != "open" and d.seen_by_agent_at is None]
        if unseen:
            review.mark_dispute_seen(store, who.viewer, *unseen)
    words = words_of(request)
    radar = charts.radar([words.titled(s.title) for s in home.radar], [
        charts.Series(text(request, "me.you"), tuple(s.agent for s in home.radar), charts.AGENT_COLOUR),
        charts.Series(text(request, "me.team_average"), tuple(s.team for s in home.radar), charts.TEAM_COLOUR),
    ], title=text(request, "me.radar"))
    trend = charts.line_chart([w.week for w in home.trend], [
        charts.Series(text(request, "me.you"), tuple(w.agent for w in home.trend), charts.AGENT_COLOUR),
        charts.Series(text(request, "me.team_average"), tuple(w.team for w in home.trend), charts.TEAM_COLOUR),
    ], title=text(request, "me.trend"))
    return render(request, "agent.html", home=home, radar=radar, trend=trend,
                  own=who.viewer.role is UserRole.AGENT)


@router.get("/team")
def team(request: Request, who: Who, team: str | None = None, checklist: str | None = None, days: int = 28,
         until: str | None = None, sort: str = "agent") -> Response:
    """One checklist's heat-map; the window ends ``until`` (empty: today), see ``views.team_heatmap``."""
    _staff_only(who)
    heat = views.team_heatmap(web(request).store, who.viewer, team=_opt(team), checklist=_opt(checklist), days=days,
                              until=_date("until", until), sort=sort)
    series = _team_trend(request, heat)
    # Drawn small and scaled by CSS to its box: its labels stay legible on a phone and on a desktop.
    trend = charts.line_chart(list(heat.weeks), series, title=text(request, "team.trend_title"), percent=True,
                              width=440, height=220, with_legend=False)
    # What the empty window's link keeps: the filters, with the window moved to end on the last call.
    moved = {"team": team or "", "checklist": heat.checklist or "", "days": days, "sort": sort,
             "until": heat.last_day.isoformat() if heat.last_day else ""}
    return render(request, "team.html", heat=heat, trend=trend, legend=charts.legend(series), days=days, sort=sort,
                  team=team or "", until=until or "", moved=moved)


def _team_trend(request: Request, heat: views.Heatmap) -> list[charts.Series]:
    """The overall weekly rate, then the items that moved most, each in its own colour (percent)."""
    def pct(rates: tuple[float | None, ...]) -> tuple[float | None, ...]:
        return tuple(None if r is None else 100 * r for r in rates)

    def shown(r: float | None) -> str:
        return text(request, "common.none") if r is None else f"{100 * r:.0f}%"

    words = words_of(request)
    overall = charts.Series(text(request, "team.overall"), pct(heat.overall), charts.OVERALL_COLOUR, stroke=3.5)
    colours = charts.distinct_colours(len(heat.movers), besides=(charts.OVERALL_COLOUR,))
    return [overall] + [
        charts.Series(text(request, "team.moved", title=words.titled(t.title), first=shown(t.first),
                           last=shown(t.last)), pct(t.rates), colour)
        for t, colour in zip(heat.movers, colours, strict=True)
    ]


@router.get("/rules/health")
def rules_health(request: Request, who: Who, min_agreement: float | None = None,
                 min_fail_precision: float | None = None) -> Response:
    _staff_only(who)
    settings = web(request).settings
    threshold = settings.min_agreement if min_agreement is None else min_agreement
    gate = settings.min_fail_precision if min_fail_precision is None else min_fail_precision
    rows = views.rule_health(web(request).store, who.viewer, min_agreement=threshold, min_fail_precision=gate)
    return render(request, "rules.html", rows=rows, min_agreement=threshold, min_fail_precision=gate)


@router.get("/rules/regressions.yaml")
def regressions_download(request: Request, who: Who, checklist: str | None = None) -> Response:
    """The regression examples made by reviews and upheld disputes, as YAML to paste into a checklist.

    The excerpts come from calls of every team, so only admin and QA (who see every call) get them.
    """
    if not who.viewer.sees_everything:
        raise NotFound("not found")
    examples = regressions.regression_examples(web(request).store, _opt(checklist))
    return Response(regressions.regressions_yaml(examples), media_type="application/yaml; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="regressions.yaml"'})


@router.get("/runs")
def runs(request: Request, who: Who) -> Response:
    _staff_only(who)
    return render(request, "runs.html", rows=views.run_history(web(request).store, who.viewer))


@router.get("/disputes")
def disputes(request: Request, who: Who, status: str | None = None) -> Response:
    rows = views.disputes(web(request).store, who.viewer, status=_opt(status))
    return render(request, "disputes.html", rows=rows, status=status or "", reviews=who.viewer.reviews)


@router.get("/exports")
def exports_page(request: Request, who: Who) -> Response:
    today = dt.date.today()
    return render(request, "exports.html", since=(today - dt.timedelta(days=30)).isoformat(), until=today.isoformat())


@router.get("/exports/download")
def export_download(request: Request, who: Who, kind: str = "scorecards", fmt: str = "csv",
                    since: str | None = None, until: str | None = None, bom: str = "1") -> Response:
    """A CSV or Parquet file of what the person may see, written by DuckDB to a temporary file.

    A CSV has label columns in the person's language and starts with a byte-order mark unless ``bom=0``.
    """
    if kind not in ("scorecards", "verdicts"):
        raise Invalid(f"kind: {kind!r} is not scorecards or verdicts")
    if fmt not in ("csv", "parquet"):
        raise Invalid(f"fmt: {fmt!r} is not csv or parquet")
    if bom not in ("0", "1"):
        raise Invalid(f"bom: {bom!r} is not 0 or 1")
    start, end = _date("since", since), _date("until", until)
    if start is None or end is None:
        raise Invalid("since, until: both dates are needed (YYYY-MM-DD)")
    folder = Path(tempfile.mkdtemp(prefix="callqa-export-"))
    dest = folder / f"{kind}_{start}_{end}.{fmt}"
    export = exports.export_scorecards if kind == "scorecards" else exports.export_verdicts
    export(web(request).store, who.viewer, since=start, until=end, fmt=fmt, dest=dest,  # type: ignore[arg-type]
           labels=export_labels(language_of(request), words_of(request).band_labels()),
           bom=bom == "1")
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    return FileResponse(dest, media_type=media, filename=dest.name,
                        background=BackgroundTask(_remove, folder))


def _remove(folder: Path) -> None:
    for f in folder.iterdir():
        f.unlink(missing_ok=True)
    folder.rmdir()


@router.get("/admin/pii-access")
def pii_access(request: Request, who: Who, page: int = 1) -> Response:
    """Who heard or read which call's personal data in clear, newest first (admins only)."""
    size = web(request).settings.pii_access_page_size
    log_page = views.clear_access(web(request).store, who.viewer, page=max(page, 1), size=size)
    return render(request, "pii_access.html", log=log_page)
