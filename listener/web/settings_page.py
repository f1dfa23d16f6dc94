"""``/settings``: admins change the brand, competitors, sources, alert channels and reply templates.

The page edits the configuration file the app was started with. Saving builds
the new file from the form, checks it with the loader ``listener serve`` uses
(so a mistake reads as it would on the command line, beside the field it is
about), writes it back keeping its comments, and applies it to the running app.
Secrets stay in the environment: the page only names the variables holding them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from ruamel.yaml.comments import CommentedMap

from listener.config import ACCOUNT_FORMS
from listener.errors import ConfigError
from listener.web.access import ADMINS, require
from listener.web.config_file import Draft, entries, like_siblings, put, section
from listener.web.i18n import N_, gettext as _
from listener.web.replies import READINGS, REPLY_LANGUAGES, REPLY_PLACEHOLDERS, builtin_templates, merged, sector_templates
from scheduler.settings import CHANNEL_KINDS, EVENTS

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

NUMBER = re.compile(r"^\d+(\.\d+)?$")
TEMPLATE_NAME = re.compile(r"template (\w+)/(\w+)")


@dataclass(frozen=True)
class Field:
    """One input. ``name`` is the form field and the key as the configuration writes it (``competitors[0].aliases``)."""

    name: str
    key: str
    label: str
    kind: str = "text"  # text, name, lines, accounts, duration, port, events, kind, template
    hint: str = ""
    placeholder: str = ""


@dataclass
class Group:
    """A fieldset: one mapping of the file (``node``; None for one still to be added)."""

    prefix: str
    title: str
    fields: list[Field]
    node: CommentedMap | None = None
    removable: bool = False
    new: bool = False
    note: str = ""


@dataclass
class Form:
    """What the page shows: the groups, each field's value, and the mistakes found."""

    groups: dict[str, list[Group]]
    values: dict[str, object]
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def all_groups(self) -> list[Group]:
        return [group for groups in self.groups.values() for group in groups]

    def filled(self, group: Group) -> bool:
        """Whether any of ``group``'s fields holds a value or a mistake (to show it unfolded)."""
        return any(self.values.get(f.name) or f.name in self.errors for f in group.fields)

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(name, text) for name, texts in self.errors.items() for text in texts] + [("", text) for text in self.general]


def _entity_fields(prefix: str) -> list[Field]:
    return [
        Field(f"{prefix}.name", "name", N_("Name"), "name"),
        Field(f"{prefix}.aliases", "aliases", N_("Aliases"), "lines", N_("One per line: how people write the name.")),
        Field(f"{prefix}.handles", "handles", N_("Handles"), "lines", N_("One per line, like @cinesa: its accounts everywhere.")),
        Field(f"{prefix}.hashtags", "hashtags", N_("Hashtags"), "lines", N_("One per line, like #Cinesa.")),
        Field(f"{prefix}.accounts", "accounts", N_("Accounts per platform"), "accounts",
              N_("One per line as platform: account, like reddit: u/cinesa_es (%(platforms)s).")),
    ]


def _channel_fields(prefix: str, kind: str | None) -> list[Field]:
    name = Field(f"{prefix}.name", "name", N_("Name"), placeholder=_("the kind"))
    url = Field(f"{prefix}.url_env", "url_env", N_("Variable holding the webhook URL"),
                hint=N_("The name of an environment variable, never the URL itself."),
                placeholder="LISTENER_WEBHOOK_URL" if kind == "webhook" else "LISTENER_SLACK_WEBHOOK_URL")
    email = [
        Field(f"{prefix}.sender", "sender", N_("Sender")),
        Field(f"{prefix}.to", "to", N_("Recipients"), "lines", N_("One address per line.")),
        Field(f"{prefix}.host", "host", N_("SMTP host"), placeholder="localhost"),
        Field(f"{prefix}.port", "port", N_("SMTP port"), "port", placeholder="25"),
        Field(f"{prefix}.username_env", "username_env", N_("Variable holding the SMTP user name")),
        Field(f"{prefix}.password_env", "password_env", N_("Variable holding the SMTP password"),
              hint=N_("The name of an environment variable, never the password itself.")),
    ]
    events = Field(f"{prefix}.events", "events", N_("Events"), "events")
    if kind is None:  # a channel to add: its kind is chosen in the form
        return [Field(f"{prefix}.kind", "kind", N_("Kind"), "kind"), name, url, *email]
    return [name, *(email if kind == "email" else [url]), events]


def build_form(web, draft: Draft) -> Form:
    """The page's groups over ``draft``'s document, with the values the file holds now."""
    document, config = draft.document, web.config
    brand = document.get("brand") if isinstance(document.get("brand"), CommentedMap) else None
    groups: dict[str, list[Group]] = {"brand": [Group("brand", config.brand.name, _entity_fields("brand"), brand)]}

    competitors = [c for c in (document.get("competitors") or []) if isinstance(c, CommentedMap)]
    groups["competitors"] = [Group(f"competitors[{i}]", str(c.get("name") or _("Competitor %(number)s") % {"number": i + 1}), _entity_fields(f"competitors[{i}]"), c, removable=True)
                             for i, c in enumerate(competitors)]
    new = f"competitors[{len(competitors)}]"
    groups["competitors"].append(Group(new, _("Add a competitor"), _entity_fields(new), new=True))

    sources = [s for s in (document.get("sources") or []) if isinstance(s, CommentedMap)]
    groups["sources"] = [
        Group(f"sources[{i}]", str(s.get("name") or s.get("kind")), [
            Field(f"sources[{i}].queries", "queries", N_("Queries"), "lines", N_("One search per line.")),
            Field(f"sources[{i}].interval", "interval", N_("Every"), "duration", N_("A duration like 90s, 5m, 1h or 2d."), "5m"),
        ], s, note=f"kind: {s.get('kind')}")
        for i, s in enumerate(sources)
    ]

    alerts = document.get("alerts") if isinstance(document.get("alerts"), CommentedMap) else {}
    channels = [c for c in (alerts.get("channels") or []) if isinstance(c, CommentedMap)]
    groups["channels"] = [Group(f"alerts.channels[{i}]", str(c.get("name") or c.get("kind")), _channel_fields(f"alerts.channels[{i}]", str(c.get("kind"))),
                                c, removable=True, note=f"kind: {c.get('kind')}")
                          for i, c in enumerate(channels)]
    new = f"alerts.channels[{len(channels)}]"
    groups["channels"].append(Group(new, _("Add a channel"), _channel_fields(new, None), new=True))

    base = merged(builtin_templates(), sector_templates(web.settings.reply_templates) if web.settings.reply_templates else {})
    languages = [lang for lang in REPLY_LANGUAGES if lang in (*config.languages, "other")]
    groups["replies"] = [
        Group(f"web.replies.{reading}", reading.replace("_", " "), [
            Field(f"web.replies.{reading}.{lang}", f"{reading}.{lang}", lang, "template", placeholder=(base.get(reading) or {}).get(lang, ""))
            for lang in languages
        ])
        for reading in READINGS
    ]
    form = Form(groups, {})
    replies = (document.get("web") or {}).get("replies") if isinstance(document.get("web"), dict) else None
    for group in form.all_groups():
        node = replies if group.prefix.startswith("web.replies.") else group.node
        for f in group.fields:
            form.values[f.name] = shown(f, node)
    return form


def shown(f: Field, node) -> object:
    """The value ``node`` holds for ``f``, as the form shows it."""
    if f.kind == "template":
        reading, lang = f.key.split(".")
        value = ((node or {}).get(reading) or {}).get(lang) if isinstance(node, dict) else None
        return "" if value is None else str(value)
    value = node.get(f.key) if node is not None else None
    if f.kind == "events":
        return list(value) if isinstance(value, list) else list(EVENTS)
    if f.kind == "lines":
        return "\n".join(str(v) for v in value) if isinstance(value, list) else ("" if value is None else str(value))
    if f.kind == "accounts":
        if not isinstance(value, dict):
            return "" if value is None else str(value)
        return "\n".join(f"{platform}: {account}" for platform, names in value.items() for account in (names or []))
    return "" if value is None else str(value)


class FormProblem(ValueError):
    """A value the form cannot turn into the file's (an account line without its platform)."""


def parsed(f: Field, raw: object) -> object:
    """The file's value for the form's ``raw`` one; ``None`` leaves the key out."""
    if f.kind == "events":
        return [event for event in EVENTS if event in raw]
    text = str(raw).replace("\r\n", "\n")
    if f.kind == "lines":
        return [line.strip() for line in text.split("\n") if line.strip()]
    if f.kind == "accounts":
        accounts: dict[str, list[str]] = {}
        for line in filter(None, (line.strip() for line in text.split("\n"))):
            platform, colon, account = line.partition(":")
            if not colon or not account.strip():
                raise FormProblem(f"write each account as platform: account, like reddit: u/cinesa_es; found {line!r}")
            accounts.setdefault(platform.strip(), []).append(account.strip())
        return accounts
    if f.kind == "template":
        return text.strip() or None
    text = text.strip()
    if f.kind == "name":
        return text
    if not text:
        return None
    if f.kind == "duration" and NUMBER.match(text):
        return float(text) if "." in text else int(text)
    if f.kind == "port" and text.isdigit():
        return int(text)
    return text


def read_form(form: Form, data) -> None:
    """Put the submitted values in ``form.values``."""
    for group in form.all_groups():
        for f in group.fields:
            form.values[f.name] = data.getlist(f.name) if f.kind == "events" else str(data.get(f.name, ""))
        if group.removable:
            form.values[f"{group.prefix}.remove"] = bool(data.get(f"{group.prefix}.remove"))


def apply_form(form: Form, before: Form, draft: Draft) -> tuple[list[str], dict[str, dict[int, str]]]:
    """Change ``draft.document`` where the submitted values differ from those shown (``before``).

    Returns the names of the fields changed, and for the lists whose entries can
    be added or removed, which form group each entry of the new list is."""
    document, changed, positions = draft.document, [], {}

    def value(f: Field, values: dict) -> object:
        try:
            return parsed(f, values[f.name])
        except FormProblem as problem:
            if values is form.values:
                form.errors.setdefault(f.name, []).append(str(problem))
            return None

    def differs(f: Field) -> bool:
        new = value(f, form.values)
        return f.name not in form.errors and new != value(f, before.values)

    def edit(group: Group, node) -> None:
        for f in group.fields:
            if differs(f):
                put(node() if callable(node) else node, f.key, value(f, form.values))
                changed.append(f.name)

    edit(form.groups["brand"][0], form.groups["brand"][0].node if form.groups["brand"][0].node is not None else lambda: section(document, "brand"))
    for group in form.groups["sources"]:
        edit(group, group.node)

    for kind, keys in (("competitors", ("competitors",)), ("channels", ("alerts", "channels"))):
        order = []
        for group in form.groups[kind]:
            if group.new:
                values = {f.key: value(f, form.values) for f in group.fields}
                values = {k: v for k, v in values.items() if v not in (None, "", [], {})}
                if values:
                    siblings = entries(document, *keys)
                    first = {"name": values.pop("name", "")} if kind == "competitors" else {"kind": values.pop("kind", "")}
                    siblings.append(like_siblings(siblings, {**first, **values}))
                    order.append(group.prefix)
                    changed.append(group.prefix)
            elif form.values.get(f"{group.prefix}.remove"):
                siblings = entries(document, *keys)
                del siblings[next(i for i, node in enumerate(siblings) if node is group.node)]
                changed.append(f"{group.prefix} (removed)")
            else:
                edit(group, group.node)
                order.append(group.prefix)
        positions[".".join(keys)] = dict(enumerate(order))

    for group in form.groups["replies"]:
        reading = group.prefix.rsplit(".", 1)[1]
        for f in group.fields:
            if not differs(f):
                continue
            lang, text = f.key.split(".")[1], parsed(f, form.values[f.name])
            if text is None:
                templates = section(document, "web", "replies", reading)
                templates.pop(lang, None)
                if not templates:
                    section(document, "web", "replies").pop(reading, None)
                if not section(document, "web", "replies"):
                    section(document, "web").pop("replies", None)
            else:
                put(section(document, "web", "replies", reading), lang, text)
            changed.append(f.name)
    return changed, positions


def attach(form: Form, error: ConfigError, positions: dict[str, dict[int, str]]) -> None:
    """Each of ``error``'s mistakes beside the field it is about (its key, as the page numbers the lists)."""
    names = [f.name for group in form.all_groups() for f in group.fields]
    if not error.problems:
        form.general.append(str(error))
        return
    for key, reason in error.problems:
        for listed, slots in positions.items():
            match = re.match(rf"^{re.escape(listed)}\[(\d+)\]", key)
            if match and int(match.group(1)) in slots:
                key = slots[int(match.group(1))] + key[match.end():]
        template = TEMPLATE_NAME.search(reason) if key == "web.replies" else None
        if template:
            key = f"web.replies.{template.group(1)}.{template.group(2)}"
        target = max((n for n in names if key == n or key.startswith((n + ".", n + "["))), key=len, default=None)
        if target is None:
            form.general.append(f"{key}: {reason}")
        else:
            form.errors.setdefault(target, []).append(reason)


# -- the page ------------------------------------------------------------------


@router.get("/settings")
def settings_page(request: Request, session=Depends(require(ADMINS))):
    web = request.app.state.web
    if web.config_file is None:
        return _render(request, None, None, status=200)
    draft = web.config_file.read()
    return _render(request, draft, build_form(web, draft))


@router.post("/settings")
async def save_settings(request: Request, session=Depends(require(ADMINS))):
    web = request.app.state.web
    if web.config_file is None:
        return _render(request, None, None, status=409)
    data = await request.form()
    with web.config_lock:
        draft = web.config_file.read()
        before = build_form(web, draft)
        if str(data.get("version", "")) != draft.version:
            before.general.append("The configuration file changed since you opened this page (someone saved it, or it was "
                                  "edited by hand). The page now shows it as it is: make your change again.")
            return _render(request, draft, before, status=409)
        form = build_form(web, draft)
        read_form(form, data)
        changed, positions = apply_form(form, before, draft)
        if form.errors:
            return _render(request, draft, form, status=422)
        if not changed:
            session.flash(_("Nothing changed."), "ok")
            return RedirectResponse("/settings", 303)
        text = draft.result()
        try:
            config, settings = web.config_file.check(text)
        except ConfigError as error:
            attach(form, error, positions)
            return _render(request, draft, form, status=422)
        try:
            web.config_file.write(text)
        except OSError as exc:
            form.general.append(_("Cannot write %(path)s (%(why)s); the app keeps the configuration it had. "
                                  "Check the file's permissions and the free space.") % {"path": web.config_file.path, "why": exc.strerror or exc})
            return _render(request, draft, form, status=503)
        web.apply_config(config, settings)
    logger.info("web: %s changed %s: %s", session.user, web.config_file.path, ", ".join(changed))
    session.flash(_("Saved to %(path)s and applied: %(changed)s.") % {"path": web.config_file.path, "changed": ", ".join(changed)}, "ok")
    return RedirectResponse("/settings", 303)


def _render(request: Request, draft: Draft | None, form: Form | None, status: int = 200):
    web = request.app.state.web
    return web.render(
        request, "settings.html", status=status, form=form, version=draft.version if draft else "",
        path=web.config_file.path if web.config_file else None, events=EVENTS, channel_kinds=CHANNEL_KINDS,
        placeholders=", ".join("{" + p + "}" for p in REPLY_PLACEHOLDERS), platforms=", ".join(ACCOUNT_FORMS),
    )
