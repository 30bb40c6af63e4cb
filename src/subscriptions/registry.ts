/**
 * The subscriptions that currently send notifications, by the resource type their criteria select, so that a
 * write is tested only against the subscriptions on its own type. Kept in step with the history feed
 * (./feed.ts): a Subscription version takes effect for the writes after it.
 */
import type { SubscriptionDefinition } from './definition';

export class SubscriptionRegistry {
  private readonly byId = new Map<string, SubscriptionDefinition>();
  private readonly byType = new Map<string, SubscriptionDefinition[]>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): SubscriptionDefinition | undefined {
    return this.byId.get(id);
  }

  /** Subscriptions whose criteria select `type` (an empty list for most types). */
  forType(type: string): readonly SubscriptionDefinition[] {
    return this.byType.get(type) ?? [];
  }

  /** Adds or replaces a subscription; one with status `off` is removed instead. */
  set(def: SubscriptionDefinition): void {
    this.remove(def.id);
    if (def.status === 'off') return;
    this.byId.set(def.id, def);
    this.byType.set(def.resourceType, [...this.forType(def.resourceType), def]);
  }

  remove(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    const rest = this.forType(old.resourceType).filter((d) => d.id !== id);
    if (rest.length) this.byType.set(old.resourceType, rest);
    else this.byType.delete(old.resourceType);
  }
}
