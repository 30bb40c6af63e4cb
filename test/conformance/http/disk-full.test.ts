/**
 * A full disk under the server (https://hl7.org/fhir/R4/http.html#Status-Codes; 507 Insufficient Storage,
 * RFC 4918 §11.5): writes are answered 507 with an OperationOutcome, reads go on, writes succeed again once
 * space is freed (no restart), and the data directory then holds exactly the acknowledged writes and no
 * temporary files. Runs with a commit that fails as on a full disk (ENOSPC) everywhere, and on a real 2 MB
 * tmpfs where the test may mount one (root).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openLmdbStore } from '../../../src/storage/embedded/lmdb-store';
import type { Store } from '../../../src/storage/port';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

const scratch = mkdtempSync(join(tmpdir(), 'disk-full-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const put = (s: TestServer, id: string, family: string) =>
  s.http.put(`/fhir/Patient/${id}`).set('Content-Type', FHIR_JSON).send(patient({ id, name: [{ family }] }));

function assertInsufficientStorage(res: { status: number; body: { resourceType?: string; issue?: Array<{ code: string; diagnostics?: string }> } }): void {
  assert.equal(res.status, 507);
  assert.equal(res.body.resourceType, 'OperationOutcome');
  assert.equal(res.body.issue?.[0].code, 'no-store');
  assert.match(res.body.issue?.[0].diagnostics ?? '', /cannot store data right now/);
}

/** Reopens the data directory on plain node:fs and returns the version of each Patient (0 = absent). */
async function versionsAfterReopen(dataDir: string, ids: string[], open: (dataDir: string) => Promise<Store> = (d) => openLmdbStore({ dataDir: d })): Promise<Record<string, number>> {
  const s = await startTestServer({ store: await open(dataDir) });
  try {
    const versions: Record<string, number> = {};
    for (const id of ids) {
      const res = await s.http.get(`/fhir/Patient/${id}`);
      versions[id] = res.status === 200 ? Number(res.body.meta.versionId) : 0;
    }
    return versions;
  } finally {
    await s.close();
  }
}

const leftovers = (dataDir: string): string[] => readdirSync(dataDir).filter((n) => n !== 'lmdb');
const enospc = (): Error => Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });

describe('disk full (507 Insufficient Storage)', () => {
  it('answers writes 507 while the disk is full, keeps serving reads, and takes writes again once space is freed', async () => {
    const dataDir = join(scratch, 'injected');
    const disk = { full: false };
    const store = await openLmdbStore({ dataDir, onWarning: () => undefined, beforeCommit: () => {
      if (disk.full) throw enospc();
    } });
    const s = await startTestServer({ store });
    try {
      assert.equal((await put(s, 'kept', 'First')).status, 201);
      disk.full = true;
      assertInsufficientStorage(await put(s, 'refused', 'Never'));
      assertInsufficientStorage(await put(s, 'kept', 'Second'));
      assertInsufficientStorage(await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient()));

      const read = await s.http.get('/fhir/Patient/kept');
      assert.equal(read.status, 200);
      assert.equal(read.body.meta.versionId, '1');
      const search = await s.http.get('/fhir/Patient');
      assert.equal(search.status, 200);
      assert.deepEqual(search.body.entry.map((e: { resource: { id: string } }) => e.resource.id), ['kept']);
      assert.equal((await s.http.get('/fhir/Patient/refused')).status, 404);

      disk.full = false;
      const updated = await put(s, 'kept', 'Second');
      assert.equal(updated.status, 200);
      assert.equal(updated.body.meta.versionId, '2', 'a refused update must not use up a version');
      assert.equal((await put(s, 'later', 'Later')).status, 201);
    } finally {
      await s.close();
    }
    assert.deepEqual(await versionsAfterReopen(dataDir, ['kept', 'refused', 'later']), { kept: 2, refused: 0, later: 1 });
    assert.deepEqual(leftovers(dataDir), []);
  });

  const engines: Array<{ name: string; open: (dataDir: string) => Promise<Store>; files: RegExp }> = [
    { name: 'LMDB engine', open: (dataDir) => openLmdbStore({ dataDir, onWarning: () => undefined }), files: /^lmdb$/ },
  ];
  for (const engine of engines) it(`does the same on a real filesystem that runs out of space (2 MB tmpfs, ${engine.name})`, async (t) => {
    const mountPoint = join(scratch, `tmpfs-${engine.name.split(' ')[0]}`);
    mkdirSync(mountPoint);
    if (process.getuid?.() !== 0 || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]).status !== 0) {
      t.skip('cannot mount a tmpfs here (needs root); the fault-injecting test above covers the behaviour');
      return;
    }
    try {
      const dataDir = join(mountPoint, 'data');
      const filler = join(mountPoint, 'filler');
      const s = await startTestServer({ store: await engine.open(dataDir) });
      const acknowledged: string[] = [];
      let refused: string | null = null;
      try {
        assert.equal((await put(s, 'p0', 'Before')).status, 201);
        acknowledged.push('p0');
        const { bavail, bsize } = statfsSync(mountPoint);
        writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 64 * 1024)));
        const big = 'x'.repeat(2000);
        for (let i = 1; i < 200 && refused === null; i++) {
          const res = await put(s, `p${i}`, `Family${big}`);
          if (res.status === 201) acknowledged.push(`p${i}`);
          else {
            assertInsufficientStorage(res);
            refused = `p${i}`;
          }
        }
        assert.ok(refused, 'the filesystem never ran full');
        assert.equal((await s.http.get('/fhir/Patient/p0')).status, 200);
        assert.equal((await s.http.get(`/fhir/Patient/${refused}`)).status, 404);
        unlinkSync(filler);
        assert.equal((await put(s, 'after', 'After')).status, 201);
        acknowledged.push('after');
      } finally {
        await s.close();
      }
      const versions = await versionsAfterReopen(dataDir, [...acknowledged, refused], engine.open);
      for (const id of acknowledged) assert.equal(versions[id], 1, `acknowledged Patient/${id} lost`);
      assert.equal(versions[refused], 0, 'a write answered 507 appeared after all');
      assert.deepEqual(readdirSync(dataDir).filter((n) => !engine.files.test(n)), []);
    } finally {
      spawnSync('umount', [mountPoint]);
    }
  });
});
