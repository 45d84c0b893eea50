#!/usr/bin/env node
// Makes npm's solc-js answer like a native `solc` for the tools that call one:
//   --version
//   --standard-json  (JSON on stdin; --base-path, --include-path, --allow-paths honoured)
//   --combined-json abi,bin,...  FILE... [prefix=path ...]  (crytic-compile / slither)
// Output is written with fs.writeSync until every byte is out and the process then ends on its
// own: process.stdout.write + process.exit truncates piped output at 64 KiB.
'use strict';

const fs = require('fs');
const path = require('path');

const SOLC_MODULE = process.env.MEDCHAIN_SOLCJS || path.join(__dirname, '..', 'node_modules', 'solc');

function writeAll(fd, text) {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

function fail(message, code) {
  writeAll(2, `solc-adapter: ${message}\n`);
  process.exitCode = code || 1;
}

function parseArgs(argv) {
  const opts = { files: [], remaps: [], allowPaths: [], includePaths: [], basePath: null };
  const takesValue = new Set([
    '--allow-paths', '--base-path', '--include-path', '--combined-json', '--evm-version',
    '--optimize-runs', '--output-dir', '-o', '--libraries', '--revert-strings', '--debug-info',
  ]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith('--') && arg.includes('=')) {
      value = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    } else if (takesValue.has(arg)) {
      value = argv[++i];
      if (value === undefined) throw new Error(`option ${arg} needs a value`);
    }
    switch (arg) {
      case '--version': case '-v': opts.version = true; break;
      case '--standard-json': opts.standardJson = true; break;
      case '--combined-json': opts.combined = value.split(','); break;
      case '--allow-paths': opts.allowPaths.push(...value.split(',').filter(Boolean)); break;
      case '--base-path': opts.basePath = value; break;
      case '--include-path': opts.includePaths.push(value); break;
      case '--optimize': opts.optimize = true; break;
      case '--optimize-runs': opts.optimizeRuns = Number(value); break;
      case '--evm-version': opts.evmVersion = value; break;
      case '--via-ir': opts.viaIR = true; break;
      case '--pretty-json': case '--no-color': case '--color': case '--overwrite': break;
      default:
        if (value !== null) break; // an accepted option we do not act on
        if (arg.startsWith('-')) throw new Error(`unsupported option ${arg}`);
        if (arg.includes('=') && !fs.existsSync(arg)) opts.remaps.push(arg);
        else opts.files.push(arg);
    }
  }
  return opts;
}

function makeImportCallback(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths, ...opts.allowPaths, '/'];
  return function findImport(importPath) {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((root) => path.resolve(root, importPath));
    for (const file of candidates) {
      try {
        return { contents: fs.readFileSync(file, 'utf8') };
      } catch (e) {
        // try the next root
      }
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
  };
}

function compile(inputJson, opts) {
  const solc = require(SOLC_MODULE);
  return solc.compile(inputJson, { import: makeImportCallback(opts) });
}

function standardJson(opts) {
  const input = fs.readFileSync(0, 'utf8');
  writeAll(1, compile(input, opts));
}

function sourceKey(file, opts) {
  const base = opts.basePath || process.cwd();
  const rel = path.relative(base, path.resolve(file));
  return rel.startsWith('..') ? path.resolve(file) : rel;
}

const COMBINED_SELECTION = {
  abi: ['abi'], bin: ['evm.bytecode.object'], 'bin-runtime': ['evm.deployedBytecode.object'],
  srcmap: ['evm.bytecode.sourceMap'], 'srcmap-runtime': ['evm.deployedBytecode.sourceMap'],
  userdoc: ['userdoc'], devdoc: ['devdoc'], hashes: ['evm.methodIdentifiers'],
  metadata: ['metadata'], 'storage-layout': ['storageLayout'], opcodes: ['evm.bytecode.opcodes'],
  asm: ['evm.legacyAssembly'],
};

function combinedJson(opts) {
  const sources = {};
  for (const file of opts.files) sources[sourceKey(file, opts)] = { content: fs.readFileSync(file, 'utf8') };
  const outputs = new Set();
  for (const item of opts.combined) {
    if (item === 'ast') continue;
    const sel = COMBINED_SELECTION[item];
    if (!sel) throw new Error(`unsupported --combined-json item ${item}`);
    sel.forEach((s) => outputs.add(s));
  }
  const settings = {
    remappings: opts.remaps,
    optimizer: { enabled: !!opts.optimize, runs: opts.optimizeRuns || 200 },
    outputSelection: { '*': { '*': [...outputs], '': opts.combined.includes('ast') ? ['ast'] : [] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  if (opts.viaIR) settings.viaIR = true;
  const out = JSON.parse(compile(JSON.stringify({ language: 'Solidity', sources, settings }), opts));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  for (const e of out.errors || []) writeAll(2, (e.formattedMessage || e.message) + '\n');
  if (errors.length) {
    process.exitCode = 1;
    return;
  }
  const result = { contracts: {}, sourceList: Object.keys(out.sources || {}), version: require(SOLC_MODULE).version() };
  for (const [file, contracts] of Object.entries(out.contracts || {})) {
    for (const [name, c] of Object.entries(contracts)) {
      const entry = {};
      for (const item of opts.combined) {
        if (item === 'ast') continue;
        const value = COMBINED_SELECTION[item][0].split('.').reduce((o, k) => (o ? o[k] : undefined), c);
        entry[item] = item === 'metadata' && typeof value !== 'string' ? JSON.stringify(value) : value;
      }
      result.contracts[`${file}:${name}`] = entry;
    }
  }
  if (opts.combined.includes('ast')) {
    result.sources = {};
    for (const [file, s] of Object.entries(out.sources || {})) result.sources[file] = { AST: s.ast };
  }
  writeAll(1, JSON.stringify(result));
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    return fail(e.message, 2);
  }
  if (opts.version) {
    const solc = require(SOLC_MODULE);
    return writeAll(1, `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  }
  try {
    if (opts.standardJson) return standardJson(opts);
    if (opts.combined) return combinedJson(opts);
  } catch (e) {
    return fail(e.message, 1);
  }
  return fail('nothing to do: pass --version, --standard-json or --combined-json', 2);
}

main();
