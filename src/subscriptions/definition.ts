/**
 * A Subscription resource read into what the server acts on (https://hl7.org/fhir/R4/subscription.html): the
 * criteria compiled once into a predicate over stored records, and the rest-hook channel
 * (https://hl7.org/fhir/R4/subscription.html#channels). Anything the server cannot honour is refused when the
 * Subscription is written (422 naming the element).
 *
 * Criteria are `Type?search-parameters` (or a bare `Type`: every write of that type). They are compiled without
 * store lookups (CriteriaCompiler.compileLocal): chains, `_has`, `_list` and `:in`/`:not-in` are refused, because
 * their result depends on other resources and a snapshot taken at subscription time would silently go stale.
 */
import type { Subscription } from 'fhir/r4';
import { FhirError } from '../core/errors';
import type { Doc, Filter } from '../storage/port';
import { CompiledFilter } from '../storage/embedded/compiled-filter';
import type { CriteriaCompiler } from '../search/criteria';
import type { EndpointPolicy } from './endpoints';

export type SubscriptionStatus = 'requested' | 'active' | 'error' | 'off';

export interface SubscriptionDefinition {
  id: string;
  status: SubscriptionStatus;
  /** meta.lastUpdated of this version: it applies to the writes after it. */
  since: string;
  /** Subscription.end: no notifications for writes after it. */
  end?: string;
  /** The resource type the criteria select. */
  resourceType: string;
  /** Whether a live record (`type`, `id`, `lastUpdated`, `idx`, `deleted: false`) meets the criteria. */
  matches(record: Doc): boolean;
  /**
   * Token entries (`param|code`) of which a matching record has at least one, from a token equality the criteria
   * require (`code=http://loinc.org|1234-5`); undefined when they require none. Lets the registry skip the
   * subscriptions that cannot match without testing them.
   */
  tokenKeys?: string[];
  endpoint: string;
  /** MIME type of the body (the resource); undefined: notifications carry no body. */
  payload?: string;
  headers: Array<[string, string]>;
}

export interface DefinitionDeps {
  criteria: CriteriaCompiler;
  endpoints: EndpointPolicy;
  isResourceType(type: string): boolean;
}

const PAYLOADS = new Set(['application/fhir+json', 'application/json']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the server sets itself on every notification. */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'connection', 'transfer-encoding']);

const refuse = (expression: string, diagnostics: string): FhirError =>
  new FhirError('unprocessable', [{ severity: 'error', code: 'value', diagnostics, expression: [expression] }]);

/**
 * Reads and checks a Subscription; throws a 422 FhirError naming the element at fault. With `checkEndpoint`
 * false (a stored Subscription taking effect), an endpoint no longer allowed is left to fail at delivery, where
 * the failure is recorded in the Subscription.
 */
export function readSubscription(resource: Subscription, deps: DefinitionDeps, checkEndpoint = true): SubscriptionDefinition {
  const channel = resource.channel;
  if (channel?.type !== 'rest-hook') {
    throw refuse('Subscription.channel.type', `Only the rest-hook channel is supported, got '${String(channel?.type)}'`);
  }
  if (!channel.endpoint) throw refuse('Subscription.channel.endpoint', 'A rest-hook Subscription needs channel.endpoint');
  const refusal = checkEndpoint ? deps.endpoints.refusal(channel.endpoint) : undefined;
  if (refusal) throw refuse('Subscription.channel.endpoint', refusal);
  const payload = channel.payload?.split(';')[0]?.trim().toLowerCase();
  if (payload !== undefined && !PAYLOADS.has(payload)) {
    throw refuse('Subscription.channel.payload', `Payload '${channel.payload}' is not supported; use application/fhir+json or leave payload out`);
  }
  const { resourceType, matches, tokenKeys } = compileCriteria(resource.criteria ?? '', deps);
  return {
    id: resource.id ?? '',
    status: resource.status,
    since: resource.meta?.lastUpdated ?? '',
    ...(resource.end ? { end: resource.end } : {}),
    resourceType,
    matches,
    ...(tokenKeys ? { tokenKeys } : {}),
    endpoint: channel.endpoint,
    ...(payload !== undefined ? { payload: channel.payload as string } : {}),
    headers: (channel.header ?? []).map(parseHeader),
  };
}

/** Whether the subscription sends notifications for a write at `instant`. */
export function isLive(def: SubscriptionDefinition, instant: string): boolean {
  return def.status !== 'off' && (def.end === undefined || instant < new Date(def.end).toISOString());
}

function compileCriteria(criteria: string, deps: DefinitionDeps): Pick<SubscriptionDefinition, 'resourceType' | 'matches' | 'tokenKeys'> {
  const question = criteria.indexOf('?');
  const resourceType = question < 0 ? criteria : criteria.slice(0, question);
  if (!deps.isResourceType(resourceType)) {
    throw refuse('Subscription.criteria', `The criteria '${criteria.slice(0, 200)}' must start with a resource type, e.g. Observation?code=http://loinc.org|1234-5`);
  }
  try {
    const filter = deps.criteria.compileLocal(resourceType, question < 0 ? [] : queryPairs(criteria.slice(question + 1)));
    const compiled = new CompiledFilter(filter);
    const tokenKeys = requiredTokenKeys(filter);
    return { resourceType, matches: (record) => compiled.test(record), ...(tokenKeys ? { tokenKeys } : {}) };
  } catch (err) {
    if (err instanceof FhirError && err.category === 'fault') throw err;
    throw refuse('Subscription.criteria', `The criteria '${criteria.slice(0, 200)}' cannot be used: ${(err as Error).message}`);
  }
}

/**
 * The `param|code` keys of the first top-level clause of the shape token equality compiles to
 * ({'idx.tok': {$elemMatch: {p, c, ...}}}, or with `$or` alternatives each naming a code; src/search/compile/token.ts).
 */
function requiredTokenKeys(filter: Filter): string[] | undefined {
  const clauses = Array.isArray(filter.$and) ? (filter.$and as Filter[]) : [];
  for (const clause of clauses) {
    const keys = Object.keys(clause);
    const match = keys.length === 1 && keys[0] === 'idx.tok' ? (clause['idx.tok'] as { $elemMatch?: Record<string, unknown> }).$elemMatch : undefined;
    if (!match || typeof match.p !== 'string') continue;
    const alternatives = Array.isArray(match.$or) ? (match.$or as Array<Record<string, unknown>>) : [match];
    if (alternatives.every((a) => typeof a.c === 'string')) return alternatives.map((a) => `${match.p as string}|${a.c as string}`);
  }
  return undefined;
}

/** `a=1&b=x|y`: percent-decoded, `+` kept as is (criteria are stored text, not form data). */
function queryPairs(query: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    try {
      pairs.push([decodeURIComponent(name), decodeURIComponent(value)]);
    } catch {
      throw new Error(`'${part.slice(0, 100)}' is not validly percent-encoded`);
    }
  }
  return pairs;
}

/** `Name: value` (https://hl7.org/fhir/R4/subscription-definitions.html#Subscription.channel.header). */
function parseHeader(line: string, index: number): [string, string] {
  const colon = line.indexOf(':');
  const name = colon < 0 ? '' : line.slice(0, colon).trim();
  const value = colon < 0 ? '' : line.slice(colon + 1).trim();
  const expression = `Subscription.channel.header[${index}]`;
  if (!HEADER_NAME.test(name)) throw refuse(expression, `A channel header must read 'Name: value', got '${line.slice(0, 100)}'`);
  if (RESERVED_HEADERS.has(name.toLowerCase())) throw refuse(expression, `The header '${name}' is set by the server and cannot be given in channel.header`);
  if (/[\r\n\0]/.test(value)) throw refuse(expression, `The value of header '${name}' must not contain line breaks`);
  return [name, value];
}
