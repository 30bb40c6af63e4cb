/** The server's clock (src/core/clock.ts): FHIR instants, strictly increasing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monotonicClock, type Clock } from '../../../src/core/clock';

describe('monotonic clock', () => {
  it('writes each instant as Date.prototype.toISOString does, across milliseconds, seconds, and years', () => {
    const instants = [1, 9, 10, 99, 100, 999, 1000, 59_999, 60_000, Date.parse('2026-12-31T23:59:59.999Z'), Date.parse('+010000-01-01T00:00:00.000Z')];
    for (let t = Date.parse('2026-12-01T10:00:59.990Z'); t < Date.parse('2026-12-01T10:01:00.020Z'); t++) instants.push(t);
    for (const t of instants) {
      const base: Clock = { now: () => new Date(t).toISOString() };
      assert.equal(monotonicClock(base).now(), new Date(t).toISOString(), `instant ${t}`);
    }
    let t = Date.parse('2026-12-01T10:00:59.998Z');
    const clock = monotonicClock({ now: () => new Date(t).toISOString() });
    const seen: string[] = [];
    for (let i = 0; i < 5; i++, t += 1) seen.push(clock.now());
    assert.deepEqual(seen, ['2026-12-01T10:00:59.998Z', '2026-12-01T10:00:59.999Z', '2026-12-01T10:01:00.000Z', '2026-12-01T10:01:00.001Z', '2026-12-01T10:01:00.002Z']);
  });

  it('never repeats an instant nor goes back, nor issues one at or before `after`', () => {
    const clock = monotonicClock({ now: () => '2026-12-01T10:00:00.000Z' }, '2026-12-01T10:00:00.005Z');
    assert.deepEqual([clock.now(), clock.now()], ['2026-12-01T10:00:00.006Z', '2026-12-01T10:00:00.007Z']);
  });
});
