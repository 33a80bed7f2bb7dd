#!/usr/bin/env node
/*
 * `jupyter labextension build .` with the project's venv: JUPYTER (default ../.venv/bin/jupyter) is run
 * with its own directory first on PATH, since JupyterLab 4.6 hands the build to `jupyter-builder`, looked
 * up on PATH. Extra arguments (e.g. `--development True`) are passed on. Then install.json is copied
 * next to the built package.json, so `jupyter labextension list` names the Python package that ships it.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const jupyter = path.resolve(root, process.env.JUPYTER || '../.venv/bin/jupyter');
const env = {
  ...process.env,
  PATH: [path.dirname(jupyter), process.env.PATH || ''].join(path.delimiter)
};
const args = ['labextension', 'build', ...process.argv.slice(2), root];
const result = spawnSync(jupyter, args, { stdio: 'inherit', env, cwd: root });
if (result.error) {
  console.error(`cannot run ${jupyter}: ${result.error.message} (set JUPYTER to your jupyter)`);
  process.exit(1);
}
if (result.status !== 0) {
  process.exit(result.status === null ? 1 : result.status);
}
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const outputDir = path.resolve(root, pkg.jupyterlab.outputDir);
fs.copyFileSync(path.join(root, 'install.json'), path.join(outputDir, 'install.json'));
