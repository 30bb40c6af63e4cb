/**
 * The subscriptions that currently send notifications, by the resource type their criteria select, and within a
 * type by a token the criteria require (definition.ts, tokenKeys): a write is tested only against the
 * subscriptions on its type that require none of its absent tokens. Kept in step with the history feed
 * (./feed.ts): a Subscription version takes effect for the writes after it.
 */
import type { Doc } from '../storage/port';
import type { TokenEntry } from '../search/index-fields';
import type { SubscriptionDefinition } from './definition';

interface TypeEntry {
  all: SubscriptionDefinition[];
  /** Subscriptions by one of the token keys they require. */
  byToken: Map<string, SubscriptionDefinition[]>;
  /** Subscriptions that require no token. */
  unkeyed: SubscriptionDefinition[];
}

const NONE: readonly SubscriptionDefinition[] = Object.freeze([]);

export class SubscriptionRegistry {
  private readonly byId = new Map<string, SubscriptionDefinition>();
  private readonly byType = new Map<string, TypeEntry>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): SubscriptionDefinition | undefined {
    return this.byId.get(id);
  }

  /** Subscriptions whose criteria select `type` (an empty list for most types). */
  forType(type: string): readonly SubscriptionDefinition[] {
    return this.byType.get(type)?.all ?? NONE;
  }

  /** The subscriptions on the record's type that it may match: those whose required tokens it has, and the rest. */
  candidates(record: Doc & { type: string; idx?: { tok?: TokenEntry[] } }): SubscriptionDefinition[] {
    const entry = this.byType.get(record.type);
    if (!entry) return [];
    if (!entry.byToken.size) return entry.unkeyed;
    const found = new Set(entry.unkeyed);
    for (const tok of record.idx?.tok ?? []) {
      if (tok.c === undefined) continue;
      for (const def of entry.byToken.get(`${tok.p}|${tok.c}`) ?? NONE) found.add(def);
    }
    return [...found];
  }

  /** Adds or replaces a subscription; one with status `off` is removed instead. */
  set(def: SubscriptionDefinition): void {
    this.remove(def.id);
    if (def.status === 'off') return;
    this.byId.set(def.id, def);
    this.rebuild(def.resourceType, [...this.forType(def.resourceType), def]);
  }

  remove(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    this.rebuild(
      old.resourceType,
      this.forType(old.resourceType).filter((d) => d.id !== id),
    );
  }

  private rebuild(type: string, all: SubscriptionDefinition[]): void {
    if (!all.length) {
      this.byType.delete(type);
      return;
    }
    const byToken = new Map<string, SubscriptionDefinition[]>();
    const unkeyed: SubscriptionDefinition[] = [];
    for (const def of all) {
      if (!def.tokenKeys) unkeyed.push(def);
      for (const key of def.tokenKeys ?? []) byToken.set(key, [...(byToken.get(key) ?? []), def]);
    }
    this.byType.set(type, { all, byToken, unkeyed });
  }
}
