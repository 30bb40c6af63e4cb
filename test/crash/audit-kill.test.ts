/**
 * Issue 11: a SIGKILL of the real server during a stream of audited requests loses no event of an answered
 * request, and the trail left behind verifies ($verify and the offline check of its archive).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AuditEvent } from 'fhir/r4';
import { verifyNdjson } from '../../src/audit/offline-verify';
import { freePort, startServer, stopServer, systemAuthorization } from '../fixtures/process';

describe('audit trail under SIGKILL (issue 11)', () => {
  it('every answered request has its event after a kill -9 and a restart, and the chain verifies', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fhir-audit-crash-'));
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()) };
    const base = `http://127.0.0.1:${env.PORT}/fhir`;
    const auth = await systemAuthorization(env);
    /** `subtype entity` of every answered request */
    const answered = new Set<string>();
    try {
      for (let round = 0; round < 2; round++) {
        const server = await startServer(env);
        let stop = false;
        const client = async (c: number): Promise<void> => {
          for (let i = 0; !stop; i++) {
            const id = `k${round}-${c}-${i}`;
            try {
              const put = await fetch(`${base}/Patient/${id}`, { method: 'PUT', headers: { ...auth, 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' }, body: JSON.stringify({ resourceType: 'Patient', id }) });
              await put.arrayBuffer();
              if (put.status === 201) answered.add(`update Patient/${id}`);
              const read = await fetch(`${base}/Patient/${id}`, { headers: auth });
              await read.arrayBuffer();
              if (read.status === 200) answered.add(`read Patient/${id}`);
            } catch {
              return;
            }
          }
        };
        const clients = Array.from({ length: 6 }, (_, c) => client(c));
        const before = answered.size;
        const deadline = Date.now() + 20_000;
        while (answered.size < before + 40 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        await new Promise((resolve) => setTimeout(resolve, 50 + round * 120));
        const killed = stopServer(server, 'SIGKILL');
        stop = true;
        await Promise.all([killed, ...clients]);
      }
      assert.ok(answered.size >= 40, `only ${answered.size} requests were answered before the kills`);
      const server = await startServer(env);
      try {
        const verify = (await (await fetch(`${base}/AuditEvent/$verify`, { method: 'POST', headers: auth })).json()) as { parameter: Array<{ name: string; valueBoolean?: boolean }> };
        assert.equal(verify.parameter.find((p) => p.name === 'result')?.valueBoolean, true, JSON.stringify(verify));
        const health = await fetch(`http://127.0.0.1:${env.PORT}/health`);
        assert.equal(health.status, 200);
        const archive = await (await fetch(`${base}/AuditEvent/$archive`, { headers: auth })).text();
        assert.equal(verifyNdjson(archive).ok, true);
        const recorded = new Set<string>();
        for (const line of archive.trim().split('\n')) {
          const e = JSON.parse(line) as AuditEvent;
          const ref = e.entity?.[0]?.what?.reference;
          recorded.add(`${e.subtype?.[0]?.code} ${ref}`);
        }
        const lost = [...answered].filter((a) => !recorded.has(a));
        assert.deepEqual(lost, [], `${lost.length} answered requests have no event`);
      } finally {
        await stopServer(server);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
