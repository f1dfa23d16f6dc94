"""Charts as inline SVG, drawn on the server: no scripts, readable without JavaScript.

Every chart is an image to assistive technology (``role="img"``) whose
``aria-label`` says what it shows in figures; every mark carries a ``<title>``
(a tooltip), and each chart's page shows its numbers in a table beside it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from babel.dates import format_datetime
from babel.numbers import format_percent
from markupsafe import Markup, escape

from listener.web.i18n import current_language, gettext, ngettext

PALETTE = ("#d1495b", "#00798c", "#edae49", "#66a182", "#8d6a9f", "#2e4057", "#c6794a", "#7a9e9f")
LABEL_FORMATS = {"hour": "dd LLL HH:00", "day": "dd LLL", "week": "dd LLL", "month": "LLL yyyy"}  # Babel patterns, day first, UTC


def bucket_label(start: datetime, interval: str) -> str:
    """A time bucket's start as the page's language writes it, day first, in UTC."""
    return format_datetime(start, LABEL_FORMATS[interval], tzinfo=timezone.utc, locale=current_language())


def colors(names: list[str]) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    head = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" class="chart">'
    return Markup(head + f"<title>{escape(label)}</title>" + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "label") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{escape(text)}</text>'


def share_chart(timeline: list[tuple[datetime, dict[str, int]]], names: list[str], palette: dict[str, str], interval: str) -> Markup:
    """Share of voice over time: one 100% column per bucket, a segment per entity."""
    width, height, left, top, bottom = 760, 280, 40, 34, 36
    plot_w, plot_h = width - left - 10, height - top - bottom
    body = []
    x = left
    for i, name in enumerate(names):
        body.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{palette[name]}"/>')
        body.append(_text(x + 16, 16, name))
        x += 24 + 7 * len(name)
    for pct in (0, 50, 100):
        y = top + plot_h * (1 - pct / 100)
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        body.append(_text(left - 4, y + 4, f"{pct}%", "end"))
    if not timeline:
        body.append(_text(left + plot_w / 2, top + plot_h / 2, gettext("No posts in this window"), "middle"))
        return _svg(width, height, gettext("Share of voice over time: no data"), body)
    totals = {name: sum(counts.get(name, 0) for _, counts in timeline) for name in names}
    everything = sum(totals.values())
    step = plot_w / len(timeline)
    every = max(1, len(timeline) // 8)

    def bucket(start: datetime) -> str:
        return bucket_label(start, interval)

    for i, (start, counts) in enumerate(timeline):
        total = sum(counts.get(n, 0) for n in names)
        y = top + plot_h
        for name in names:
            count = counts.get(name, 0)
            if not count or not total:
                continue
            h = plot_h * count / total
            y -= h
            tip = gettext("%(name)s, %(bucket)s: %(count)d of %(total)d (%(share)s)") % {
                "name": name, "bucket": bucket(start), "count": count, "total": total, "share": format_percent(count / total, locale=current_language()),
            }
            body.append(
                f'<rect x="{left + i * step + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{palette[name]}"><title>{escape(tip)}</title></rect>'
            )
        if i % every == 0:
            body.append(_text(left + i * step + step / 2, height - bottom + 16, bucket(start), "middle"))
    language = current_language()
    overall = ", ".join(f"{name} {totals[name]} ({format_percent(totals[name] / everything, locale=language)})"
                        for name in names) if everything else gettext("no mentions")
    label = gettext("Share of voice per entity over time, %(count)d buckets from %(first)s to %(last)s; mentions in all: %(overall)s") % {
        "count": len(timeline), "first": bucket(timeline[0][0]), "last": bucket(timeline[-1][0]), "overall": overall}
    return _svg(width, height, label, body)


def bar_chart(title: str, rows: list[tuple[str, float | None, str]], palette: dict[str, str], maximum: float | None = None) -> Markup:
    """Horizontal bars: ``(name, value, shown text)``; a ``None`` value draws no bar and reads its text, or "no data"."""
    label_w, row_h, width = 100, 26, 340
    height = row_h * max(len(rows), 1) + 8
    top = max((v for _, v, _ in rows if v is not None), default=0)
    scale = maximum if maximum else (top or 1)
    body = []
    for i, (name, value, shown) in enumerate(rows):
        y = 4 + i * row_h
        body.append(_text(label_w - 6, y + 16, name, "end"))
        if value is None:
            body.append(_text(label_w + 4, y + 16, shown or gettext("no data"), cls="label muted"))
            continue
        w = (width - label_w - 90) * (value / scale if scale else 0)
        body.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 8}" fill="{palette.get(name, PALETTE[-1])}">'
            f"<title>{escape(name)}: {escape(shown)}</title></rect>"
        )
        body.append(_text(label_w + w + 6, y + 16, shown))
    summary = "; ".join(f"{name}: {shown or gettext('no data')}" for name, _, shown in rows)
    return _svg(width, height, f"{title}. {summary}" if rows else title, body)


def flow_chart(flows, palette: dict[str, str]) -> Markup:
    """Churn flows from origin (left) to destination (right), line width by posts."""
    if not flows:
        return Markup("")
    width, top, gap = 560, 10, 14
    origins = sorted({f.source for f in flows}, key=lambda n: -sum(f.count for f in flows if f.source == n))
    targets = sorted({f.target for f in flows}, key=lambda n: -sum(f.count for f in flows if f.target == n))
    unit = 40 / max(f.count for f in flows)

    def place(nodes, side):
        y, spots = top, {}
        for node in nodes:
            total = sum(f.count for f in flows if getattr(f, side) == node)
            spots[node] = [y, y + max(total * unit, 6)]
            y = spots[node][1] + gap
        return spots, y

    left, h1 = place(origins, "source")
    right, h2 = place(targets, "target")
    height = int(max(h1, h2)) + 4
    x1, x2 = 150, width - 150
    body = []
    used_left = {n: left[n][0] for n in left}
    used_right = {n: right[n][0] for n in right}
    for flow in sorted(flows, key=lambda f: -f.count):
        w = max(flow.count * unit, 2)
        ya, yb = used_left[flow.source] + w / 2, used_right[flow.target] + w / 2
        used_left[flow.source] += w
        used_right[flow.target] += w
        mid = (x1 + x2) / 2
        tip = f"{flow.source} → {flow.target}: " + ngettext("%(num)d post", "%(num)d posts", flow.count) % {"num": flow.count}
        body.append(
            f'<path d="M{x1},{ya:.1f} C{mid},{ya:.1f} {mid},{yb:.1f} {x2},{yb:.1f}" stroke="{palette.get(flow.source, PALETTE[-1])}" '
            f'stroke-width="{w:.1f}" fill="none" class="flow"><title>{escape(tip)}</title></path>'
        )
    for spots, x, anchor, dx in ((left, x1, "end", -8), (right, x2, "start", 8)):
        for node, (y0, y1) in spots.items():
            body.append(f'<rect x="{x - 3 if anchor == "end" else x}" y="{y0:.1f}" width="3" height="{y1 - y0:.1f}" fill="{palette.get(node, PALETTE[-1])}"/>')
            body.append(_text(x + dx, (y0 + y1) / 2 + 4, node, anchor))
    summary = "; ".join(f"{f.source} → {f.target}: " + ngettext("%(num)d post", "%(num)d posts", f.count) % {"num": f.count}
                        for f in flows)
    return _svg(width, height, gettext("Churn flows between the brand and competitors") + f". {summary}", body)
