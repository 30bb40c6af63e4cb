/**
 * Records one AuditEvent per routed call (src/fhir/router.ts dispatch), the bundle request and each of its
 * entries alike, and holds the answer back until the events are durable: an access the trail cannot record
 * fails with 503 and serves nothing.
 *
 * Order: the interaction runs first (a write commits its resource), then its event is appended. A crash between
 * the two leaves a committed write without its event, and the client got no answer (so it retries or reads
 * back); it never leaves an event without its request, nor an answered request without its event.
 * Batch entries append their events as they finish without waiting; the bundle's own dispatch waits for all of
 * them and its own event before answering, so a bundle pays one durable commit, not one per entry.
 * Transaction entries hold their events back until the transaction has ended: if it rolled back, the events of
 * its entries say so (the transaction's failure outcome, `outcomeDesc` "rolled back: ..."), and so do those of an
 * attempt the store re-ran (MongoDB retries a transaction on a transient conflict); then come the entries' events,
 * in the order they finished, and the transaction's own.
 *
 * A bundle's scope reaches its entries in their context (`FhirContext.auditScope`, which the entries' contexts
 * are made from), not in an AsyncLocalStorage: that would make Node run its async hooks for every promise the
 * server creates (3–5% of the server's CPU in bundle ingest, docs/benchmarks.md).
 */
import type { AuditEvent } from 'fhir/r4';
import type { Clock } from '../core/clock';
import { FhirError } from '../core/errors';
import { readerOf, type FhirContext } from '../fhir/context';
import type { FhirResponse } from '../fhir/types';
import { RESOURCES, type ResourceRecord } from '../storage/records';
import { buildAuditEvent, interactionOf, type AuditedCall, type EventContext } from './event';
import type { AuditTrail } from './trail';

export interface AuditorOptions extends EventContext {
  trail: AuditTrail;
  clock: Clock;
}

/** What the entries of the bundle being dispatched leave with it. */
interface BundleScope {
  /** Appends of the entries, which the bundle awaits. */
  pending: Array<Promise<number>>;
  /** Transactions only: the entries' events, with the store transaction (attempt) each ran in. */
  held?: Array<{ event: AuditEvent; attempt: unknown }>;
}

export class Auditor {
  constructor(readonly options: AuditorOptions) {}

  get trail(): AuditTrail {
    return this.options.trail;
  }

  /** Runs the call (`run`, with the context its interaction gets) and records its event. */
  async around(call: Omit<AuditedCall, 'recorded' | 'result' | 'error'>, run: (ctx: FhirContext) => Promise<FhirResponse>, ctx: FhirContext): Promise<FhirResponse> {
    const outer = ctx.auditScope as BundleScope | undefined;
    // A delete returns nothing: the patients concerned are those of the version it deletes.
    const deleted = call.interaction === 'delete' && call.params.type && call.params.id ? await compartmentsOfStored(ctx, call.params.type, call.params.id) : undefined;
    const kind = call.interaction === 'transaction' || call.interaction === 'batch' ? interactionOf(call as AuditedCall) : undefined;
    // Only a bundle opens a scope for its entries; any other call runs in its caller's (none, or its bundle's).
    const scope: BundleScope | undefined = kind ? { pending: [], ...(kind === 'transaction' ? { held: [] } : {}) } : undefined;
    let result: FhirResponse | undefined;
    let error: unknown;
    let failed = false;
    try {
      result = await run(scope ? { ...ctx, auditScope: scope } : ctx);
    } catch (err) {
      error = err;
      failed = true;
    }
    const event = buildAuditEvent({ ...call, ...(deleted ? { deletedCompartments: deleted } : {}), ...(result ? { result } : {}), ...(failed ? { error } : {}), recorded: this.options.clock.now() }, this.options);
    if (outer?.held) {
      outer.held.push({ event, attempt: ctx.transaction });
    } else {
      const pending = scope?.pending ?? [];
      if (scope?.held) {
        // The attempt that answered is the last one an entry ran in; every other one was rolled back.
        const answered = failed ? undefined : scope.held[scope.held.length - 1]?.attempt;
        for (const h of scope.held) pending.push(this.options.trail.append(h.attempt === answered ? h.event : rolledBack(h.event, event)));
      }
      pending.push(this.options.trail.append(event));
      if (outer) {
        for (const p of pending) p.catch(() => undefined);
        outer.pending.push(...pending);
      } else {
        try {
          // Most calls wait for their one event: no Promise.all (fewer promises per audited read).
          if (pending.length === 1) await pending[0];
          else {
            for (const p of pending) p.catch(() => undefined);
            await Promise.all(pending);
          }
        } catch (err) {
          throw unavailable(err);
        }
      }
    }
    if (failed) throw error;
    return result as FhirResponse;
  }
}

/** An entry of a transaction that did not take effect: it carries the transaction's failure. */
function rolledBack(entry: AuditEvent, transaction: AuditEvent): AuditEvent {
  if (entry.outcome !== '0') return entry;
  const why = transaction.outcome !== '0' ? `the transaction failed (${transaction.outcomeDesc ?? 'error'})` : 'the store ran the transaction again';
  return { ...entry, outcome: transaction.outcome !== '0' ? transaction.outcome : '4', outcomeDesc: `rolled back: ${why}; this entry did not take effect` };
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
