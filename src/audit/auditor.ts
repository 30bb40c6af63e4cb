/**
 * Records one AuditEvent per routed call (src/fhir/router.ts dispatch), the bundle request and each of its
 * entries alike, and holds the answer back until the events are durable: an access the trail cannot record
 * fails with 503 and serves nothing.
 *
 * Order: the interaction runs first (a write commits its resource), then its event is appended. A crash between
 * the two leaves a committed write without its event, and the client got no answer (so it retries or reads
 * back); it never leaves an event without its request, nor an answered request without its event.
 * Bundle entries append their events as they finish without waiting; the bundle's own dispatch waits for all of
 * them and its own event before answering, so a transaction pays one durable commit, not one per entry.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Clock } from '../core/clock';
import { FhirError } from '../core/errors';
import { readerOf, type FhirContext } from '../fhir/context';
import type { FhirResponse } from '../fhir/types';
import { RESOURCES, type ResourceRecord } from '../storage/records';
import { buildAuditEvent, type AuditedCall, type EventContext } from './event';
import type { AuditTrail } from './trail';

export interface AuditorOptions extends EventContext {
  trail: AuditTrail;
  clock: Clock;
}

export class Auditor {
  /** Appends of the entries of the bundle being dispatched, which that bundle awaits. */
  private readonly bundle = new AsyncLocalStorage<Array<Promise<number>>>();

  constructor(readonly options: AuditorOptions) {}

  get trail(): AuditTrail {
    return this.options.trail;
  }

  async around(call: Omit<AuditedCall, 'recorded' | 'result' | 'error'>, run: () => Promise<FhirResponse>, ctx: FhirContext): Promise<FhirResponse> {
    const outer = this.bundle.getStore();
    // A delete returns nothing: the patients concerned are those of the version it deletes.
    const deleted = call.interaction === 'delete' && call.params.type && call.params.id ? await compartmentsOfStored(ctx, call.params.type, call.params.id) : undefined;
    const pending: Array<Promise<number>> = [];
    let result: FhirResponse | undefined;
    let error: unknown;
    let failed = false;
    try {
      result = await this.bundle.run(pending, run);
    } catch (err) {
      error = err;
      failed = true;
    }
    const event = buildAuditEvent({ ...call, ...(deleted ? { deletedCompartments: deleted } : {}), ...(result ? { result } : {}), ...(failed ? { error } : {}), recorded: this.options.clock.now() }, this.options);
    const own = this.options.trail.append(event);
    pending.push(own);
    for (const p of pending) p.catch(() => undefined);
    if (outer) {
      outer.push(...pending);
    } else {
      try {
        await Promise.all(pending);
      } catch (err) {
        throw unavailable(err);
      }
    }
    if (failed) throw error;
    return result as FhirResponse;
  }
}

async function compartmentsOfStored(ctx: FhirContext, type: string, id: string): Promise<string[]> {
  const record = (await readerOf(ctx).findOne(RESOURCES, { _id: `${type}/${id}` })) as ResourceRecord | undefined;
  return record?.compartments ?? [];
}

function unavailable(err: unknown): FhirError {
  return new FhirError('busy', [
    {
      severity: 'error',
      code: 'transient',
      diagnostics: `This request was not answered because the audit trail could not record it (${err instanceof Error ? err.message : 'unknown error'}); no data was served. Retry later; operators see the cause in the server log and on GET /health`,
    },
  ]);
}
