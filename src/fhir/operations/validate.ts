/**
 * $validate (https://hl7.org/fhir/R4/resource-operation-validate.html) at type level (POST [type]/$validate) and
 * instance level (POST or GET [type]/[id]/$validate). The resource comes as the body, or as the `resource`
 * parameter of a Parameters body; `mode` (create | update | delete | profile) and `profile` come from the
 * Parameters body or the query. The answer is 200 with an OperationOutcome listing every issue, whether or not the
 * resource is valid; 4xx means validation could not be performed (no resource, unknown type or id).
 * It runs the validator the write path runs (src/fhir/incoming.ts assertValid), so both always agree.
 */
import type { OperationOutcomeIssue, Parameters, Resource } from 'fhir/r4';
import { invalid, notFound } from '../../core/errors';
import { outcome } from '../../core/outcome';
import type { FhirContext } from '../context';
import { expectResourceBody } from '../incoming';
import { loadCurrent, visibleRecord } from '../persist';
import { assertId, assertResourceType } from '../target';
import type { FhirRequest, FhirResponse } from '../types';

const MODES = ['create', 'update', 'delete', 'profile'] as const;
type Mode = (typeof MODES)[number];

interface ValidateInput {
  resource?: unknown;
  mode?: Mode;
  profile?: string;
}

export async function validateOperation(ctx: FhirContext, req: FhirRequest, type: string, id?: string): Promise<FhirResponse> {
  assertResourceType(ctx, type);
  if (id !== undefined) assertId(id);
  const input = readInput(req);
  if (input.resource === undefined && id === undefined) {
    throw invalid('No resource to validate: send it as the body, or as the resource parameter of a Parameters body');
  }
  const found = id !== undefined ? await loadCurrent(ctx.store, type, id) : null;
  // A resource the caller may not see is validated as if it did not exist.
  const current = found && (await visibleRecord(ctx, req, found)) ? found : null;
  if (id !== undefined && (!current || current.deleted) && (input.mode === 'delete' || input.resource === undefined)) {
    throw notFound(`${type}/${id} is not known to this server, so it cannot be validated`);
  }
  if (input.mode === 'delete') {
    if (id === undefined) throw invalid("mode 'delete' validates the deletion of an existing resource: use [type]/[id]/$validate");
    // No reference integrity or business rules refuse a delete on this server (https://hl7.org/fhir/R4/http.html#delete).
    return answer([{ severity: 'information', code: 'informational', diagnostics: `${type}/${id} can be deleted` }]);
  }
  const resource = input.resource !== undefined ? expectResourceBody(ctx, input.resource, type) : (current?.resource as Resource);
  const profiles = input.profile ? [input.profile] : undefined;
  return answer([...modeIssues(input.mode, resource, type, id), ...ctx.validator.validate(resource, profiles ? { profiles } : {})]);
}

function answer(issues: OperationOutcomeIssue[]): FhirResponse {
  return { status: 200, resource: outcome(issues) };
}

/** The body as the resource, or a Parameters body with `resource`, `mode` and `profile`; query parameters too. */
function readInput(req: FhirRequest): ValidateInput {
  const input: ValidateInput = {};
  for (const [name, value] of req.query) {
    if (name === 'mode') input.mode = parseMode(value);
    else if (name === 'profile') input.profile = value;
  }
  const body = req.body as Resource | undefined;
  if (body && typeof body === 'object' && !Array.isArray(body) && body.resourceType === 'Parameters' && isValidateParameters(body as Parameters)) {
    for (const p of (body as Parameters).parameter ?? []) {
      if (p.name === 'resource') input.resource = p.resource;
      else if (p.name === 'mode') input.mode = parseMode(p.valueCode ?? p.valueString ?? '');
      else if (p.name === 'profile') input.profile = p.valueUri ?? p.valueCanonical ?? p.valueString;
    }
  } else if (body !== undefined) {
    input.resource = body;
  }
  return input;
}

/** A Parameters body is the operation's input (not a Parameters resource to validate) when it names only its parameters. */
function isValidateParameters(body: Parameters): boolean {
  const names = (body.parameter ?? []).map((p) => p.name);
  return names.length > 0 && names.every((n) => n === 'resource' || n === 'mode' || n === 'profile');
}

function parseMode(value: string): Mode {
  if ((MODES as readonly string[]).includes(value)) return value as Mode;
  throw invalid(`Unknown $validate mode '${value.slice(0, 40)}': use one of ${MODES.join(', ')}`);
}

/** What create and update ask beyond the content (https://hl7.org/fhir/R4/http.html#create, #update). */
function modeIssues(mode: Mode | undefined, resource: Resource, type: string, id: string | undefined): OperationOutcomeIssue[] {
  if (mode === 'update') {
    if (!resource.id) return [{ severity: 'error', code: 'required', diagnostics: 'An update needs the resource id in the body', expression: [`${type}.id`] }];
    if (id !== undefined && resource.id !== id) {
      return [{ severity: 'error', code: 'invalid', diagnostics: `The body's id '${resource.id}' does not match the id '${id}' in the URL`, expression: [`${type}.id`] }];
    }
  }
  if (mode === 'create' && resource.id) {
    return [{ severity: 'information', code: 'informational', diagnostics: 'On create the server assigns the id; the id in the body is ignored', expression: [`${type}.id`] }];
  }
  return [];
}
