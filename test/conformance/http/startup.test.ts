/** The start-up contract: `npm start` serves /fhir on the embedded store; bad configuration stops with one line. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..', '..');

function run(env: Record<string, string>): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('start-up contract', () => {
  it('invalid configuration stops start-up with exit code 1 and one clear line', async () => {
    const child = run({ PORT: 'not-a-port' });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += String(d)));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.equal(stderr.trim().split('\n').length, 1);
    assert.match(stderr, /PORT must be a whole number/);
  });

  it('serves /fhir/metadata on an on-disk embedded store and answers reads after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fhir-start-'));
    const port = await freePort();
    const env = { PORT: String(port), DATA_DIR: dir };
    const base = `http://127.0.0.1:${port}/fhir`;
    const start = async () => {
      const child = run(env);
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (d) => String(d).includes('"listening"') && resolve());
        child.on('exit', (c) => reject(new Error(`server exited with ${c}`)));
      });
      return child;
    };
    try {
      let child = await start();
      const meta = await fetch(`${base}/metadata`);
      assert.equal(meta.status, 200);
      const created = await fetch(`${base}/Patient`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Patient', gender: 'female' }),
      });
      assert.equal(created.status, 201);
      const id = ((await created.json()) as { id: string }).id;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
      child = await start();
      const read = await fetch(`${base}/Patient/${id}`);
      assert.equal(read.status, 200);
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
