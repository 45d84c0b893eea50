// Patient portal: connect an EIP-1193 wallet, show consents / history / disclosures, grant and revoke.
// The wallet signs DESIGN §6.4 typed data (eth_signTypedData_v4) built by the server from the chain; the
// hospital running the portal relays it, or the patient sends the same change as an own transaction.
// "My records" (evidence packages, and downloads through the hospitals' record gateways): portal-records.js.
import {
  ApiError, api, bi, clearMessage, el, evidenceView, facts, readJsonFile, say, setState, short, when,
} from './common.js';
import { setupRecords } from './portal-records.js';

const POLL_MS = 4000;
const CATEGORY_ZH = {
  consent: '授权', signature: '签名', guardian: '监护人', emergency: '紧急访问', access: '访问病历',
  record: '病历', policy: '保单', claim: '理赔', payout: '赔付', reserve: '准备金', member: '成员',
};
const $ = id => document.getElementById(id);
const state = { config: null, account: null, chainOk: false, busy: false, timer: null };

function wallet() {
  return window.ethereum;
}

function isRejection(err) {
  return err && (err.code === 4001 || err.code === 'ACTION_REJECTED');
}

function walletError(err, what) {
  if (isRejection(err)) {
    say('warn', 'rejected', `您在钱包中拒绝了${what.zh},未发送任何内容。`,
      `You rejected the ${what.en} in your wallet; nothing was sent.`);
    setState('rejected');
  } else {
    say('danger', 'wallet-error', '钱包出错,未发送任何内容。', 'The wallet reported an error; nothing was sent.',
      String(err && err.message || err));
    setState('error');
  }
}

function apiProblem(err) {
  if (err instanceof ApiError && err.code === 'unreachable') {
    say('danger', 'relay-down', '医院的中继服务无法访问,未发送任何内容。您可以改用自己的交易。',
      'The hospital relay cannot be reached; nothing was relayed. You can send your own transaction instead.',
      err.message);
    setState('relay-down');
  } else if (err instanceof ApiError && err.code === 'expired') {
    say('danger', 'expired', '签名已过期,未转发。请重新签名。',
      'The signature has expired and was not relayed. Please sign again.', err.message);
    setState('expired');
  } else if (err instanceof ApiError && err.code === 'config') {
    say('warn', 'no-relay', '此门户不代发签名,请用您自己的交易。',
      'This portal does not relay signatures: send your own transaction.', err.message);
    setState('error');
  } else {
    say('danger', 'refused', '操作被拒绝,链上没有变化。', 'The request was refused; nothing changed on chain.',
      String(err && err.message || err));
    setState('error');
  }
}

async function loadConfig() {
  const config = await api('/api/portal/config');
  state.config = config;
  const grantee = $('grantee');
  grantee.replaceChildren(...config.members.map(m =>
    el('option', { value: m.address }, `${m.name || short(m.address)} · ${m.roles.join(', ')} · ${short(m.address)}`)));
  $('purpose').replaceChildren(...config.purposes.map(p => el('option', { value: p.code }, `${p.zh} · ${p.name}`)));
  $('classes').append(...config.classes.map(c =>
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'class', value: c.bit }),
      ` ${c.zh} `, el('span', { class: 'code' }, c.name.replaceAll('_', ' ')))));
  if (!config.relayer) {
    $('via-relay').disabled = true;
    $('via-wallet').checked = true;
  }
  setupRecords({ config, account: () => state.account, wallet, onWalletError: walletError });
}

async function connect() {
  clearMessage();
  const provider = wallet();
  if (!provider) {
    say('warn', 'no-wallet', '未检测到浏览器钱包。请安装或打开支持 EIP-1193 的钱包(如 MetaMask)。',
      'No browser wallet found. Install or unlock an EIP-1193 wallet such as MetaMask.');
    setState('no-wallet');
    return;
  }
  let accounts;
  try {
    accounts = await provider.request({ method: 'eth_requestAccounts' });
  } catch (err) {
    walletError(err, { zh: '连接请求', en: 'connection request' });
    return;
  }
  if (!accounts || !accounts.length) {
    say('warn', 'no-account', '钱包没有提供账户。', 'The wallet gave no account.');
    return;
  }
  state.account = accounts[0];
  if (!state.listening && provider.on) {
    provider.on('chainChanged', chainId => checkChain(chainId));
    provider.on('accountsChanged', list => { if (list && list.length) { state.account = list[0]; checkChain(); } });
    state.listening = true;
  }
  await checkChain();
}

async function checkChain(chainId) {
  const provider = wallet();
  const id = chainId ?? await provider.request({ method: 'eth_chainId' });
  const want = state.config.chainId;
  const ok = Number.parseInt(id, 16) === want;
  state.chainOk = ok;
  $('wallet-status').replaceChildren(
    facts([
      [bi('账户', 'Account'), el('code', { id: 'account' }, state.account)],
      [bi('链', 'Chain'), `${Number.parseInt(id, 16)}`],
    ]));
  $('switch-chain').hidden = ok;
  $('connect').hidden = true;
  for (const id2 of ['grant', 'consents', 'history', 'disclosures', 'records']) $(id2).hidden = !ok;
  if (!ok) {
    stopPolling();
    say('danger', 'wrong-chain', `钱包连接的是链 ${Number.parseInt(id, 16)},本门户使用链 ${want}。请在钱包中切换网络。`,
      `Your wallet is on chain ${Number.parseInt(id, 16)}; this portal uses chain ${want}. Switch the network in your wallet.`);
    setState('wrong-chain');
    return false;
  }
  if (!state.busy) clearMessage();
  await refresh();
  if (!state.busy) setState('connected');
  startPolling();
  return true;
}

async function switchChain() {
  try {
    await wallet().request({ method: 'wallet_switchEthereumChain', params: [{ chainId: state.config.chainIdHex }] });
  } catch (err) {
    walletError(err, { zh: '切换网络', en: 'network switch' });
    return;
  }
  await checkChain();
}

function startPolling() {
  stopPolling();
  state.timer = setInterval(() => { if (!state.busy) refresh().catch(() => {}); }, POLL_MS);
}

function stopPolling() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

function purposeText(code, name) {
  const known = state.config && state.config.purposes.find(p => p.code === code);
  return known ? `${known.zh} ${name}` : name;
}

function consentItem(c) {
  const validity = c.valid_until ? `${when(c.valid_from || c.granted_at)} → ${when(c.valid_until)}` : `${when(c.valid_from || c.granted_at)} →`;
  const statusText = { active: bi('生效中', 'in force'), pending: bi('尚未生效', 'not yet in force'),
    expired: bi('已过期', 'expired'), revoked: bi('已撤销', 'revoked') }[c.status] || c.status;
  return el('li', { class: `consent ${c.status}`, dataset: { grantee: c.grantee, purpose: c.purpose, status: c.status } },
    el('strong', {}, `${c.granteeName || short(c.grantee)} · ${purposeText(c.purpose, c.purpose_name)}`),
    facts([
      [bi('状态', 'Status'), statusText],
      [bi('数据类别', 'Data classes'), c.class_names.join(', ')],
      [bi('有效期', 'Valid'), validity],
      c.revoked_at ? [bi('撤销于', 'Revoked at'), when(c.revoked_at)] : null,
    ].filter(Boolean)),
    c.status === 'active' || c.status === 'pending'
      ? el('button', { type: 'button', class: 'revoke', onclick: () => change('revoke', { grantee: c.grantee, purpose: c.purpose }) },
        '撤销 · Revoke')
      : null);
}

async function refresh() {
  if (!state.account || !state.chainOk) return;
  const [info, report] = await Promise.all([
    api(`/api/portal/patient/${state.account}`),
    api(`/api/portal/patient/${state.account}/disclosures`),
  ]);
  const live = info.consents.filter(c => c.status === 'active' || c.status === 'pending');
  $('consent-list').replaceChildren(...(live.length ? live.map(consentItem)
    : [el('li', { class: 'empty' }, bi('目前没有生效的授权。', 'No consent in force.'))]));
  const past = info.consents.filter(c => !(c.status === 'active' || c.status === 'pending'));
  const events = info.history.slice().reverse().map(h =>
    el('li', { dataset: { event: h.event } }, el('span', { class: 'meta' }, `${when(h.time)} · #${h.block}`), ` ${h.summary}`));
  $('history-list').replaceChildren(...past.map(consentItem), ...events);
  if (!past.length && !events.length) {
    $('history-list').append(el('li', { class: 'empty' }, bi('暂无记录。', 'Nothing recorded yet.')));
  }
  $('disclosure-list').replaceChildren(...(report.entries.length ? report.entries.slice().reverse().map(e =>
    el('li', { class: e.category, dataset: { tx: e.tx, event: e.event } },
      el('span', { class: 'meta' }, `${e.time} · ${CATEGORY_ZH[e.category] || ''} ${e.category}`),
      el('span', { class: 'summary' }, e.summary)))
    : [el('li', { class: 'empty' }, bi('暂无记录。', 'Nothing recorded yet.'))]));
  $('disclosures-status').textContent =
    `已同步至区块 ${report.indexedToBlock},每 ${POLL_MS / 1000} 秒刷新 · Indexed to block ${report.indexedToBlock}; refreshes every ${POLL_MS / 1000} s`;
  document.body.dataset.disclosures = String(report.entries.length);
}

function grantRequest() {
  const classes = [...document.querySelectorAll('input[name=class]:checked')].reduce((acc, box) => acc | (1 << Number(box.value)), 0);
  if (!classes) throw new ApiError('choose at least one data class', 'input', 0);
  const until = $('valid-until').value;
  return {
    grantee: $('grantee').value,
    purpose: Number($('purpose').value),
    dataClasses: classes,
    validFrom: 0,
    validUntil: until ? Math.floor(Date.parse(`${until}T23:59:59Z`) / 1000) : 0,
  };
}

async function waitReceipt(hash) {
  for (let i = 0; i < 120; i += 1) {
    const receipt = await wallet().request({ method: 'eth_getTransactionReceipt', params: [hash] });
    if (receipt) return receipt;
    await new Promise(resolve => setTimeout(resolve, 500));
  }
  throw new Error(`no receipt for ${hash} after 60 s`);
}

function showTx(action, tx, block, by) {
  $('last-tx').hidden = false;
  $('last-tx-body').replaceChildren(...facts([
    [bi('操作', 'Action'), action === 'grant' ? bi('授权', 'grant') : bi('撤销', 'revoke')],
    [bi('交易', 'Transaction'), el('code', { id: 'tx-hash' }, tx)],
    [bi('区块', 'Block'), String(block)],
    [bi('发送者', 'Sent by'), by],
  ]).childNodes);
}

async function change(action, params) {
  if (state.busy) return;
  clearMessage();
  let body;
  try {
    body = { action, patient: state.account, ...(action === 'grant' ? grantRequest() : params) };
  } catch (err) {
    apiProblem(err);
    return;
  }
  state.busy = true;
  setState('working');
  try {
    if (!(await checkChain())) return;
    const prepared = await api('/api/portal/prepare', body);
    const via = document.querySelector('input[name=via]:checked').value;
    if (via === 'wallet') {
      let hash;
      try {
        hash = await wallet().request({ method: 'eth_sendTransaction', params: [prepared.call] });
      } catch (err) {
        walletError(err, { zh: '交易', en: 'transaction' });
        return;
      }
      const receipt = await waitReceipt(hash);
      if (receipt.status !== '0x1' && receipt.status !== 1) {
        say('danger', 'reverted', '交易失败(已回滚)。', 'The transaction failed (reverted).', hash);
        setState('error');
        return;
      }
      showTx(action, hash, Number.parseInt(receipt.blockNumber, 16), bi('您自己的交易', 'your own transaction'));
    } else {
      let signature;
      try {
        signature = await wallet().request({
          method: 'eth_signTypedData_v4', params: [state.account, JSON.stringify(prepared.typedData)],
        });
      } catch (err) {
        walletError(err, { zh: '签名请求', en: 'signature request' });
        return;
      }
      let result;
      try {
        result = await api('/api/portal/relay', { typedData: prepared.typedData, signature });
      } catch (err) {
        apiProblem(err);
        return;
      }
      showTx(action, result.tx, result.block, `医院中继 · hospital relayer ${short(result.relayer)}`);
    }
    await refresh();
    say('ok', action === 'grant' ? 'granted' : 'revoked', action === 'grant' ? '已授权,链上已更新。' : '已撤销,链上已更新。',
      action === 'grant' ? 'Consent granted; the chain is updated.' : 'Consent revoked; the chain is updated.');
    setState(action === 'grant' ? 'granted' : 'revoked');
  } catch (err) {
    apiProblem(err);
  } finally {
    state.busy = false;
  }
}

async function checkEvidence(event) {
  const file = event.target.files[0];
  if (!file) return;
  clearMessage();
  try {
    const evidence = await readJsonFile(file);
    const result = await api('/api/check/evidence', evidence);
    $('record-list').prepend(evidenceView(evidence, result));
  } catch (err) {
    apiProblem(err);
  } finally {
    event.target.value = '';
  }
}

async function main() {
  $('connect').addEventListener('click', connect);
  $('switch-chain').addEventListener('click', switchChain);
  $('grant-form').addEventListener('submit', event => { event.preventDefault(); change('grant'); });
  $('evidence-file').addEventListener('change', checkEvidence);
  try {
    await loadConfig();
  } catch (err) {
    say('danger', 'unavailable', '门户暂时无法使用(无法读取区块链)。', 'The portal is unavailable (cannot read the chain).', err.message);
    setState('unavailable');
    return;
  }
  setState(wallet() ? 'ready' : 'no-wallet');
  if (!wallet()) {
    say('warn', 'no-wallet', '未检测到浏览器钱包。请安装或打开支持 EIP-1193 的钱包(如 MetaMask)。',
      'No browser wallet found. Install or unlock an EIP-1193 wallet such as MetaMask.');
  }
}

main();
