"""HTML skeletons of the patient portal and the record check page. Bilingual like the consumer page
(Chinese first, English beneath in ``class="en"``); the page scripts fill the ``id``-named parts."""

from __future__ import annotations

from medchain.web.html import Html, esc, join, render_template, tag
from medchain.web.view import Text

__all__ = ["check_page", "portal_page"]


def _bi(text: Text) -> Html:
    return Html(esc(text.zh) + tag("span", text.en, class_="en", lang="en"))


def _card(id_: str, title: Text, *children: object, hidden: bool = False) -> Html:
    return tag("section", tag("h2", _bi(title)), *children, id=id_, class_="card", hidden=hidden)


def _shell(title: Text, subtitle: Text, body: Html, *, script: str, footer: Text, root: str) -> Html:
    return render_template(
        "app.html",
        title=esc(f"{title.zh} · {title.en} — MedChain"),
        css=esc(f"{root}/static/verify.css"),
        appcss=esc(f"{root}/static/portal.css"),
        script=esc(f"{root}/static/{script}"),
        root=esc(root),
        home=esc(f"{root}/portal" if script == "portal.js" else f"{root}/check"),
        subtitle=esc(f"{subtitle.zh} · {subtitle.en}"),
        body=body,
        footer=Html(esc(footer.zh) + tag("span", footer.en, class_="en", lang="en")),
    )


def _message_area() -> Html:
    return tag("div", id="message", role="alert", aria_live="polite")


def portal_page(*, root: str = "") -> Html:
    wallet = _card(
        "wallet",
        Text("钱包", "Wallet"),
        tag("p", _bi(Text("未连接", "Not connected")), id="wallet-status"),
        tag("button", "连接钱包 · Connect wallet", id="connect", type="button"),
        tag("button", "切换网络 · Switch network", id="switch-chain", type="button", hidden=True),
    )
    purposes = tag("select", id="purpose", name="purpose")
    grant = _card(
        "grant",
        Text("授权", "Give consent"),
        tag(
            "form",
            tag("label", _bi(Text("授权给", "Grant to")), for_="grantee"),
            tag("select", id="grantee", name="grantee", required=True),
            tag("label", _bi(Text("用途", "Purpose")), for_="purpose"),
            purposes,
            tag("fieldset", tag("legend", _bi(Text("数据类别", "Data classes"))), id="classes"),
            tag("label", _bi(Text("有效期至(可不填)", "Valid until (optional)")), for_="valid-until"),
            tag("input", type="date", id="valid-until", name="validUntil"),
            tag(
                "fieldset",
                tag("legend", _bi(Text("发送方式", "How to send"))),
                tag(
                    "label",
                    tag("input", type="radio", name="via", value="relay", id="via-relay", checked=True),
                    " 由医院代发(无需 ETH)· Relayed by the hospital (no ETH needed)",
                    class_="radio",
                ),
                tag(
                    "label",
                    tag("input", type="radio", name="via", value="wallet", id="via-wallet"),
                    " 用我自己的交易 · My own transaction",
                    class_="radio",
                ),
                id="via",
            ),
            tag("button", "在钱包中签名并授权 · Sign in wallet and grant", id="grant-button", type="submit"),
            id="grant-form",
        ),
        hidden=True,
    )
    last = _card(
        "last-tx", Text("最近的交易", "Latest transaction"), tag("dl", id="last-tx-body"), hidden=True
    )
    consents = _card(
        "consents",
        Text("有效的授权", "Consents in force"),
        tag("ul", id="consent-list", class_="rows"),
        hidden=True,
    )
    history = _card(
        "history",
        Text("授权历史", "Consent history"),
        tag("ol", id="history-list", class_="rows"),
        hidden=True,
    )
    disclosures = _card(
        "disclosures",
        Text("披露记录", "Accounting of disclosures"),
        tag("p", "", id="disclosures-status", class_="hint"),
        tag("ol", id="disclosure-list", class_="rows"),
        hidden=True,
    )
    records = _card(
        "records",
        Text("我的病历", "My records"),
        tag(
            "p",
            "把医院给您的证据包(.json)拖到这里或选择文件,页面会在链上核对。",
            tag(
                "span",
                "Drop an evidence package (.json) from your hospital here, or choose it: the page checks it "
                "against the chain.",
                class_="en",
                lang="en",
            ),
        ),
        tag("input", type="file", id="evidence-file", accept=".json,application/json"),
        tag("ul", id="record-list", class_="rows"),
        tag("h3", _bi(Text("从医院网关下载", "Download from a hospital's gateway"))),
        tag(
            "p",
            "选择医院,在钱包中签名请求。病历在您的浏览器中解密并与链上记录核对,本服务器只转发密文。",
            tag(
                "span",
                "Choose a hospital and sign the request in your wallet. Your records are decrypted in your "
                "browser and checked against the chain; this server only forwards ciphertext.",
                class_="en",
                lang="en",
            ),
            class_="hint",
        ),
        tag("label", _bi(Text("医院", "Hospital")), for_="gateway-hospital"),
        tag("select", id="gateway-hospital", name="hospital"),
        tag(
            "button",
            "在钱包中签名并列出我的病历 · Sign in wallet and list my records",
            type="button",
            id="gateway-list",
        ),
        tag("ul", id="gateway-records", class_="rows"),
        hidden=True,
    )
    intro = tag(
        "section",
        tag("h1", _bi(Text("患者门户", "Patient portal"))),
        tag("p", "查看谁可以读取您的病历、谁读取过,并授权或撤销。您的私钥始终留在您的钱包中。"),
        tag(
            "p",
            "See who may read your records and who did, and give or withdraw consent. "
            "Your key never leaves your wallet.",
            class_="en",
            lang="en",
        ),
        class_="card",
    )
    body = join([intro, _message_area(), wallet, last, consents, grant, disclosures, history, records])
    return _shell(
        Text("患者门户", "Patient portal"),
        Text("患者门户", "Patient portal"),
        body,
        script="portal.js",
        footer=Text(
            "数据来自 MedChain 联盟区块链;签名在您的钱包中完成。",
            "Data from the MedChain consortium blockchain; you sign in your own wallet.",
        ),
        root=root,
    )


def check_page(*, root: str = "", online: bool = True) -> Html:
    intro = tag(
        "section",
        tag("h1", _bi(Text("病历核验", "Check a record"))),
        tag("p", "选择文件或粘贴 FHIR JSON。哈希在您的浏览器中计算,文件不会上传。"),
        tag(
            "p",
            "Choose a file or paste FHIR JSON. The hash is computed in your browser; nothing is uploaded.",
            class_="en",
            lang="en",
        ),
        tag(
            "form",
            tag("label", _bi(Text("病历文件", "Record file")), for_="record-file"),
            tag("input", type="file", id="record-file"),
            tag("label", _bi(Text("或粘贴 FHIR JSON", "or paste FHIR JSON")), for_="fhir-text"),
            tag("textarea", id="fhir-text", rows="6", spellcheck="false", autocomplete="off"),
            tag("button", "核验 · Check", type="submit", id="check-button"),
            id="check-form",
        ),
        class_="card",
    )
    result = _card("result", Text("核验结果", "Result"), tag("div", id="result-body"), hidden=True)
    evidence = _card(
        "evidence",
        Text("证据包", "Evidence package"),
        tag(
            "p",
            "证据包(.json)会被发送到本服务器,与链上记录核对。",
            tag(
                "span",
                "An evidence package (.json) is sent to this server and checked against the chain.",
                class_="en",
                lang="en",
            ),
        ),  # fmt: skip
        tag("input", type="file", id="evidence-file", accept=".json,application/json"),
        tag("div", id="evidence-body"),
    )
    offline = (
        tag(
            "p",
            "此服务器未连接病历登记合约,只能计算哈希。 · This server has no RecordRegistry: hashing only.",
            class_="alert warn",
        )  # fmt: skip
        if not online
        else None
    )
    body = join([intro, offline or Html(""), _message_area(), result, evidence])
    return _shell(
        Text("病历核验", "Check a record"),
        Text("病历核验", "Record check"),
        body,
        script="check.js",
        footer=Text(
            "只读查询 MedChain 联盟区块链。", "Read-only lookup on the MedChain consortium blockchain."
        ),
        root=root,
    )
