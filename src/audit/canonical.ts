/**
 * Canonical JSON of an AuditEvent, the bytes its chain hash covers:
 * - objects: members sorted by name in UTF-16 code unit order (JavaScript's default sort), members whose value
 *   is `undefined` left out; arrays keep their order;
 * - no whitespace; strings, numbers, booleans and null written as JSON.stringify writes them (ECMAScript's
 *   shortest number form), so for the values an AuditEvent holds this is RFC 8785 (JCS) output;
 * - encoded as UTF-8 before hashing.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}
