// Patient portal, "My records": the patient's own records at a hospital, downloaded through the hospital's
// record gateway (docs/RECORD-EXCHANGE.md), decrypted and checked here in the browser.
//   1. Each request gets a fresh secp256k1 key pair (eciesjs, eciespy 0.4's scheme) and a random request id;
//      the wallet signs the EIP-712 RecordListRequest / RecordRequest (eth_signTypedData_v4) with the domain
//      and types the server hands over (medchain.gateway.messages), requester = the patient, accessTx zero.
//   2. The portal server forwards the signed request to the gateway and returns its answer: ciphertext.
//   3. The answer is decrypted with the request's key; a listing's openings must be the patient's and
//      recompute their leaf (DESIGN §6.3, §6.5); a record must hash (DESIGN §6.6) to its opening's record
//      hash, and the chain must say that hospital anchored it. Only then is it offered as a file.
// The plaintext never leaves the browser.
import { AbiCoder, PrivateKey, decrypt, getAddress, keccak256 } from './vendor/gateway-crypto.js';
import { METHOD_BYTES, METHOD_FHIR, hashRecord, sha256 } from './recordhash.js';
import { ApiError, api, bi, clearMessage, el, facts, say, setState, short } from './common.js';

const ZERO32 = `0x${'00'.repeat(32)}`;
const LIST_FORMAT = 'medchain-gateway-list/1';
const RECORD_FORMAT = 'medchain-gateway-record/1';
const coder = AbiCoder.defaultAbiCoder();
const $ = id => document.getElementById(id);

// A gateway answer that fails a check: nothing is offered.
class Unverified extends Error {}

const ctx = { config: null, account: () => null, wallet: () => null, onWalletError: null, busy: false, links: [] };

function hex(bytes) {
  return `0x${[...bytes].map(b => b.toString(16).padStart(2, '0')).join('')}`;
}

function unbase64(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
  return out;
}

// DESIGN §6.3: keccak256(abi.encode(address patient, bytes32 salt))
export function commitmentOf(patient, salt) {
  return keccak256(coder.encode(['address', 'bytes32'], [patient, salt]));
}

// DESIGN §6.5: the OpenZeppelin StandardMerkleTree leaf of (recordHash, commitment, dataClass)
export function leafOf(recordHash, commitment, dataClass) {
  return keccak256(keccak256(coder.encode(['bytes32', 'bytes32', 'uint8'], [recordHash, commitment, dataClass])));
}

function gatewayConfig() {
  return ctx.config && ctx.config.gateway;
}

function hospitalName(address) {
  const found = gatewayConfig().hospitals.find(h => h.hospital === address);
  return found && found.name ? found.name : short(address);
}

function className(bit) {
  const known = ctx.config.classes.find(c => c.bit === bit);
  return known ? `${known.zh} ${known.name}` : String(bit);
}

// The typed data of one request, signed in the wallet; null when the patient refused (message shown).
async function sign(primaryType, message) {
  const g = gatewayConfig();
  const typedData = {
    types: { EIP712Domain: g.types.EIP712Domain, [primaryType]: g.types[primaryType] },
    primaryType,
    domain: g.domain,
    message,
  };
  try {
    const signature = await ctx.wallet().request({
      method: 'eth_signTypedData_v4', params: [ctx.account(), JSON.stringify(typedData)],
    });
    return { typedData, signature };
  } catch (err) {
    ctx.onWalletError(err, { zh: '签名请求', en: 'signature request' });
    return null;
  }
}

// Sign a request with fresh responseKey / requestId, have the portal forward it, open the answer.
// Returns the decrypted envelope, or null after showing why there is none.
async function exchange(kind, primaryType, fields, hospital, format) {
  const g = gatewayConfig();
  const key = new PrivateKey();
  const requestId = hex(crypto.getRandomValues(new Uint8Array(32)));
  const message = {
    requester: getAddress(ctx.account()),
    ...fields,
    responseKey: hex(key.publicKey.toBytes(true)),
    requestId,
    expiresAt: Math.floor(Date.now() / 1000) + g.lifetime,
  };
  const signed = await sign(primaryType, message);
  if (!signed) return null;
  let answer;
  try {
    answer = await api(`/api/portal/gateway/${kind}`, { hospital, ...signed });
  } catch (err) {
    gatewayProblem(err, hospital);
    return null;
  }
  let envelope;
  try {
    envelope = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(decrypt(key.secret, unbase64(answer.data))));
  } catch (err) {
    throw new Unverified(`the answer cannot be decrypted with this request's key (${err.message || err})`);
  }
  if (!envelope || envelope.format !== format) throw new Unverified(`the answer is not a ${format} envelope`);
  if (envelope.requestId !== requestId) throw new Unverified('the answer is for another request (requestId)');
  return envelope;
}

function gatewayProblem(err, hospital) {
  const name = hospitalName(hospital);
  if (err instanceof ApiError && err.code === 'gateway-down') {
    say('danger', 'gateway-down', `${name} 的病历网关无法访问,未下载任何内容。请稍后再试。`,
      `${name}'s record gateway cannot be reached; nothing was downloaded. Try again later.`, err.message);
    setState('gateway-down');
  } else if (err instanceof ApiError && err.code === 'gateway-refused') {
    say('danger', 'gateway-refused', `${name} 的病历网关拒绝了请求。`, `${name}'s record gateway refused the request.`,
      err.message);
    setState('gateway-refused');
  } else if (err instanceof ApiError && err.code === 'rate-limited') {
    say('warn', 'rate-limited', '请求过于频繁,请稍候再试。', 'Too many requests; wait a moment and try again.', err.message);
    setState('rate-limited');
  } else if (err instanceof ApiError && err.code === 'unreachable') {
    say('danger', 'portal-down', '无法连接门户服务器,未发送任何内容。', 'The portal server cannot be reached; nothing was sent.',
      err.message);
    setState('error');
  } else {
    say('danger', 'refused', '请求被拒绝。', 'The request was refused.', String(err && err.message || err));
    setState('error');
  }
}

function unverified(err) {
  say('danger', 'verify-failed', '收到的内容未通过核对(无法解密或与链上记录不符),已丢弃,未保存任何内容。',
    'What the gateway sent failed its check (cannot be decrypted, or does not match the chain); it was '
    + 'discarded and nothing was saved.', err.message);
  setState('verify-failed');
}

async function guarded(work) {
  if (ctx.busy) return;
  ctx.busy = true;
  clearMessage();
  setState('working');
  try {
    await work();
  } catch (err) {
    if (err instanceof Unverified) unverified(err);
    else gatewayProblem(err, $('gateway-hospital').value);
  } finally {
    ctx.busy = false;
  }
}

// ---- listing ----

function checkOpening(entry, patient) {
  if (typeof entry !== 'object' || !entry) throw new Unverified('the listing holds a malformed entry');
  if (getAddress(entry.patient) !== patient) throw new Unverified(`the listing holds a record of ${entry.patient}`);
  const commitment = commitmentOf(entry.patient, entry.salt);
  const leaf = leafOf(entry.recordHash, commitment, entry.dataClass);
  if (leaf !== String(entry.leaf).toLowerCase()) {
    throw new Unverified(`the opening of ${entry.leaf} does not recompute its leaf (${leaf})`);
  }
  return { ...entry, commitment, leaf };
}

async function listRecords() {
  const hospital = $('gateway-hospital').value;
  if (!hospital) return;
  await guarded(async () => {
    const patient = getAddress(ctx.account());
    const envelope = await exchange('records', 'RecordListRequest',
      { patient, purpose: gatewayConfig().purpose }, hospital, LIST_FORMAT);
    if (!envelope) return;
    if (getAddress(envelope.patient) !== patient) throw new Unverified(`the listing is of ${envelope.patient}`);
    const entries = (envelope.entries || []).map(e => checkOpening(e, patient));
    showListing(hospital, entries);
    document.body.dataset.listed = String(entries.length);
    say('ok', 'listed', `${hospitalName(hospital)} 有您的 ${entries.length} 份病历。`,
      `${hospitalName(hospital)} holds ${entries.length} record(s) of yours.`);
    setState('listed');
  });
}

function showListing(hospital, entries) {
  for (const url of ctx.links.splice(0)) URL.revokeObjectURL(url);
  $('gateway-records').replaceChildren(...(entries.length ? entries.map(entry =>
    el('li', { class: 'record', dataset: { leaf: entry.leaf, recordHash: entry.recordHash } },
      el('strong', {}, `${className(entry.dataClass)} · ${entry.contentType || ''}`),
      facts([
        [bi('病历哈希', 'Record hash'), el('code', {}, entry.recordHash)],
        [bi('方式', 'How'), entry.root ? bi('批量(Merkle 证明)', 'Batch (Merkle proof)') : bi('单条', 'Single')],
      ]),
      el('p', { class: 'actions' },
        el('button', { type: 'button', class: 'download', onclick: event => download(hospital, entry, event.target) },
          '在钱包中签名并下载 · Sign in wallet and download'))))
    : [el('li', { class: 'empty' }, bi('该医院没有您的病历。', 'This hospital holds no record of yours.'))]));
}

// ---- one record ----

async function contentHash(method, content) {
  if (method === METHOD_BYTES) return sha256(content);
  if (method === METHOD_FHIR) {
    try {
      return (await hashRecord(content, { pasted: true })).recordHash;
    } catch (err) {
      throw new Unverified(`the record is not FHIR JSON (${err.message})`);
    }
  }
  throw new Unverified(`unknown hash method ${JSON.stringify(method)}`);
}

function safeSuffix(suffix) {
  return typeof suffix === 'string' && /^\.[A-Za-z0-9]{1,11}$/.test(suffix) ? suffix : '';
}

async function download(hospital, entry, button) {
  await guarded(async () => {
    const envelope = await exchange('fetch', 'RecordRequest',
      { leaf: entry.leaf, purpose: gatewayConfig().purpose, accessTx: ZERO32 }, hospital, RECORD_FORMAT);
    if (!envelope) return;
    if (String(envelope.leaf).toLowerCase() !== entry.leaf) throw new Unverified(`the gateway sent record ${envelope.leaf}`);
    const content = unbase64(String(envelope.content || ''));
    const digest = await contentHash(envelope.hashMethod, content);
    if (digest !== entry.recordHash.toLowerCase()) {
      throw new Unverified(`the record hashes to ${digest}, not to the anchored ${entry.recordHash}`);
    }
    const anchor = await api('/api/portal/anchored', {
      hospital, recordHash: entry.recordHash, commitment: entry.commitment, dataClass: entry.dataClass,
      root: entry.root || null, proof: entry.proof || [],
    });
    if (!anchor.anchored || anchor.leaf !== entry.leaf) {
      throw new Unverified(`record ${entry.leaf} is not anchored on chain by ${hospitalName(hospital)}`);
    }
    const name = `${entry.recordHash}${safeSuffix(envelope.suffix)}`;
    const blob = new Blob([content], { type: envelope.contentType || 'application/octet-stream' });
    const url = URL.createObjectURL(blob);
    ctx.links.push(url);
    const item = button.closest('li');
    item.classList.add('ok');
    item.dataset.verified = 'true';
    button.replaceWith(el('span', { class: 'verified' },
      el('a', { href: url, download: name, class: 'save' }, `保存文件 · Save ${name.slice(0, 10)}…${name.slice(-10)}`),
      el('span', { class: 'hint' }, ` ✓ ${envelope.hashMethod} = ${short(entry.recordHash)} · `,
        anchor.how === 'batch' ? bi('批量登记于', 'batch-anchored by') : bi('登记于', 'anchored by'),
        ` ${hospitalName(hospital)}`)));
    say('ok', 'downloaded', '病历已下载并核对:与链上登记的哈希一致。点击“保存文件”。',
      `Record downloaded and checked: it matches the hash anchored on chain (${content.length} bytes). `
      + 'Click "Save".');
    setState('downloaded');
  });
}

// Called by portal.js once /api/portal/config is loaded.
export function setupRecords({ config, account, wallet, onWalletError }) {
  Object.assign(ctx, { config, account, wallet, onWalletError });
  const g = config.gateway;
  const select = $('gateway-hospital');
  const button = $('gateway-list');
  if (!g || !g.hospitals.length) {
    button.disabled = true;
    select.disabled = true;
    $('gateway-records').replaceChildren(el('li', { class: 'empty' },
      bi('没有医院公布病历网关。', 'No hospital publishes a record gateway.')));
    return;
  }
  select.replaceChildren(...g.hospitals.map(h => el('option', { value: h.hospital }, `${h.name || short(h.hospital)} · ${short(h.hospital)}`)));
  button.addEventListener('click', listRecords);
  select.addEventListener('change', () => $('gateway-records').replaceChildren());
}
