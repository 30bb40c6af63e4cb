/**
 * Issue 11: the trail is tamper-evident. A changed, deleted or reordered event is found by POST AuditEvent/$verify
 * and by the offline check of an archive (`npm run audit:verify`); a tail altered while the server was down makes
 * GET /health answer 503 at the next start; a trail that cannot store an event fails the request (503, no data).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AuditEvent } from 'fhir/r4';
import { open } from 'lmdb';
import { LmdbAuditTrail } from '../../../src/audit/lmdb-trail';
import { verifyNdjson } from '../../../src/audit/offline-verify';
import type { AuditTrail } from '../../../src/audit/trail';
import { ROOT } from '../../fixtures/process';
import { FHIR_JSON, patient, startTestServer } from '../../fixtures/server';

const key = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

/** Opens the trail's LMDB file directly, as someone with disk access would, and changes it. */
async function tamper(dir: string, change: (events: ReturnType<typeof eventsDb>) => void): Promise<void> {
  const root = open({ path: join(dir, 'trail.mdb'), maxDbs: 4, noSubdir: true });
  change(eventsDb(root));
  await root.close();
}
const eventsDb = (root: ReturnType<typeof open>) => root.openDB<Buffer, Buffer>({ name: 'events', keyEncoding: 'binary', encoding: 'binary' });

/** A trail of `n` events written by a real server's requests. */
async function trailWithEvents(dir: string, n: number): Promise<void> {
  const trail = LmdbAuditTrail.open({ dir });
  const server = await startTestServer({ auditTrail: trail });
  await server.http.put('/fhir/Patient/t1').set('Content-Type', FHIR_JSON).send(patient({ id: 't1' })).expect(201);
  for (let i = 1; i < n; i++) await server.http.get('/fhir/Patient/t1').expect(200);
  await server.close();
}

async function verifyOver(dir: string): Promise<{ verify: Record<string, unknown>; health: number; healthBody: unknown }> {
  const server = await startTestServer({ auditTrail: LmdbAuditTrail.open({ dir }) });
  try {
    const res = await server.http.post('/fhir/AuditEvent/$verify').expect(200);
    const verify = Object.fromEntries(res.body.parameter.map((p: { name: string; valueBoolean?: boolean; valueInteger?: number; valueString?: string }) => [p.name, p.valueBoolean ?? p.valueInteger ?? p.valueString]));
    const health = await server.http.get('/health');
    return { verify, health: health.status, healthBody: health.body };
  } finally {
    await server.close();
  }
}

describe('audit trail integrity (issue 11)', () => {
  it('an altered event is reported by $verify as the first broken link, and /health answers 503 with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-int-'));
    try {
      await trailWithEvents(dir, 6);
      await tamper(dir, (events) => {
        const v = (events.get(key(3)) as Buffer).toString('utf8');
        events.putSync(key(3), Buffer.from(v.replace('"outcome":"0"', '"outcome":"4"')));
      });
      const { verify, health, healthBody } = await verifyOver(dir);
      assert.equal(verify.result, false);
      assert.equal(verify.firstBrokenLink, 3);
      assert.match(String(verify.reason), /altered/);
      assert.equal(health, 503);
      assert.match(JSON.stringify(healthBody), /does not verify at event 3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a deleted event in the middle and a deleted last event are both found', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-int-'));
    try {
      await trailWithEvents(dir, 6);
      await tamper(dir, (events) => events.removeSync(key(4)));
      assert.equal((await verifyOver(dir)).verify.firstBrokenLink, 4);
      // Verifying appended events of its own; now remove the last event.
      const dir2 = mkdtempSync(join(tmpdir(), 'audit-int-'));
      await trailWithEvents(dir2, 5);
      await tamper(dir2, (events) => events.removeSync(key(5)));
      const second = await verifyOver(dir2);
      assert.equal(second.verify.result, false);
      assert.equal(second.verify.firstBrokenLink, 5);
      assert.equal(second.health, 503);
      rmSync(dir2, { recursive: true, force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two swapped events are found', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-int-'));
    try {
      await trailWithEvents(dir, 6);
      await tamper(dir, (events) => {
        const a = events.get(key(2)) as Buffer;
        const b = events.get(key(3)) as Buffer;
        events.putSync(key(2), b);
        events.putSync(key(3), a);
      });
      const { verify } = await verifyOver(dir);
      assert.equal(verify.result, false);
      assert.equal(verify.firstBrokenLink, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the offline check (npm run audit:verify) accepts an archive in any order and finds a tampered, deleted or reordered event', async () => {
    const trail = LmdbAuditTrail.temporary();
    const server = await startTestServer({ auditTrail: trail });
    await server.http.put('/fhir/Patient/o1').set('Content-Type', FHIR_JSON).send(patient({ id: 'o1' })).expect(201);
    for (let i = 0; i < 6; i++) await server.http.get('/fhir/Patient/o1').expect(200);
    const res = await server.http.get('/fhir/AuditEvent/$archive').buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (d: Buffer) => (text += d));
      r.on('end', () => cb(null, text));
    });
    await server.close();
    const lines = String(res.body).trim().split('\n');
    assert.equal(lines.length, 8, 'seven requests and the archive request before it');
    const shuffled = [...lines].reverse();
    assert.equal(verifyNdjson(shuffled.join('\n')).ok, true, 'order in the file does not matter');
    assert.equal(verifyNdjson(lines.slice(3).join('\n')).ok, true, 'a trail may be checked from any event on');

    const edited = lines.map((l) => JSON.parse(l) as AuditEvent);
    edited[4]!.recorded = '2000-01-01T00:00:00.000Z';
    const tampered = verifyNdjson(edited.map((e) => JSON.stringify(e)).join('\n'));
    assert.equal(tampered.ok, false);
    assert.equal(tampered.broken?.sequence, 5);
    const deleted = verifyNdjson([...lines.slice(0, 2), ...lines.slice(3)].join('\n'));
    assert.equal(deleted.broken?.sequence, 3);
    // Reordering: swap the sequence numbers of two events (their content says where they belong).
    const swapped = lines.map((l) => JSON.parse(l) as AuditEvent);
    const seqExt = (e: AuditEvent) => e.extension!.find((x) => x.url.endsWith('audit-chain'))!.extension!.find((x) => x.url === 'sequence')!;
    [seqExt(swapped[1]!).valueInteger, seqExt(swapped[2]!).valueInteger] = [seqExt(swapped[2]!).valueInteger, seqExt(swapped[1]!).valueInteger];
    assert.equal(verifyNdjson(swapped.map((e) => JSON.stringify(e)).join('\n')).ok, false);

    const dir = mkdtempSync(join(tmpdir(), 'audit-ndjson-'));
    try {
      writeFileSync(join(dir, 'good.ndjson'), shuffled.join('\n'));
      writeFileSync(join(dir, 'bad.ndjson'), edited.map((e) => JSON.stringify(e)).join('\n'));
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', join(dir, 'good.ndjson')], { cwd: ROOT, encoding: 'utf8' });
      assert.match(out, /^ok: 8 events/);
      assert.throws(() => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', join(dir, 'bad.ndjson')], { cwd: ROOT, encoding: 'utf8' }), (err: { status: number; stdout: string }) => err.status === 1 && /BROKEN at event 5/.test(err.stdout));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a failing audit write fails the request with 503 and serves no data (fault-injecting trail, then a closed store)', async () => {
    const real = LmdbAuditTrail.temporary();
    let failing = false;
    const faulty: AuditTrail = {
      kind: 'faulty',
      append: (e) => (failing ? Promise.reject(new Error('injected disk failure')) : real.append(e)),
      read: (s) => real.read(s),
      search: (q) => real.search(q),
      scan: (f) => real.scan(f),
      verify: (o) => real.verify(o),
      failure: () => (failing ? 'injected' : undefined),
      close: () => real.close(),
    };
    const server = await startTestServer({ auditTrail: faulty });
    try {
      await server.http.put('/fhir/Patient/f1').set('Content-Type', FHIR_JSON).send(patient({ id: 'f1' })).expect(201);
      failing = true;
      for (const res of [await server.http.get('/fhir/Patient/f1'), await server.http.get('/fhir/Patient?_id=f1'), await server.http.post('/fhir').set('Content-Type', FHIR_JSON).send({ resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/f1' } }] })]) {
        assert.equal(res.status, 503);
        assert.equal(res.body.resourceType, 'OperationOutcome');
        assert.ok(!JSON.stringify(res.body).includes('Chalmers'), 'no patient data in the answer');
      }
      const write = await server.http.put('/fhir/Patient/f2').set('Content-Type', FHIR_JSON).send(patient({ id: 'f2' }));
      assert.equal(write.status, 503, 'a write whose event cannot be stored is not acknowledged');
      assert.equal((await server.http.get('/health')).status, 503);
      failing = false;
      await real.close();
      const closed = await server.http.get('/fhir/Patient/f1');
      assert.equal(closed.status, 503, 'a closed trail fails the request too');
      assert.ok(!JSON.stringify(closed.body).includes('Chalmers'));
    } finally {
      await server.close();
    }
  });
});
