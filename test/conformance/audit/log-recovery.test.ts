/**
 * Issue 11: the embedded trail's log is the source of truth and its LMDB view is derived from it. A write torn by
 * a crash (a partial last frame) is cut at open and the chain still verifies; a view behind the log (a crash
 * between the log's sync and the view's transaction, or a view deleted to be rebuilt) catches up at open; the log
 * rotates into segments; an altered log is reported, and the trail then takes no events.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, it } from 'node:test';
import type { AuditEvent } from 'fhir/r4';
import { open } from 'lmdb';
import { buildAuditEvent } from '../../../src/audit/event';
import { LmdbAuditTrail } from '../../../src/audit/lmdb-trail';
import { verifyNdjson } from '../../../src/audit/offline-verify';
import { withTempDir } from '../../fixtures/temp-dir';

let clock = Date.parse('2026-12-01T10:00:00.000Z');
function readOf(patient: string): AuditEvent {
  return buildAuditEvent(
    {
      req: { method: 'GET', path: ['Patient', patient], query: [], prefer: {}, access: { token: null, decidedBy: new Set(['implicit:permit']), clientAddress: '127.0.0.1' } },
      interaction: 'read',
      params: { type: 'Patient', id: patient },
      result: { status: 200, resource: { resourceType: 'Patient', id: patient, meta: { versionId: '1' } } },
      recorded: new Date((clock += 1)).toISOString(),
    },
    { patientsOf: (r) => [`Patient/${r.id}`], serverName: 'log-test' },
  );
}

/** Appends reads of `patients`, `inFlight` at a time (each group one batch of the log). */
async function trailOf(dir: string, patients: string[], segmentBytes?: number, inFlight = patients.length): Promise<string[]> {
  const trail = LmdbAuditTrail.open({ dir, ...(segmentBytes ? { segmentBytes } : {}) });
  for (let i = 0; i < patients.length; i += inFlight) await Promise.all(patients.slice(i, i + inFlight).map((p) => trail.append(readOf(p))));
  const files = trail.logFiles();
  await trail.close();
  return files;
}

async function archiveOf(trail: LmdbAuditTrail): Promise<string> {
  const lines: string[] = [];
  for await (const e of trail.scan()) lines.push(JSON.stringify(e));
  return lines.join('\n');
}

/** Opens the trail in `dir` and asserts that its chain verifies, as `expected` says, and so does its archive offline. */
async function assertIntact(dir: string, expected: { lastSequence?: number; checked?: number }, segmentBytes?: number): Promise<void> {
  const trail = LmdbAuditTrail.open({ dir, ...(segmentBytes ? { segmentBytes } : {}) });
  try {
    const report = await trail.verify();
    assert.equal(report.ok, true);
    if (expected.lastSequence !== undefined) assert.equal(report.lastSequence, expected.lastSequence);
    if (expected.checked !== undefined) assert.equal(report.checked, expected.checked);
    assert.equal(verifyNdjson(await archiveOf(trail)).ok, true);
  } finally {
    await trail.close();
  }
}

const patientsSearch = (trail: LmdbAuditTrail, patient: string) => trail.search({ filters: [{ field: 'patient', values: [`Patient/${patient}`] }], dates: [], count: 100 });

const withDir = (run: (dir: string) => Promise<void>): Promise<void> => withTempDir('audit-log-', run);

describe('audit log recovery (issue 11)', () => {
  it('a torn last frame (a crash during its write) is cut at open; the chain verifies and goes on', () =>
    withDir(async (dir) => {
      const [file] = (await trailOf(dir, ['a', 'b', 'c', 'd', 'e'])) as [string];
      const whole = statSync(file).size;
      // Half of a frame's bytes, as a crash in the middle of a write leaves them.
      const data = readFileSync(file);
      appendFileSync(file, data.subarray(whole - 300, whole - 120));
      const trail = LmdbAuditTrail.open({ dir });
      try {
        assert.equal(statSync(file).size, whole, 'the torn bytes are cut');
        assert.equal(trail.recovered.cut, 180);
        const report = await trail.verify();
        assert.equal(report.ok, true);
        assert.equal(report.lastSequence, 5);
        assert.equal(await trail.append(readOf('f')), 6, 'the chain goes on after the last whole event');
        assert.equal(trail.failure(), undefined);
      } finally {
        await trail.close();
      }
      // Zeros after the last frame (a file extended but its data never written) are cut too.
      appendFileSync(file, Buffer.alloc(100));
      await assertIntact(dir, { lastSequence: 6 });
    }));

  it('a view behind the log catches up at open: a lost view transaction, and a view deleted to be rebuilt', () =>
    withDir(async (dir) => {
      await trailOf(dir, ['p1', 'p2', 'p1', 'p3', 'p1', 'p2', 'p1', 'p1', 'p2', 'p1']);
      // As if the last three events' view transaction was lost: the view ends at event 7.
      const root = open({ path: join(dir, 'trail.mdb'), maxDbs: 4, noSubdir: true });
      const events = root.openDB<Buffer, Buffer>({ name: 'events', keyEncoding: 'binary', encoding: 'binary' });
      const meta = root.openDB<string, string>({ name: 'meta', encoding: 'string' });
      const key = (n: number) => Buffer.from(n.toString(16).padStart(16, '0'), 'hex');
      const seventh = (events.get(key(7)) as Buffer).toString('latin1', 0, 64);
      for (const n of [8, 9, 10]) events.removeSync(key(n));
      meta.putSync('head', JSON.stringify({ sequence: 7, hash: seventh }));
      await root.close();
      let trail = LmdbAuditTrail.open({ dir });
      try {
        assert.equal((await trail.verify()).lastSequence, 10);
        assert.equal((await trail.read(9))?.entity?.some((e) => e.what?.reference === 'Patient/p2'), true);
        assert.equal((await patientsSearch(trail, 'p1')).events.length, 6);
      } finally {
        await trail.close();
      }
      rmSync(join(dir, 'trail.mdb'));
      rmSync(join(dir, 'trail.mdb-lock'), { force: true });
      trail = LmdbAuditTrail.open({ dir });
      try {
        const report = await trail.verify();
        assert.equal(report.ok, true);
        assert.equal(report.checked, 10, 'the whole view is rebuilt from the log');
        assert.equal(trail.recovered.replayed, 10);
        assert.equal((await patientsSearch(trail, 'p2')).events.length, 3);
        assert.equal(await trail.append(readOf('p3')), 11);
      } finally {
        await trail.close();
      }
    }));

  it('the log rotates into segment files; the chain runs across them, and a view is rebuilt from all of them', () =>
    withDir(async (dir) => {
      const patients = Array.from({ length: 40 }, (_, i) => `r${i}`);
      await trailOf(dir, patients.slice(0, 20), 8192, 2);
      const files = await trailOf(dir, patients.slice(20), 8192, 2);
      assert.ok(files.length >= 3, `${files.length} segments`);
      for (const f of files.slice(0, -1)) assert.ok(statSync(f).size <= 8192);
      rmSync(join(dir, 'trail.mdb'));
      await assertIntact(dir, { checked: 40 }, 8192);
    }));

  it('an altered event in the log (a whole frame, its checksum fixed) is reported, and the trail takes no more events', () =>
    withDir(async (dir) => {
      const [file] = (await trailOf(dir, ['x1', 'x2', 'x3', 'x4'])) as [string];
      const data = readFileSync(file);
      // The second frame: after the 72-byte header and the first frame.
      const second = 72 + 8 + data.readUInt32BE(72);
      const text = data.indexOf('Patient/x2', second);
      data.write('Patient/y2', text, 'latin1');
      data.writeUInt32BE(crc32(data.subarray(second + 8, second + 8 + data.readUInt32BE(second))), second + 4);
      writeFileSync(file, data);
      rmSync(join(dir, 'trail.mdb'));
      const trail = LmdbAuditTrail.open({ dir });
      try {
        const report = await trail.verify();
        assert.equal(report.ok, false);
        assert.equal(report.broken?.sequence, 2);
        assert.match(String(report.broken?.reason), /altered/);
        assert.match(String(trail.failure()), /does not verify at event 2/);
        await assert.rejects(trail.append(readOf('x5')), /failed earlier/);
      } finally {
        await trail.close();
      }
    }));

  it('two writes in flight at a crash: a later batch on disk after a gap where an earlier one was not is cut with the gap', () =>
    withDir(async (dir) => {
      const [file] = (await trailOf(dir, ['g1', 'g2', 'g3', 'g4'], undefined, 1)) as [string];
      const data = readFileSync(file);
      // Frames of events 3 and 4: as if the write of 3 never reached the disk and that of 4 did (a hole of zeros).
      const third = 72 + (8 + data.readUInt32BE(72)) * 2;
      const thirdLength = 8 + data.readUInt32BE(third);
      data.fill(0, third, third + thirdLength);
      writeFileSync(file, data);
      // Unanswered events never reach the view: it is rebuilt here from the log alone.
      rmSync(join(dir, 'trail.mdb'));
      const trail = LmdbAuditTrail.open({ dir });
      try {
        // Neither 3 nor 4 was answered: batches are answered in order, and 4 waited for 3.
        assert.equal(statSync(file).size, third, 'the log is cut at the gap, the later frame with it');
        const report = await trail.verify();
        assert.equal(report.ok, true);
        assert.equal(report.lastSequence, 2);
        assert.equal(await trail.append(readOf('g5')), 3, 'the chain goes on after the last whole event before the gap');
        assert.equal((await trail.verify()).ok, true);
      } finally {
        await trail.close();
      }
    }));

  it('appends made in separate turns, with writes overlapping, resolve in sequence order, each once durable', () =>
    withDir(async (dir) => {
      const trail = LmdbAuditTrail.open({ dir });
      const resolved: number[] = [];
      const appends: Array<Promise<number>> = [];
      try {
        for (let i = 0; i < 200; i++) {
          appends.push(trail.append(readOf(`o${i % 7}`)).then((n) => (resolved.push(n), n)));
          // A new event-loop turn every 20 events: a batch large enough to go out while the one before syncs.
          if (i % 20 === 19) await new Promise((r) => setImmediate(r));
        }
        assert.deepEqual(await Promise.all(appends), Array.from({ length: 200 }, (_, i) => i + 1));
        assert.deepEqual(resolved, Array.from({ length: 200 }, (_, i) => i + 1), 'answered in order');
      } finally {
        await trail.close();
      }
      // Every answered event is in the log: a view rebuilt from it alone holds all of them.
      rmSync(join(dir, 'trail.mdb'));
      const again = LmdbAuditTrail.open({ dir });
      try {
        assert.equal(again.recovered.replayed, 200);
        assert.equal((await again.verify()).ok, true);
      } finally {
        await again.close();
      }
    }));
});
