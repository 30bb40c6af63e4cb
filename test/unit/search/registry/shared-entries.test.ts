import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SearchRegistry } from '../../../../src/search/registry';
import { sharedEntries } from '../../../../src/search/registry/shared-entries';
import type { SearchParamDef } from '../../../../src/search/registry/types';

const def = (code: string, type: SearchParamDef['type'], expression: string, component?: SearchParamDef['component']): SearchParamDef => ({
  code,
  url: `http://example.org/${code}`,
  type,
  base: ['Observation'],
  expression,
  ...(component ? { component } : {}),
});

describe('parameters that borrow index entries (shared-entries.ts)', () => {
  it("Observation's combo-* parameters borrow every entry from the resource and component parameters", () => {
    const sharing = SearchRegistry.loadBase().sharedEntries('Observation');
    assert.deepEqual(sharing.get('combo-code'), { ownBranches: [], borrowsFrom: ['code', 'component-code'] });
    assert.deepEqual(sharing.get('combo-code-value-quantity'), { ownBranches: [], borrowsFrom: ['code-value-quantity', 'component-code-value-quantity'] });
    assert.equal(sharing.has('code'), false);
  });

  it('a wider parameter keeps the branches nobody covers', () => {
    const sharing = sharedEntries([def('a', 'token', 'Observation.code'), def('ab', 'token', 'Observation.code | Observation.method')]);
    assert.deepEqual(sharing.get('ab'), { ownBranches: ['Observation.method'], borrowsFrom: ['a'] });
  });

  it('borrowing reaches through a parameter that borrows itself', () => {
    const sharing = sharedEntries([
      def('a', 'token', 'Observation.code'),
      def('ab', 'token', 'Observation.code | Observation.method'),
      def('abc', 'token', 'Observation.code | Observation.method | Observation.category'),
    ]);
    assert.deepEqual(new Set(sharing.get('abc')?.borrowsFrom), new Set(['a', 'ab']));
    assert.deepEqual(sharing.get('abc')?.ownBranches, ['Observation.category']);
  });

  it('_id and _lastUpdated, which have no entries, lend none', () => {
    const sharing = sharedEntries([def('_id', 'token', 'Observation.id'), def('id-or-method', 'token', 'Observation.id | Observation.method')]);
    assert.equal(sharing.has('id-or-method'), false);
  });

  it('nothing is shared between equal expressions, other types, other components or references', () => {
    const component = (expression: string) => [{ definition: 'http://example.org/c', expression, code: 'c', type: 'token' as const }];
    const sharing = sharedEntries([
      def('a', 'token', 'Observation.code'),
      def('same', 'token', 'Observation.code'),
      def('str', 'string', 'Observation.code | Observation.method'),
      def('c1', 'composite', 'Observation', component('code')),
      def('c2', 'composite', 'Observation | Observation.component', component('value')),
      def('r1', 'reference', 'Observation.subject'),
      def('r2', 'reference', 'Observation.subject | Observation.focus'),
    ]);
    assert.deepEqual([...sharing.keys()], []);
  });
});
