import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirError } from '../../../../src/core/errors';
import { PageTokens } from '../../../../src/search/results/page-token';

const cursor = { snapshot: '2024-05-01T10:00:00.000Z', direction: 'next' as const, position: ['smith', 3, null, 'Patient/1'], total: 42 };

const rejects = (fn: () => unknown): void =>
  assert.throws(fn, (err: unknown) => err instanceof FhirError && err.category === 'incorrect');

test('a page token round-trips snapshot, direction, position and total', () => {
  const tokens = new PageTokens('secret');
  assert.deepEqual(tokens.open(tokens.issue(cursor, 'search-1'), 'search-1'), cursor);
  const first = { snapshot: '2024-05-01T10:00:00.000Z', direction: 'previous' as const };
  assert.deepEqual(tokens.open(tokens.issue(first, 'search-1'), 'search-1'), first);
});

test('a token is refused for another search than the one it was issued for', () => {
  const tokens = new PageTokens('secret');
  rejects(() => tokens.open(tokens.issue(cursor, 'search-1'), 'search-2'));
});

test('a forged token (edited payload) is refused', () => {
  const tokens = new PageTokens('secret');
  const [, mac] = tokens.issue(cursor, 's').split('.');
  const forgedBody = Buffer.from(JSON.stringify({ s: '2000-01-01T00:00:00.000Z', d: 'n' })).toString('base64url');
  rejects(() => tokens.open(`${forgedBody}.${mac}`, 's'));
});

test('a token signed with another key is refused', () => {
  rejects(() => new PageTokens('other').open(new PageTokens('secret').issue(cursor, 's'), 's'));
});

test('garbage is refused as an invalid request', () => {
  const tokens = new PageTokens('secret');
  for (const token of ['', 'abc', 'a.b.c', '.x', 'eyJ9.', `${Buffer.from('{}').toString('base64url')}.AAAA`]) rejects(() => tokens.open(token, 's'));
});

test('without a configured secret every instance signs with its own random key', () => {
  const token = new PageTokens().issue(cursor, 's');
  rejects(() => new PageTokens().open(token, 's'));
});
