/**
 * Issue 11: one AuditEvent per request and per batch/transaction entry, after the Basic Audit Log Patterns
 * (https://profiles.ihe.net/ITI/BALP/), and AuditEvents readable and searchable but never writable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle } from 'fhir/r4';
import { LmdbAuditTrail } from '../../../src/audit/lmdb-trail';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

const subtypeOf = (e: AuditEvent) => e.subtype?.[0]?.code;
const entityRefs = (e: AuditEvent) => (e.entity ?? []).map((x) => x.what?.reference);
const patientsOf = (e: AuditEvent) => (e.entity ?? []).filter((x) => x.role?.code === '1').map((x) => x.what?.reference);

describe('audit trail: one AuditEvent per interaction (issue 11)', () => {
  let server: TestServer;
  let trail: LmdbAuditTrail;
  before(async () => {
    trail = LmdbAuditTrail.temporary();
    server = await startTestServer({ auditTrail: trail });
  });
  after(() => server.close());

  /** Runs `request` and returns the events it left (oldest first). */
  async function eventsOf(request: () => Promise<unknown>): Promise<AuditEvent[]> {
    const before = (await trail.verify()).lastSequence ?? 0;
    await request();
    const out: AuditEvent[] = [];
    for await (const e of trail.scan(before + 1)) out.push(e);
    return out;
  }

  it('a write answered with Prefer: return=minimal names the patient concerned too, as do transaction entries', async () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pm' } };
    const [created] = await eventsOf(() => server.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).set('Prefer', 'return=minimal').send(obs).expect(201));
    assert.deepEqual(patientsOf(created!), ['Patient/pm']);
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: obs as never, request: { method: 'POST', url: 'Observation' } }] };
    const events = await eventsOf(() => server.http.post('/fhir').set('Content-Type', FHIR_JSON).set('Prefer', 'return=minimal').send(bundle).expect(200));
    const entry = events.find((e) => subtypeOf(e) === 'create');
    assert.deepEqual(patientsOf(entry!), ['Patient/pm']);
  });

  it('every REST interaction leaves exactly one event with its restful-interaction subtype, action, outcome and entities', async () => {
    const [created] = await eventsOf(() => server.http.put('/fhir/Patient/p1').set('Content-Type', FHIR_JSON).send(patient({ id: 'p1' })).expect(201));
    assert.equal(subtypeOf(created!), 'update');
    assert.equal(created!.action, 'U');
    assert.equal(created!.type.code, 'rest');
    assert.equal(created!.outcome, '0');
    assert.deepEqual(patientsOf(created!), ['Patient/p1']);

    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } };
    let obsId = '';
    const [create] = await eventsOf(async () => {
      const res = await server.http.post('/fhir/Observation').set('Content-Type', FHIR_JSON).send(obs).expect(201);
      obsId = res.body.id;
    });
    assert.equal(subtypeOf(create!), 'create');
    assert.equal(create!.action, 'C');
    assert.ok(entityRefs(create!).includes(`Observation/${obsId}`));
    assert.deepEqual(patientsOf(create!), ['Patient/p1'], 'the patient concerned comes from the compartment');

    const cases: Array<[string, () => Promise<unknown>, string, string]> = [
      ['read', () => server.http.get(`/fhir/Observation/${obsId}`).expect(200), 'read', 'R'],
      ['vread', () => server.http.get(`/fhir/Observation/${obsId}/_history/1`).expect(200), 'vread', 'R'],
      ['search', () => server.http.get('/fhir/Observation?subject=Patient/p1').expect(200), 'search-type', 'R'],
      ['compartment search', () => server.http.get('/fhir/Patient/p1/Observation').expect(200), 'search-type', 'R'],
      ['history', () => server.http.get(`/fhir/Observation/${obsId}/_history`).expect(200), 'history-instance', 'R'],
      ['type history', () => server.http.get('/fhir/Observation/_history').expect(200), 'history-type', 'R'],
      ['patch', () => server.http.patch(`/fhir/Observation/${obsId}`).set('Content-Type', 'application/json-patch+json').send([{ op: 'replace', path: '/status', value: 'amended' }]).expect(200), 'patch', 'U'],
      ['capabilities', () => server.http.get('/fhir/metadata').expect(200), 'capabilities', 'R'],
      ['delete', () => server.http.delete(`/fhir/Observation/${obsId}`).expect((r) => assert.ok(r.status < 300)), 'delete', 'D'],
    ];
    for (const [name, run, subtype, action] of cases) {
      const events = await eventsOf(run);
      assert.equal(events.length, 1, `${name} left ${events.length} events`);
      const e = events[0] as AuditEvent;
      assert.equal(subtypeOf(e), subtype, name);
      assert.equal(e.action, action, name);
      assert.equal(e.outcome, '0', name);
      if (name !== 'capabilities' && name !== 'type history') assert.ok(patientsOf(e).includes('Patient/p1'), `${name} names the patient concerned`);
      if (name === 'read' || name === 'delete') assert.ok(entityRefs(e).includes(`Observation/${obsId}`), name);
    }
  });

  it('a failed request leaves one event with a failure outcome, and search values never appear in events', async () => {
    const [missing] = await eventsOf(() => server.http.get('/fhir/Patient/nobody-here').expect(404));
    assert.equal(missing!.outcome, '4');
    assert.equal(missing!.outcomeDesc, 'not-found');
    const [search] = await eventsOf(() => server.http.get('/fhir/Patient?family=SecretFamilyName').expect(200));
    assert.ok(!JSON.stringify(search).includes('SecretFamilyName'), 'the search value is not recorded');
    const [unknown] = await eventsOf(() => server.http.get('/fhir/Nothing/here/at/all').expect(404));
    assert.equal(unknown!.outcome, '4');
  });

  it('records who asked: client network address (access control off), the server as destination', async () => {
    const [e] = await eventsOf(() => server.http.get('/fhir/Patient/p1').expect(200));
    const requestor = e!.agent.find((a) => a.requestor);
    assert.ok(requestor?.network?.address, 'the client address is recorded');
    assert.ok(e!.agent.some((a) => a.type?.coding?.[0]?.code === '110152'));
  });

  it('a batch leaves one event per entry and one for the bundle; a transaction too', async () => {
    const batch: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: 'Patient/p1' } },
        { request: { method: 'GET', url: 'Patient/missing-one' } },
        { request: { method: 'POST', url: 'AuditEvent' }, resource: { resourceType: 'AuditEvent' } as never },
      ],
    };
    const events = await eventsOf(() => server.http.post('/fhir').set('Content-Type', FHIR_JSON).send(batch).expect(200));
    // Entries may finish in any order; the bundle's own event comes after all of them.
    assert.equal(events.length, 4);
    assert.equal(subtypeOf(events[3]!), 'batch');
    assert.equal(events[3]!.outcome, '0');
    const entries = events.slice(0, 3).map((e) => `${subtypeOf(e)}:${e.outcome}:${entityRefs(e).join(' ')}`).sort();
    assert.deepEqual(entries, ['create:4:', 'read:0:Patient/p1 Patient/p1', 'read:4:Patient/missing-one Patient/missing-one']);

    const transaction: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111', request: { method: 'POST', url: 'Patient' }, resource: patient() as never },
        { request: { method: 'PUT', url: 'Patient/p2' }, resource: patient({ id: 'p2' }) as never },
      ],
    };
    const tx = await eventsOf(() => server.http.post('/fhir').set('Content-Type', FHIR_JSON).send(transaction).expect(200));
    assert.deepEqual(tx.map(subtypeOf), ['create', 'update', 'transaction']);
    assert.ok(patientsOf(tx[1]!).includes('Patient/p2'));
  });

  it('the entries of a transaction that rolled back are recorded as not having taken effect (http.html#transaction)', async () => {
    const transaction: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'PUT', url: 'Patient/rb1' }, resource: patient({ id: 'rb1' }) as never },
        { fullUrl: 'urn:uuid:22222222-2222-4222-8222-222222222222', request: { method: 'POST', url: 'Patient' }, resource: patient() as never },
        { request: { method: 'PUT', url: 'Patient/rb2' }, resource: { resourceType: 'Patient', id: 'rb2', gender: 'not-a-gender' } as never },
      ],
    };
    const events = await eventsOf(() => server.http.post('/fhir').set('Content-Type', FHIR_JSON).send(transaction).expect(400));
    await server.http.get('/fhir/Patient/rb1').expect(404);
    const bundle = events[events.length - 1]!;
    assert.equal(subtypeOf(bundle), 'transaction');
    assert.equal(bundle.outcome, '4');
    const entries = events.slice(0, -1);
    // Processing order (http.html#trules): POST, then the PUTs; the failing PUT ends the transaction.
    assert.deepEqual(entries.map((e) => `${subtypeOf(e)} ${subtypeOf(e) === 'create' ? '' : entityRefs(e)[0]}`), ['create ', 'update Patient/rb1', 'update Patient/rb2']);
    for (const e of entries) assert.notEqual(e.outcome, '0', `${subtypeOf(e)} ${entityRefs(e)[0]} is not recorded as a success`);
    assert.match(entries[0]!.outcomeDesc ?? '', /rolled back: the transaction failed \(incorrect\)/);
    assert.match(entries[1]!.outcomeDesc ?? '', /rolled back/);
    assert.equal(entries[1]!.outcome, bundle.outcome, 'a rolled-back entry carries the transaction\'s failure outcome');
    assert.equal(entries[2]!.outcomeDesc, 'incorrect', 'the entry that failed keeps its own failure');
    // Held back until the transaction ended, the entries' events still come before the transaction's, in order.
    assert.deepEqual(events.map((e) => Number(e.id)), events.map((_, i) => Number(events[0]!.id) + i));
    assert.ok(events.every((e, i) => i === 0 || e.recorded >= events[i - 1]!.recorded));
  });

  it('AuditEvents cannot be created, updated, patched or deleted through the API (405)', async () => {
    await server.http.post('/fhir/AuditEvent').set('Content-Type', FHIR_JSON).send({ resourceType: 'AuditEvent' }).expect(405);
    await server.http.put('/fhir/AuditEvent/1').set('Content-Type', FHIR_JSON).send({ resourceType: 'AuditEvent', id: '1' }).expect(405);
    await server.http.patch('/fhir/AuditEvent/1').set('Content-Type', 'application/json-patch+json').send([{ op: 'remove', path: '/agent' }]).expect(405);
    await server.http.delete('/fhir/AuditEvent/1').expect(405);
    await server.http.delete('/fhir/AuditEvent?outcome=0').expect(405);
    assert.ok((await trail.verify()).ok, 'the chain is intact');
  });

  it('AuditEvents are read and searched by date, patient, entity, subtype, outcome and agent', async () => {
    const first = await server.http.get('/fhir/AuditEvent/1').expect(200);
    assert.equal(first.body.resourceType, 'AuditEvent');
    assert.equal(first.body.id, '1');
    const byPatient = await server.http.get('/fhir/AuditEvent?patient=Patient/p2&_count=50').expect(200);
    assert.ok(byPatient.body.total >= 1);
    for (const entry of byPatient.body.entry) assert.ok(patientsOf(entry.resource).includes('Patient/p2'));
    const reads = await server.http.get('/fhir/AuditEvent?subtype=http://hl7.org/fhir/restful-interaction|read&outcome=4').expect(200);
    for (const entry of reads.body.entry) {
      assert.equal(subtypeOf(entry.resource), 'read');
      assert.equal(entry.resource.outcome, '4');
    }
    const today = new Date().toISOString().slice(0, 10);
    const byDate = await server.http.get(`/fhir/AuditEvent?date=ge${today}&date=lt2999-01-01&_count=2`).expect(200);
    assert.equal(byDate.body.entry.length, 2);
    assert.ok(byDate.body.link.some((l: { relation: string }) => l.relation === 'next'));
    const none = await server.http.get('/fhir/AuditEvent?date=lt2000-01-01').expect(200);
    assert.equal(none.body.total, 0);
    await server.http.get('/fhir/AuditEvent?name=x').expect(400);
    await server.http.get('/fhir/AuditEvent/999999').expect(404);
  });

  it('POST AuditEvent/$verify reports an intact chain; $archive streams it as NDJSON', async () => {
    const res = await server.http.post('/fhir/AuditEvent/$verify').expect(200);
    const param = (n: string) => res.body.parameter.find((p: { name: string }) => p.name === n);
    assert.equal(param('result').valueBoolean, true);
    assert.ok(param('checked').valueInteger > 10);
    const archive = await server.http.get('/fhir/AuditEvent/$archive').buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (d: Buffer) => (text += d));
      r.on('end', () => cb(null, text));
    }).expect(200);
    assert.match(String(archive.headers['content-type']), /ndjson/);
    const lines = String(archive.body).trim().split('\n');
    assert.ok(lines.length > 10);
    assert.equal(JSON.parse(lines[0] as string).id, '1');
  });
});
