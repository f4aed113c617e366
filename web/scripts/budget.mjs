// Budget check: the first load of the auction room (index.html's entry JS and CSS, everything it
// imports statically, plus the RoomPage chunk and its static imports and CSS) must be at most
// 60 KiB of gzipped JS + CSS. Reads Vite's manifest (web/.build/manifest.json) and dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const LIMIT = 60 * 1024;
const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(web, process.argv[2] ?? 'dist');
const manifestPath = join(web, '.build', 'manifest.json');
if (!existsSync(manifestPath)) {
  console.error('budget: no build manifest; run `npm run build` first');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));

function collect(key, files, seen) {
  if (seen.has(key)) return;
  seen.add(key);
  const e = manifest[key];
  if (!e) throw new Error('budget: not in the manifest: ' + key);
  files.add(e.file);
  for (const c of e.css ?? []) files.add(c);
  for (const i of e.imports ?? []) collect(i, files, seen);
}

function gz(file) {
  const p = join(dist, file);
  return existsSync(p + '.gz') ? readFileSync(p + '.gz').length : gzipSync(readFileSync(p), { level: constants.Z_BEST_COMPRESSION }).length;
}

function measure(keys) {
  const files = new Set();
  const seen = new Set();
  for (const k of keys) collect(k, files, seen);
  const rows = [...files].filter((f) => /\.(js|css)$/.test(f)).map((f) => [f, gz(f)]);
  return { rows, total: rows.reduce((a, [, n]) => a + n, 0) };
}

const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
const room = Object.keys(manifest).find((k) => k.endsWith('src/room/RoomPage.tsx'));
if (!entry || !room) {
  console.error('budget: entry or room chunk missing from the manifest');
  process.exit(2);
}
const shell = measure([entry]);
const first = measure([entry, room]);
const kib = (n) => (n / 1024).toFixed(1) + ' KiB';
for (const [f, n] of first.rows.sort((a, b) => b[1] - a[1])) console.log(`  ${kib(n).padStart(9)}  ${f}`);
console.log(`budget: app shell ${kib(shell.total)} gz; first load of the room ${kib(first.total)} gz (limit ${kib(LIMIT)})`);
if (first.total > LIMIT) {
  console.error('budget: FAILED — the room’s first load is over 60 KiB gzipped');
  process.exit(1);
}
console.log('budget: ok');
