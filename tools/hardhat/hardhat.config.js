// Hardhat 3 node for MedChain (`medchain node start --client hardhat`, `make demo CHAIN=hardhat`).
// Started as `node <hardhat cli> node --hostname 127.0.0.1 --port N` from this folder with Node 22 (tools/node22).
// Only the simulated network is used: no compilation here (brownie builds the contracts, shanghai target).
const chainId = Number(process.env.MEDCHAIN_CHAIN_ID ?? "1337");

export default {
  networks: {
    node: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: "shanghai", // DESIGN §4: the newest rules every local client runs
      chainId,
      initialBaseFeePerGas: 0, // a free-gas chain, like the consortium's Besu network
      blockGasLimit: 30_000_000,
    },
  },
};
