/** The visibility horizon of sync feeds (src/fhir/visibility.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monotonicClock } from '../../../src/core/clock';
import { VisibilityHorizon } from '../../../src/fhir/visibility';
import { createStore } from '../../../src/storage/create-store';
import { interleavingStore } from '../../fixtures/interleaving-store';

const fixedClock = (iso: string) => monotonicClock({ now: () => iso });

describe('VisibilityHorizon', () => {
  it('stays before the stamp of a running transaction, and moves past it once the transaction is done', async () => {
    const horizon = new VisibilityHorizon(fixedClock('2026-01-01T00:00:00.000Z'));
    // Transactions that run concurrently (the embedded store would serialise them).
    const store = horizon.track(interleavingStore(await createStore({}), 0));
    let release!: () => void;
    let stamp = '';
    const writing = store.transaction(async () => {
      stamp = horizon.clock.now();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(stamp, 'the transaction took its stamp');
    const during = horizon.horizon();
    assert.ok(during < stamp, `while it runs the horizon (${during}) is before its stamp (${stamp})`);
    const later = store.transaction(async () => void horizon.clock.now());
    await later;
    assert.equal(horizon.horizon(), during, 'a later transaction that finished first does not move the horizon past the running one');
    release();
    await writing;
    assert.ok(horizon.horizon() >= stamp, 'with nothing running, every issued stamp is visible');
  });

  it('a failed transaction releases the horizon too', async () => {
    const horizon = new VisibilityHorizon(fixedClock('2026-01-01T00:00:00.000Z'));
    const store = horizon.track(await createStore({}));
    let stamp = '';
    await assert.rejects(
      store.transaction(async () => {
        stamp = horizon.clock.now();
        throw new Error('invalid');
      }),
    );
    assert.ok(horizon.horizon() >= stamp);
  });

  it('settleMs holds the horizon back from the wall clock', () => {
    const horizon = new VisibilityHorizon(monotonicClock(), 60_000);
    assert.ok(Date.parse(horizon.horizon()) <= Date.now() - 59_000);
  });
});
