/**
 * R4 Subscriptions with the rest-hook channel (https://hl7.org/fhir/R4/subscription.html), put together:
 * the write hook refuses Subscriptions the server cannot honour (./definition.ts) and nudges the history feed
 * (./feed.ts) after each commit; the feed keeps the registry (./registry.ts) and stores pending notifications;
 * the delivery queue (./deliveries.ts) POSTs them and records failures in the Subscription (./status.ts).
 * Nothing of this runs inside the write beyond the check of a Subscription being written.
 */
import type { Subscription } from 'fhir/r4';
import type { SubscriptionConfig } from '../config/config';
import type { Indexer } from '../fhir/context';
import type { WriteHook } from '../fhir/write-hooks';
import type { Logger } from '../http/logger';
import type { CriteriaCompiler } from '../search/criteria';
import type { Store } from '../storage/port';
import { readSubscription, type DefinitionDeps, type SubscriptionDefinition } from './definition';
import { DeliveryQueue } from './deliveries';
import { EndpointPolicy } from './endpoints';
import { NotificationFeed, type FeedOptions } from './feed';
import { SubscriptionRegistry } from './registry';
import { StatusWriter, type Route } from './status';

export interface SubscriptionsDeps {
  store: Store;
  criteria: CriteriaCompiler;
  indexer: Indexer;
  isResourceType(type: string): boolean;
  logger: Logger;
  config: SubscriptionConfig;
  /** What a Subscription's creator may see (./feed.ts FeedOptions.visibleTo). */
  visibleTo?: FeedOptions['visibleTo'];
}

/** How long one notification POST may take. */
const TIMEOUT_MS = 10_000;
/** MongoDB may make commits visible out of lastUpdated order; the feed re-reads this window (see ./feed.ts). */
const MONGODB_LOOKBACK_MS = 2000;

export class Subscriptions {
  readonly registry = new SubscriptionRegistry();
  readonly hook: WriteHook;
  private readonly definitions: DefinitionDeps;
  private feed: NotificationFeed | undefined;
  private deliveries: DeliveryQueue | undefined;

  constructor(private readonly deps: SubscriptionsDeps) {
    this.definitions = { criteria: deps.criteria, endpoints: new EndpointPolicy(deps.config.allowedEndpoints), isResourceType: deps.isResourceType };
    this.hook = {
      beforeWrite: (record) => {
        if (record.type === 'Subscription' && record.resource) readSubscription(record.resource as Subscription, this.definitions);
      },
      afterCommit: (records) => this.feed?.nudge(records),
    };
  }

  /** Resumes the feed from its cursor and the pending notifications; `route` serves the server's status updates. */
  async start(route: Route): Promise<void> {
    const { store, logger, config } = this.deps;
    const status = new StatusWriter(route);
    const deliveries = new DeliveryQueue({
      store,
      registry: this.registry,
      endpoints: this.definitions.endpoints,
      status,
      logger,
      retryBaseMs: config.retryBaseMs,
      maxAttempts: config.maxAttempts,
      timeoutMs: TIMEOUT_MS,
    });
    const feed = new NotificationFeed({
      store,
      registry: this.registry,
      deliveries,
      indexer: this.deps.indexer,
      logger,
      lookbackMs: store.kind === 'mongodb' ? MONGODB_LOOKBACK_MS : 0,
      define: (resource) => this.define(resource),
      ...(this.deps.visibleTo ? { visibleTo: this.deps.visibleTo } : {}),
      accept: (id, versionId) => {
        status.set(id, 'active', undefined, versionId).catch((err: unknown) => logger.log({ level: 'warn', msg: 'subscription not activated', subscription: id, error: String(err) }));
      },
    });
    await feed.start();
    this.feed = feed;
    this.deliveries = deliveries;
    // Catch up with the history first, so that every subscription with pending notifications is registered.
    await feed.settle();
    await deliveries.load();
  }

  /** Resolves once every write committed so far has been matched (its notifications are stored and queued). */
  async settle(): Promise<void> {
    await this.feed?.settle();
  }

  /** Notifications waiting or in flight. */
  get pending(): number {
    return this.deliveries?.pending ?? 0;
  }

  async close(): Promise<void> {
    await this.feed?.close();
    await this.deliveries?.close();
  }

  private define(resource: Subscription): SubscriptionDefinition | undefined {
    try {
      return readSubscription(resource, this.definitions, false);
    } catch (err) {
      this.deps.logger.log({ level: 'warn', msg: 'stored Subscription not active', id: resource.id, reason: (err as Error).message });
      return undefined;
    }
  }
}
