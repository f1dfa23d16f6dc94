"""The JSON API, described at ``/api/openapi.json``.

Log in with ``POST /api/session`` (JSON credentials); the response sets the
session cookie and gives the CSRF token that every POST, PATCH and DELETE must
send in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.errors import ConflictError, ListenerError, NotFoundError
from listener.index.base import SearchQuery
from listener.records import LABELS, STATUSES, format_time
from listener.sending import SendFailedError, new_key
from listener.web.access import AGENTS, ANALYSTS, require, session_of
from listener.web.exports import gaps_csv, posts_csv, spreadsheet, timeline_csv
from listener.web.filters import INBOX_SORTS, SEARCH_FACETS, SEARCH_SORTS, read_selection, window
from listener.web.gaps import SCAN_LIMIT, gap_report
from listener.web.i18n import current_language
from listener.web.precision import precision_report
from listener.web.security import set_session_cookie
from listener.web.views import post_json
from listener.workflow import UNSET

DESCRIPTION = __doc__
router = APIRouter()
Csrf = Annotated[str, Header(alias="X-CSRF-Token", description="The session's CSRF token, from `POST /api/session` or `GET /api/me`.")]
PROBLEMS = {
    401: {"description": "Not logged in"},
    403: {"description": "Missing CSRF token, or a role that may not do this"},
}


class Problem(BaseModel):
    detail: str
    hint: str | None = None


class Credentials(BaseModel):
    username: str
    password: str


class Me(BaseModel):
    username: str
    role: Literal["agent", "analyst", "admin"]
    csrf_token: str


class NoteOut(BaseModel):
    author: str
    text: str
    at: datetime


class FeedbackOut(BaseModel):
    labels: dict[str, Any]
    by: str
    at: datetime


class SlaOut(BaseModel):
    due_at: datetime
    remaining_seconds: int = Field(description="Negative once overdue.")
    overdue: bool
    off_hours: bool = Field(description="The post arrived outside service hours.")


class SendOut(BaseModel):
    key: str = Field(description="The idempotency key the send was made under.")
    by: str
    at: datetime
    state: Literal["sending", "sent", "failed"]
    via: Literal["api", "link"] = Field(description="`api`: sent through the platform from here; `link`: sent by hand, its link given.")
    reply_id: str | None = Field(description="The reply's id on the platform.")
    reply_url: str | None = Field(description="Where the reply can be read.")
    error: str | None = Field(description="Why it failed: rate_limited, auth, gone, rejected, unavailable, unreachable or unknown (may have been posted).")
    message: str | None
    retry_at: datetime | None = Field(description="When a rate limit lifts, if the platform said.")


class PostOut(BaseModel):
    id: str
    source: str
    url: str
    author: str | None
    author_name: str | None
    title: str | None
    text: str
    created_at: datetime
    first_reply_at: datetime | None
    age: str
    language: str
    entities: list[str]
    intents: list[str]
    customer_status: str
    lead_score: int
    reasons: list[str] = Field(description="Why the post surfaced.")
    answer_state: str = Field(description="reply_state and answered_by in one word, as filtered on.")
    reply_state: str = Field(description="answered, unanswered or unknown.")
    answered_by: str = Field(description="brand, competitor, other or nobody.")
    reply_state_reason: str | None = Field(description="Why the reply state is unknown: not_checked, no_thread_source, lookup_failed or budget_exhausted.")
    status: str
    assignee: str | None
    version: int = Field(description="Send it back with any change: a change to a post someone changed since is refused (409).")
    notes: list[NoteOut]
    reply_draft: str | None
    follow_up_at: datetime | None
    sends: list[SendOut] = Field(description="Replies sent from the inbox (or marked with their link), oldest first.")
    feedback: list[FeedbackOut] = Field(description="The team's feedback on the analysis, oldest first.")
    team_labels: dict[str, Any] = Field(description="The team's value of each label it gave feedback on: the latest feedback on that label decides it.")
    sla: SlaOut | None = Field(description="The response clock of an open post.")


class PostPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[PostOut]


class FacetValue(BaseModel):
    value: str
    count: int


class SearchOut(PostPage):
    facets: dict[str, list[FacetValue]]
    total_exact: bool = Field(True, description="False when more posts match than were ranked and counted (SQLite counts a text "
                                                "search's newest 10,000 matches): `total`, `facets` and the pages are theirs.")


class Reply(BaseModel):
    reading: str = Field(description="How the post was read for the reply: our_complaint, our_churn, welcome, rival_unhappy, "
                         "recommendation, question, answer (one of web.answers), praise or default; its template was used.")
    intent: str = Field(description="The intent that decided the reading, or `default`.")
    text: str = Field(description="The saved draft, else the template filled with the analysis's safe greeting.")
    reply_url: str = Field(description="Where to reply on the platform.")


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="The version you read.")
    text: str = Field(description="The reply; it is also kept as the post's draft.")


class AnsweredIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="The version you read.")
    url: str = Field(description="The link to the reply, sent by hand on the platform.")


class SendProblem(Problem):
    error: str = Field(description="rate_limited, auth, gone, rejected, unavailable, unreachable or unknown.")
    retry_at: datetime | None
    send: SendOut


class ClaimIn(BaseModel):
    version: int


class WorkflowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="The version you read.")
    status: Literal[STATUSES] | None = None
    assignee: str | None = Field(None, description="Hand the post to this agent (claims a new post).")
    note: str | None = Field(None, description="A note to add.")
    reply_draft: str | None = Field(None, description="The reply draft; an empty string removes it.")
    follow_up_at: datetime | date | None = Field(None, description="When to check the post again; a date means the start of service that day; null clears it.")

    @field_validator("follow_up_at", mode="before")
    @classmethod
    def _a_day_stays_a_day(cls, value):
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
        return value


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: dict[str, Any] = Field(description=(
        f"Any of {', '.join(LABELS)}, as in LABELS.md: `mentions` a list of configured entity names, "
        "`customer_status` customer, prospect or unknown, `language` es, ca, en, pt or other, the rest true or false."
    ))


class TallyOut(BaseModel):
    confirmed: int
    rejected: int
    n: int = Field(description="confirmed + rejected")
    precision: float | None = Field(description="confirmed / n; null when n is 0.")


class LabelPrecisionOut(BaseModel):
    label: str
    value: str | None = Field(description="The entity, customer status or language predicted; null for a yes/no label.")
    all: TallyOut
    by_language: dict[str, TallyOut] = Field(description="By the language the analysis gave the post.")


class PrecisionOut(BaseModel):
    posts_with_feedback: int
    languages: list[str]
    labels: list[LabelPrecisionOut]


class EntityGapOut(BaseModel):
    name: str
    role: str
    posts: int
    share_of_voice: float | None = Field(description="Null when all mentions in the window are fewer than `min_n`.")
    complaints: int = Field(description="Complaints about it: a complaint naming several companies counts for the one it is about.")
    complaint_rate: float | None = Field(description="Null under `min_n` posts.")
    posts_with_known_reply_state: int
    unanswered: int
    unanswered_rate: float | None = Field(description="Null under `min_n` posts with a known reply state.")
    posts_with_reply_time: int
    median_first_reply_seconds: float | None = Field(description="Null under `min_n` timed replies.")


class FlowOut(BaseModel):
    source: str
    target: str
    count: int
    post_ids: list[str]


class ClusterOut(BaseModel):
    label: str
    count: int
    post_ids: list[str]


class TimelinePoint(BaseModel):
    start: datetime
    counts: dict[str, int]


class GapsOut(BaseModel):
    since: datetime
    until: datetime
    interval: str
    entities: list[EntityGapOut]
    timeline: list[TimelinePoint]
    churn_flows: list[FlowOut]
    churn_unclear_direction: list[FlowOut]
    complaint_clusters: dict[str, list[ClusterOut]]
    min_n: int = Field(description="The fewest posts a rate, share or median rests on (`web.gap_min_n`); under it, null.")
    unclear_complaints: int = Field(description="Complaints naming several companies without telling which; counted for each.")
    truncated: bool = Field(description=f"A scan stopped at {SCAN_LIMIT} posts; medians, flows and clusters cover those.")


PageSize = Annotated[int | None, Query(ge=1, le=500, description="Posts per page; default: `web.page_size`.")]


def web_of(request: Request):
    return request.app.state.web


def selection_params(
    request: Request,
    entity: Annotated[list[str] | None, Query(description="Brand or competitor (repeatable).")] = None,
    source: Annotated[list[str] | None, Query()] = None,
    language: Annotated[list[str] | None, Query()] = None,
    intent: Annotated[list[str] | None, Query()] = None,
    customer_status: Annotated[list[str] | None, Query()] = None,
    answer_state: Annotated[list[str] | None, Query()] = None,
    status: Annotated[list[str] | None, Query(description="Default in the inbox: new and claimed.")] = None,
    assignee: Annotated[list[str] | None, Query(description="`me` is you.")] = None,
    since: Annotated[date | None, Query(description="Posts from this day on (team time zone).")] = None,
    until: Annotated[date | None, Query(description="Posts up to and including this day.")] = None,
    q: Annotated[str, Query(description="Full-text query; every word must match.")] = "",
    sort: str | None = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
):
    return request.query_params


# -- public and session ----------------------------------------------------------


@router.get("/health", tags=["health"], summary="Whether the app and its index answer (no login needed)")
def health(request: Request):
    web = web_of(request)
    try:
        web.backend.count(SearchQuery(limit=0))
    except Exception:
        return JSONResponse({"status": "unavailable", "backend": web.backend.name}, status_code=503)
    return {"status": "ok", "backend": web.backend.name}


@router.post("/api/session", tags=["session"], response_model=Me, responses={401: {"model": Problem}, 429: {"model": Problem}}, summary="Log in")
def log_in(request: Request, credentials: Credentials, response: Response):
    web = web_of(request)
    user, wait = web.log_in(credentials.username, credentials.password, request.state.client)
    if wait:
        return JSONResponse({"detail": f"too many failed attempts; try again in {wait} s"}, status_code=429, headers={"retry-after": str(wait)})
    if user is None:
        return JSONResponse({"detail": "wrong name or password"}, status_code=401)
    session = web.sessions.create(user.name, user.role)
    set_session_cookie(response, web.session_cookie, session.token, web.settings)
    return Me(username=user.name, role=user.role, csrf_token=session.csrf)


@router.delete("/api/session", tags=["session"], status_code=204, responses=PROBLEMS, summary="Log out")
def log_out(request: Request, csrf: Csrf):
    web = web_of(request)
    web.sessions.end(session_of(request).token)
    response = Response(status_code=204)
    response.delete_cookie(web.session_cookie, secure=web.settings.secure_cookies, httponly=True, samesite=web.settings.same_site)
    return response


@router.get("/api/me", tags=["session"], response_model=Me, responses=PROBLEMS, summary="Who is logged in, and the CSRF token")
def me(request: Request):
    session = session_of(request)
    return Me(username=session.user, role=session.role, csrf_token=session.csrf)


# -- inbox, search, posts ------------------------------------------------------------


@router.get("/api/inbox", tags=["posts"], response_model=PostPage, responses=PROBLEMS,
            summary="Posts to answer: surfaced and open, best lead score first, then the answer due soonest")
def inbox(request: Request, params=Depends(selection_params), limit: PageSize = None):
    web, session = web_of(request), session_of(request)
    limit = limit or web.settings.page_size
    selection = read_selection(params, session.user, INBOX_SORTS, "priority", inbox=True)
    result = web.backend.search(selection.query(web.zone, limit=limit, surface=True, sort=INBOX_SORTS[selection.sort]))
    now = web.now()
    items = [post_json(hit, web.config.schedule, now) for hit in result.hits]
    return {"total": result.total, "limit": limit, "offset": (selection.page - 1) * limit, "items": items}


@router.get("/api/search", tags=["posts"], response_model=SearchOut, responses=PROBLEMS, summary="Full-text search with filters and facets")
def search(request: Request, params=Depends(selection_params), limit: PageSize = None,
           facet: Annotated[list[str] | None, Query(description=f"Fields to count values of (repeatable); default: {', '.join(SEARCH_FACETS)}.")] = None):
    web, session = web_of(request), session_of(request)
    limit = limit or web.settings.page_size
    selection = read_selection(params, session.user, SEARCH_SORTS + ("",), "")
    result = web.backend.search(selection.query(web.zone, limit=limit, facets=tuple(facet or SEARCH_FACETS), sort=selection.sort or None))
    now = web.now()
    return {
        "total": result.total, "limit": limit, "offset": (selection.page - 1) * limit,
        "items": [post_json(hit, web.config.schedule, now) for hit in result.hits],
        "facets": {name: [{"value": v, "count": n} for v, n in buckets] for name, buckets in result.facets.items()},
        "total_exact": result.total_exact,
    }


@router.get("/api/posts/{post_id:path}/reply", tags=["posts"], response_model=Reply, responses={**PROBLEMS, 404: {"model": Problem}},
            summary="The reply draft for a post and where to send it")
def reply(request: Request, post_id: str):
    web = web_of(request)
    hit = _get(web, post_id)
    reading = web.drafter.reading(hit)
    return Reply(reading=reading.key, intent=reading.intent, text=hit.workflow.reply_draft or web.drafter.draft(hit), reply_url=web.drafter.reply_url(hit))


@router.get("/api/posts/{post_id:path}", tags=["posts"], response_model=PostOut, responses={**PROBLEMS, 404: {"model": Problem}}, summary="One post")
def get_post(request: Request, post_id: str):
    web = web_of(request)
    return post_json(_get(web, post_id), web.config.schedule, web.now())


@router.post("/api/posts/{post_id:path}/claim", tags=["workflow"], response_model=PostOut,
             responses={**PROBLEMS, 404: {"model": Problem}, 409: {"model": Problem, "description": "Someone changed or claimed it first"}},
             summary="Claim a post for yourself")
def claim(request: Request, post_id: str, body: ClaimIn, csrf: Csrf, session=Depends(require(AGENTS))):
    web = web_of(request)
    web.work.claim(session, post_id, body.version)
    return post_json(_get(web, post_id), web.config.schedule, web.now())


@router.patch("/api/posts/{post_id:path}/workflow", tags=["workflow"], response_model=PostOut,
              responses={**PROBLEMS, 404: {"model": Problem}, 409: {"model": Problem, "description": "Someone changed the post since `version`"},
                         422: {"model": Problem, "description": "A status the workflow does not allow from the current one"}},
              summary="Change status, assignee, notes, reply draft or follow-up date in one step")
def change_workflow(request: Request, post_id: str, body: WorkflowIn, csrf: Csrf, session=Depends(require(AGENTS))):
    web = web_of(request)
    given = body.model_fields_set
    web.work.change(
        session, post_id, body.version,
        status=body.status if "status" in given and body.status else UNSET,
        assignee=body.assignee if "assignee" in given and body.assignee else UNSET,
        note=body.note,
        reply_draft=body.reply_draft if "reply_draft" in given else UNSET,
        follow_up_at=body.follow_up_at if "follow_up_at" in given else UNSET,
    )
    return post_json(_get(web, post_id), web.config.schedule, web.now())


@router.post("/api/posts/{post_id:path}/send", tags=["workflow"], response_model=SendOut,
             responses={**PROBLEMS, 404: {"model": Problem}, 409: {"model": Problem, "description": "Someone changed the post since `version`, or this send is under way"},
                        422: {"model": Problem, "description": "No API or no credentials for the post's platform, or a reply it would not take (empty, too long)"},
                        502: {"model": SendProblem, "description": "The platform did not take the reply; the text stays as the draft"}},
             summary="Send the reply through the post's platform, record its id and link, mark the post answered")
def send_reply(request: Request, post_id: str, body: SendIn, csrf: Csrf, session=Depends(require(AGENTS)),
               idempotency_key: Annotated[str | None, Header(max_length=200, description=(
                   "Send again with the same key and the reply already sent is returned, never posted twice; default: a new key."))] = None):
    web = web_of(request)
    try:
        return web.work.send_reply(session, post_id, body.version, body.text, idempotency_key or new_key()).to_dict()
    except SendFailedError as exc:
        record = exc.record
        headers = {"retry-after": str(max(1, int((record.retry_at - web.now()).total_seconds())))} if record.retry_at else None
        return JSONResponse({"detail": str(exc), "hint": exc.hint, "error": record.error, "retry_at": record.to_dict()["retry_at"],
                             "send": record.to_dict()}, status_code=502, headers=headers)
    except ListenerError as exc:
        if isinstance(exc, (NotFoundError, ConflictError)):
            raise
        return JSONResponse({"detail": str(exc), "hint": exc.hint}, status_code=422)


@router.post("/api/posts/{post_id:path}/answered", tags=["workflow"], response_model=PostOut,
             responses={**PROBLEMS, 404: {"model": Problem}, 409: {"model": Problem}, 400: {"model": Problem, "description": "Not a web address"}},
             summary="Record a reply sent by hand by its link, and mark the post answered")
def mark_answered(request: Request, post_id: str, body: AnsweredIn, csrf: Csrf, session=Depends(require(AGENTS))):
    web = web_of(request)
    web.work.mark_answered_with_link(session, post_id, body.version, body.url)
    return post_json(_get(web, post_id), web.config.schedule, web.now())


@router.post("/api/posts/{post_id:path}/feedback", tags=["feedback"], response_model=PostOut,
             responses={**PROBLEMS, 404: {"model": Problem}, 422: {"model": Problem, "description": "An unknown label or a value it cannot take"}},
             summary="Say which of the analysis's labels are right: the value you give for each is kept as yours")
def give_feedback(request: Request, post_id: str, body: FeedbackIn, csrf: Csrf, session=Depends(require(AGENTS))):
    web = web_of(request)
    web.work.give_feedback(session, post_id, body.labels)
    return post_json(_get(web, post_id), web.config.schedule, web.now())


def _get(web, post_id: str):
    hit = web.backend.get(post_id)
    if hit is None:
        raise NotFoundError(f"no post with id {post_id!r}")
    return hit


# -- analysts ----------------------------------------------------------------------------


def _report(request: Request, since: date | None, until: date | None, interval: str | None):
    web = web_of(request)
    start, end = window(web.zone, web.now(), web.settings.gap_days, since, until)
    return gap_report(web.backend, web.config, start, end, interval, web.settings.gap_min_n)


Interval = Annotated[Literal["hour", "day", "week", "month"] | None, Query(description="Default: from the span of the posts.")]
Day = Annotated[date | None, Query(description="A day in the team's time zone; default: the last `web.gap_days` days.")]


@router.get("/api/gaps", tags=["analysts"], response_model=GapsOut, responses=PROBLEMS, summary="The competitor-gap report")
def gaps(request: Request, since: Day = None, until: Day = None, interval: Interval = None, session=Depends(require(ANALYSTS))):
    report = _report(request, since, until, interval)
    return {
        "since": report.since, "until": report.until, "interval": report.interval,
        "entities": [
            {
                "name": e.name, "role": e.role, "posts": e.posts, "share_of_voice": e.share, "complaints": e.complaints,
                "complaint_rate": e.complaint_rate, "posts_with_known_reply_state": e.known_answer, "unanswered": e.unanswered,
                "unanswered_rate": e.unanswered_rate, "posts_with_reply_time": e.timed_replies,
                "median_first_reply_seconds": e.median_first_reply.total_seconds() if e.median_first_reply else None,
            }
            for e in report.entities
        ],
        "timeline": [{"start": start, "counts": counts} for start, counts in report.timeline],
        "churn_flows": [vars(f) for f in report.flows],
        "churn_unclear_direction": [vars(f) for f in report.unclear_flows],
        "complaint_clusters": {
            name: [{"label": c.label, "count": c.count, "post_ids": [h.id for h in c.examples]} for c in clusters]
            for name, clusters in report.clusters.items()
        },
        "min_n": report.min_n,
        "unclear_complaints": report.unclear_complaints,
        "truncated": report.truncated,
    }


@router.get("/api/precision", tags=["analysts", "feedback"], response_model=PrecisionOut, responses=PROBLEMS,
            summary="Per label and language, how often the team's feedback confirms what the analysis predicted")
def precision(request: Request, session=Depends(require(ANALYSTS))):
    web = web_of(request)
    report = precision_report(web.backend, web.entity_names, web.languages)

    def tally(t) -> dict:
        return {"confirmed": t.confirmed, "rejected": t.rejected, "n": t.n, "precision": t.precision}

    return {
        "posts_with_feedback": report.posts,
        "languages": report.languages,
        "labels": [
            {"label": row.label, "value": row.value, "all": tally(row.overall),
             "by_language": {lang: tally(t) for lang, t in row.by_language.items()}}
            for row in report.labels
        ],
    }


def _csv(chunks, name: str) -> StreamingResponse:
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers={"content-disposition": f'attachment; filename="{name}"'})


CSV = {200: {"content": {"text/csv": {}}, "description": "CSV with a header row"}, **PROBLEMS}
Delimiter = Annotated[Literal[",", ";"] | None, Query(
    description="Field separator: by default `;` (with a decimal comma and a UTF-8 byte-order mark, for Excel) when the app speaks "
    "Spanish or Catalan, `,` in English.")]


@router.get("/api/export/gaps.csv", tags=["analysts"], response_class=StreamingResponse, responses=CSV, summary="The per-entity gap figures as CSV")
def export_gaps(request: Request, since: Day = None, until: Day = None, delimiter: Delimiter = None, session=Depends(require(ANALYSTS))):
    return _csv(gaps_csv(_report(request, since, until, None), spreadsheet(current_language(), delimiter)), "listener-gaps.csv")


@router.get("/api/export/share-of-voice.csv", tags=["analysts"], response_class=StreamingResponse, responses=CSV,
            summary="Posts and share of voice per entity and time bucket as CSV")
def export_timeline(request: Request, since: Day = None, until: Day = None, interval: Interval = None, delimiter: Delimiter = None,
                    session=Depends(require(ANALYSTS))):
    sheet = spreadsheet(current_language(), delimiter)
    return _csv(timeline_csv(_report(request, since, until, interval), sheet), "listener-share-of-voice.csv")


@router.get("/api/export/posts.csv", tags=["analysts"], response_class=StreamingResponse, responses=CSV, summary="Every post a search matches, as CSV")
def export_posts(request: Request, params=Depends(selection_params), delimiter: Delimiter = None, session=Depends(require(ANALYSTS))):
    web = web_of(request)
    selection = read_selection(params, session.user, SEARCH_SORTS + ("",), "")
    query = selection.query(web.zone, limit=1)
    return _csv(posts_csv(web.backend.scan(query), spreadsheet(current_language(), delimiter)), f"listener-posts-{format_time(web.now())[:10]}.csv")
