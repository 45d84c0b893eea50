// Record check page: the record hash is computed here, in the browser (the file is never uploaded), the
// same way as `medchain records hash` (medchain/hashing.py, DESIGN §6.6):
//   - FHIR JSON (a JSON object with a non-empty string resourceType): sha256 of the RFC 8785 (JCS)
//     canonical JSON of the resource without its top-level `text` and `meta` ("sha256+fhir-jcs-static");
//   - anything else: sha256 of the bytes ("sha256").
// A file named *.json must parse as JSON; other files are FHIR only if they start with "{" and parse.
// Pasted text must be a FHIR resource. JCS is the `canonicalize` npm package (vendor/, copied at bootstrap).
// Like the Python tooling, JSON nested over 100 levels is refused, and JSON with a duplicate key is not JSON
// (JSON.parse alone would keep the last value): found by scanning the text (`jsonDepth`, `duplicateKey`).
import canonicalize from './vendor/canonicalize.js';
import {
  api, bi, clearMessage, el, evidenceView, facts, readJsonFile, say, setState, short, when,
} from './common.js';

const $ = id => document.getElementById(id);
const METHOD_BYTES = 'sha256';
const METHOD_FHIR = 'sha256+fhir-jcs-static';
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c]); // Python's bytes.lstrip()

const MAX_JSON_DEPTH = 100; // medchain.text.MAX_JSON_DEPTH

class HashError extends Error {}

// How deep arrays and objects nest, brackets inside strings ignored (medchain.text.json_depth, on bytes).
function jsonDepth(bytes) {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (byte === 0x22) { // skip a string
      for (i += 1; i < bytes.length && bytes[i] !== 0x22; i += 1) if (bytes[i] === 0x5c) i += 1;
    } else if (byte === 0x5b || byte === 0x7b) {
      depth += 1;
      deepest = Math.max(deepest, depth);
    } else if (byte === 0x5d || byte === 0x7d) {
      depth -= 1;
    }
  }
  return deepest;
}

// The first key that appears twice in one object of (valid) JSON text, or null.
function duplicateKey(text) {
  const stack = [];
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (top && top.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1));
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push({ keys: new Set(), expectKey: true });
    } else if (c === '[') {
      stack.push({ keys: null });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',' && top && top.keys) {
      top.expectKey = true;
    }
  }
  return null;
}

// An integer literal JCS cannot carry (beyond 2^53): refused when it is part of the canonicalised view.
class UnsafeInteger {
  constructor(source) { this.source = source; }
  toJSON() { throw new HashError(`integer ${this.source} is beyond 2^53 and cannot be canonicalised (RFC 8785)`); }
}

function reviver(key, value, context) {
  if (typeof value === 'number' && context && /^-?\d+$/.test(context.source) && !Number.isSafeInteger(value)) {
    return new UnsafeInteger(context.source);
  }
  return value;
}

function startsWithBrace(bytes) {
  for (const byte of bytes) {
    if (!WHITESPACE.has(byte)) return byte === 0x7b;
  }
  return false;
}

function fhirResource(bytes, { jsonRequired, fhirRequired }) {
  if (!jsonRequired && !startsWithBrace(bytes)) return null;
  const depth = jsonDepth(bytes);
  if (depth > MAX_JSON_DEPTH) throw new HashError(`JSON nested ${depth} levels deep (at most ${MAX_JSON_DEPTH})`);
  let parsed;
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    parsed = JSON.parse(text, reviver);
    const duplicate = duplicateKey(text);
    if (duplicate !== null) throw new SyntaxError(`duplicate key ${JSON.stringify(duplicate)}`);
  } catch (err) {
    if (!jsonRequired) return null;
    throw new HashError(`malformed JSON: ${err.message}`);
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      && typeof parsed.resourceType === 'string' && parsed.resourceType) {
    return parsed;
  }
  if (fhirRequired) throw new HashError('not a FHIR resource (no resourceType)');
  return null;
}

async function sha256(bytes) {
  if (!crypto.subtle) throw new HashError('this page needs HTTPS (or localhost) to compute hashes');
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return '0x' + [...digest].map(b => b.toString(16).padStart(2, '0')).join('');
}

export async function hashRecord(bytes, { name = '', pasted = false } = {}) {
  const json = pasted || name.toLowerCase().endsWith('.json');
  const resource = fhirResource(bytes, { jsonRequired: json, fhirRequired: pasted });
  if (!resource) return { recordHash: await sha256(bytes), method: METHOD_BYTES, size: bytes.length };
  const view = Object.fromEntries(Object.entries(resource).filter(([key]) => key !== 'text' && key !== 'meta'));
  let canonical;
  try {
    canonical = canonicalize(view);
  } catch (err) {
    throw new HashError(`JSON cannot be canonicalised (RFC 8785): ${err.message}`);
  }
  return {
    recordHash: await sha256(new TextEncoder().encode(canonical)),
    method: METHOD_FHIR,
    resourceType: resource.resourceType,
    size: bytes.length,
  };
}

function anchorRows(anchor) {
  const batch = anchor.batch || anchor.origin === 'batch' || anchor.kind === 'batch';
  return facts([
    [bi('登记医院', 'Anchored by'), anchor.hospitalName ? `${anchor.hospitalName} (${short(anchor.hospital)})` : (anchor.hospital || '—')],
    [bi('登记时间', 'Anchored at'), when(anchor.anchoredAt)],
    [bi('方式', 'How'), batch ? bi('批量(Merkle 证明)', 'Batch (Merkle proof)') : bi('单条', 'Single')],
    [bi('被取代', 'Superseded by'), anchor.supersededBy ? el('code', {}, anchor.supersededBy) : '—'],
    anchor.txHash ? [bi('交易', 'Transaction'), el('code', {}, anchor.txHash)] : null,
  ].filter(Boolean));
}

function showResult(hashed, found) {
  const anchors = (found && found.anchors) || [];
  const superseded = anchors.length > 0 && anchors.every(a => a.supersededBy);
  let tone; let title; let stateName;
  if (!found) {
    tone = 'info'; title = bi('已计算哈希', 'Hash computed'); stateName = 'hashed';
  } else if (!anchors.length) {
    tone = 'danger'; title = bi('未在链上登记', 'Not anchored'); stateName = 'not-anchored';
  } else if (superseded) {
    tone = 'warn'; title = bi('已登记,但已被更正版本取代', 'Anchored, but superseded'); stateName = 'superseded';
  } else {
    tone = 'ok'; title = bi('已在链上登记', 'Anchored on chain'); stateName = 'anchored';
  }
  $('result').hidden = false;
  $('result-body').replaceChildren(
    el('section', { class: `banner ${tone}`, role: 'status' }, el('div', {}, el('h1', {}, title))),
    facts([
      [bi('病历哈希', 'Record hash'), el('code', { id: 'record-hash' }, hashed.recordHash)],
      [bi('计算方式', 'Method'), el('code', { id: 'hash-method' }, hashed.method)],
      hashed.resourceType ? ['FHIR resourceType', hashed.resourceType] : null,
      [bi('大小', 'Size'), `${hashed.size} bytes`],
    ].filter(Boolean)),
    ...anchors.map(anchorRows),
    found && !anchors.length
      ? el('p', { class: 'hint' }, bi('批量登记的病历在链上只有批次根:请在下方放入医院给您的证据包来核对。',
        'A record anchored in a batch is on chain only through its batch root: drop the evidence package '
        + 'from your hospital below to check it.'))
      : null,
  );
  $('result').scrollIntoView({ block: 'start' });
  setState(stateName);
}

async function check(event) {
  event.preventDefault();
  clearMessage();
  const file = $('record-file').files[0];
  const text = $('fhir-text').value;
  let hashed;
  try {
    if (file) {
      hashed = await hashRecord(new Uint8Array(await file.arrayBuffer()), { name: file.name });
    } else if (text.trim()) {
      hashed = await hashRecord(new TextEncoder().encode(text), { pasted: true });
    } else {
      say('warn', 'nothing', '请选择文件或粘贴 FHIR JSON。', 'Choose a file or paste FHIR JSON.');
      return;
    }
  } catch (err) {
    say('danger', 'bad-input', '无法计算哈希。', 'The hash could not be computed.', err.message);
    setState('error');
    return;
  }
  let found = null;
  try {
    found = await api('/api/check/hash', { recordHash: hashed.recordHash });
  } catch (err) {
    say('warn', err.code === 'unreachable' ? 'unavailable' : 'lookup-failed', '无法查询区块链,仅显示哈希。',
      'The chain could not be asked; only the hash is shown.', err.message);
  }
  showResult(hashed, found);
}

async function checkEvidence(event) {
  const file = event.target.files[0];
  if (!file) return;
  clearMessage();
  try {
    const evidence = await readJsonFile(file);
    const result = await api('/api/check/evidence', evidence);
    $('evidence-body').replaceChildren(el('ul', { class: 'rows' }, evidenceView(evidence, result)));
    setState(result.ok ? 'evidence-ok' : 'evidence-bad');
  } catch (err) {
    say('danger', 'bad-evidence', '无法核对证据包。', 'The evidence package could not be checked.', err.message);
    setState('error');
  } finally {
    event.target.value = '';
  }
}

$('check-form').addEventListener('submit', check);
$('record-file').addEventListener('change', () => { if ($('record-file').files[0]) $('fhir-text').value = ''; });
$('evidence-file').addEventListener('change', checkEvidence);
setState('ready');
