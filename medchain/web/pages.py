"""HTML for the consumer pages: the scan form, the status page, and the message pages. Bilingual: Chinese
first, English beneath (``class="en"``)."""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from pathlib import Path
from typing import Final

from medchain.web.html import Html, esc, join, render_template, tag
from medchain.web.view import Alert, PageView, Text

# 24×24 icons, drawn in white on the banner colour.
_ICONS: Final = {
    "ok": "M20 6 9 17l-5-5",
    "info": "M12 16v-5M12 8h.01",
    "warn": "M12 8v5M12 16.5h.01",
    "danger": "M16 8 8 16M8 8l8 8",
}


_STATIC: Final = Path(__file__).with_name("static")
_STYLESHEET: Final = re.compile(r'<link rel="stylesheet" href="(?P<href>[^"]*)">')
_IMAGE_SRC: Final = re.compile(r'(?P<head><img\b[^>]*?\bsrc=")(?P<src>[^"]*)(?P<tail>")')


def standalone(page_html: str) -> str:
    """The page as one file that shows the same when opened from disk: the app's stylesheets inlined as
    ``<style>``, its images as ``data:`` URIs (what a saved consumer page needs; no server, no network)."""

    def css(match: re.Match[str]) -> str:
        text = _static(match["href"]).decode("utf-8").replace("</", "<\\/")
        return f"<style>\n{text}</style>"

    def image(match: re.Match[str]) -> str:
        src = html.unescape(match["src"])
        if src.startswith("data:"):
            return match[0]
        kind = mimetypes.guess_type(src)[0] or "application/octet-stream"
        data = base64.b64encode(_static(src)).decode("ascii")
        return f"{match['head']}data:{kind};base64,{data}{match['tail']}"

    return _IMAGE_SRC.sub(image, _STYLESHEET.sub(css, page_html))


def _static(href: str) -> bytes:
    """The bytes of one of the app's own static files, named by its URL (``…/static/NAME``)."""
    name = html.unescape(href).split("?", 1)[0].rsplit("/static/", 1)[-1]
    path = (_STATIC / name).resolve()
    if "/static/" not in html.unescape(href) or _STATIC.resolve() not in path.parents or not path.is_file():
        raise ValueError(f"{href!r} is not one of the app's static files")
    return path.read_bytes()


def _icon(tone: str) -> Html:
    return tag(
        "svg",
        tag("circle", cx="12", cy="12", r="10.5", fill="none", stroke="currentColor", stroke_width="1.6"),
        tag(
            "path",
            d=_ICONS[tone],
            fill="none",
            stroke="currentColor",
            stroke_width="2.4",
            stroke_linecap="round",
            stroke_linejoin="round",
        ),
        viewBox="0 0 24 24",
        aria_hidden="true",
        focusable="false",
    )


def _bi(text: Text) -> Html:
    """Chinese, then the English line."""
    return Html(esc(text.zh) + tag("span", text.en, class_="en", lang="en"))


def page(title: str, body: Html, *, state: str = "", root: str = "") -> Html:
    return render_template(
        "page.html",
        title=esc(title),
        css=esc(f"{root}/static/verify.css"),
        home=esc(f"{root}/"),
        state=esc(state),
        body=body,
    )


def banner(alert: Alert) -> Html:
    return tag(
        "section",
        _icon(alert.tone),
        tag(
            "div",
            tag("h1", _bi(alert.title)),
            tag("p", alert.detail.zh),
            tag("p", alert.detail.en, class_="en", lang="en"),
        ),
        class_=f"banner {alert.tone}",
        role="status",
    )


def _alert(alert: Alert) -> Html:
    return tag(
        "section",
        tag("h2", _bi(alert.title)),
        tag("p", alert.detail.zh),
        tag("p", alert.detail.en, class_="en", lang="en"),
        class_=f"alert {alert.tone}",
        role="note",
    )


def _facts(view: PageView) -> Html:
    rows = [tag("div", tag("dt", _bi(label)), tag("dd", value)) for label, value in view.facts]
    return tag(
        "section",
        tag("h2", _bi(Text("药品与批次信息", "Product and batch — compare with the box"))),
        tag("dl", join(rows), class_="facts"),
        class_="card",
    )


def _journey(view: PageView) -> Html:
    if not view.journey:
        return Html("")
    items = []
    for hop in view.journey:
        meta = [hop.when]
        if hop.quantity is not None:
            meta.append(f"数量 Qty {hop.quantity}")
        items.append(
            tag(
                "li",
                tag("span", _bi(hop.kind), class_="kind"),
                tag("span", hop.parties, class_="parties"),
                tag("span", " · ".join(meta), class_="meta"),
                class_=hop.kind_id,
            )
        )
    return tag(
        "section",
        tag("h2", _bi(Text("流通路径", "Journey"))),
        tag("ol", join(items), class_="journey"),
        class_="card",
    )


def _proof(view: PageView, uri: str) -> Html:
    rows = [Html(tag("dt", label) + tag("dd", tag("code", value))) for label, value in view.proof]
    rows.append(Html(tag("dt", "GS1 Digital Link") + tag("dd", tag("code", uri))))
    hops = [
        tag("li", f"{hop.kind.en}: ", tag("code", hop.tx_hash), f" (block {hop.block})" if hop.block else "")
        for hop in view.journey
    ]
    return tag(
        "details",
        tag("summary", _bi(Text("链上证明", "On-chain proof"))),
        tag("dl", join(rows)),
        tag("ol", join(hops)) if hops else None,
        class_="card proof",
    )


def status_page(view: PageView, *, uri: str, root: str = "") -> Html:
    body = join(
        [
            banner(view.banner),
            join(_alert(a) for a in view.alerts),
            _facts(view),
            _journey(view),
            _proof(view, uri) if view.proof else Html(""),
            _again(root),
        ]
    )
    return page(
        f"{view.banner.title.zh} · {view.banner.title.en} — MedChain", body, state=view.state, root=root
    )


def message_page(alert: Alert, *, state: str, scan: str = "", root: str = "") -> Html:
    body = join([banner(alert), _form(scan, root=root)])
    return page(f"{alert.title.zh} · {alert.title.en} — MedChain", body, state=state, root=root)


def home_page(*, scan: str = "", error: str = "", root: str = "") -> Html:
    intro = tag(
        "section",
        tag("h1", _bi(Text("药品真伪查询", "Check a medicine"))),
        tag("p", "用手机相机扫描药盒上的二维码,或在下方粘贴扫码内容。"),
        tag(
            "p",
            "Scan the QR code on the box with your phone camera, or paste the scanned text below.",
            class_="en",
            lang="en",
        ),
        _form(scan, error=error, root=root),
        tag(
            "p",
            "可输入 GS1 数字链接、(01)…(17)…(10)…(21)… 元素串或原始扫码数据(GS 分隔符可写作 <GS>)。",
            tag(
                "span",
                "Accepted: a GS1 Digital Link URI, an element string (01)…(17)…(10)…(21)…, or raw "
                "scanner data (write the GS separator as <GS>).",
                class_="en",
                lang="en",
            ),
            class_="hint",
        ),
        class_="card",
    )
    return page(
        "药品真伪查询 · Check a medicine — MedChain", intro, state="error" if error else "home", root=root
    )


def _form(scan: str, *, error: str = "", root: str = "") -> Html:
    problem = (
        tag("p", f"无法识别该代码 · This code could not be read: {error}", class_="error", role="alert")
        if error
        else None
    )
    return tag(
        "form",
        tag("label", _bi(Text("扫码内容", "Scanned code")), for_="scan"),
        tag(
            "input",
            type="text",
            id="scan",
            name="scan",
            value=scan,
            autocomplete="off",
            autocapitalize="off",
            spellcheck="false",
            required=True,
        ),
        problem,
        tag("button", "查询 · Check", type="submit"),
        method="get",
        action=f"{root}/",
    )


def _again(root: str) -> Html:
    return tag("p", tag("a", "查询其他药品 · Check another code", href=f"{root}/", class_="again"))
