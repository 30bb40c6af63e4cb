import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compactFilter } from '../../../src/access/compact-filter';
import { MATCH_NOTHING } from '../../../src/search/compile/filters';
import { compileMatcher } from '../../../src/storage/embedded/matcher';

const NOTHING = { _id: { $in: [] } };
const code = { 'idx.tok': { $elemMatch: { p: 'code', c: 'x' } } };
const date = { 'idx.date': { $elemMatch: { p: 'date', lo: { $lte: '2010' } } } };

describe('access filters folded before they are cached (compactFilter)', () => {
  it('folds true and false through $and, $or and $nor', () => {
    assert.deepEqual(compactFilter({ $or: [NOTHING, code] }), code);
    assert.deepEqual(compactFilter({ $or: [{}, code] }), {});
    assert.equal(compactFilter({ $and: [code, NOTHING] }), MATCH_NOTHING);
    assert.deepEqual(compactFilter({ $nor: [NOTHING] }), {});
    assert.equal(compactFilter({ $nor: [{}] }), MATCH_NOTHING);
    assert.deepEqual(compactFilter({ $and: [{ $and: [code, date] }, code] }), { $and: [code, date] });
  });

  it('under a known type, type equality is decided and deleted: false holds', () => {
    assert.deepEqual(compactFilter({ type: 'Observation', deleted: false, $and: [code] }, 'Observation'), code);
    assert.equal(compactFilter({ $or: [{ type: 'Condition', ...code }, NOTHING] }, 'Observation'), MATCH_NOTHING);
    assert.deepEqual(compactFilter({ type: 'Observation' }), { type: 'Observation' }, 'without a known type, type stays');
  });

  it('the folded filter selects the same records', () => {
    const filter = { $or: [{ $nor: [{ $or: [NOTHING, { type: 'Observation', deleted: false, $and: [date] }] }] }, { $and: [code, { $nor: [NOTHING] }] }] };
    const records = [
      { _id: 'a', type: 'Observation', deleted: false, idx: { date: [{ p: 'date', lo: '2009' }] } },
      { _id: 'b', type: 'Observation', deleted: false, idx: { date: [{ p: 'date', lo: '2020' }] } },
      { _id: 'c', type: 'Observation', deleted: false, idx: { date: [{ p: 'date', lo: '2009' }], tok: [{ p: 'code', c: 'x' }] } },
    ];
    const [before, after] = [compileMatcher(filter), compileMatcher(compactFilter(filter, 'Observation'))];
    assert.ok(before && after);
    assert.deepEqual(records.map((r) => after(r)), records.map((r) => before(r)));
    assert.deepEqual(records.map((r) => after(r)), [false, true, true]);
  });
});
