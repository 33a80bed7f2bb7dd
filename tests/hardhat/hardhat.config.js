// A second EVM implementation for the tests (tests/test_networks.py): `hardhat node` with the chain id the test
// asks for (HARDHAT_CHAIN_ID), mining every transaction at once, funding the same mnemonic's accounts as the devnet.
module.exports = {
  networks: {
    hardhat: {
      chainId: Number(process.env.HARDHAT_CHAIN_ID || 31337),
      mining: { auto: true },
    },
  },
};
