import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirError } from '../../../../src/core/errors';
import { PageTokens } from '../../../../src/search/results/page-token';

const cursor = { snapshot: '2024-05-01T10:00:00.000Z', direction: 'next' as const, position: ['smith', 3, null, 'Patient/1'], total: 42 };
/** An hour after the cursor's snapshot: within the maximum age. */
const NOW = '2024-05-01T11:00:00.000Z';

const rejects = (fn: () => unknown): void =>
  assert.throws(fn, (err: unknown) => err instanceof FhirError && err.category === 'incorrect');
/** 410 Gone with a message that says why and names PAGE_TOKEN_SECRET. */
const gone = (fn: () => unknown, why: RegExp): void =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FhirError);
    assert.equal(err.category, 'deleted');
    assert.match(err.message, why);
    assert.match(err.message, /PAGE_TOKEN_SECRET/);
    assert.deepEqual(err.issues[0]?.expression, ['_page']);
    return true;
  });

test('a page token round-trips snapshot, direction, position and total', () => {
  const tokens = new PageTokens('secret');
  assert.deepEqual(tokens.open(tokens.issue(cursor, 'search-1'), 'search-1', NOW), cursor);
  const first = { snapshot: '2024-05-01T10:00:00.000Z', direction: 'previous' as const };
  assert.deepEqual(tokens.open(tokens.issue(first, 'search-1'), 'search-1', NOW), first);
});

test('a token is refused for another search than the one it was issued for', () => {
  const tokens = new PageTokens('secret');
  rejects(() => tokens.open(tokens.issue(cursor, 'search-1'), 'search-2', NOW));
});

test('a forged token (edited payload) is refused', () => {
  const tokens = new PageTokens('secret');
  const [body, mac] = tokens.issue(cursor, 's').split('.') as [string, string];
  const { k } = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { k: string };
  const forgedBody = Buffer.from(JSON.stringify({ k, s: '2024-05-01T09:00:00.000Z', d: 'n' })).toString('base64url');
  rejects(() => tokens.open(`${forgedBody}.${mac}`, 's', NOW));
});

test('a token signed with another PAGE_TOKEN_SECRET is 410 Gone, saying the secret differs', () => {
  gone(() => new PageTokens('other').open(new PageTokens('secret').issue(cursor, 's'), 's', NOW), /different PAGE_TOKEN_SECRET/);
});

test('garbage is refused as an invalid request', () => {
  const tokens = new PageTokens('secret');
  for (const token of ['', 'abc', 'a.b.c', '.x', 'eyJ9.', `${Buffer.from('{}').toString('base64url')}.AAAA`]) rejects(() => tokens.open(token, 's', NOW));
});

test('without a configured secret, a token from before a restart is 410 Gone, saying why', () => {
  const token = new PageTokens().issue(cursor, 's');
  gone(() => new PageTokens().open(token, 's', NOW), /before the server restarted.*no PAGE_TOKEN_SECRET/);
});

test('a token older than the maximum age is 410 Gone, saying it expired', () => {
  const tokens = new PageTokens('secret', 60_000);
  const token = tokens.issue(cursor, 's');
  assert.deepEqual(tokens.open(token, 's', '2024-05-01T10:00:59.000Z'), cursor);
  gone(() => tokens.open(token, 's', '2024-05-01T10:01:01.000Z'), /expired: its search started at 2024-05-01T10:00:00.000Z/);
});
