/**
 * History as a sync feed (https://hl7.org/fhir/R4/http.html#history): a client that walks every page and then
 * polls again with `_since` = the newest lastUpdated it has seen misses no version, even while others write and
 * their transactions commit in another order than they were stamped (src/fhir/visibility.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fetchClient, listen, pathOf, type BulkClient } from '../../fixtures/bulk-export';
import { interleavingStore } from '../../fixtures/interleaving-store';
import { startTestServer } from '../../fixtures/server';
import { createStore } from '../../../src/storage/create-store';
import type { Store } from '../../../src/storage/port';

type HistoryPage = {
  entry?: Array<{ fullUrl: string; response: { etag: string; lastModified: string } }>;
  link: Array<{ relation: string; url: string }>;
};

/** One sync client: polls `feed` until told to stop, each poll a full walk from `_since` = newest seen. */
async function syncClient(client: BulkClient, feed: string, done: () => boolean): Promise<{ seen: Set<string>; polls: number }> {
  const seen = new Set<string>();
  let since: string | undefined;
  let polls = 0;
  for (let last = false; ; ) {
    last = done();
    polls++;
    let next: string | undefined = `${feed}?_count=7${since ? `&_since=${encodeURIComponent(since)}` : ''}`;
    while (next) {
      const res = await client.get(next);
      assert.equal(res.status, 200, res.text);
      const page = JSON.parse(res.text) as HistoryPage;
      for (const e of page.entry ?? []) {
        seen.add(`${pathOf(e.fullUrl)}|${e.response.etag}`);
        if (!since || e.response.lastModified > since) since = e.response.lastModified;
      }
      const link = page.link.find((l) => l.relation === 'next')?.url;
      next = link ? pathOf(link) : undefined;
    }
    if (last) return { seen, polls };
  }
}

/** Writers creating and updating Patients over HTTP while a system-feed and a type-feed client poll. */
async function writeWhilePaging(store: Store): Promise<void> {
  const s = await startTestServer({ store });
  const served = await listen(s.app);
  const client = fetchClient(served.origin, s.systemToken);
  try {
    let writing = true;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; i < 25; i++) {
        const id = `w${w}-${i % 8}`;
        const res = await fetch(`${served.origin}/fhir/Patient/${id}`, {
          method: 'PUT',
          headers: { Authorization: `Bearer ${s.systemToken}`, 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' },
          body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family: `F${i}` }] }),
        });
        assert.ok(res.status === 200 || res.status === 201, `PUT ${id}: ${res.status}`);
      }
    };
    const writers = Promise.all(Array.from({ length: 6 }, (_, w) => writer(w))).finally(() => (writing = false));
    const [system, type] = await Promise.all([syncClient(client, '/fhir/_history', () => !writing), syncClient(client, '/fhir/Patient/_history', () => !writing), writers]);
    assert.ok(system.polls > 3, `the feed was polled while writes went on (${system.polls} polls)`);

    const all = await syncClient(client, '/fhir/_history', () => true);
    assert.equal(all.seen.size, 150, 'every write is in the history');
    const missed = [...all.seen].filter((v) => !system.seen.has(v));
    assert.deepEqual(missed, [], 'the system feed client missed no version');
    assert.deepEqual([...all.seen].filter((v) => !type.seen.has(v)), [], 'the type feed client missed no version');
  } finally {
    await served.close();
    await s.close();
  }
}

describe('history as a sync feed under concurrent writes (http.html#history)', () => {
  it('commits out of stamp order (as on MongoDB): a client polling with _since = newest seen misses nothing', async () => {
    await writeWhilePaging(interleavingStore(await createStore({})));
  });

  it('the embedded store on disk (group commit, fsync): a client polling with _since = newest seen misses nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'history-sync-'));
    try {
      await writeWhilePaging(await createStore({ dataDir }));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
