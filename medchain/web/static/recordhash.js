// The record hash of DESIGN §6.6, computed in the browser exactly as `medchain records hash` does
// (medchain/hashing.py), for the check page and the portal's gateway downloads:
//   - FHIR JSON (a JSON object with a non-empty string resourceType): sha256 of the RFC 8785 (JCS)
//     canonical JSON of the resource without its top-level `text` and `meta` ("sha256+fhir-jcs-static");
//   - anything else: sha256 of the bytes ("sha256").
// A file named *.json must parse as JSON; other files are FHIR only if they start with "{" and parse.
// Pasted text must be a FHIR resource. JCS is the `canonicalize` npm package (vendor/, copied at bootstrap).
// Like the Python tooling, JSON nested over 100 levels is refused, and JSON with a duplicate key is not JSON
// (JSON.parse alone would keep the last value): found by scanning the text (`jsonDepth`, `duplicateKey`).
import canonicalize from './vendor/canonicalize.js';

export const METHOD_BYTES = 'sha256';
export const METHOD_FHIR = 'sha256+fhir-jcs-static';
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c]); // Python's bytes.lstrip()

const MAX_JSON_DEPTH = 100; // medchain.text.MAX_JSON_DEPTH

export class HashError extends Error {}

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

export async function sha256(bytes) {
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
