/**
 * JSON serialisation of response resources. Resources the embedded store hands out are deeply frozen and never
 * change, so their JSON text is cached per object (weakly: it goes when the object goes).
 */
const cache = new WeakMap<object, string>();

export function toJson(resource: object, pretty: boolean): string {
  if (pretty) return JSON.stringify(resource, null, 2);
  if (!Object.isFrozen(resource)) return JSON.stringify(resource);
  let text = cache.get(resource);
  if (text === undefined) {
    text = JSON.stringify(resource);
    cache.set(resource, text);
  }
  return text;
}
