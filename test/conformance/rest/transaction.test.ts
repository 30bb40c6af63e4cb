/** Transactions: https://hl7.org/fhir/R4/http.html#transaction and the processing rules of #trules */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../../src/storage/port';
import { BASE_URL, FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';
import { openTestStore } from '../../fixtures/store';

type Entry = Record<string, unknown>;
const transaction = (entry: Entry[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const mrn = (value: string) => [{ system: 'http://example.org/mrn', value }];

describe('transaction (http.html#transaction)', () => {
  let s: TestServer;
  /** Store transactions opened, counted by wrapping the store the server runs on. */
  let storeTransactions = 0;
  before(async () => {
    const store = await openTestStore();
    const counting: Store = Object.assign(Object.create(store) as Store, {
      transaction: <T>(work: Parameters<Store['transaction']>[0]) => {
        storeTransactions++;
        return store.transaction(work) as Promise<T>;
      },
    });
    s = await startTestServer({ store: counting });
  });
  after(() => s.close());

  const post = (bundle: object, prefer?: string) => {
    const req = s.http.post('/fhir').set('Content-Type', FHIR_JSON);
    return (prefer ? req.set('Prefer', prefer) : req).send(bundle);
  };
  const countPatients = async (value: string): Promise<number> =>
    (await s.http.get(`/fhir/Patient?identifier=http://example.org/mrn|${value}&_summary=count`)).body.total;

  it('commits every entry in one store transaction and answers each in request order with status, location, etag, lastModified', async () => {
    const before = storeTransactions;
    const res = await post(
      transaction([
        { fullUrl: 'urn:uuid:a0000000-0000-4000-8000-000000000001', resource: patient({ identifier: mrn('tx-order-1') }), request: { method: 'POST', url: 'Patient' } },
        { resource: patient({ id: 'tx-put-1', identifier: mrn('tx-order-2') }), request: { method: 'PUT', url: 'Patient/tx-put-1' } },
        { request: { method: 'GET', url: 'Patient?identifier=http://example.org/mrn|tx-order-1' } },
      ]),
    );
    assert.equal(res.status, 200);
    assert.equal(storeTransactions - before, 1, 'one store transaction for the whole Bundle');
    assert.equal(res.body.type, 'transaction-response');
    const [created, put, search] = res.body.entry;
    assert.equal(created.response.status, '201 Created');
    assert.match(created.response.location, new RegExp(`^${BASE_URL}/Patient/[^/]+/_history/1$`));
    assert.equal(created.response.etag, 'W/"1"');
    assert.match(created.response.lastModified, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(put.response.status, '201 Created');
    assert.equal(put.response.location, `${BASE_URL}/Patient/tx-put-1/_history/1`);
    assert.equal(search.response.status, '200 OK');
    assert.equal(search.resource.total, 1, 'the GET entry, processed last, sees the POST of the same transaction');
  });

  it('stamps meta.lastUpdated in processing order: POSTs in entry order, then PUTs, each as its history entry says', async () => {
    const res = await post(
      transaction([
        { resource: patient({ id: 'tx-stamp-put', identifier: mrn('tx-stamp-0') }), request: { method: 'PUT', url: 'Patient/tx-stamp-put' } },
        ...[1, 2, 3].map((n) => ({ resource: patient({ identifier: mrn(`tx-stamp-${n}`) }), request: { method: 'POST', url: 'Patient' } })),
      ]),
      'return=representation',
    );
    assert.equal(res.status, 200);
    const stamps = res.body.entry.map((e: { resource: { meta: { lastUpdated: string; versionId: string } } }) => e.resource.meta);
    const [put, ...posts] = stamps as Array<{ lastUpdated: string; versionId: string }>;
    for (let i = 1; i < posts.length; i++) assert.ok(posts[i]!.lastUpdated > posts[i - 1]!.lastUpdated, 'POST entries in entry order');
    assert.ok(put!.lastUpdated > posts[posts.length - 1]!.lastUpdated, 'the PUT runs after the POSTs');
    for (const [i, e] of (res.body.entry as Array<{ response: { location: string; lastModified: string } }>).entries()) {
      assert.equal(stamps[i].versionId, '1');
      assert.equal(e.response.lastModified, stamps[i].lastUpdated);
      const history = (await s.http.get(`${e.response.location.replace(BASE_URL, '/fhir').replace(/\/_history\/1$/, '')}/_history`)).body;
      assert.equal(history.entry[0].resource.meta.lastUpdated, stamps[i].lastUpdated);
    }
  });

  it('an update entry stores the next version with its versionId, validated like any update', async () => {
    await s.http.put('/fhir/Patient/tx-next').set('Content-Type', FHIR_JSON).send(patient({ id: 'tx-next' })).expect(201);
    const res = await post(transaction([{ resource: patient({ id: 'tx-next', gender: 'female' }), request: { method: 'PUT', url: 'Patient/tx-next' } }]), 'return=representation');
    assert.equal(res.status, 200);
    assert.equal(res.body.entry[0].response.etag, 'W/"2"');
    assert.equal(res.body.entry[0].resource.meta.versionId, '2');
    assert.equal((await s.http.get('/fhir/Patient/tx-next')).body.meta.versionId, '2');
    const invalid = await post(transaction([{ resource: patient({ id: 'tx-next', gender: 'mail' }), request: { method: 'PUT', url: 'Patient/tx-next' } }]));
    assert.equal(invalid.status, 400);
    assert.equal((await s.http.get('/fhir/Patient/tx-next')).body.gender, 'female');
  });

  it('rewrites urn:uuid and urn:oid fullUrls everywhere: references, contained resources, extensions, uri values, narrative links', async () => {
    const patientUrn = 'urn:uuid:b0000000-0000-4000-8000-000000000001';
    const practitionerUrn = 'urn:oid:1.2.3.4.5.6';
    const res = await post(
      transaction([
        {
          fullUrl: 'urn:uuid:b0000000-0000-4000-8000-000000000002',
          resource: {
            resourceType: 'DocumentReference',
            status: 'current',
            text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${patientUrn}">patient</a></div>` },
            contained: [{ resourceType: 'Provenance', id: 'p1', recorded: '2024-01-01T00:00:00Z', target: [{ reference: patientUrn }], agent: [{ who: { reference: practitionerUrn } }] }],
            extension: [{ url: 'http://example.org/author', valueReference: { reference: practitionerUrn } }],
            subject: { reference: patientUrn },
            content: [{ attachment: { contentType: 'text/plain', url: patientUrn } }],
            // dom-3: a contained resource is referred to from its container.
            context: { related: [{ reference: '#p1' }] },
          },
          request: { method: 'POST', url: 'DocumentReference' },
        },
        { fullUrl: patientUrn, resource: patient({ identifier: mrn('tx-urn') }), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: practitionerUrn, resource: { resourceType: 'Practitioner', name: [{ family: 'Urn' }] }, request: { method: 'POST', url: 'Practitioner' } },
      ]),
      'return=minimal',
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [docEntry, patientEntry, practitionerEntry] = res.body.entry;
    const patientRef = `Patient/${patientEntry.response.location.split('/')[5]}`;
    const practitionerRef = `Practitioner/${practitionerEntry.response.location.split('/')[5]}`;
    const doc = (await s.http.get(`/fhir/DocumentReference/${docEntry.response.location.split('/')[5]}`)).body;
    assert.equal(doc.subject.reference, patientRef);
    assert.equal(doc.contained[0].target[0].reference, patientRef);
    assert.equal(doc.contained[0].agent[0].who.reference, practitionerRef);
    assert.equal(doc.extension[0].valueReference.reference, practitionerRef);
    assert.equal(doc.content[0].attachment.url, patientRef);
    assert.ok(doc.text.div.includes(`href="${patientRef}"`), doc.text.div);
    const bySubject = await s.http.get(`/fhir/DocumentReference?subject=${patientRef}`);
    assert.equal(bySubject.body.total, 1, 'the rewritten reference is what the search index holds');
  });

  it('a reference to a urn:uuid no entry has fails the transaction', async () => {
    const res = await post(
      transaction([
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:c0000000-0000-4000-8000-00000000dead' } }, request: { method: 'POST', url: 'Observation' } },
      ]),
    );
    assert.equal(res.status, 400);
    assert.match(res.body.issue[0].diagnostics, /Bundle\.entry\[0\].*urn:uuid:c0000000/);
  });

  describe('atomicity: all or nothing', () => {
    it('one invalid entry leaves the store unchanged and the OperationOutcome names the entry', async () => {
      const res = await post(
        transaction([
          { resource: patient({ identifier: mrn('tx-atomic-1') }), request: { method: 'POST', url: 'Patient' } },
          { resource: patient({ identifier: mrn('tx-atomic-1'), gender: 'mail' }), request: { method: 'POST', url: 'Patient' } },
        ]),
      );
      assert.equal(res.status, 400);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      const issue = res.body.issue.find((i: { expression?: string[] }) => i.expression?.some((x) => x.includes('gender')));
      assert.ok(issue, JSON.stringify(res.body));
      assert.deepEqual(issue.expression, ['Bundle.entry[1].resource.gender']);
      assert.match(issue.diagnostics, /^Bundle\.entry\[1\] \(POST Patient\)/);
      assert.equal(await countPatients('tx-atomic-1'), 0);
    });

    it('one failing ifMatch leaves the store unchanged (412)', async () => {
      await s.http.put('/fhir/Patient/tx-if-match').set('Content-Type', FHIR_JSON).send(patient({ id: 'tx-if-match', identifier: mrn('tx-if-match') }));
      const res = await post(
        transaction([
          { resource: patient({ identifier: mrn('tx-atomic-2') }), request: { method: 'POST', url: 'Patient' } },
          { resource: patient({ id: 'tx-if-match', identifier: mrn('tx-if-match'), gender: 'female' }), request: { method: 'PUT', url: 'Patient/tx-if-match', ifMatch: 'W/"7"' } },
        ]),
      );
      assert.equal(res.status, 412);
      assert.match(res.body.issue[0].diagnostics, /Bundle\.entry\[1\]/);
      assert.equal(await countPatients('tx-atomic-2'), 0);
      const current = await s.http.get('/fhir/Patient/tx-if-match');
      assert.equal(current.body.meta.versionId, '1');
      assert.equal(current.body.gender, 'male');
    });

    it('a matching ifMatch, ifNoneMatch and ifModifiedSince are honoured per entry', async () => {
      const res = await post(
        transaction([
          { resource: patient({ id: 'tx-if-match', identifier: mrn('tx-if-match'), gender: 'other' }), request: { method: 'PUT', url: 'Patient/tx-if-match', ifMatch: 'W/"1"' } },
          { request: { method: 'GET', url: 'Patient/tx-if-match', ifNoneMatch: 'W/"2"' } },
          { request: { method: 'GET', url: 'Patient/tx-put-1', ifModifiedSince: new Date(Date.now() + 60_000).toUTCString() } },
        ]),
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.entry.map((e: { response: { status: string } }) => e.response.status), ['200 OK', '304 Not Modified', '304 Not Modified']);
    });

    it('nobody reads a half-applied transaction', async () => {
      const size = 150;
      const entries = Array.from({ length: size }, (_, i) => ({ resource: patient({ identifier: mrn(`tx-visible-${i}`), active: true, name: [{ family: 'Halfway' }] }), request: { method: 'POST', url: 'Patient' } }));
      let done = false;
      const seen = new Set<number>();
      const reader = (async () => {
        while (!done) seen.add((await s.http.get('/fhir/Patient?family=Halfway&_summary=count')).body.total);
      })();
      const res = await post(transaction(entries), 'return=minimal');
      done = true;
      await reader;
      assert.equal(res.status, 200);
      assert.deepEqual([...seen].filter((n) => n !== 0 && n !== size), [], `readers saw ${[...seen].join(', ')}`);
      assert.equal((await s.http.get('/fhir/Patient?family=Halfway&_summary=count')).body.total, size);
    });
  });

  describe('processing order (http.html#trules): DELETE, POST, PUT/PATCH, GET', () => {
    it('runs the DELETE before the POST and the PUT, and the GET after them, whatever the entry order', async () => {
      await s.http.put('/fhir/Patient/tx-order-del').set('Content-Type', FHIR_JSON).send(patient({ id: 'tx-order-del', identifier: mrn('tx-order-x') }));
      const res = await post(
        transaction([
          { request: { method: 'GET', url: 'Patient?identifier=http://example.org/mrn|tx-order-x' } },
          { resource: patient({ id: 'tx-put-1', identifier: mrn('tx-order-2'), gender: 'female' }), request: { method: 'PUT', url: 'Patient/tx-put-1' } },
          // Matches Patient/tx-order-del unless the DELETE ran first.
          { resource: patient({ identifier: mrn('tx-order-x') }), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=http://example.org/mrn|tx-order-x' } },
          { request: { method: 'DELETE', url: 'Patient/tx-order-del' } },
        ]),
        'return=minimal',
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const [get, put, created, deleted] = res.body.entry;
      assert.equal(deleted.response.status, '204 No Content');
      assert.equal(created.response.status, '201 Created', 'the POST ran after the DELETE, so its ifNoneExist matched nothing');
      assert.equal(put.response.status, '200 OK');
      assert.equal(get.resource.total, 1);
      assert.equal(get.resource.entry[0].fullUrl, created.fullUrl, 'the GET ran last and sees the new Patient, not the deleted one');
    });

    it('applies a PATCH entry given as a Binary JSON Patch', async () => {
      const patch = Buffer.from(JSON.stringify([{ op: 'replace', path: '/gender', value: 'unknown' }])).toString('base64');
      const res = await post(
        transaction([{ resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: patch }, request: { method: 'PATCH', url: 'Patient/tx-put-1' } }]),
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.entry[0].resource.gender, 'unknown');
    });

    it('refuses two entries that change the same resource', async () => {
      const res = await post(
        transaction([
          { request: { method: 'DELETE', url: 'Patient/tx-put-1' } },
          { resource: patient({ id: 'tx-put-1' }), request: { method: 'PUT', url: 'Patient/tx-put-1' } },
        ]),
      );
      assert.equal(res.status, 400);
      assert.match(res.body.issue[0].diagnostics, /entry\[0\].*entry\[1\].*Patient\/tx-put-1/);
    });
  });

  describe('conditional references (http.html#trules)', () => {
    before(async () => {
      for (const [id, value] of [['cr-one', 'npi-1'], ['cr-two-a', 'npi-2'], ['cr-two-b', 'npi-2']]) {
        await s.http
          .put(`/fhir/Practitioner/${id}`)
          .set('Content-Type', FHIR_JSON)
          .send({ resourceType: 'Practitioner', id, identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value }] });
      }
    });
    const encounter = (reference: string) =>
      transaction([
        { resource: patient({ identifier: mrn(`tx-cr-${reference.split('|')[1]}`) }), request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, participant: [{ individual: { reference } }] }, request: { method: 'POST', url: 'Encounter' } },
      ]);

    it('a reference matching one resource becomes that resource', async () => {
      const res = await post(encounter('Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|npi-1'));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.entry[1].resource.participant[0].individual.reference, 'Practitioner/cr-one');
    });

    it('an ambiguous reference fails the transaction naming the entry and the reference (412)', async () => {
      const reference = 'Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|npi-2';
      const res = await post(encounter(reference));
      assert.equal(res.status, 412);
      assert.ok(res.body.issue[0].diagnostics.includes(`Bundle.entry[1]: the conditional reference ${reference} matches more than one resource`), res.body.issue[0].diagnostics);
      assert.equal(await countPatients(`tx-cr-${reference.split('|')[1]}`), 0);
    });

    it('an unmatched reference fails the transaction naming the entry and the reference (422)', async () => {
      const reference = 'Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|nobody';
      const res = await post(encounter(reference));
      assert.equal(res.status, 422);
      assert.ok(res.body.issue[0].diagnostics.includes(`Bundle.entry[1]: the conditional reference ${reference} matches no resource`));
      assert.equal(await countPatients(`tx-cr-${reference.split('|')[1]}`), 0);
    });

    // Many references of one type and parameter are looked up together (src/fhir/bundle-references.ts prefetch):
    // each must still resolve, or fail, exactly as when it is searched alone.
    const npi = (value: string) => `Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|${value}`;
    const encounters = (references: string[], extra: Entry[] = []) =>
      transaction([
        ...references.map((reference) => ({
          resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, participant: [{ individual: { reference } }] },
          request: { method: 'POST', url: 'Encounter' },
        })),
        ...extra,
      ]);

    it('several references to one type and parameter each become their own match', async () => {
      await s.http.put('/fhir/Practitioner/cr-three').set('Content-Type', FHIR_JSON).send({ resourceType: 'Practitioner', id: 'cr-three', identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: 'npi-3' }] });
      const res = await post(encounters([npi('npi-1'), npi('npi-3'), npi('npi-1'), `${npi('npi-3')}&_id=cr-three`]));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const got = res.body.entry.map((e: { resource: { participant: Array<{ individual: { reference: string } }> } }) => e.resource.participant[0]?.individual.reference);
      assert.deepEqual(got, ['Practitioner/cr-one', 'Practitioner/cr-three', 'Practitioner/cr-one', 'Practitioner/cr-three']);
    });

    it('among several references the first entry whose reference fails names the transaction error', async () => {
      const res = await post(encounters([npi('npi-1'), npi('nobody-a'), npi('npi-2'), npi('nobody-b')]));
      assert.equal(res.status, 422);
      assert.ok(res.body.issue[0].diagnostics.includes(`Bundle.entry[1]: the conditional reference ${npi('nobody-a')} matches no resource`), res.body.issue[0].diagnostics);
      const ambiguous = await post(encounters([npi('npi-1'), npi('npi-2'), npi('nobody-a')]));
      assert.equal(ambiguous.status, 412);
      assert.ok(ambiguous.body.issue[0].diagnostics.includes(`Bundle.entry[1]: the conditional reference ${npi('npi-2')} matches more than one resource`), ambiguous.body.issue[0].diagnostics);
    });

    // Resolutions are reused across Bundles (src/fhir/conditional-memo.ts): never past a change of the matches.
    const putPractitioner = (id: string, value: string) =>
      s.http.put(`/fhir/Practitioner/${id}`).set('Content-Type', FHIR_JSON).send({ resourceType: 'Practitioner', id, identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value }] });
    const resolvedTo = async (reference: string): Promise<{ status: number; reference?: string }> => {
      const res = await post(encounters([reference]));
      return { status: res.status, ...(res.status === 200 ? { reference: res.body.entry[0].resource.participant[0].individual.reference } : {}) };
    };

    it('a reference an earlier Bundle resolved follows later writes: a second match makes it ambiguous, a delete resolves it again', async () => {
      await putPractitioner('cr-four-a', 'npi-4');
      assert.deepEqual(await resolvedTo(npi('npi-4')), { status: 200, reference: 'Practitioner/cr-four-a' });
      assert.deepEqual(await resolvedTo(npi('npi-4')), { status: 200, reference: 'Practitioner/cr-four-a' });
      await putPractitioner('cr-four-b', 'npi-4');
      assert.equal((await resolvedTo(npi('npi-4'))).status, 412);
      assert.equal((await s.http.delete('/fhir/Practitioner/cr-four-a')).status, 204);
      assert.deepEqual(await resolvedTo(npi('npi-4')), { status: 200, reference: 'Practitioner/cr-four-b' });
      await putPractitioner('cr-four-b', 'npi-4-changed');
      assert.equal((await resolvedTo(npi('npi-4'))).status, 422);
    });

    it('what a rolled-back transaction saw of its own writes is not reused', async () => {
      await putPractitioner('cr-six', 'npi-6');
      // Deletes run first, so the reference is resolved after this transaction's own (never committed) delete.
      const own = await post(encounters([npi('npi-6')], [{ request: { method: 'DELETE', url: 'Practitioner/cr-six' } }]));
      assert.equal(own.status, 422, JSON.stringify(own.body));
      assert.deepEqual(await resolvedTo(npi('npi-6')), { status: 200, reference: 'Practitioner/cr-six' });
    });

    it('a failing conditional reference before an unknown urn:uuid is the error reported, and the other way round', async () => {
      const orphan = { resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:5b0c1f5e-0000-4000-8000-000000000001' } }, request: { method: 'POST', url: 'Encounter' } };
      const conditionalFirst = await post(encounters([npi('npi-1'), npi('nobody-a')], [orphan]));
      assert.equal(conditionalFirst.status, 422);
      assert.ok(conditionalFirst.body.issue[0].diagnostics.includes(`Bundle.entry[1]: the conditional reference ${npi('nobody-a')} matches no resource`), conditionalFirst.body.issue[0].diagnostics);
      const urnFirst = await post(transaction([(encounters([npi('npi-1')]).entry as Entry[])[0] as Entry, orphan, ...(encounters([npi('nobody-a'), npi('npi-3')]).entry as Entry[])]));
      assert.equal(urnFirst.status, 400);
      assert.ok(urnFirst.body.issue[0].diagnostics.includes('Bundle.entry[1] refers to urn:uuid:5b0c1f5e-0000-4000-8000-000000000001'), urnFirst.body.issue[0].diagnostics);
    });
  });

  describe('ifNoneExist', () => {
    const record = () =>
      transaction([
        { fullUrl: 'urn:uuid:d0000000-0000-4000-8000-000000000001', resource: patient({ identifier: mrn('tx-resend') }), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=http://example.org/mrn|tx-resend' } },
        {
          resource: { resourceType: 'Observation', status: 'final', identifier: [{ system: 'http://example.org/obs', value: 'tx-resend-1' }], code: { text: 'x' }, subject: { reference: 'urn:uuid:d0000000-0000-4000-8000-000000000001' } },
          request: { method: 'POST', url: 'Observation', ifNoneExist: 'identifier=http://example.org/obs|tx-resend-1' },
        },
      ]);

    it('re-sending the same Bundle creates no duplicates, and references point at the resources already there', async () => {
      const first = await post(record(), 'return=minimal');
      assert.deepEqual(first.body.entry.map((e: { response: { status: string } }) => e.response.status), ['201 Created', '201 Created']);
      const second = await post(record());
      assert.deepEqual(second.body.entry.map((e: { response: { status: string } }) => e.response.status), ['200 OK', '200 OK']);
      assert.equal(second.body.entry[0].fullUrl, first.body.entry[0].fullUrl);
      assert.equal(await countPatients('tx-resend'), 1);
      const observations = await s.http.get('/fhir/Observation?identifier=http://example.org/obs|tx-resend-1');
      assert.equal(observations.body.total, 1);
      assert.equal(`${BASE_URL}/${observations.body.entry[0].resource.subject.reference}`, first.body.entry[0].fullUrl);
    });

    it('concurrent transactions with the same ifNoneExist create one resource', async () => {
      const bundle = transaction([{ resource: patient({ identifier: mrn('tx-race') }), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=http://example.org/mrn|tx-race' } }]);
      const responses = await Promise.all(Array.from({ length: 8 }, () => post(bundle, 'return=minimal')));
      assert.deepEqual(responses.map((r) => r.status), Array(8).fill(200));
      assert.equal(await countPatients('tx-race'), 1);
    });
  });

  describe('limits and misdirected Bundles', () => {
    it('a transaction Bundle POSTed to /fhir/Bundle is refused with 400 pointing at POST [base]', async () => {
      for (const type of ['transaction', 'batch']) {
        const res = await s.http.post('/fhir/Bundle').set('Content-Type', FHIR_JSON).send({ resourceType: 'Bundle', type, entry: [] });
        assert.equal(res.status, 400);
        assert.match(res.body.issue[0].diagnostics, new RegExp(`POST ${BASE_URL}`));
      }
    });

    it('POST [base] with anything but a batch or transaction Bundle is 400', async () => {
      const res = await post({ resourceType: 'Bundle', type: 'collection', entry: [] });
      assert.equal(res.status, 400);
      assert.match(res.body.issue[0].diagnostics, /batch or transaction/);
      assert.equal((await post(patient())).status, 400);
    });
  });
});

describe('Bundle size limits', () => {
  it('a Bundle larger than MAX_BODY_SIZE is refused with 413 naming the limit', async () => {
    const s = await startTestServer({ env: { MAX_BODY_SIZE: '2kb' } });
    try {
      const entries = Array.from({ length: 20 }, () => ({ resource: patient(), request: { method: 'POST', url: 'Patient' } }));
      const res = await s.http.post('/fhir').set('Content-Type', FHIR_JSON).send(transaction(entries));
      assert.equal(res.status, 413);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.match(res.body.issue[0].diagnostics, /larger than the limit of 2048 bytes/);
    } finally {
      await s.close();
    }
  });

  it('a Bundle with more entries than MAX_BUNDLE_ENTRIES is refused with 413 naming the limit', async () => {
    const s = await startTestServer({ env: { MAX_BUNDLE_ENTRIES: '3' } });
    try {
      const entries = Array.from({ length: 4 }, () => ({ resource: patient(), request: { method: 'POST', url: 'Patient' } }));
      const res = await s.http.post('/fhir').set('Content-Type', FHIR_JSON).send(transaction(entries));
      assert.equal(res.status, 413);
      assert.match(res.body.issue[0].diagnostics, /4 entries.*at most 3.*MAX_BUNDLE_ENTRIES/);
    } finally {
      await s.close();
    }
  });
});

describe('a transaction the store re-runs (storage port: work may be re-run after a transient conflict)', () => {
  it('starts again from the Bundle as sent: references point at the resources of the attempt that committed', async () => {
    const store = await openTestStore();
    class Rerun extends Error {}
    let attempts = 0;
    const rerunning: Store = Object.assign(Object.create(store) as Store, {
      async transaction<T>(work: Parameters<Store['transaction']>[0]): Promise<T> {
        // Only transactions that write resources count (the server's own bookkeeping, e.g. the subscription feed cursor, does not).
        let writesResources = false;
        try {
          await store.transaction(async (tx) => {
            const watched = Object.assign(Object.create(tx) as typeof tx, {
              insert: (c: string, doc: Parameters<typeof tx.insert>[1]) => {
                if (c === 'resources') writesResources = true;
                return tx.insert(c, doc);
              },
            });
            await work(watched);
            throw new Rerun();
          });
        } catch (err) {
          if (!(err instanceof Rerun)) throw err;
        }
        if (writesResources) attempts++;
        return store.transaction(work) as Promise<T>;
      },
    });
    const s = await startTestServer({ store: rerunning });
    try {
      const urn = 'urn:uuid:e0000000-0000-4000-8000-000000000001';
      const res = await s.http
        .post('/fhir')
        .set('Content-Type', FHIR_JSON)
        .send(
          transaction([
            { fullUrl: urn, resource: patient({ identifier: mrn('tx-rerun') }), request: { method: 'POST', url: 'Patient' } },
            { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: urn } }, request: { method: 'POST', url: 'Observation' } },
          ]),
        );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(attempts, 1);
      const reference = res.body.entry[1].resource.subject.reference;
      assert.equal(`${BASE_URL}/${reference}`, res.body.entry[0].fullUrl);
      assert.equal((await s.http.get(`/fhir/${reference}`)).status, 200);
      assert.equal((await s.http.get('/fhir/Patient?identifier=http://example.org/mrn|tx-rerun&_summary=count')).body.total, 1);
    } finally {
      await s.close();
    }
  });
});
