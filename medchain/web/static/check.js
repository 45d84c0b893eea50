// Record check page: the record hash is computed here, in the browser (the file is never uploaded), by
// recordhash.js (the same as `medchain records hash`); only the hash is sent to look it up on chain.
import { hashRecord } from './recordhash.js';
import {
  api, bi, clearMessage, el, evidenceView, facts, readJsonFile, say, setState, short, when,
} from './common.js';

const $ = id => document.getElementById(id);

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
