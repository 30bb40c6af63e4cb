/**
 * Bounded hostile input (https://hl7.org/fhir/R4/search.html#errors, issue type too-costly): too many parameters,
 * too long a value, too deep a JSON body and too much work for one search are answered with a 4xx
 * OperationOutcome before the expensive part, and no search value can produce a 500. Messages name the
 * parameter and never repeat its value.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FHIR_JSON, patient, startTestServer, type TestServer } from '../../fixtures/server';

const FORM = 'application/x-www-form-urlencoded';

function assertTooCostly(res: { status: number; body: { resourceType?: string; issue?: Array<{ code: string; diagnostics?: string }> } }, status: number, message: RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body).slice(0, 300));
  assert.equal(res.body.resourceType, 'OperationOutcome');
  assert.equal(res.body.issue?.[0]?.code, 'too-costly');
  assert.match(res.body.issue?.[0]?.diagnostics ?? '', message);
}

describe('input bounds (defaults)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ name: [{ family: 'Chalmers (a.k.a. [*])' }] }));
  });
  after(() => s.close());

  const manyPairs = (n: number, name = 'gender'): string => Array.from({ length: n }, () => `${name}=male`).join('&');

  it('a query with more than 100 parameters is 400 too-costly; 100 are searched', async () => {
    assertTooCostly(await s.http.get(`/fhir/Patient?${manyPairs(101)}`), 400, /more than 100 parameters/);
    const ok = await s.http.get(`/fhir/Patient?${manyPairs(100)}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.entry.length, 1);
  });

  it('empty names do not count, as they are not parameters', async () => {
    const res = await s.http.get(`/fhir/Patient?${manyPairs(100)}&&=x&&`);
    assert.equal(res.status, 200);
  });

  it('a POST _search form with 100,000 parameters is 400 too-costly', async () => {
    const res = await s.http.post('/fhir/Patient/_search').set('Content-Type', FORM).send(manyPairs(100_000));
    assertTooCostly(res, 400, /more than 100 parameters/);
  });

  it('query and form parameters count together', async () => {
    const res = await s.http.post(`/fhir/Patient/_search?${manyPairs(60)}`).set('Content-Type', FORM).send(manyPairs(41));
    assertTooCostly(res, 400, /more than 100 parameters/);
    const ok = await s.http.post(`/fhir/Patient/_search?${manyPairs(60)}`).set('Content-Type', FORM).send(manyPairs(40));
    assert.equal(ok.status, 200);
  });

  it('a 33,000-character name:contains is 400 naming the parameter, never repeating the value', async () => {
    const value = 'Zq'.repeat(16_500);
    const res = await s.http.post('/fhir/Patient/_search').set('Content-Type', FORM).send(`name:contains=${value}`);
    assertTooCostly(res, 400, /parameter 'name:contains' is longer than 2048 characters/);
    assert.ok(!res.text.includes('ZqZq'), 'the value is not echoed');
  });

  it('a value of 2,048 regular-expression metacharacters in name:contains is searched literally', async () => {
    const value = encodeURIComponent('(a.k.a. [*])'.padEnd(2048, '.*+?^${}()|[]\\'));
    const res = await s.http.post('/fhir/Patient/_search').set('Content-Type', FORM).send(`name:contains=${value}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.entry, undefined);
    const found = await s.http.get(`/fhir/Patient?name:contains=${encodeURIComponent('a.k.a. [*]')}`);
    assert.equal(found.body.entry.length, 1);
  });

  it('a too-long parameter name is 400 without repeating it', async () => {
    const res = await s.http.post('/fhir/Patient/_search').set('Content-Type', FORM).send(`${'Yw'.repeat(1500)}=1`);
    assertTooCostly(res, 400, /parameter name is longer than 2048/);
    assert.ok(!res.text.includes('YwYw'));
  });

  it('If-None-Exist criteria are bounded the same way', async () => {
    const res = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .set('If-None-Exist', `family=${'Xv'.repeat(1100)}`)
      .send(patient());
    assertTooCostly(res, 400, /parameter 'family' is longer than 2048/);
  });

  it('a 4.8 MB nested-array body is refused from the raw text, before JSON.parse', async () => {
    const body = `{"resourceType":"Patient","extension":${'['.repeat(2_400_000)}${']'.repeat(2_400_000)}}`;
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(body);
    assertTooCostly(res, 400, /JSON nesting deeper than 64 levels in the body/);
  });

  it('a gzip-compressed nested body is refused once decoded, before JSON.parse', async () => {
    const body = gzipSync(`{"resourceType":"Patient","extension":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const res = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .set('Content-Encoding', 'gzip')
      .serialize((bytes: Buffer) => bytes as unknown as string)
      .send(body);
    assertTooCostly(res, 400, /JSON nesting deeper than 64 levels in the body/);
  });

  it('brackets inside strings do not count as nesting', async () => {
    const res = await s.http
      .post('/fhir/Patient')
      .set('Content-Type', FHIR_JSON)
      .send(JSON.stringify(patient({ name: [{ family: `"[{${'['.repeat(200)}` }] })));
    assert.equal(res.status, 201);
  });
});

describe('input bounds (configured)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { SEARCH_MAX_PARAMETERS: '5', SEARCH_MAX_VALUE_LENGTH: '8192', MAX_JSON_DEPTH: '4' } });
  });
  after(() => s.close());

  it('SEARCH_MAX_PARAMETERS lowers the parameter bound', async () => {
    assertTooCostly(await s.http.get('/fhir/Patient?a=1&b=2&c=3&d=4&e=5&f=6'), 400, /more than 5 parameters/);
  });

  it('at the largest value bound, 8,192 escaped metacharacters still search without a 500', async () => {
    const value = encodeURIComponent('\\|('.repeat(2731).slice(0, 8192));
    const res = await s.http.post('/fhir/Patient/_search').set('Content-Type', FORM).send(`name:contains=${value}&family=${value}&address:contains=${value}`);
    assert.equal(res.status, 200);
  });

  it('MAX_JSON_DEPTH lowers the nesting bound', async () => {
    const res = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(JSON.stringify(patient({ name: [{ given: [['x']] }] })));
    assertTooCostly(res, 400, /deeper than 4 levels/);
  });
});

describe('work budget of one search', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ env: { SEARCH_MAX_QUERIES: '4', SEARCH_MAX_RECORDS: '12' } });
    for (let i = 0; i < 8; i++) {
      const created = await s.http.post('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient({ name: [{ family: 'Budget' }] }));
      await s.http
        .post('/fhir/Observation')
        .set('Content-Type', FHIR_JSON)
        .send({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${created.body.id}` } });
    }
  });
  after(() => s.close());

  it('a search within the budget is answered', async () => {
    const res = await s.http.get('/fhir/Observation?subject:Patient.family=Budget&_count=2');
    assert.equal(res.status, 200);
    assert.equal(res.body.entry.length, 2);
  });

  it('more store queries than SEARCH_MAX_QUERIES is 422 too-costly', async () => {
    const chains = ['family=Nobody', 'gender=other', 'birthdate=1900', 'identifier=none'].map((c) => `subject:Patient.${c}`).join('&');
    assertTooCostly(await s.http.get(`/fhir/Observation?${chains}`), 422, /more than 4 store queries/);
  });

  it('more records than SEARCH_MAX_RECORDS over chains and includes is 422 too-costly', async () => {
    const res = await s.http.get('/fhir/Observation?subject:Patient.family=Budget&_include=Observation:subject');
    assertTooCostly(res, 422, /reads more than 12 records/);
  });
});
