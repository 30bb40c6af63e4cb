/**
 * The deep-frozen copy a stored document becomes: equal to `JSON.parse(JSON.stringify(value))` frozen, made in
 * one pass for plain JSON data (objects with Object or null prototype, arrays, strings, finite numbers,
 * booleans, null; -0 becomes 0 and undefined or function properties are dropped, as in JSON). Anything JSON would transform
 * (Dates, toJSON, non-finite numbers, undefined array items, class instances, `__proto__` keys) takes the
 * exact JSON round trip instead.
 */

/** Thrown inside the fast copy when a value needs JSON's own conversion. */
const NOT_PLAIN: unique symbol = Symbol('not plain JSON');

export function frozenJsonCopy<T>(value: T, json: string): T {
  try {
    return copy(value) as T;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return deepFreeze(JSON.parse(json)) as T;
  }
}

function copy(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw NOT_PLAIN;
      return value === 0 ? 0 : value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = value[i];
          if (item === undefined) throw NOT_PLAIN;
          out[i] = copy(item);
        }
        return Object.freeze(out);
      }
      const proto = Object.getPrototypeOf(value);
      if ((proto !== Object.prototype && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') throw NOT_PLAIN;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        if (key === '__proto__') throw NOT_PLAIN;
        out[key] = copy(item);
      }
      return Object.freeze(out);
    }
    default:
      throw NOT_PLAIN;
  }
}

/**
 * `value` itself deep-frozen, when it is plain JSON data that a JSON round trip would give back unchanged (no -0,
 * no undefined or function properties or array items, no Dates, toJSON or class instances); else the frozen copy
 * (frozenJsonCopy). Subtrees already frozen are taken as they are (the store's own frozen documents).
 */
export function frozenInPlace<T>(value: T, json: string): T {
  try {
    freezePlain(value);
    return value;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return frozenJsonCopy(value, json);
  }
}

function freezePlain(value: unknown): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value) || Object.is(value, -0)) throw NOT_PLAIN;
      return;
    case 'object': {
      if (value === null || Object.isFrozen(value)) return;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) throw NOT_PLAIN;
          freezePlain(item);
        }
        Object.freeze(value);
        return;
      }
      // With Object's prototype (or none), a toJSON could only be an own property: a function, refused below.
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol' || key === '__proto__') throw NOT_PLAIN;
        freezePlain(item);
      }
      Object.freeze(value);
      return;
    }
    default:
      throw NOT_PLAIN;
  }
}

function deepFreeze(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
