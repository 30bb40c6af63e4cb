/**
 * SearchParameter resources become active (https://hl7.org/fhir/R4/searchparameter.html), and $reindex indexes
 * data written before they existed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../../fixtures/server';

const mothersMaidenName = {
  resourceType: 'SearchParameter',
  url: 'http://example.org/fhir/SearchParameter/patient-mothers-maiden-name',
  name: 'MothersMaidenName',
  status: 'active',
  description: "Search by the patient's mother's maiden name extension",
  code: 'mothers-maiden-name',
  base: ['Patient'],
  type: 'string',
  expression: "Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName').value",
};
const withMaidenName = (value: string) =>
  patient({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName', valueString: value }] });

describe('SearchParameters created through the API', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());
  const search = async (query: string) => (await s.http.get(`/fhir/Patient?${query}`).set('Prefer', 'handling=strict'));

  it('before the SearchParameter exists, the parameter is unknown (400 under strict handling)', async () => {
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(withMaidenName('Smith'));
    assert.equal((await search('mothers-maiden-name=smith')).status, 400);
    const capabilities = await s.http.get('/fhir/metadata');
    const patientCaps = capabilities.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
    assert.ok(!patientCaps.searchParam.some((p: { name: string }) => p.name === 'mothers-maiden-name'));
  });

  it('once created it is searchable for new data; $reindex brings older data in', async () => {
    const created = await s.http.post('/fhir/SearchParameter').set('Content-Type', FHIR_JSON).send(mothersMaidenName);
    assert.equal(created.status, 201);
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(withMaidenName('Smithers'));
    const beforeReindex = await search('mothers-maiden-name=smith');
    assert.equal(beforeReindex.status, 200);
    assert.equal(beforeReindex.body.entry.length, 1, 'only the patient written after the parameter');
    const reindexed = await s.http.post('/fhir/Patient/$reindex');
    assert.equal(reindexed.status, 200);
    assert.equal(reindexed.body.parameter.find((p: { name: string }) => p.name === 'reindexed').valueInteger, 1);
    const afterReindex = await search('mothers-maiden-name=smith');
    assert.equal(afterReindex.body.entry.length, 2);
    const capabilities = await s.http.get('/fhir/metadata');
    const patientCaps = capabilities.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
    assert.ok(patientCaps.searchParam.some((p: { name: string }) => p.name === 'mothers-maiden-name'));
  });

  it('a SearchParameter the server cannot index is refused with 422 and not stored', async () => {
    const bad = { ...mothersMaidenName, url: 'http://example.org/bad', code: 'bad', expression: 'Patient.name.where(' };
    const res = await s.http.post('/fhir/SearchParameter').set('Content-Type', FHIR_JSON).send(bad);
    assert.equal(res.status, 422);
    assert.match(res.body.issue[0].diagnostics, /does not compile/);
    const stored = await s.http.get('/fhir/SearchParameter?url=http://example.org/bad');
    assert.equal(stored.body.entry?.length ?? 0, 0);
  });
});

describe('SearchParameters in profiles/', () => {
  let dir: string;
  let s: TestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    writeFileSync(join(dir, 'bundle.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: mothersMaidenName }] }));
    s = await startTestServer({ profilesDir: dir });
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are active from start-up', async () => {
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(withMaidenName('Okafor'));
    const res = await s.http.get('/fhir/Patient?mothers-maiden-name=oka').set('Prefer', 'handling=strict');
    assert.equal(res.status, 200);
    assert.equal(res.body.entry.length, 1);
  });
});
