/**
 * Paging (https://hl7.org/fhir/R4/http.html#paging): a walk through a result set sees the set as it stood when
 * the first page was served, so writes between page fetches neither repeat nor skip entries (docs/search.md).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bundle, Patient } from 'fhir/r4';
import { createHarness, keys, linkOf, type Harness } from './harness';

const Patient = { resourceType: 'Patient' };
const family = (bundle: Bundle): string[] => (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => (e.resource as Patient).name![0].family!);
const person = (n: number, name = `Name${String(n).padStart(2, '0')}`): Patient => ({
  resourceType: 'Patient',
  id: `p${String(n).padStart(2, '0')}`,
  name: [{ family: name }],
});

let h: Harness;
afterEach(() => h.close());

async function twelvePatients(options: Parameters<typeof createHarness>[0] = {}): Promise<Harness> {
  h = await createHarness(options);
  for (let i = 1; i <= 12; i++) await h.put(person(i));
  return h;
}

test('paging while others create, update (moving sort keys) and delete: every original entry exactly once', async () => {
  await twelvePatients();
  const page1 = await h.search(Patient, '_sort=family&_count=5&_total=accurate');
  assert.deepEqual(keys(page1), ['Patient/p01', 'Patient/p02', 'Patient/p03', 'Patient/p04', 'Patient/p05']);
  assert.equal(page1.total, 12);

  await h.put(person(8, 'Name00')); // moves before the cursor: still due on page 2
  await h.put(person(2, 'Name99')); // moves after the cursor: already seen
  await h.remove('Patient', 'p07'); // not yet seen when deleted
  await h.put(person(13, 'Name06a')); // created after the walk started
  await h.put({ ...person(9), gender: 'other' }); // changed without moving

  const page2 = await h.follow(Patient, linkOf(page1, 'next')!);
  assert.deepEqual(keys(page2), ['Patient/p06', 'Patient/p07', 'Patient/p08', 'Patient/p09', 'Patient/p10']);
  assert.deepEqual(family(page2), ['Name06', 'Name07', 'Name08', 'Name09', 'Name10'], 'entries show the version that matched at the snapshot');
  assert.equal(page2.total, 12);

  await h.put(person(11, 'Name00b'));
  await h.remove('Patient', 'p12');
  await h.put(person(14, 'Name12a'));

  const page3 = await h.follow(Patient, linkOf(page2, 'next')!);
  assert.deepEqual(keys(page3), ['Patient/p11', 'Patient/p12']);
  assert.equal(linkOf(page3, 'next'), undefined);
  assert.equal(page3.total, 12);

  const walked = [...keys(page1), ...keys(page2), ...keys(page3)];
  assert.equal(new Set(walked).size, 12, 'no duplicates');
  assert.deepEqual([...walked].sort(), Array.from({ length: 12 }, (_, i) => `Patient/p${String(i + 1).padStart(2, '0')}`), 'no skips');
});

test('previous and first links walk back over the same pages', async () => {
  await twelvePatients();
  const page1 = await h.search(Patient, '_sort=-family&_count=5');
  const page2 = await h.follow(Patient, linkOf(page1, 'next')!);
  const page3 = await h.follow(Patient, linkOf(page2, 'next')!);
  assert.deepEqual(keys(page3), ['Patient/p02', 'Patient/p01']);
  await h.put(person(10, 'Name00'));
  await h.remove('Patient', 'p06');

  const back2 = await h.follow(Patient, linkOf(page3, 'previous')!);
  assert.deepEqual(keys(back2), ['Patient/p07', 'Patient/p06', 'Patient/p05', 'Patient/p04', 'Patient/p03']);
  assert.deepEqual(keys(back2), keys(page2));
  const back1 = await h.follow(Patient, linkOf(back2, 'previous')!);
  assert.deepEqual(keys(back1), ['Patient/p12', 'Patient/p11', 'Patient/p10', 'Patient/p09', 'Patient/p08']);
  assert.equal(linkOf(back1, 'previous'), undefined);
  assert.deepEqual(keys(await h.follow(Patient, linkOf(back1, 'next')!)), keys(page2));
  assert.deepEqual(keys(await h.follow(Patient, linkOf(page3, 'first')!)), keys(page1));
});

test('a new search after the writes sees the current state', async () => {
  await twelvePatients();
  await h.search(Patient, '_count=5');
  await h.remove('Patient', 'p03');
  await h.put(person(13));
  const fresh = await h.search(Patient, '_count=20&_sort=family');
  assert.equal(fresh.total, 12);
  assert.ok(!keys(fresh).includes('Patient/p03') && keys(fresh).includes('Patient/p13'));
});

test('paging links repeat the effective parameters and a _page token', async () => {
  await twelvePatients();
  const page1 = await h.search(Patient, 'name=name&_sort=family&_count=5');
  const next = new URL(linkOf(page1, 'next')!);
  assert.equal(next.origin + next.pathname, 'http://example.org/fhir/Patient');
  assert.deepEqual(
    [...next.searchParams.keys()],
    ['name', '_sort', '_count', '_page'],
  );
  const page2 = await h.follow(Patient, next.toString());
  assert.equal(linkOf(page2, 'self'), next.toString());
});

test('a forged or damaged page token is an invalid request', async () => {
  await twelvePatients();
  const next = new URL(linkOf(await h.search(Patient, '_sort=family&_count=5'), 'next')!);
  const token = next.searchParams.get('_page')!;
  const [body, mac] = token.split('.');
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as { p: unknown[] };
  payload.p[0] = 'name01';
  const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`;
  for (const bad of [forged, 'not-a-token', `${body}.${mac.slice(0, -2)}`]) {
    await assert.rejects(h.search(Patient, `_sort=family&_count=5&_page=${encodeURIComponent(bad)}`), { category: 'incorrect' });
  }
});

test('a page token cannot be replayed on a different search', async () => {
  await twelvePatients();
  const token = new URL(linkOf(await h.search(Patient, '_sort=family&_count=5'), 'next')!).searchParams.get('_page')!;
  await assert.rejects(h.search(Patient, `_sort=-family&_count=5&_page=${token}`), { category: 'incorrect' });
  await assert.rejects(h.search(Patient, `_sort=family&_count=6&_page=${token}`), { category: 'incorrect' });
  await assert.rejects(h.search({ resourceType: 'Group' }, `_sort=family&_count=5&_page=${token}`), { category: 'incorrect' });
});

test('when too much changed since the walk started, the client is told to search again', async () => {
  await twelvePatients({ limits: { maxChangedSinceSnapshot: 2 } });
  const page1 = await h.search(Patient, '_sort=family&_count=5');
  for (const n of [6, 7, 8]) await h.put({ ...person(n), gender: 'female' });
  await assert.rejects(h.follow(Patient, linkOf(page1, 'next')!), { category: 'conflict' });
});

test('paging with small pages across missing sort values and ties visits every resource once, in order', async () => {
  h = await createHarness();
  const born = (id: string, birthDate?: string, family = 'Same'): Patient => ({ resourceType: 'Patient', id, name: [{ family }], ...(birthDate ? { birthDate } : {}) });
  await h.put(born('a', '2000-01-01'));
  await h.put(born('b'));
  await h.put(born('c', '1990-01-01'));
  await h.put(born('d'));
  await h.put(born('e', '2000-01-01', 'Other'));
  await h.put(born('f', '1990-01-01'));
  // birthdate descending (missing last), then family ascending, then key
  const expected = ['Patient/e', 'Patient/a', 'Patient/c', 'Patient/f', 'Patient/b', 'Patient/d'];
  const walked: string[] = [];
  let page = await h.search(Patient, '_sort=-birthdate,family&_count=2');
  for (;;) {
    walked.push(...keys(page));
    const next = linkOf(page, 'next');
    if (!next) break;
    page = await h.follow(Patient, next);
  }
  assert.deepEqual(walked, expected);
  const back: string[] = [];
  for (let url = linkOf(page, 'previous'); url; ) {
    const previous = await h.follow(Patient, url);
    back.unshift(...keys(previous));
    url = linkOf(previous, 'previous');
  }
  assert.deepEqual([...back, ...keys(page)], expected);
});
