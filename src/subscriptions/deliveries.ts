/**
 * Pending rest-hook notifications (https://hl7.org/fhir/R4/subscription.html#channels): one document per
 * (subscription, written version) in their own collection, inserted by the feed (./feed.ts) in the same
 * transaction that advances its cursor, deleted once delivered or given up. So a notification survives a
 * restart until the endpoint has answered 2xx.
 *
 * Each subscription's notifications go out one at a time, in the order of the writes; a failure (no answer,
 * timeout, non-2xx, redirect) is retried after retryBaseMs, then twice as long each time, and holds back the later
 * ones. The first failure sets the Subscription to `error` with the reason in Subscription.error; the next success
 * sets it back to `active`. After maxAttempts the notification is dropped and the error says so.
 */
import type { Resource } from 'fhir/r4';
import type { Logger } from '../http/logger';
import { withBodies } from '../storage/history-bodies';
import type { Doc, Store } from '../storage/port';
import { HISTORY, type HistoryRecord } from '../storage/records';
import type { SubscriptionDefinition } from './definition';
import type { EndpointPolicy } from './endpoints';
import type { SubscriptionRegistry } from './registry';
import type { StatusWriter } from './status';

export const DELIVERIES = 'subscription_deliveries';

export interface PendingNotification extends Doc {
  /** `${subscription id}/${history entry _id}` */
  _id: string;
  subscription: string;
  /** The history entry (`Type/id/versionId`) of the write that matched. */
  entry: string;
  deleted: boolean;
  /** lastUpdated of that write: the delivery order. */
  lastUpdated: string;
  /** Failed attempts so far. */
  attempts: number;
  /** When the next attempt is due (instant). */
  due: string;
}

export interface DeliveryOptions {
  store: Store;
  registry: SubscriptionRegistry;
  endpoints: EndpointPolicy;
  status: StatusWriter;
  logger: Logger;
  retryBaseMs: number;
  maxAttempts: number;
  /** How long one POST may take before it counts as failed. */
  timeoutMs: number;
}

const MAX_RETRY_DELAY_MS = 3_600_000;

export class DeliveryQueue {
  private readonly queues = new Map<string, PendingNotification[]>();
  private readonly queued = new Set<string>();
  private readonly workers = new Map<string, Promise<void>>();
  /** Subscriptions this process set to `error` and has not yet seen recover. */
  private readonly failing = new Set<string>();
  /** Subscriptions whose stored status this process has seen or set `active` since their last failure. */
  private readonly confirmed = new Set<string>();
  private readonly abort = new AbortController();
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: DeliveryOptions) {}

  /** Picks up what was pending when the server stopped. */
  async load(): Promise<void> {
    const pending = (await this.options.store.find(DELIVERIES, {}, { sort: [['lastUpdated', 1], ['_id', 1]] })) as PendingNotification[];
    this.add(pending);
  }

  /** Notifications already stored (in write order); each subscription's worker sends them in turn. */
  add(notifications: PendingNotification[]): void {
    for (const n of notifications) {
      if (this.queued.has(n._id)) continue;
      this.queued.add(n._id);
      const queue = this.queues.get(n.subscription);
      if (queue) queue.push(n);
      else this.queues.set(n.subscription, [n]);
    }
    for (const id of new Set(notifications.map((n) => n.subscription))) this.start(id);
  }

  /** Number of notifications waiting or in flight. */
  get pending(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  async close(): Promise<void> {
    this.abort.abort();
    for (const wake of this.sleepers) wake();
    await Promise.allSettled(this.workers.values());
  }

  private start(id: string): void {
    if (this.workers.has(id) || this.abort.signal.aborted) return;
    const worker = this.drain(id)
      .catch((err: unknown) => {
        if (!this.abort.signal.aborted) this.options.logger.log({ level: 'error', msg: 'subscription delivery stopped', subscription: id, error: String(err) });
      })
      .finally(() => {
        this.workers.delete(id);
        if (this.queues.get(id)?.length && !this.abort.signal.aborted) this.start(id);
      });
    this.workers.set(id, worker);
  }

  private async drain(id: string): Promise<void> {
    const queue = this.queues.get(id) ?? [];
    while (queue.length && !this.abort.signal.aborted) {
      const head = queue[0] as PendingNotification;
      const wait = Date.parse(head.due) - Date.now();
      if (wait > 0) {
        await this.sleep(wait);
        continue;
      }
      const def = this.options.registry.get(id);
      const failure = def ? await this.attempt(def, head) : undefined;
      if (this.abort.signal.aborted) return;
      if (failure === undefined) {
        await this.forget(head);
        queue.shift();
        // The stored status may be ahead of the registry (an error recorded just before a restart): the first
        // success of each subscription in this process, and each one after a failure, checks the stored one.
        if (def && (this.failing.has(id) || !this.confirmed.has(id) || def.status !== 'active')) {
          this.failing.delete(id);
          this.confirmed.add(id);
          await this.setStatus(id, 'active');
        }
        continue;
      }
      this.confirmed.delete(id);
      const attempts = head.attempts + 1;
      if (attempts >= this.options.maxAttempts) {
        await this.forget(head);
        queue.shift();
        this.failing.add(id);
        await this.setStatus(id, 'error', `${failure}; gave up the notification for ${head.entry} after ${attempts} attempts`);
        continue;
      }
      const next: PendingNotification = { ...head, attempts, due: new Date(Date.now() + this.delay(attempts)).toISOString() };
      await this.options.store.transaction((tx) => tx.replace(DELIVERIES, next));
      queue[0] = next;
      if (!this.failing.has(id)) {
        this.failing.add(id);
        await this.setStatus(id, 'error', `${failure}; retrying`);
      }
    }
    if (!queue.length) this.queues.delete(id);
  }

  /** Delay after the nth failed attempt: retryBaseMs, doubled per further failure, at most an hour. */
  private delay(attempts: number): number {
    return Math.min(this.options.retryBaseMs * 2 ** (attempts - 1), MAX_RETRY_DELAY_MS);
  }

  /** One POST to the endpoint; resolves to why it failed, or undefined on a 2xx answer. */
  private async attempt(def: SubscriptionDefinition, n: PendingNotification): Promise<string | undefined> {
    const refusal = this.options.endpoints.refusal(def.endpoint);
    if (refusal) return refusal;
    const headers = new Headers(def.headers);
    let body: string | undefined;
    if (def.payload !== undefined && !n.deleted) {
      const resource = await this.body(n);
      if (resource) {
        body = JSON.stringify(resource);
        headers.set('content-type', def.payload);
      }
    }
    const target = `POST ${def.endpoint}`;
    try {
      const response = await fetch(def.endpoint, {
        method: 'POST',
        headers,
        ...(body !== undefined ? { body } : {}),
        redirect: 'manual',
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.status >= 200 && response.status < 300 ? undefined : `${target} answered HTTP ${response.status}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (cause?.code ?? cause?.message ?? (err as Error).message);
      return `${target} failed: ${reason}`;
    }
  }

  /** The body of the version that matched (undefined if it is gone, e.g. after a history purge). */
  private async body(n: PendingNotification): Promise<Resource | undefined> {
    const entry = (await this.options.store.findOne(HISTORY, { _id: n.entry })) as HistoryRecord | null;
    if (!entry) return undefined;
    const [withBody] = await withBodies(this.options.store, [entry]);
    return withBody?.resource ?? undefined;
  }

  private async forget(n: PendingNotification): Promise<void> {
    await this.options.store.transaction(async (tx) => {
      await tx.delete(DELIVERIES, n._id);
    });
    this.queued.delete(n._id);
  }

  private async setStatus(id: string, status: 'active' | 'error', error?: string): Promise<void> {
    try {
      await this.options.status.set(id, status, error);
    } catch (err) {
      this.options.logger.log({ level: 'warn', msg: 'subscription status not recorded', subscription: id, status, error: String(err) });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      this.sleepers.add(wake);
    });
  }
}
