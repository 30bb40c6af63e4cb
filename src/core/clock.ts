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
  const iso = isoWriter();
  return {
    now() {
      let t = read();
      if (t <= last) t = last + 1;
      last = t;
      return iso(t);
    },
  };
}

/**
 * `new Date(t).toISOString()`, with the text up to the second worked out once per second: every write and every
 * audited request asks for an instant, most of them within the same second.
 */
function isoWriter(): (t: number) => string {
  let second = NaN;
  let head = '';
  return (t) => {
    const s = Math.floor(t / 1000);
    if (s !== second) {
      const full = new Date(t).toISOString();
      if (!Number.isSafeInteger(t)) return full;
      second = s;
      head = full.slice(0, -4);
    }
    const ms = t - s * 1000;
    return `${head}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
  };
}
