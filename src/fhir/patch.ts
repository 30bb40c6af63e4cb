/**
 * patch with JSON Patch (RFC 6902): https://hl7.org/fhir/R4/http.html#patch. The patched result is validated
 * like an update; a failed `test` operation or a patch that cannot apply is 422, a malformed patch 400.
 */
import type { Resource } from 'fhir/r4';
import { applyPatch, JsonPatchError, validate as validatePatch, type Operation } from 'fast-json-patch';
import { FhirError, invalid, notFound, preconditionFailed } from '../core/errors';
import { checkJsonSafety } from '../validation/guards';
import type { StoreTransaction } from '../storage/port';
import { matchInTransaction } from './conditional';
import type { FhirContext } from './context';
import { accessOptions, requireCriteria } from './criteria';
import { inTransaction, loadCurrent, visibleRecord, writeVersion } from './persist';
import { checkIfMatch } from './preconditions';
import { writtenResponse } from './respond';
import { assertId, assertResourceType } from './target';
import type { FhirRequest, FhirResponse } from './types';

export const JSON_PATCH = 'application/json-patch+json';

export async function patch(ctx: FhirContext, req: FhirRequest, type: string, id: string): Promise<FhirResponse> {
  assertResourceType(ctx, type);
  assertId(id);
  const operations = expectJsonPatch(req);
  return inTransaction(ctx, (tx) => patchOne(ctx, tx, req, type, id, operations));
}

/** PATCH [type]?criteria: patches the one match; none is 404, several are 412. */
export async function conditionalPatch(ctx: FhirContext, req: FhirRequest, type: string): Promise<FhirResponse> {
  assertResourceType(ctx, type);
  const criteria = requireCriteria(req.query, 'patch');
  const operations = expectJsonPatch(req);
  return inTransaction(ctx, async (tx) => {
    const matches = await matchInTransaction(ctx, tx, type, criteria, 2, await accessOptions(ctx, req));
    if (matches.length > 1) throw preconditionFailed(`The criteria matched several ${type} resources; make them more selective`);
    if (!matches[0]) throw notFound(`No ${type} matched the criteria`);
    return patchOne(ctx, tx, req, type, matches[0].id, operations);
  });
}

function expectJsonPatch(req: FhirRequest): Operation[] {
  if (req.contentType !== JSON_PATCH) {
    throw new FhirError('unsupported-media-type', `PATCH bodies must be JSON Patch documents sent as ${JSON_PATCH}; FHIRPath Patch is not supported`);
  }
  const body = req.body;
  if (!Array.isArray(body)) throw invalid('A JSON Patch document is a JSON array of operations');
  const safety = checkJsonSafety(body);
  if (safety.length) throw new FhirError('incorrect', safety);
  const banned = (body as Array<{ path?: unknown; from?: unknown }>).find((op) => [op?.path, op?.from].some(touchesPrototype));
  if (banned) throw invalid('JSON Patch paths must not address __proto__, constructor or prototype');
  const problem = validatePatch(body as Operation[]);
  if (problem) throw invalid(`Invalid JSON Patch operation ${problem.index ?? ''}: ${describePatchError(problem)}`);
  return body as Operation[];
}

async function patchOne(ctx: FhirContext, tx: StoreTransaction, req: FhirRequest, type: string, id: string, operations: Operation[]): Promise<FhirResponse> {
  const previous = await loadCurrent(tx, type, id);
  if (!previous || !(await visibleRecord(ctx, req, previous))) throw notFound(`${type}/${id} does not exist`);
  if (previous.deleted || !previous.resource) {
    throw new FhirError('deleted', [{ severity: 'error', code: 'deleted', diagnostics: `${type}/${id} was deleted; it cannot be patched` }]);
  }
  checkIfMatch(req.ifMatch, previous);
  const patched = applyOperations(structuredClone(previous.resource), operations);
  if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) throw new FhirError('unprocessable', 'The patch must leave a resource object');
  if (patched.resourceType !== type || patched.id !== id) {
    throw new FhirError('unprocessable', 'The patch must not change resourceType or id');
  }
  const record = await writeVersion(ctx, tx, previous, type, id, patched, 'PATCH', req.access);
  return writtenResponse(ctx, record, 200, req.prefer, `Patched ${type}/${id}`);
}

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const touchesPrototype = (pointer: unknown): boolean =>
  typeof pointer === 'string' && pointer.split('/').some((token) => PROTOTYPE_KEYS.has(token.replace(/~1/g, '/').replace(/~0/g, '~')));

function applyOperations(document: Resource, operations: Operation[]): Resource {
  try {
    return applyPatch(document, operations, true, true, true).newDocument;
  } catch (err) {
    if (err instanceof JsonPatchError) {
      throw new FhirError('unprocessable', [
        { severity: 'error', code: 'processing', diagnostics: `JSON Patch operation ${err.index ?? ''} failed: ${describePatchError(err)}` },
      ]);
    }
    throw err;
  }
}

/** fast-json-patch messages embed the whole document; keep only the stable error name, in words. */
function describePatchError(err: JsonPatchError): string {
  const reasons: Record<string, string> = {
    TEST_OPERATION_FAILED: 'the test operation did not match the current resource',
    OPERATION_PATH_UNRESOLVABLE: 'the path does not exist in the resource',
    OPERATION_FROM_UNRESOLVABLE: 'the from path does not exist in the resource',
    OPERATION_OP_INVALID: "op must be one of add, remove, replace, move, copy, test",
    OPERATION_PATH_INVALID: 'path must be a JSON Pointer string',
    OPERATION_VALUE_REQUIRED: 'this operation needs a value',
    OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED: 'the value is not valid JSON',
    OPERATION_PATH_CANNOT_ADD: 'the path cannot be added at that position',
    OPERATION_PATH_ILLEGAL_ARRAY_INDEX: 'an array index in the path is not a number',
    OPERATION_VALUE_OUT_OF_BOUNDS: 'an array index in the path is out of bounds',
    OPERATION_NOT_AN_OBJECT: 'each operation must be a JSON object',
    SEQUENCE_NOT_AN_ARRAY: 'the patch must be a JSON array',
  };
  return reasons[err.name] ?? 'the operation could not be applied';
}
