/**
 * Conditional writes under concurrency (https://hl7.org/fhir/R4/http.html#ccreate, #cond-update): simultaneous
 * requests on the same criteria leave exactly one resource. Runs over real HTTP against an on-disk embedded store
 * (where commits wait for their fsync, the window the race lived in), and against MongoDB when MONGODB_URI is set.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLmdbStore } from '../../../src/storage/embedded/lmdb-store';
import type { Store } from '../../../src/storage/port';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';
import { MONGODB_URI, openMongoTestStore } from '../../fixtures/store';

const CLIENTS = 16;

const stores: Array<{ name: string; open: () => Promise<{ store: Store; cleanup: () => void }> }> = [
  {
    name: 'embedded store on disk',
    open: async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'conditional-race-'));
      return { store: await openLmdbStore({ dataDir }), cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
    },
  },
  ...(MONGODB_URI ? [{ name: 'mongodb', open: async () => ({ store: await openMongoTestStore(MONGODB_URI as string), cleanup: () => undefined }) }] : []),
];

for (const { name, open } of stores) {
  describe(`conditional writes by ${CLIENTS} simultaneous clients (${name})`, () => {
    let s: TestServer;
    let base: string;
    let cleanup: () => void;
    let close: () => Promise<void>;
    before(async () => {
      const opened = await open();
      cleanup = opened.cleanup;
      s = await startTestServer({ store: opened.store });
      const listening = s.app.listen(0, '127.0.0.1');
      await new Promise((resolve) => listening.once('listening', resolve));
      base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/fhir`;
      close = () => new Promise((resolve) => listening.close(() => resolve()));
    });
    const authFetch = (url: string, init: RequestInit = {}): Promise<Response> =>
      fetch(url, { ...init, headers: { Authorization: `Bearer ${s.systemToken}`, ...(init.headers as Record<string, string> | undefined) } });
    after(async () => {
      await close();
      await s.close();
      cleanup();
    });

    const countMatching = async (identifier: string): Promise<number> => {
      const res = await authFetch(`${base}/Patient?identifier=${encodeURIComponent(identifier)}&_total=accurate&_count=0`);
      return ((await res.json()) as { total: number }).total;
    };

    it('If-None-Exist: one create (201), the others find it (200), one Patient stored', async () => {
      for (let round = 0; round < 3; round++) {
        const identifier = `http://example.org/mrn|race-create-${round}`;
        const body = JSON.stringify(patient({ identifier: [{ system: 'http://example.org/mrn', value: `race-create-${round}` }] }));
        const statuses = await Promise.all(
          Array.from({ length: CLIENTS }, async () => {
            const res = await authFetch(`${base}/Patient`, {
              method: 'POST',
              headers: { 'Content-Type': FHIR_JSON, 'If-None-Exist': `identifier=${identifier}`, Prefer: 'return=minimal' },
              body,
            });
            return res.status;
          }),
        );
        assert.deepEqual(
          statuses.sort(),
          [201, ...Array(CLIENTS - 1).fill(200)].sort(),
          `round ${round}: statuses ${statuses.join(',')}`,
        );
        assert.equal(await countMatching(identifier), 1);
      }
    });

    it('conditional update with no match: one creates (201), the others update it (200), one Patient stored', async () => {
      for (let round = 0; round < 3; round++) {
        const identifier = `http://example.org/mrn|race-update-${round}`;
        const body = JSON.stringify(patient({ identifier: [{ system: 'http://example.org/mrn', value: `race-update-${round}` }] }));
        const responses = await Promise.all(
          Array.from({ length: CLIENTS }, async () => {
            const res = await authFetch(`${base}/Patient?identifier=${encodeURIComponent(identifier)}`, {
              method: 'PUT',
              headers: { 'Content-Type': FHIR_JSON, Prefer: 'return=minimal' },
              body,
            });
            return { status: res.status, location: res.headers.get('location') ?? '' };
          }),
        );
        assert.equal(responses.filter((r) => r.status === 201).length, 1, `round ${round}: ${responses.map((r) => r.status).join(',')}`);
        assert.equal(responses.filter((r) => r.status === 200).length, CLIENTS - 1);
        const ids = new Set(responses.map((r) => /Patient\/([^/]+)\//.exec(r.location)?.[1]));
        assert.equal(ids.size, 1, 'every response names the same Patient');
        assert.equal(await countMatching(identifier), 1);
        const history = await authFetch(`${base}/Patient/${[...ids][0]}/_history?_count=100`);
        assert.equal(((await history.json()) as { entry: unknown[] }).entry.length, CLIENTS, 'each update is one version of the one Patient');
      }
    });
  });
}
