/** Injected time source, so tests and replays stay deterministic. */
export interface Clock {
  /** Current instant as a FHIR instant with millisecond precision in UTC (e.g. 2026-01-02T03:04:05.678Z). */
  now(): string;
}

export const systemClock: Clock = { now: () => new Date().toISOString() };

/**
 * A clock that never returns the same or an earlier instant twice (lastUpdated must strictly increase for history
 * order and search snapshots), nor one at or before `after` (the newest instant already stored, so a restart
 * continues after writes whose instants ran ahead of the wall clock, as they do above 1,000 writes per second).
 */
export function monotonicClock(base: Clock = systemClock, after?: string): Clock {
  let last = after ? Date.parse(after) : 0;
  // The system clock read as a number: one Date conversion per call, not three.
  const read = base === systemClock ? Date.now : () => Date.parse(base.now());
  return {
    now() {
      let t = read();
      if (t <= last) t = last + 1;
      last = t;
      return new Date(t).toISOString();
    },
  };
}
