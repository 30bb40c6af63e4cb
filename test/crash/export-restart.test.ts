/**
 * Bulk Data export jobs survive a server restart (https://hl7.org/fhir/uv/bulkdata/export.html): the real server
 * process is killed with SIGKILL while a job runs, started again on the same data directory, and the status URL
 * the client holds answers with the manifest of a complete export equal to what search returns.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config';
import { createServer } from '../../src/compose';
import { silentLogger } from '../../src/http/logger';
import { systemTokenFor } from '../../src/access/local-key';
import { download, fetchClient, kickOff, poll, type Manifest } from '../fixtures/bulk-export';
import { patientRecords, putAll, SHARED } from '../fixtures/clinical-records';
import { freePort, spawnServer, stopServer } from '../fixtures/process';

/** Starts the server; resolves once it listens, with everything it printed so far and after. */
async function start(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawnServer(env);
  let output = '';
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', () => output.includes('"listening"') && resolve());
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output.slice(-500)}`)));
  });
  child.removeAllListeners('exit');
  return { child, output: () => output };
}

describe('Bulk Data export across a server restart', () => {
  it('a job interrupted by kill -9 resumes on restart; the same status URL then gives the complete manifest', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'export-restart-'));
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), EXPORT_PAGE_SIZE: '1' };
    const origin = `http://127.0.0.1:${env.PORT}`;
    const token = await systemTokenFor(dataDir, `${origin}/fhir`);
    const client = fetchClient(origin, token);
    try {
      const seeding = await createServer(loadConfig({ DATA_DIR: dataDir }), { logger: silentLogger });
      const records = [...SHARED, ...Array.from({ length: 60 }, (_, i) => patientRecords(`p${i}`, 4)).flat()];
      await putAll(seeding.router, records);
      await seeding.close();

      let server = await start(env);
      const statusPath = await kickOff(client, '/fhir/$export');
      let running = await client.get(statusPath);
      while (running.status === 202 && !/^[1-9]\d* resources/.test(running.headers['x-progress'] ?? '')) running = await client.get(statusPath);
      assert.equal(running.status, 202, 'the job is still running when the server is killed');
      await stopServer(server.child, 'SIGKILL');

      server = await start(env);
      try {
        const resumed = server.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg?: string; jobs?: number });
        assert.ok(resumed.some((line) => line.msg === 'export jobs resumed' && line.jobs === 1), 'the restart logs one resumed export job');
        const done = await poll(client, statusPath, 60_000);
        assert.equal(done.status, 200, done.text);
        const manifest = JSON.parse(done.text) as Manifest;
        const files = await download(client, manifest);
        let total = 0;
        for (const [type, resources] of files) {
          const search = (await (await fetch(`${origin}/fhir/${type}?_count=1000`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { entry: Array<{ resource: { id: string } }> };
          const byId = (a: { id?: unknown }, b: { id?: unknown }) => String(a.id).localeCompare(String(b.id));
          assert.deepEqual([...resources].sort(byId), search.entry.map((e) => e.resource).sort(byId), `${type}: the resumed export equals the search result`);
          total += resources.length;
        }
        assert.equal(total, records.length, 'every resource exported exactly once');
      } finally {
        await stopServer(server.child);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
