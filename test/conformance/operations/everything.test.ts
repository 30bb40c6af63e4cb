/** Patient/[id]/$everything (https://hl7.org/fhir/R4/patient-operation-everything.html) */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Resource } from 'fhir/r4';
import { patientRecords, putAll, SHARED } from '../../fixtures/clinical-records';
import { startTestServer, type TestServer } from '../../fixtures/server';

type Entry = { fullUrl: string; resource: { resourceType: string; id: string }; search: { mode: string } };
type Page = { type: string; total?: number; entry: Entry[]; link: Array<{ relation: string; url: string }> };

describe('Patient $everything (patient-operation-everything.html)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    await putAll(s.router, [...SHARED, ...patientRecords('p1'), ...patientRecords('p2')]);
  });
  after(() => s.close());

  const keys = (page: Page): string[] => page.entry.map((e) => `${e.resource.resourceType}/${e.resource.id}`);
  const get = async (path: string): Promise<Page> => {
    const res = await s.http.get(path);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as Page;
  };
  /** Follows next links; returns every page. */
  const walk = async (path: string): Promise<Page[]> => {
    const pages: Page[] = [];
    for (let next: string | undefined = path; next; ) {
      const page = await get(next);
      pages.push(page);
      const url = page.link.find((l) => l.relation === 'next')?.url;
      next = url ? new URL(url).pathname + new URL(url).search : undefined;
    }
    return pages;
  };

  it('returns the patient compartment and the resources it references, and nothing of other patients', async () => {
    const page = await get('/fhir/Patient/p1/$everything');
    assert.equal(page.type, 'searchset');
    const matches = page.entry.filter((e) => e.search.mode === 'match').map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
    assert.deepEqual(matches, ['Encounter/p1-e1', 'MedicationRequest/p1-m1', 'Observation/p1-o0', 'Observation/p1-o1', 'Observation/p1-o2', 'Patient/p1']);
    const included = page.entry.filter((e) => e.search.mode === 'include').map((e) => `${e.resource.resourceType}/${e.resource.id}`).sort();
    assert.deepEqual(included, ['Location/loc1', 'Medication/med1', 'Organization/org1', 'Practitioner/dr1']);
    assert.equal(page.total, 10);
  });

  it('_type narrows both the compartment and the referenced resources', async () => {
    const page = await get('/fhir/Patient/p1/$everything?_type=Patient,Practitioner');
    assert.deepEqual(keys(page).sort(), ['Patient/p1', 'Practitioner/dr1']);
  });

  it('_since keeps resources changed at or after the instant, referenced ones included', async () => {
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await putAll(s.router, [
      { resourceType: 'Observation', id: 'p1-o1', status: 'amended', code: { text: 'x' }, subject: { reference: 'Patient/p1' } } as Resource,
      { resourceType: 'Organization', id: 'org1', name: 'Renamed Hospital' } as Resource,
      { resourceType: 'Observation', id: 'p2-o0', status: 'amended', code: { text: 'x' }, subject: { reference: 'Patient/p2' } } as Resource,
    ]);
    const page = await get(`/fhir/Patient/p1/$everything?_since=${encodeURIComponent(since)}`);
    assert.deepEqual(keys(page).sort(), ['Observation/p1-o1', 'Organization/org1']);
  });

  it('_count pages through everything once, compartment first; writes made while paging repeat nothing', async () => {
    const whole = keys(await get('/fhir/Patient/p2/$everything'));
    const first = await get('/fhir/Patient/p2/$everything?_count=3');
    assert.equal(first.entry.length, 3);
    assert.equal(first.total, undefined, 'no total when there are more pages');
    await putAll(s.router, [{ resourceType: 'Patient', id: 'p2', name: [{ family: 'Updated' }], managingOrganization: { reference: 'Organization/org1' } } as Resource]);
    const next = first.link.find((l) => l.relation === 'next')?.url as string;
    const rest = await walk(new URL(next).pathname + new URL(next).search);
    const paged = [...keys(first), ...rest.flatMap(keys)];
    assert.deepEqual(paged, whole);
    assert.equal(new Set(paged).size, paged.length, 'no duplicates');
    const modes = [first, ...rest].flatMap((p) => p.entry.map((e) => e.search.mode));
    assert.deepEqual(modes, [...modes].sort((a, b) => (a === b ? 0 : a === 'match' ? -1 : 1)), 'compartment entries come before referenced ones');
  });

  it('an unknown or deleted patient is 404 / 410; unsupported parameters and a forged cursor are 400', async () => {
    assert.equal((await s.http.get('/fhir/Patient/nobody/$everything')).status, 404);
    await putAll(s.router, [{ resourceType: 'Patient', id: 'gone' } as Resource]);
    await s.http.delete('/fhir/Patient/gone');
    assert.equal((await s.http.get('/fhir/Patient/gone/$everything')).status, 410);
    assert.equal((await s.http.get('/fhir/Patient/p1/$everything?start=2020-01-01')).status, 400);
    assert.equal((await s.http.get('/fhir/Patient/p1/$everything?_type=Nope')).status, 400);
    assert.equal((await s.http.get('/fhir/Patient/p1/$everything?_cursor=garbage')).status, 400);
  });
});
