import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FhirResource as Resource } from 'fhir/r4';
import { FhirError } from '../../../../src/core/errors';
import { harness, parseQuery, type Harness } from './harness';

// https://hl7.org/fhir/R4/search.html#date and #prefix
const enc = (id: string, start?: string, end?: string): Resource => ({
  resourceType: 'Encounter',
  id,
  status: 'finished',
  class: { code: 'AMB' },
  period: { ...(start ? { start } : {}), ...(end ? { end } : {}) },
});

let h: Harness;
before(async () => {
  h = await harness([
    { resourceType: 'Patient', id: 'p1970', birthDate: '1970-03-04' },
    { resourceType: 'Patient', id: 'p1971', birthDate: '1971' },
    { resourceType: 'Patient', id: 'p1969', birthDate: '1969-12-31' },
    enc('jan', '2013-01-05', '2013-01-20'), // inside January
    enc('straddle', '2012-12-15', '2013-01-15'), // straddles the start of January
    enc('febmar', '2013-02-10', '2013-03-01'),
    enc('open', '2013-01-21'), // no end: ongoing
    { resourceType: 'Observation', id: 'morning', status: 'final', code: { text: 'x' }, effectiveDateTime: '2013-01-14T08:00:00Z' },
    { resourceType: 'Observation', id: 'day', status: 'final', code: { text: 'x' }, effectiveDateTime: '2013-01-14' },
    { resourceType: 'Observation', id: 'nextday', status: 'final', code: { text: 'x' }, effectiveDateTime: '2013-01-15T00:00:00Z' },
    { resourceType: 'Patient', id: 'upd-early', meta: { lastUpdated: '2024-01-01T10:00:00.000Z' } },
    { resourceType: 'Patient', id: 'upd-late', meta: { lastUpdated: '2024-03-01T10:00:00.000Z' } },
  ]);
});
after(() => h.close());

test('birthdate=1970 matches 1970-03-04: the value is a range of its precision', async () => {
  assert.deepEqual(await h.ids('Patient', 'birthdate=1970'), ['p1970']);
  assert.deepEqual(await h.ids('Patient', 'birthdate=1970-03'), ['p1970']);
  assert.deepEqual(await h.ids('Patient', 'birthdate=1970-03-05'), []);
});

test('eq requires the resource range inside the search range', async () => {
  // the whole year 1971 is not inside the day 1971-06-01
  assert.deepEqual(await h.ids('Patient', 'birthdate=1971-06-01'), []);
  assert.deepEqual(await h.ids('Observation', 'date=eq2013-01-14'), ['day', 'morning']);
});

test('ne is the complement of eq', async () => {
  assert.deepEqual(await h.ids('Observation', 'date=ne2013-01-14'), ['nextday']);
});

test('gt/lt: the resource range extends beyond / before the search range', async () => {
  // the spec's examples: lt2013-01-14T10:00 and gt2013-01-14T10:00 both match the day 2013-01-14
  assert.deepEqual(await h.ids('Observation', 'date=lt2013-01-14T10:00'), ['day', 'morning']);
  assert.deepEqual(await h.ids('Observation', 'date=gt2013-01-14T10:00'), ['day', 'nextday']);
  assert.deepEqual(await h.ids('Patient', 'birthdate=lt1970'), ['p1969']);
  assert.deepEqual(await h.ids('Patient', 'birthdate=gt1970'), ['p1971']);
});

test('ge/le with Periods: a period overlapping the search range or beyond it', async () => {
  assert.deepEqual(await h.ids('Encounter', 'date=ge2013-01'), ['febmar', 'jan', 'open', 'straddle']);
  assert.deepEqual(await h.ids('Encounter', 'date=ge2013-02'), ['febmar', 'open']);
  assert.deepEqual(await h.ids('Encounter', 'date=le2013-01'), ['jan', 'open', 'straddle']);
  assert.deepEqual(await h.ids('Encounter', 'date=le2012-12'), ['straddle']);
});

test('lt/gt with Periods', async () => {
  assert.deepEqual(await h.ids('Encounter', 'date=lt2013-01'), ['straddle']);
  assert.deepEqual(await h.ids('Encounter', 'date=gt2013-01'), ['febmar', 'open']);
  assert.deepEqual(await h.ids('Encounter', 'date=eq2013-01'), ['jan']);
});

test('sa/eb: starts after / ends before the search range', async () => {
  assert.deepEqual(await h.ids('Encounter', 'date=sa2013-01'), ['febmar']);
  assert.deepEqual(await h.ids('Encounter', 'date=sa2013-01-20'), ['febmar', 'open']);
  assert.deepEqual(await h.ids('Encounter', 'date=eb2013-02'), ['jan', 'straddle']);
});

test('ap widens the range by 10% of its distance from now', async () => {
  // now = 2024-06-01; 1970-03 is ~54 years away, so ~5 years either side are approximately equal
  assert.deepEqual(await h.ids('Patient', 'birthdate=ap1970-03'), ['p1969', 'p1970', 'p1971']);
  // 2013-01-14 is ~11.4 years away: the margin (~1.1 years) still excludes 1969-1971
  assert.deepEqual(await h.ids('Patient', 'birthdate=ap2013-01-14'), []);
});

test('_lastUpdated uses the record instant with the same prefixes', async () => {
  assert.deepEqual(await h.ids('Patient', '_lastUpdated=gt2024-02-01&_id=upd-early,upd-late'), ['upd-late']);
  assert.deepEqual(await h.ids('Patient', '_lastUpdated=2024-01-01&_id=upd-early,upd-late'), ['upd-early']);
  assert.deepEqual(await h.ids('Patient', '_lastUpdated=le2024-03-01T10:00:00Z&_id=upd-early,upd-late'), ['upd-early', 'upd-late']);
});

test('invalid dates are rejected naming the parameter', async () => {
  for (const value of ['x', '2013-13', '2013-01-14T25:00', '13-01-14', 'zz2013']) {
    await assert.rejects(h.compiler.compile('Patient', parseQuery(`birthdate=${value}`), 'lenient'), (err: unknown) => {
      assert.ok(err instanceof FhirError && err.category === 'incorrect', value);
      assert.match(err.message, /search parameter 'birthdate'/);
      return true;
    });
  }
});
