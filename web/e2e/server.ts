// Starts the real Gavel server for end-to-end tests: a fresh data dir, an ephemeral port,
// --dev (sign-in links in responses), no rate limits, and the built web app.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');

export interface RunningServer {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startServer(): Promise<RunningServer> {
  const binEnv = process.env.GAVEL_BIN || 'build/gavel';
  const bin = isAbsolute(binEnv) ? binEnv : join(repoRoot, binEnv);
  const dataDir = mkdtempSync(join(tmpdir(), 'gavel-e2e-'));
  const web = join(repoRoot, 'web', 'dist');
  const child = spawn(
    bin,
    ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, '--dev', '--rate-limit-scale', '0', '--web', web],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } },
  );
  let output = '';
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('gavel did not print its URL within 30 s:\n' + output)), 30_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`gavel exited with ${code} before listening:\n${output}`));
    });
  });
  // Keep draining the pipes so the server never blocks on a full pipe.
  child.stdout!.removeAllListeners('data');
  child.stderr!.removeAllListeners('data');
  child.stdout!.resume();
  child.stderr!.resume();
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(url + '/api/ready');
      if (r.status === 200) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error('gavel never became ready at ' + url);
    await new Promise((r) => setTimeout(r, 50));
  }
  let stopped = false;
  return {
    url,
    dataDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
