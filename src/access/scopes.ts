/**
 * SMART clinical-data scopes, v1 and v2 syntax
 * (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html#scopes-for-requesting-fhir-resources):
 * `<patient|user|system>/<Type|*>.<permissions>[?param=value&...]`.
 *
 * v2 permissions are the letters c r u d s, each at most once and in that order (`rs`, `cud`, `cruds`); v1's
 * `read` means `rs`, `write` means `cud`, `*` means `cruds`. A scope that breaks the grammar (letters out of
 * order or repeated, an unknown context, v1 words with a query) grants nothing: it is reported, never widened.
 * v1 names are accepted without a query only, because v1 had no granular form.
 */

export type ScopeContext = 'patient' | 'user' | 'system';

/** c create, r read (read, vread, instance history), u update/patch, d delete, s search (and type/system history). */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

export interface ResourceScope {
  /** The scope as written in the token. */
  text: string;
  context: ScopeContext;
  /** A resource type, or '*' for every type. */
  resourceType: string;
  permissions: ReadonlySet<Permission>;
  /** v2 granular restriction (`?category=...`): search parameters every accessed resource must match. */
  filter: Array<[string, string]>;
}

export interface ParsedScopes {
  resources: ResourceScope[];
  /** Scopes that are not about resources (openid, fhirUser, launch/patient, offline_access...). */
  other: string[];
  /** Resource-shaped scopes that grant nothing, with the reason (for logs and error messages). */
  rejected: Array<{ scope: string; reason: string }>;
}

const CONTEXTS: ReadonlySet<string> = new Set(['patient', 'user', 'system']);
const LETTER_ORDER = 'cruds';
const V1_PERMISSIONS: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };
const RESOURCE_TYPE = /^(?:\*|[A-Z][A-Za-z]{1,63})$/;
const SHAPE = /^([a-z]+)\/([^./?]+)\.([^?]+)(?:\?(.*))?$/;

/** Parses the space-separated `scope` claim. */
export function parseScopes(claim: string): ParsedScopes {
  const parsed: ParsedScopes = { resources: [], other: [], rejected: [] };
  for (const text of claim.split(' ').filter((s) => s !== '')) {
    const shape = SHAPE.exec(text);
    if (!shape || !CONTEXTS.has(shape[1] as string)) {
      if (CONTEXTS.has(text.split('/')[0] ?? '')) parsed.rejected.push({ scope: text, reason: 'not of the form context/Type.permissions' });
      else parsed.other.push(text);
      continue;
    }
    const [, context, resourceType, letters, query] = shape as unknown as [string, ScopeContext, string, string, string | undefined];
    if (!RESOURCE_TYPE.test(resourceType)) {
      parsed.rejected.push({ scope: text, reason: `'${resourceType}' is not a resource type or '*'` });
      continue;
    }
    const v1 = V1_PERMISSIONS[letters];
    if (v1 !== undefined && query !== undefined) {
      parsed.rejected.push({ scope: text, reason: 'a v1 scope (read/write/*) cannot carry a query' });
      continue;
    }
    const permissions = permissionLetters(v1 ?? letters);
    if (!permissions) {
      parsed.rejected.push({ scope: text, reason: 'permissions must be the letters c, r, u, d, s, each at most once and in that order' });
      continue;
    }
    parsed.resources.push({ text, context, resourceType, permissions, filter: query === undefined ? [] : [...new URLSearchParams(query)] });
  }
  return parsed;
}

/** 'rs' -> {r, s}; null when the letters are unknown, repeated or out of order. */
function permissionLetters(letters: string): ReadonlySet<Permission> | null {
  if (letters === '') return null;
  let last = -1;
  const set = new Set<Permission>();
  for (const letter of letters) {
    const position = LETTER_ORDER.indexOf(letter);
    if (position <= last) return null;
    last = position;
    set.add(letter as Permission);
  }
  return set;
}

/** The scopes that grant `permission` on `resourceType` (a type's own scopes and wildcard ones). */
export function grantingScopes(scopes: readonly ResourceScope[], resourceType: string, permission: Permission): ResourceScope[] {
  return scopes.filter((s) => (s.resourceType === '*' || s.resourceType === resourceType) && s.permissions.has(permission));
}
