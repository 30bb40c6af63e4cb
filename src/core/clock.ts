/** Injected time source, so tests and replays stay deterministic. */
export interface Clock {
  /** Current instant as a FHIR instant with millisecond precision in UTC (e.g. 2026-01-02T03:04:05.678Z). */
  now(): string;
}

export const systemClock: Clock = { now: () => new Date().toISOString() };

/** A clock that never returns the same or an earlier instant twice (lastUpdated must strictly increase for history order). */
export function monotonicClock(base: Clock = systemClock): Clock {
  let last = 0;
  return {
    now() {
      let t = Date.parse(base.now());
      if (t <= last) t = last + 1;
      last = t;
      return new Date(t).toISOString();
    },
  };
}
