// Cross-check helper: builds an OpenZeppelin StandardMerkleTree from JSON on stdin and prints JSON.
// stdin:  {"op": "of", "values": [[...], ...], "encoding": [...], "proofs": [indices]}
//         {"op": "load", "dump": {standard-v1}, "proofs": [indices]}   (validates the dump)
//         {"op": "verify", "root": "0x..", "encoding": [...], "value": [...], "proof": ["0x.."]}
// stdout: {"root", "proofs": {index: [..]}, "dump"} or {"valid": bool}
'use strict';
const fs = require('fs');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
let out;
if (input.op === 'verify') {
  out = { valid: StandardMerkleTree.verify(input.root, input.encoding, input.value, input.proof) };
} else {
  const tree = input.op === 'load' ? StandardMerkleTree.load(input.dump) : StandardMerkleTree.of(input.values, input.encoding);
  const proofs = {};
  for (const i of input.proofs || []) proofs[i] = tree.getProof(i);
  const byValue = {};
  for (const i of input.proofsByValue || []) byValue[i] = tree.getProof(tree.at(i));
  out = { root: tree.root, proofs, byValue, dump: input.withDump ? tree.dump() : undefined };
}
const data = Buffer.from(JSON.stringify(out));
let offset = 0;
while (offset < data.length) offset += fs.writeSync(1, data, offset, data.length - offset);
