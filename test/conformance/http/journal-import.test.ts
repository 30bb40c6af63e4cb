/**
 * A data directory written by the journal/snapshot engine of earlier versions opens on LMDB: imported once, on
 * first open, with every resource, every version (vread, https://hl7.org/fhir/R4/http.html#vread) and every
 * history entry (https://hl7.org/fhir/R4/http.html#history), searchable; the old files are kept aside under a
 * clear name, with a warning saying they can be deleted. The directory (test/fixtures/journal-format-data) was
 * written by that engine (commit a04c23a): 30 Patients, 10 of them updated, one deleted, compacted into a
 * snapshot with a journal written after it.
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { IMPORTED_DIR } from '../../../src/storage/embedded/lmdb-import';
import { openLmdbStore } from '../../../src/storage/embedded/lmdb-store';
import { StorageCorrupt, type StoreWarning } from '../../../src/storage/port';
import { startTestServer } from '../../fixtures/server';

const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'journal-format-data');
const scratch = mkdtempSync(join(tmpdir(), 'journal-import-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('data directory of the journal/snapshot engine', () => {
  it('is imported into LMDB on first open with every resource, version and history entry, and kept aside', async () => {
    const dataDir = join(scratch, 'data');
    cpSync(FIXTURE, dataDir, { recursive: true });
    assert.deepEqual(readdirSync(dataDir).sort(), ['journal-000003.log', 'snapshot.db']);
    // A torn last record, as a crash of the old engine during a write leaves (never acknowledged): skipped.
    appendFileSync(join(dataDir, 'journal-000003.log'), Buffer.from([0x40, 0, 0, 0, 1, 2, 3, 4, 0x7b, 0x22]));

    const warnings: StoreWarning[] = [];
    const s = await startTestServer({ store: await openLmdbStore({ dataDir, onWarning: (w) => warnings.push(w) }) });
    try {
      for (let i = 0; i < 29; i++) {
        const res = await s.http.get(`/fhir/Patient/p${i}`);
        assert.equal(res.status, 200, `Patient/p${i}`);
        assert.equal(res.body.meta.versionId, i < 10 ? '2' : '1');
        assert.equal(res.body.name[0].family, i < 10 ? `Renamed${i}` : `Family${i}`);
      }
      assert.equal((await s.http.get('/fhir/Patient/p29')).status, 410);
      const first = await s.http.get('/fhir/Patient/p3/_history/1');
      assert.equal(first.status, 200);
      assert.equal(first.body.name[0].family, 'Family3');
      const history = await s.http.get('/fhir/Patient/p3/_history');
      assert.deepEqual(history.body.entry.map((e: { resource: { meta: { versionId: string } } }) => e.resource.meta.versionId), ['2', '1']);
      const all = await s.http.get('/fhir/Patient/_history?_count=100');
      assert.equal(all.body.entry.length, 30 + 10 + 1);
      const search = await s.http.get('/fhir/Patient?family=Renamed7');
      assert.deepEqual(search.body.entry.map((e: { resource: { id: string } }) => e.resource.id), ['p7']);
    } finally {
      await s.close();
    }
    const names = readdirSync(dataDir);
    assert.deepEqual(names.sort(), [IMPORTED_DIR, 'lmdb']);
    assert.ok(readdirSync(join(dataDir, IMPORTED_DIR)).includes('snapshot.db'));
    const notice = warnings.find((w) => /imported the data directory/.test(w.msg));
    assert.ok(notice, JSON.stringify(warnings));
    assert.match(notice.msg, /can be deleted/);
    assert.ok(warnings.some((w) => /torn last record/.test(w.msg)), JSON.stringify(warnings));

    const again: StoreWarning[] = [];
    const reopened = await openLmdbStore({ dataDir, onWarning: (w) => again.push(w) });
    assert.equal(await reopened.count('resources', {}), 30);
    await reopened.close();
    assert.deepEqual(again, [], 'imported twice');
    assert.ok(existsSync(join(dataDir, IMPORTED_DIR)));
  });
});

describe('damaged data directory of the journal/snapshot engine', () => {
  it('is refused (StorageCorrupt) when a record in the middle of a journal is damaged, and left as it was', async () => {
    const dataDir = join(scratch, 'damaged');
    cpSync(FIXTURE, dataDir, { recursive: true });
    const journal = join(dataDir, 'journal-000003.log');
    const middle = readFileSync(journal);
    middle[200] ^= 0xff;
    writeFileSync(journal, middle);
    await assert.rejects(openLmdbStore({ dataDir, onWarning: () => undefined }), StorageCorrupt);
    assert.deepEqual(readdirSync(dataDir).sort(), ['journal-000003.log', 'lmdb', 'snapshot.db']);
  });
});
