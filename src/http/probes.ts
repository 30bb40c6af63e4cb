/**
 * Liveness and readiness probes, served outside /fhir as `application/health+json`
 * (https://datatracker.ietf.org/doc/html/draft-inadarei-api-health-check).
 * - GET /health (liveness): the process answers and the store is open (a read by key succeeds).
 * - GET /ready (readiness): the store accepts a durable write, the definitions are loaded and the server is not
 *   shutting down. The write (one small document in its own collection) is repeated at most every few seconds;
 *   probes in between reuse the last answer, so a probe storm cannot become a write storm.
 */
import type { Store } from '../storage/port';

export const PROBES = 'probes';
const READY_CACHE_MS = 2000;

export interface ProbeResult {
  ok: boolean;
  body: { status: 'pass' | 'fail'; checks: Record<string, { status: 'pass' | 'fail'; detail?: string }> };
}

export interface ProbeInputs {
  store: Store;
  /** What was loaded at start-up, reported by /ready. */
  definitions: { resourceTypes: number; searchParameters: number };
  now?: () => number;
}

export class Probes {
  private draining = false;
  private lastReady: { at: number; result: ProbeResult } | undefined;

  constructor(private readonly inputs: ProbeInputs) {}

  /** From now on /ready fails, so load balancers stop sending requests while in-flight ones finish. */
  drain(): void {
    this.draining = true;
  }

  async health(): Promise<ProbeResult> {
    const store = await check(() => this.inputs.store.findOne(PROBES, { _id: 'ready' }));
    return result({ store });
  }

  async ready(): Promise<ProbeResult> {
    if (this.draining) return result({ shutdown: { status: 'fail', detail: 'the server is shutting down' } });
    const now = (this.inputs.now ?? Date.now)();
    if (this.lastReady && now - this.lastReady.at < READY_CACHE_MS) return this.lastReady.result;
    const { resourceTypes, searchParameters } = this.inputs.definitions;
    const writable = await check(() =>
      this.inputs.store.transaction(async (tx) => {
        const doc = { _id: 'ready', at: new Date(now).toISOString() };
        if (await tx.findOne(PROBES, { _id: 'ready' })) await tx.replace(PROBES, doc);
        else await tx.insert(PROBES, doc);
      }),
    );
    const definitions =
      resourceTypes > 0 && searchParameters > 0
        ? { status: 'pass' as const, detail: `${resourceTypes} resource types, ${searchParameters} search parameters` }
        : { status: 'fail' as const, detail: 'definitions are not loaded: run npm run build:defs' };
    const ready = result({ 'store:writable': writable, definitions });
    this.lastReady = { at: now, result: ready };
    return ready;
  }
}

async function check(probe: () => Promise<unknown>): Promise<{ status: 'pass' | 'fail'; detail?: string }> {
  try {
    await probe();
    return { status: 'pass' };
  } catch (err) {
    return { status: 'fail', detail: err instanceof Error ? err.name : 'error' };
  }
}

function result(checks: ProbeResult['body']['checks']): ProbeResult {
  const ok = Object.values(checks).every((c) => c.status === 'pass');
  return { ok, body: { status: ok ? 'pass' : 'fail', checks } };
}
