// `npm test` after the build: lint and the test suite at once (lint is CPU, the suite mostly
// waits on controllers), lint's report printed after the suite's; fails if either fails.
import { spawn } from 'node:child_process';
import path from 'node:path';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const lintOut = [];
const lint = new Promise((resolve) => {
  const p = spawn(npm, ['run', '--silent', 'lint'], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.on('data', (d) => lintOut.push(d));
  p.stderr.on('data', (d) => lintOut.push(d));
  p.on('close', (code) => resolve(code ?? 1));
});
const suite = new Promise((resolve) => {
  const p = spawn(path.join('node_modules', '.bin', process.platform === 'win32' ? 'vitest.cmd' : 'vitest'), ['run', ...process.argv.slice(2)], { stdio: 'inherit' });
  p.on('close', (code) => resolve(code ?? 1));
});
const [suiteCode, lintCode] = await Promise.all([suite, lint]);
process.stdout.write(Buffer.concat(lintOut));
console.log(lintCode === 0 ? 'lint: ok' : `lint: failed (exit ${lintCode})`);
process.exitCode = suiteCode || lintCode;
