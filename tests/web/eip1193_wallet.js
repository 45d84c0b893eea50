// A test EIP-1193 wallet injected into the page (Playwright add_init_script) after ethers v6 (node_modules).
// It signs with a test key through ethers; window.__walletConfig = {key, chainId} comes first. Like a real
// wallet extension it talks to the node outside the page (the page's CSP allows no other origin): through
// window.__walletRpc(method, params), a Playwright binding that forwards JSON-RPC to Anvil.
// Test knobs on window.__wallet: chainId (what eth_chainId answers), reject (refuse signing / sending),
// advanceSeconds (move the chain's clock forward before signing, to expire a deadline); log lists every
// method asked, signed every typed data signed, sent every transaction hash sent.
(() => {
  const cfg = window.__walletConfig;
  const signer = new ethers.Wallet(cfg.key);
  const listeners = {};
  const state = { chainId: cfg.chainId, reject: false, advanceSeconds: 0, log: [], signed: [], sent: [] };
  const rejected = () => Object.assign(new Error('User rejected the request.'), { code: 4001 });

  async function rpc(method, params) {
    const doc = await window.__walletRpc(method, params);
    if (doc.error) throw Object.assign(new Error(doc.error.message), { code: doc.error.code });
    return doc.result;
  }

  async function sendTransaction({ to, data }) {
    const from = signer.address;
    const nonce = Number.parseInt(await rpc('eth_getTransactionCount', [from, 'pending']), 16);
    const gas = BigInt(await rpc('eth_estimateGas', [{ from, to, data }]));
    const block = await rpc('eth_getBlockByNumber', ['latest', false]);
    const tip = 10n ** 9n;
    const raw = await signer.signTransaction({
      type: 2, chainId: cfg.chainId, nonce, to, data, value: 0n, gasLimit: (gas * 12n) / 10n,
      maxFeePerGas: BigInt(block.baseFeePerGas) * 2n + tip, maxPriorityFeePerGas: tip,
    });
    return rpc('eth_sendRawTransaction', [raw]);
  }

  function emit(event, value) {
    for (const fn of listeners[event] || []) fn(value);
  }

  window.ethereum = {
    async request({ method, params = [] }) {
      state.log.push(method);
      switch (method) {
        case 'eth_requestAccounts':
        case 'eth_accounts':
          return [signer.address];
        case 'eth_chainId':
          return '0x' + state.chainId.toString(16);
        case 'wallet_switchEthereumChain':
          state.chainId = Number.parseInt(params[0].chainId, 16);
          emit('chainChanged', params[0].chainId);
          return null;
        case 'eth_signTypedData_v4': {
          if (state.reject) throw rejected();
          const [address, json] = params;
          if (address.toLowerCase() !== signer.address.toLowerCase()) throw new Error(`unknown account ${address}`);
          const data = JSON.parse(json);
          const types = { ...data.types };
          delete types.EIP712Domain;
          if (state.advanceSeconds) {
            await rpc('evm_increaseTime', [state.advanceSeconds]);
            await rpc('evm_mine', []);
          }
          state.signed.push(data);
          return signer.signTypedData(data.domain, types, data.message);
        }
        case 'eth_sendTransaction': {
          if (state.reject) throw rejected();
          const hash = await sendTransaction(params[0]);
          state.sent.push(hash);
          return hash;
        }
        default:
          return rpc(method, params);
      }
    },
    on(event, fn) {
      (listeners[event] ||= []).push(fn);
    },
    removeListener(event, fn) {
      listeners[event] = (listeners[event] || []).filter(f => f !== fn);
    },
  };
  window.__wallet = state;
})();
