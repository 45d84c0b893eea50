// Shared helpers of the portal and check pages: the JSON API, bilingual messages, small DOM builders.
// Everything user- or chain-supplied goes into the page through textContent, never as markup.

export const ROOT = document.body.dataset.root || '';

export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

// fetch JSON from the app; a network failure is ApiError code 'unreachable', an error answer carries the
// server's one-line message and code.
export async function api(path, body) {
  let response;
  try {
    response = await fetch(ROOT + path, body === undefined ? {} : {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(String(err && err.message || err), 'unreachable', 0);
  }
  let doc = null;
  try {
    doc = await response.json();
  } catch (err) {
    throw new ApiError(`HTTP ${response.status}`, response.status >= 500 ? 'unreachable' : 'input', response.status);
  }
  if (!response.ok) {
    throw new ApiError(doc && doc.error || `HTTP ${response.status}`, doc && doc.code || 'error', response.status);
  }
  return doc;
}

export function el(name, attrs = {}, ...children) {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Chinese first, the English line beneath (the consumer page's convention).
export function bi(zh, en) {
  const span = el('span', {}, zh);
  span.append(el('span', { class: 'en', lang: 'en' }, en));
  return span;
}

// The page's message box: tone ok | info | warn | danger; `kind` names the situation for tests and CSS.
export function say(tone, kind, zh, en, detail) {
  const box = document.getElementById('message');
  box.replaceChildren(
    el('section', { class: `alert ${tone}`, dataset: { kind } },
      el('h2', {}, bi(zh, en)),
      detail ? el('p', { class: 'detail' }, detail) : null),
  );
  document.body.dataset.message = kind;
  box.scrollIntoView({ block: 'nearest' });
}

export function clearMessage() {
  document.getElementById('message').replaceChildren();
  delete document.body.dataset.message;
}

export function setState(name) {
  document.body.dataset.state = name;
}

export function short(address) {
  return address && address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address || '';
}

export function when(seconds) {
  if (!seconds) return '—';
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime())) return `unix ${seconds}`;
  return date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

export function facts(rows) {
  const dl = el('dl', { class: 'facts' });
  for (const [label, value] of rows) {
    dl.append(el('div', {}, el('dt', {}, label), el('dd', {}, value)));
  }
  return dl;
}

export async function readJsonFile(file) {
  const text = await file.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(`${file.name} is not JSON: ${err.message}`, 'input', 0);
  }
}

// An evidence package checked by the server (records.verify_evidence): one card of facts and checks.
export function evidenceView(evidence, result) {
  const record = evidence.record || {};
  const anchor = evidence.anchor || {};
  const ok = result.ok;
  const superseded = result.supersededBy;
  const verdict = !ok
    ? bi('与链上记录不符', 'Does not match the chain')
    : superseded ? bi('已在链上登记,但已被更正版本取代', 'Anchored, but superseded by a newer version')
      : bi('与链上记录一致', 'Matches the chain');
  const item = el('li', { class: ok ? (superseded ? 'warn' : 'ok') : 'danger', dataset: { ok: String(ok) } },
    el('strong', {}, verdict),
    facts([
      [bi('文件', 'File'), record.file || '—'],
      [bi('病历哈希', 'Record hash'), el('code', {}, record.recordHash || '—')],
      [bi('数据类别', 'Data class'), record.dataClassName || String(record.dataClass ?? '—')],
      [bi('登记医院', 'Anchored by'), result.hospitalName ? `${result.hospitalName} (${short(anchor.hospital)})` : (anchor.hospital || '—')],
      [bi('登记时间', 'Anchored at'), when(anchor.anchoredAt)],
      [bi('方式', 'How'), anchor.origin === 'batch' || anchor.batch ? bi('批量(Merkle 证明)', 'Batch (Merkle proof)') : bi('单条', 'Single')],
      [bi('被取代', 'Superseded by'), superseded ? el('code', {}, superseded) : '—'],
    ]),
    el('ul', { class: 'checks' }, (result.checks || []).map(c =>
      el('li', { class: c.ok ? 'ok' : 'danger' }, `${c.ok ? '✓' : '✗'} ${c.check}`, c.detail ? ` — ${c.detail}` : ''))),
  );
  return item;
}
