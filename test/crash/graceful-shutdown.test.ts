/**
 * Graceful shutdown of the real server process: SIGTERM during a stream of concurrent writes stops accepting,
 * lets in-flight requests finish, closes the store and exits 0; after a restart every acknowledged write is there.
 * The start-up line summarises the configuration without its secrets; the last lines say the server stopped.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, spawnServer, startServer, stopServer, systemAuthorization } from '../fixtures/process';

const SECRET = 'Secret-page-token-key-0123456789abcdef';

/**
 * A PUT on its own connection whose body is sent in two halves: `finish` sends the second. `halfSent` resolves
 * once the server has parsed the headers (it answered `Expect: 100-continue`) and the first half is written.
 */
function startUpload(port: number, id: string, auth: { Authorization: string }): { halfSent: Promise<void>; finish(): void; status: Promise<number> } {
  const body = Buffer.from(JSON.stringify({ resourceType: 'Patient', id, text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(200_000)}</div>` } }));
  const half = Math.floor(body.length / 2);
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'PUT',
    path: `/fhir/Patient/${id}`,
    agent: false,
    headers: { ...auth, 'Content-Type': 'application/fhir+json', 'Content-Length': String(body.length), Prefer: 'return=minimal', Expect: '100-continue' },
  });
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  const halfSent = new Promise<void>((resolve) => req.once('continue', () => req.write(body.subarray(0, half), () => resolve())));
  req.flushHeaders();
  return { halfSent, finish: () => req.end(body.subarray(half)), status };
}

describe('graceful shutdown (SIGTERM during writes)', () => {
  it('exits 0 after finishing in-flight writes; every acknowledged write is there after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fhir-shutdown-'));
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), PAGE_TOKEN_SECRET: SECRET, SHUTDOWN_TIMEOUT_MS: '5000' };
    const base = `http://127.0.0.1:${env.PORT}/fhir`;
    const auth = await systemAuthorization(env);
    const acknowledged = new Map<string, number>();
    try {
      const server = await startServer(env);
      let stdout = '';
      server.stdout?.on('data', (d) => (stdout += String(d)));
      let stop = false;
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; !stop; i++) {
          const id = `w${w}-${i % 7}`;
          try {
            const res = await fetch(`${base}/Patient/${id}`, {
              method: 'PUT',
              headers: { ...auth, 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' },
              body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family: `F${w}x${i}` }] }),
            });
            if (res.ok) acknowledged.set(id, Number(/W\/"(\d+)"/.exec(res.headers.get('etag') ?? '')?.[1]));
            else await res.arrayBuffer();
          } catch {
            return;
          }
        }
      };
      const writers = Array.from({ length: 8 }, (_, w) => writer(w));
      await new Promise((resolve) => setTimeout(resolve, 600));
      // Uploads in progress when the signal arrives (headers and half the body sent) must be finished and answered.
      const uploads = Array.from({ length: 4 }, (_, u) => startUpload(Number(env.PORT), `big-${u}`, auth));
      await Promise.all(uploads.map((u) => u.halfSent));
      const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const upload of uploads) upload.finish();
      assert.deepEqual(await Promise.all(uploads.map((u) => u.status)), [201, 201, 201, 201]);
      for (let u = 0; u < 4; u++) acknowledged.set(`big-${u}`, 1);
      const code = await exited;
      stop = true;
      await Promise.all(writers);
      assert.equal(code, 0, `exit code ${code}`);
      assert.ok(acknowledged.size >= 10, `only ${acknowledged.size} writes were acknowledged`);
      const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; signal?: string });
      const messages = lines.map((l) => l.msg);
      assert.ok(messages.includes('shutting down'), messages.join(', '));
      assert.equal(lines.at(-1)?.msg, 'stopped');
      assert.equal(lines.at(-1)?.signal, 'SIGTERM');

      const restarted = await startServer(env);
      try {
        for (const [id, version] of acknowledged) {
          const res = await fetch(`${base}/Patient/${id}/_history/${version}`, { headers: auth });
          assert.equal(res.status, 200, `acknowledged version ${version} of Patient/${id} lost`);
          await res.arrayBuffer();
        }
      } finally {
        await stopServer(restarted);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('the start-up line summarises the configuration and keeps PAGE_TOKEN_SECRET out of it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fhir-startline-'));
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), PAGE_TOKEN_SECRET: SECRET };
    let stdout = '';
    try {
      const server = spawnServer(env);
      await new Promise<void>((resolve, reject) => {
        server.stdout?.on('data', (d) => {
          stdout += String(d);
          if (stdout.includes('"listening"')) resolve();
        });
        server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
      server.removeAllListeners('exit');
      await stopServer(server);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    assert.ok(!stdout.includes(SECRET), 'the secret is logged');
    const listening = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; config?: Record<string, unknown> })
      .find((l) => l.msg === 'listening');
    assert.equal(listening?.config?.pageTokenSecret, 'set');
    assert.deepEqual(listening?.config?.store, { kind: 'embedded', dataDir });
    assert.equal(listening?.config?.listen, `127.0.0.1:${env.PORT}`);
    assert.equal(listening?.config?.metrics, 'off');
  });
});
