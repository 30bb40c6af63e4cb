/** _count and _total (https://hl7.org/fhir/R4/search.html#count, #total), warnings in an outcome entry. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationOutcome } from 'fhir/r4';
import { createHarness, keys, linkOf, type Harness } from './harness';

let h: Harness;
before(async () => {
  h = await createHarness({ defaultCount: 10, maxCount: 50 });
  for (let i = 1; i <= 12; i++) await h.put({ resourceType: 'Patient', id: `p${String(i).padStart(2, '0')}`, gender: i % 2 ? 'female' : 'male' });
});
after(() => h.close());

const Patient = { resourceType: 'Patient' };

test('the default page size applies, with a next link and no total by default', async () => {
  const bundle = await h.search(Patient, '');
  assert.equal(bundle.type, 'searchset');
  assert.equal(keys(bundle).length, 10);
  assert.equal(bundle.total, undefined);
  assert.ok(linkOf(bundle, 'next'));
  assert.ok(linkOf(bundle, 'first'));
  assert.equal(linkOf(bundle, 'previous'), undefined);
});

test('entries carry fullUrl and search mode match', async () => {
  const entry = (await h.search(Patient, '_count=1')).entry![0];
  assert.equal(entry.fullUrl, 'http://example.org/fhir/Patient/p01');
  assert.deepEqual(entry.search, { mode: 'match' });
});

test('the total is given by default when the first page holds the whole result', async () => {
  const bundle = await h.search(Patient, 'gender=male');
  assert.equal(keys(bundle).length, 6);
  assert.equal(bundle.total, 6);
  assert.equal(linkOf(bundle, 'next'), undefined);
});

test('_total=accurate counts every match; _total=none leaves the total out', async () => {
  const accurate = await h.search(Patient, '_count=3&_total=accurate');
  assert.equal(keys(accurate).length, 3);
  assert.equal(accurate.total, 12);
  assert.equal((await h.search(Patient, 'gender=male&_total=none')).total, undefined);
});

test('_total=estimate counts up to the server limit and leaves the total out above it', async () => {
  assert.equal((await h.search(Patient, '_count=2&_total=estimate')).total, 12);
  const limited = await createHarness({ limits: { estimateLimit: 5 } });
  try {
    for (let i = 1; i <= 6; i++) await limited.put({ resourceType: 'Patient', id: `x${i}` });
    assert.equal((await limited.search(Patient, '_count=2&_total=estimate')).total, undefined);
    assert.equal((await limited.search(Patient, '_count=2&_total=accurate')).total, 6);
  } finally {
    await limited.close();
  }
});

test('_count above the maximum is capped, and the self link says so', async () => {
  const bundle = await h.search(Patient, '_count=500');
  assert.equal(keys(bundle).length, 12);
  assert.equal(linkOf(bundle, 'self'), 'http://example.org/fhir/Patient?_count=50');
});

test('_count=0 returns the total only', async () => {
  const bundle = await h.search(Patient, 'gender=female&_count=0');
  assert.equal(bundle.total, 6);
  assert.equal(bundle.entry, undefined);
  assert.equal(linkOf(bundle, 'next'), undefined);
});

test('an invalid _count is an error whatever the handling', async () => {
  await assert.rejects(h.search(Patient, '_count=many'), { category: 'incorrect' });
});

test('an unknown parameter is reported in an outcome entry and left out of the self link (lenient)', async () => {
  const bundle = await h.search(Patient, 'gender=male&shoe-size=42');
  const first = bundle.entry![0];
  assert.equal(first.search?.mode, 'outcome');
  const issue = (first.resource as OperationOutcome).issue[0];
  assert.equal(issue.severity, 'warning');
  assert.deepEqual(issue.expression, ['shoe-size']);
  assert.equal(keys(bundle).length, 6);
  assert.equal(linkOf(bundle, 'self'), 'http://example.org/fhir/Patient?gender=male');
  await assert.rejects(h.search(Patient, 'gender=male&shoe-size=42', 'strict'), { category: 'incorrect' });
});

test('an unknown resource type is not found', async () => {
  await assert.rejects(h.search({ resourceType: 'Spaceship' }, ''), { category: 'not-found' });
});
