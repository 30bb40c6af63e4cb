/**
 * The same store with its `transaction` replaced by a wrapper (timing, counting writes). Every other member is
 * the store's own: a Proxy, so methods added to the port later pass through too; each method is bound once.
 */
import type { Store } from './port';

export function withTransaction(store: Store, transaction: Store['transaction']): Store {
  const bound = new Map<PropertyKey, unknown>([['transaction', transaction]]);
  return new Proxy(store, {
    get(target, property) {
      if (bound.has(property)) return bound.get(property);
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(property, method);
      return method;
    },
  });
}
