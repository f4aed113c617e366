// After `vite build`: writes a .gz (zlib level 9) beside each js/css/html/svg/json/webmanifest
// file in the output directory (the server serves them to clients that accept gzip), and moves
// Vite's manifest out of the served tree to web/.build/manifest.json for the budget check.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(web, process.argv[2] ?? 'dist');
const EXT = /\.(js|mjs|css|html|svg|json|webmanifest|txt)$/;

const manifest = join(dist, '.vite', 'manifest.json');
if (existsSync(manifest)) {
  mkdirSync(join(web, '.build'), { recursive: true });
  renameSync(manifest, join(web, '.build', 'manifest.json'));
  rmSync(join(dist, '.vite'), { recursive: true, force: true });
}

let n = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (EXT.test(name)) {
      const gz = gzipSync(readFileSync(p), { level: constants.Z_BEST_COMPRESSION });
      writeFileSync(p + '.gz', gz);
      n++;
    }
  }
}
walk(dist);
console.log(`gzip: wrote ${n} .gz files in ${dist}`);
