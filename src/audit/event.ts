/**
 * Builds the AuditEvent of one interaction, after the FHIR Basic Audit Log Patterns
 * (https://profiles.ihe.net/ITI/BALP/): type `rest`, the restful-interaction as subtype, who asked (user, client
 * app, network address), why (purpose of use), what was returned or changed (entity references), the patients
 * concerned (from the patient compartment), outcome, the decision that allowed it, and break-the-glass.
 * Never search values, request bodies or resource content beyond references.
 */
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Bundle, Coding, Resource } from 'fhir/r4';
import type { RequestAccess } from '../access/request-access';
import { FhirError } from '../core/errors';
import { shared } from './canonical';
import type { FhirRequest, FhirResponse } from '../fhir/types';
import { setBounded } from '../core/bounded-map';

export const BREAK_THE_GLASS_URL = 'https://fhir-r4-server.example.org/StructureDefinition/audit-break-the-glass';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

/** What the router knows about the call (src/fhir/router.ts). */
export interface AuditedCall {
  req: FhirRequest;
  /** The restful-interaction code of the matched route; absent when no route matched. */
  interaction?: string;
  operation?: string;
  /** Route parameters: type, id, vid, compartment. */
  params: Record<string, string>;
  result?: FhirResponse;
  error?: unknown;
  recorded: string;
  /** For a delete: the compartments of the version deleted. */
  deletedCompartments?: string[];
}

export interface EventContext {
  /** Patients (`Patient/<id>`) whose compartment holds the resource. */
  patientsOf(resource: Resource): string[];
  serverName: string;
}

const ACTIONS: Record<string, AuditEvent['action']> = {
  create: 'C',
  read: 'R',
  vread: 'R',
  'search-type': 'R',
  'search-system': 'R',
  'history-instance': 'R',
  'history-type': 'R',
  'history-system': 'R',
  capabilities: 'R',
  update: 'U',
  patch: 'U',
  delete: 'D',
};

export function buildAuditEvent(call: AuditedCall, ctx: EventContext): AuditEvent {
  const interaction = interactionOf(call);
  const entities = entitiesOf(call, ctx);
  const access = call.req.access;
  const btg = access?.breakTheGlass;
  // Members added in name order at every level, so the chain's canonical JSON is plain JSON.stringify
  // (src/audit/canonical.ts); the parts that repeat from event to event are shared, frozen objects (shared()).
  const event: AuditEvent = { action: (interaction && ACTIONS[interaction]) || 'E', agent: agentsOf(access, ctx.serverName) } as AuditEvent;
  if (entities.length) event.entity = entities;
  if (btg) event.extension = [{ url: BREAK_THE_GLASS_URL, valueString: btg.justification }];
  event.outcome = outcomeOf(call.error);
  if (call.error !== undefined) event.outcomeDesc = call.error instanceof FhirError ? call.error.category : 'fault';
  const purposes = access?.token?.purposeOfUse?.length || btg ? purposeCodings(access) : [];
  if (purposes.length) event.purposeOfEvent = purposes.map((c) => ({ coding: [c] }));
  event.recorded = call.recorded;
  (event as { resourceType: string }).resourceType = 'AuditEvent';
  event.source = sourceOf(ctx.serverName);
  if (interaction) event.subtype = subtypeOf(interaction);
  event.type = REST_TYPE;
  return event;
}

const REST_TYPE = shared({ code: 'rest', display: 'Restful Operation', system: DCM });
const SOURCES = new Map<string, AuditEvent['source']>();
function sourceOf(serverName: string): AuditEvent['source'] {
  let source = SOURCES.get(serverName);
  if (!source) {
    source = shared({ observer: { display: serverName }, type: [{ code: '4', display: 'Application Server', system: 'http://terminology.hl7.org/CodeSystem/security-source-type' }] });
    if (SOURCES.size < 16) SOURCES.set(serverName, source);
  }
  return source;
}
const SUBTYPES = new Map<string, Coding[]>();
function subtypeOf(interaction: string): Coding[] {
  let subtype = SUBTYPES.get(interaction);
  if (!subtype) {
    subtype = shared([{ code: interaction, system: RESTFUL }]);
    if (SUBTYPES.size < 64) SUBTYPES.set(interaction, subtype);
  }
  return subtype;
}

/** Bundles name their kind (batch or transaction) in their body; every other route has its code. */
export function interactionOf(call: AuditedCall): string | undefined {
  if (call.interaction === 'transaction' || call.interaction === 'batch') {
    const kind = (call.req.body as { type?: unknown } | undefined)?.type;
    return kind === 'batch' ? 'batch' : 'transaction';
  }
  return call.interaction;
}

/** 0 success, 4 minor failure (the client's request was refused), 8 serious failure (the server failed). */
function outcomeOf(error: unknown): AuditEvent['outcome'] {
  if (error === undefined) return '0';
  if (error instanceof FhirError && !['busy', 'fault', 'insufficient-storage'].includes(error.category)) return '4';
  return '8';
}

function purposeCodings(access: RequestAccess | undefined): Coding[] {
  const codes = new Set(access?.token?.purposeOfUse ?? []);
  if (access?.breakTheGlass) codes.add('BTG');
  return [...codes].map((code) => ({ code, system: ACT_REASON }));
}

/**
 * The agents depend only on the token, the client address, what decided and the server's name: one shared,
 * frozen array per combination (tokens are verified once per Authorization header and reused, src/access/authenticator.ts).
 */
const AGENTS = new WeakMap<object, Map<string, AuditEventAgent[]>>();
const NO_TOKEN = {};
const NO_ACCESS = {};
const AGENTS_PER_TOKEN = 256;

/** The one place that reads `req.access` (src/access/request-access.ts). */
function agentsOf(access: RequestAccess | undefined, serverName: string): AuditEventAgent[] {
  const owner = access ? (access.token ?? NO_TOKEN) : NO_ACCESS;
  let byContext = AGENTS.get(owner);
  if (!byContext) AGENTS.set(owner, (byContext = new Map()));
  // Addresses, policy references and the server's name hold no control characters.
  let key = `${access?.clientAddress ?? ''}\0${serverName}`;
  if (access) for (const by of access.decidedBy) key += `\0${by}`;
  let agents = byContext.get(key);
  if (!agents) {
    agents = shared(buildAgents(access, serverName));
    setBounded(byContext, key, agents, AGENTS_PER_TOKEN);
  }
  return agents;
}

function buildAgents(access: RequestAccess | undefined, serverName: string): AuditEventAgent[] {
  const token = access?.token ?? undefined;
  const user: AuditEventAgent = {
    ...(token?.subject ? { altId: token.subject } : {}),
    ...(access?.clientAddress ? { network: { address: access.clientAddress, type: '2' as const } } : {}),
    ...(access?.decidedBy.size ? { policy: [...access.decidedBy] } : {}),
    requestor: true,
    type: { coding: [{ code: 'humanuser', display: 'human user', system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type' }] },
    ...(token?.fhirUser ? { who: { reference: token.fhirUser } } : token?.subject ? { who: { identifier: { value: token.subject } } } : { who: { display: token ? 'token without subject' : access ? 'anonymous (access control off)' : 'the server itself (internal request)' } }),
  };
  const agents = [user];
  if (token?.clientId) {
    agents.push({ requestor: false, type: { coding: [{ code: '110150', display: 'Application', system: DCM }] }, who: { identifier: { value: token.clientId } } });
  }
  agents.push({ requestor: false, type: { coding: [{ code: '110152', display: 'Destination Role ID', system: DCM }] }, who: { display: serverName } });
  return agents;
}

const reference = (type: string, id: string): AuditEventEntity => ({ type: { code: '2', display: 'System Object', system: ENTITY_TYPE }, what: { reference: `${type}/${id}` } });
const patientEntity = (ref: string): AuditEventEntity => ({
  role: { code: '1', display: 'Patient', system: OBJECT_ROLE },
  type: { code: '1', display: 'Person', system: ENTITY_TYPE },
  what: { reference: ref },
});

/** The resources returned or changed, then the patients they concern. The trail's own events concern no patient. */
function entitiesOf(call: AuditedCall, ctx: EventContext): AuditEventEntity[] {
  const { params, result } = call;
  if (call.interaction === 'transaction' || call.interaction === 'batch') return [];
  const refs = new Map<string, AuditEventEntity>();
  const patients = new Set<string>();
  const add = (type: string | undefined, id: string | undefined, resource?: Resource): void => {
    if (!type || !id) return;
    refs.set(`${type}/${id}`, reference(type, id));
    if (type === 'AuditEvent') return;
    if (type === 'Patient') patients.add(`Patient/${id}`);
    if (resource) for (const p of ctx.patientsOf(resource)) patients.add(p);
  };
  const resource = result?.resource;
  if (result?.written) {
    // A write: the version it stored, and its patients as indexed with it (the answer may carry no resource).
    add(result.written.type, result.written.id);
    if (result.written.type !== 'AuditEvent') for (const c of result.written.compartments) if (c.startsWith('Patient/')) patients.add(c);
  } else if (resource?.resourceType === 'Bundle' && params.type !== 'Bundle') {
    for (const entry of (resource as Bundle).entry ?? []) {
      const r = entry.resource;
      if (r && r.resourceType !== 'OperationOutcome') add(r.resourceType, r.id, r);
    }
  } else if (resource && resource.resourceType !== 'OperationOutcome') {
    add(resource.resourceType, resource.id, resource);
  } else if (result?.location) {
    const m = /([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})\/_history\/[^/]+$/.exec(result.location);
    if (m) add(m[1], m[2]);
  }
  if (params.type && params.id && !params.compartment) add(params.type, params.id);
  for (const c of call.deletedCompartments ?? []) if (c.startsWith('Patient/')) patients.add(c);
  if (params.compartment === 'Patient' && params.id) patients.add(`Patient/${params.id}`);
  if (params.type === 'AuditEvent') patients.clear();
  return [...refs.values(), ...[...patients].map(patientEntity)];
}
