// Entry of static/vendor/gateway-crypto.js, bundled by esbuild at bootstrap (Makefile, web-vendor): the
// pieces of pinned npm packages the patient portal needs to talk to a record gateway (docs/RECORD-EXCHANGE.md).
//   - eciesjs 0.4.x: ECIES on secp256k1 with eciespy 0.4's defaults (65-byte ephemeral key, HKDF-SHA256,
//     AES-256-GCM with a 16-byte nonce), to make a one-request key pair and open the gateway's answer;
//   - ethers v6: ABI encoding and keccak256, to recompute a record's leaf from its opening (DESIGN §6.3/§6.5).
export { PrivateKey, decrypt, encrypt } from 'eciesjs';
export { AbiCoder, getAddress, keccak256 } from 'ethers';
