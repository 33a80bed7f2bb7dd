#!/usr/bin/env node
// Compiles contracts/src/ModelMarketplace.sol with the npm `solc` package (same settings as contracts/foundry.toml)
// and writes colearn_jupyter/artifacts/ModelMarketplace.json:
//   {contractName, compiler, sourcesSha256, abi, bytecode, deployedBytecode, rowCheckerAbi}
// The marketplace creates its ChallengeGame module and RowChecker in its constructor, so its bytecode is the only
// one to deploy; the RowChecker's ABI is shipped for clients that check rows with it. The build fails when the
// deployed code exceeds the 24,576-byte limit of EIP-170.
// `sourcesSha256` digests every .sol file under contracts/src (see `sourcesSha256` below); the Python tests
// recompute it to detect a stale artifact.
//
// Usage (from anywhere): node scripts/build-contracts.mjs
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const solc = require('solc');

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONTRACTS_DIR = path.join(REPO_ROOT, 'contracts');
const SRC_DIR = path.join(CONTRACTS_DIR, 'src');
const NODE_MODULES = path.join(REPO_ROOT, 'node_modules');
const ARTIFACTS_DIR = path.join(REPO_ROOT, 'colearn_jupyter', 'artifacts');

const CONTRACT_NAME = 'ModelMarketplace';
const SOURCE_UNIT = `src/${CONTRACT_NAME}.sol`;

/** Relative paths ('/' separated) of the .sol files under `dir`, recursively. */
function solidityFiles(dir, prefix = '') {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix + entry.name;
    if (entry.isDirectory()) return solidityFiles(path.join(dir, entry.name), `${relative}/`);
    return entry.isFile() && entry.name.endsWith('.sol') ? [relative] : [];
  });
}

/** sha256 over the sorted files: utf8(relativePath) + "\0" + bytes + "\0" for each. */
function sourcesSha256(dir) {
  const hash = createHash('sha256');
  for (const relative of solidityFiles(dir).sort()) {
    hash.update(Buffer.from(relative, 'utf8'));
    hash.update('\0');
    hash.update(fs.readFileSync(path.join(dir, ...relative.split('/'))));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Import callback: paths relative to contracts/, the repo root, then node_modules (for @openzeppelin). */
function findImports(importPath) {
  for (const base of [CONTRACTS_DIR, REPO_ROOT, NODE_MODULES]) {
    const candidate = path.resolve(base, importPath);
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
  }
  return { error: `File not found: ${importPath}` };
}

function compile() {
  const input = {
    language: 'Solidity',
    sources: { [SOURCE_UNIT]: { content: fs.readFileSync(path.join(CONTRACTS_DIR, SOURCE_UNIT), 'utf8') } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'shanghai',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const diagnostics = output.errors ?? [];
  for (const diagnostic of diagnostics) process.stderr.write(`${diagnostic.formattedMessage ?? diagnostic.message}\n`);
  if (diagnostics.some((diagnostic) => diagnostic.severity === 'error')) {
    throw new Error(`compilation of ${SOURCE_UNIT} failed`);
  }
  return output.contracts;
}

const MAX_DEPLOYED_BYTES = 24576; // EIP-170
const MAX_INITCODE_BYTES = 49152; // EIP-3860

function main() {
  const contracts = compile();
  const contract = contracts[SOURCE_UNIT][CONTRACT_NAME];
  const checker = contracts['src/RowChecker.sol'].RowChecker;
  const artifact = {
    contractName: CONTRACT_NAME,
    compiler: solc.version(),
    sourcesSha256: sourcesSha256(SRC_DIR),
    abi: contract.abi,
    bytecode: `0x${contract.evm.bytecode.object}`,
    deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
    rowCheckerAbi: checker.abi,
  };
  if (artifact.abi.length === 0 || artifact.bytecode === '0x') throw new Error('empty ABI or bytecode');

  const deployed = (artifact.deployedBytecode.length - 2) / 2;
  const initcode = (artifact.bytecode.length - 2) / 2;
  if (deployed > MAX_DEPLOYED_BYTES || initcode > MAX_INITCODE_BYTES) {
    throw new Error(`${CONTRACT_NAME} is too large: ${deployed} bytes deployed (limit ${MAX_DEPLOYED_BYTES}), ` +
      `${initcode} bytes of initcode (limit ${MAX_INITCODE_BYTES})`);
  }
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const target = path.join(ARTIFACTS_DIR, `${CONTRACT_NAME}.json`);
  fs.writeFileSync(target, `${JSON.stringify(artifact, null, 1)}\n`);
  process.stdout.write(`wrote ${path.relative(process.cwd(), target)} (${artifact.abi.length} ABI entries, ` +
    `${deployed} bytes deployed, ${initcode} bytes of initcode)\n`);
}

main();
