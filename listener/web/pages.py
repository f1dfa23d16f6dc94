"""The HTML pages. Reading works without JavaScript; every change is a plain form
that posts back and redirects (or re-renders with the reason it was refused)."""

from __future__ import annotations

import secrets
from importlib import resources
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import QueryParams

from listener.errors import ConflictError, ListenerError, TransitionError
from listener.feedback import BOOLEAN_LABELS, LabelError
from listener.index.base import INTERVALS
from listener.records import ANSWER_STATES, CUSTOMER_STATUSES, INTENTS, STATUSES
from listener.sending import SendFailedError, new_key
from listener.web.access import AGENTS, ANALYSTS, require, session_of
from listener.web.charts import bar_chart, bucket_label, colors, flow_chart, share_chart
from listener.web.filters import INBOX_SORTS, SEARCH_FACETS, SEARCH_SORTS, FilterError, read_date, read_selection, window
from listener.web.gaps import gap_report
from listener.web.i18n import gettext as _, ngettext, parse_day
from listener.web.precision import precision_report
from listener.web.security import set_session_cookie
from listener.web.views import day_text, duration, label_rows, label_text, percent, sla_view, term
from listener.web.work import ChangeError
from listener.workflow import TRANSITIONS

router = APIRouter(include_in_schema=False)
ACTIONS = ("claim", "assign", "status", "note", "draft", "follow-up")


def web_of(request: Request):
    return request.app.state.web


def post_url(post_id: str) -> str:
    return "/posts/" + quote(post_id, safe=":@/")


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") and "\\" not in target else "/inbox"


# -- logging in and out ---------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/inbox"):
    if request.state.session:
        return RedirectResponse(_safe_next(next), 303)
    return _login_form(request, next)


def _login_form(request: Request, next: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    web = web_of(request)
    token = request.cookies.get(web.login_cookie) or secrets.token_urlsafe(32)
    css = resources.files("listener.web").joinpath("static/app.css").read_text(encoding="utf-8")
    response = web.render(request, "login.html", status=status, login_token=token, next=_safe_next(next), error=error, css=css)
    response.set_cookie(web.login_cookie, token, max_age=3600, httponly=True, secure=web.settings.secure_cookies, samesite="strict")
    return response


@router.post("/login")
async def login(request: Request):
    web = web_of(request)
    form = await request.form()
    name, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    target = _safe_next(str(form.get("next") or "/inbox"))
    user, wait = web.log_in(name, password, request.state.client)
    if wait:
        response = _login_form(request, target, _("Too many failed attempts; try again in %(minutes)s.") % {"minutes": _minutes(wait)}, 429)
        response.headers["retry-after"] = str(wait)
        return response
    if user is None:
        return _login_form(request, target, _("Wrong name or password."), 401)
    session = web.sessions.create(user.name, user.role)
    response = RedirectResponse(target, 303)
    set_session_cookie(response, web.session_cookie, session.token, web.settings)
    response.delete_cookie(web.login_cookie, secure=web.settings.secure_cookies, httponly=True, samesite="strict")
    return response


def _minutes(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}


@router.post("/logout")
def logout(request: Request):
    web = web_of(request)
    web.sessions.end(session_of(request).token)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(web.session_cookie, secure=web.settings.secure_cookies, httponly=True, samesite=web.settings.same_site)
    return response


# -- the inbox and a post -------------------------------------------------------


@router.get("/")
def home():
    return RedirectResponse("/inbox", 303)


def filter_options(web) -> dict:
    return {
        "entity": web.entity_names,
        "source": web.source_names(),
        "language": web.languages,
        "intent": list(INTENTS),
        "customer_status": list(CUSTOMER_STATUSES),
        "answer_state": list(ANSWER_STATES),
        "status": list(STATUSES),
        "assignee": web.users.names("agent", "admin"),
    }


TODAY_FACETS = ("source", "intent")


def todays_counts(web, user: str) -> dict:
    """The inbox's posts of today (the team's day) per source and per intent, each with the link that lists them."""
    day = web.now().astimezone(ZoneInfo(web.zone)).date()
    today = day.isoformat()
    selection = read_selection(QueryParams({"since": today, "until": today}), user, INBOX_SORTS, "priority", inbox=True)
    result = web.backend.search(selection.query(web.zone, limit=0, facets=TODAY_FACETS, surface=True))

    def link(name: str, value: str) -> str:
        return "/inbox?" + urlencode({name: value, "since": today, "until": today})

    return {
        "day": today, "shown": day_text(day), "total": result.total, "all": "/inbox?" + urlencode({"since": today, "until": today}),
        "facets": {name: [(value, count, link(name, value)) for value, count in result.facets.get(name, [])] for name in TODAY_FACETS},
    }


@router.get("/inbox")
def inbox(request: Request):
    web, session = web_of(request), session_of(request)
    selection = read_selection(request.query_params, session.user, INBOX_SORTS, "priority", inbox=True)
    limit = web.settings.page_size
    result = web.backend.search(selection.query(web.zone, limit=limit, surface=True, sort=INBOX_SORTS[selection.sort]))
    now = web.now()
    rows = [(hit, sla_view(hit, web.config.schedule, now)) for hit in result.hits]
    return web.render(
        request, "inbox.html", rows=rows, total=result.total, selection=selection, options=filter_options(web),
        sorts=INBOX_SORTS, limit=limit, post_url=post_url, can_work=session.role in AGENTS, today=todays_counts(web, session.user),
    )


@router.get("/posts/{post_id:path}")
def post_page(request: Request, post_id: str):
    return _post_page(request, post_id)


def _post_page(request: Request, post_id: str, error: str | None = None, status: int = 200, draft: str | None = None):
    web, session = web_of(request), session_of(request)
    hit = web.backend.get(post_id)
    if hit is None:
        return web.render(request, "error.html", status=404, code=404, message=_("No post with id %(id)r.") % {"id": post_id}, hint=_("It may have been erased."))
    workflow = hit.workflow
    intent = web.drafter.template_for(hit)[0]
    return web.render(
        request, "post.html", status=status, hit=hit, error=error, post_url=post_url,
        clock=sla_view(hit, web.config.schedule, web.now()),
        draft=draft if draft is not None else (workflow.reply_draft or web.drafter.draft(hit)),
        draft_saved=workflow.reply_draft is not None, template_intent=intent,
        reply_url=web.drafter.reply_url(hit), transitions=sorted(TRANSITIONS[workflow.status] - {"claimed"}),
        agents=web.users.names("agent", "admin"), can_work=session.role in AGENTS,
        can_claim=workflow.status == "new" or (workflow.status == "claimed" and workflow.assignee is None),
        labels=label_rows(hit, web.languages), entities=web.entity_names, sending=web.work.send_view(hit),
    )


@router.post("/posts/{post_id:path}/feedback")
async def post_feedback(request: Request, post_id: str, session=Depends(require(AGENTS))):
    """One label's value from a form: ``label``, and ``value`` (repeated for mentions; none at all is no mentions)."""
    form = await request.form()
    label, values = str(form.get("label", "")), [str(v) for v in form.getlist("value")]
    if label in BOOLEAN_LABELS and values in (["true"], ["false"]):
        value = values == ["true"]
    elif label == "mentions":
        value = values
    else:
        value = values[0] if len(values) == 1 else values
    try:
        web_of(request).work.give_feedback(session, post_id, {label: value})
    except LabelError as exc:
        return _post_page(request, post_id, _("Not saved: %(why)s.") % {"why": exc}, 422)
    session.flash(_("Feedback saved: %(label)s is %(value)s.") % {"label": term(label), "value": label_text(value)}, "ok")
    return RedirectResponse(post_url(post_id), 303)


@router.post("/posts/{post_id:path}/send")
async def post_send(request: Request, post_id: str, session=Depends(require(AGENTS))):
    """Send the draft in the form through the platform; on any failure the text stays as the draft."""
    web, form = web_of(request), await request.form()
    text, key = str(form.get("text", "")), str(form.get("key", "")) or new_key()
    try:
        sent = web.work.send_reply(session, post_id, int(form.get("version", "")), text, key)
    except ValueError:
        return _post_page(request, post_id, _("The form did not say which version of the post you saw; reload and try again."), 400)
    except SendFailedError as exc:
        retry = " " + _("Try again after %(time)s.") % {"time": web.local(exc.record.retry_at, "time")} if exc.record.retry_at else ""
        return _post_page(request, post_id, f"{_('Not sent: %(why)s.') % {'why': exc}}{retry} {exc.hint or ''}".strip(), 502, draft=text)
    except ConflictError as exc:
        return _post_page(request, post_id, _("Not sent: %(why)s. The page now shows the latest state.") % {"why": exc}, 409, draft=text)
    except ListenerError as exc:
        return _post_page(request, post_id, _("Not sent: %(why)s.") % {"why": exc}, 422, draft=text)
    session.flash(_("Reply sent; the post is marked answered.") if sent.state == "sent" else _("Reply sent."), "ok")
    return RedirectResponse(post_url(post_id), 303)


@router.post("/posts/{post_id:path}/answered-with-link")
async def post_answered_with_link(request: Request, post_id: str, session=Depends(require(AGENTS))):
    web, form = web_of(request), await request.form()
    try:
        web.work.mark_answered_with_link(session, post_id, int(form.get("version", "")), str(form.get("url", "")))
    except ValueError:
        return _post_page(request, post_id, _("The form did not say which version of the post you saw; reload and try again."), 400)
    except ConflictError as exc:
        return _post_page(request, post_id, _("Not saved: %(why)s. The page now shows the latest state.") % {"why": exc}, 409)
    except ListenerError as exc:
        return _post_page(request, post_id, _("Not saved: %(why)s.") % {"why": exc}, 400)
    session.flash(_("Marked answered, with the reply's link."), "ok")
    return RedirectResponse(post_url(post_id), 303)


@router.post("/posts/{post_id:path}/{action}")
async def post_action(request: Request, post_id: str, action: str, session=Depends(require(AGENTS))):
    web = web_of(request)
    if action not in ACTIONS:
        return web.render(request, "error.html", status=404, code=404, message=_("Unknown action %(action)r.") % {"action": action})
    form = await request.form()
    try:
        version = int(form.get("version", ""))
    except ValueError:
        return _post_page(request, post_id, _("The form did not say which version of the post you saw; reload and try again."), 400)
    work, text = web.work, str(form.get("text", ""))
    try:
        if action == "claim":
            work.claim(session, post_id, version)
            message = _("You have claimed this post.")
        elif action == "assign":
            assignee = str(form.get("assignee", ""))
            work.change(session, post_id, version, assignee=assignee)
            message = _("Assigned to %(name)s.") % {"name": assignee}
        elif action == "status":
            status = str(form.get("status", ""))
            work.change(session, post_id, version, status=status)
            message = _("Marked %(status)s.") % {"status": term(status)}
        elif action == "note":
            work.change(session, post_id, version, note=text)
            message = _("Note added.")
        elif action == "draft":
            work.change(session, post_id, version, reply_draft=text)
            message = _("Reply draft saved.")
        else:
            raw = "" if "clear" in form else str(form.get("date", ""))
            work.change(session, post_id, version, follow_up_at=parse_day(raw) if raw else None)
            message = _("Follow-up date saved.") if raw else _("Follow-up date cleared.")
    except ConflictError as exc:
        return _post_page(request, post_id, _("Not saved: %(why)s. The page now shows the latest state.") % {"why": exc}, 409,
                          draft=text if action == "draft" else None)
    except (TransitionError, ChangeError) as exc:
        return _post_page(request, post_id, _("Not saved: %(why)s.") % {"why": exc}, 422 if isinstance(exc, TransitionError) else 400)
    except ValueError:
        return _post_page(request, post_id, _("Not saved: the follow-up date must look like 20/11/2026."), 400)
    session.flash(message, "ok")
    return RedirectResponse(_safe_next(str(form.get("next") or "")) if form.get("next") else post_url(post_id), 303)


# -- analysts ----------------------------------------------------------------------


@router.get("/search")
def search(request: Request):
    web, session = web_of(request), session_of(request)
    selection = read_selection(request.query_params, session.user, SEARCH_SORTS + ("",), "")
    limit = web.settings.page_size
    query = selection.query(web.zone, limit=limit, facets=SEARCH_FACETS, sort=selection.sort or None)
    result = web.backend.search(query)
    return web.render(
        request, "search.html", result=result, selection=selection, sorts=SEARCH_SORTS, limit=limit,
        post_url=post_url, can_export=session.role in ANALYSTS,
    )


@router.get("/gaps")
def gaps(request: Request, session=Depends(require(ANALYSTS))):
    web = web_of(request)
    params = request.query_params
    since_day, until_day = read_date(params, "since"), read_date(params, "until")
    interval = params.get("interval") or None
    if interval not in (None, *INTERVALS):
        raise FilterError(_("%(name)s must be one of %(valid)s, not %(value)r") % {"name": "interval", "valid": ", ".join(INTERVALS), "value": interval})
    since, until = window(web.zone, web.now(), web.settings.gap_days, since_day, until_day)
    report = gap_report(web.backend, web.config, since, until, interval, web.settings.gap_min_n)
    palette = colors([e.name for e in report.entities])
    return web.render(
        request, "gaps.html", report=report, charts=gap_charts(report, palette), palette=palette, post_url=post_url,
        since_day=since_day, until_day=until_day, interval=interval, export=_export_query(params), bucket_label=bucket_label,
    )


@router.get("/precision")
def precision(request: Request, session=Depends(require(ANALYSTS))):
    web = web_of(request)
    report = precision_report(web.backend, web.entity_names, web.languages)
    return web.render(request, "precision.html", report=report)


def _export_query(params) -> str:
    """The page's query for the CSV links, days as the API reads them (ISO)."""
    pairs = [(name, read_date(params, name).isoformat() if name in ("since", "until") and value else value) for name, value in params.multi_items()]
    return urlencode(pairs)


def gap_charts(report, palette: dict[str, str]) -> dict:
    def rate(value: float | None, part: int, whole: int) -> tuple[float | None, str]:
        if value is None:
            return None, (_("n=%(n)s, too few for a rate") % {"n": whole}) if whole else _("no posts")
        return 100 * value, f"{percent(value)} ({part}/{whole})"

    def minutes(e) -> tuple[float | None, str]:
        if e.median_first_reply is None:
            return None, (_("n=%(n)s, too few for a median") % {"n": e.timed_replies}) if e.timed_replies else _("no timed replies")
        return e.median_first_reply.total_seconds() / 60, f"{duration(e.median_first_reply)} (n={e.timed_replies})"

    entities = report.entities
    return {
        "share": share_chart(report.timeline, [e.name for e in entities], palette, report.interval),
        "complaints": bar_chart(_("Complaint rate per entity"), [(e.name, *rate(e.complaint_rate, e.complaints, e.posts)) for e in entities], palette),
        "unanswered": bar_chart(_("Unanswered rate per entity"), [(e.name, *rate(e.unanswered_rate, e.unanswered, e.known_answer)) for e in entities], palette),
        "reply_time": bar_chart(_("Median time to first answer per entity"), [(e.name, *minutes(e)) for e in entities], palette),
        "flows": flow_chart(report.flows, palette),
    }
