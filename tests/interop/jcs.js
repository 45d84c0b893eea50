// RFC 8785 (JCS) the way its appendix describes it for ECMAScript: JSON.parse, then serialise with keys sorted
// by UTF-16 code units and primitives by JSON.stringify (ES6 Number-to-string). stdin: JSON array of JSON texts.
'use strict';
const fs = require('fs');
const jcs = v =>
  v === null || typeof v !== 'object'
    ? JSON.stringify(v)
    : Array.isArray(v)
      ? '[' + v.map(jcs).join(',') + ']'
      : '{' + Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + jcs(v[k])).join(',') + '}';
const texts = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = Buffer.from(JSON.stringify(texts.map(t => jcs(JSON.parse(t)))));
let offset = 0;
while (offset < out.length) offset += fs.writeSync(1, out, offset, out.length - offset);
