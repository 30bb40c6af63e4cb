/**
 * Bulk Data `$export` kick-off at system, Patient and Group level (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-kick-off-request):
 * checks the request, stores a job and answers 202 with the status URL in Content-Location. The job runs in the
 * background (src/fhir/operations/export/runner.ts).
 */
import type { Group } from 'fhir/r4';
import { invalid } from '../../../core/errors';
import { informational, outcome, type OperationOutcomeIssue } from '../../../core/outcome';
import { storedToken } from '../../../access/tokens';
import type { FhirContext } from '../../context';
import { liveRecord } from '../../read';
import type { FhirRequest, FhirResponse } from '../../types';
import type { ExportJob, ExportLevel } from './jobs';
import { exportParameters } from './parameters';

export const statusUrl = (ctx: FhirContext, id: string): string => `${ctx.baseUrl}/$export-status/${id}`;

export async function exportKickOff(ctx: FhirContext, req: FhirRequest, level: ExportLevel, groupId?: string): Promise<FhirResponse> {
  if (!req.prefer.respondAsync) {
    throw invalid('$export runs asynchronously: send the header Prefer: respond-async (https://hl7.org/fhir/uv/bulkdata/export.html#headers)');
  }
  const group = groupId !== undefined ? ((await liveRecord(ctx, 'Group', groupId, req)).resource as Group) : undefined;
  const params = exportParameters(ctx, req);
  const issues: OperationOutcomeIssue[] = [...params.issues];
  const handling = req.prefer.handling === 'lenient' ? 'lenient' : 'strict';
  for (const [type, queries] of Object.entries(params.typeFilters)) {
    for (const query of queries) {
      const { warnings } = await ctx.search.criteriaFilter(type, [...new URLSearchParams(query)], handling);
      issues.push(...warnings);
    }
  }
  const types = exportTypes(ctx, level, params.types, issues);
  const id = ctx.ids.next();
  const job: ExportJob = {
    _id: id,
    status: 'accepted',
    request: requestUrl(ctx, req),
    level,
    ...(group ? { patients: members(ctx, group, issues) } : {}),
    types,
    ...(params.since ? { since: params.since } : {}),
    typeFilters: params.typeFilters,
    transactionTime: ctx.visibility.horizon(),
    issues,
    typesDone: 0,
    output: [],
    exported: 0,
    acceptedAt: ctx.clock.now(),
    ...(req.access?.token ? { requester: storedToken(req.access.token) } : {}),
  };
  await ctx.bulkExport.submit(job);
  return {
    status: 202,
    headers: { 'Content-Location': statusUrl(ctx, id) },
    resource: outcome([informational(`Export accepted; poll ${statusUrl(ctx, id)} for its status`)]),
  };
}

/**
 * The types to export: those asked for by `_type`, else every type (system level) or every type with Patient
 * compartment membership (Patient and Group level, https://hl7.org/fhir/uv/bulkdata/export.html#endpoint---all-patients).
 */
function exportTypes(ctx: FhirContext, level: ExportLevel, requested: string[] | undefined, issues: OperationOutcomeIssue[]): string[] {
  const available = level === 'system' ? ctx.validator.resourceTypes : ctx.bulkExport.patientCompartmentTypes;
  if (!requested) return [...available];
  const types = requested.filter((type) => available.includes(type));
  for (const type of requested.filter((t) => !types.includes(t))) {
    issues.push({ severity: 'warning', code: 'informational', diagnostics: `${type} resources are not in the Patient compartment, so a ${level}-level export has none`, expression: ['_type'] });
  }
  return types;
}

/** Local keys of the Group's active Patient members; other members are reported in the error file. */
function members(ctx: FhirContext, group: Group, issues: OperationOutcomeIssue[]): string[] {
  const keys = new Set<string>();
  for (const member of group.member ?? []) {
    if (member.inactive) continue;
    const reference = member.entity?.reference ?? '';
    const local = reference.startsWith(`${ctx.baseUrl}/`) ? reference.slice(ctx.baseUrl.length + 1) : reference;
    if (/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(local)) keys.add(local);
    else issues.push({ severity: 'warning', code: 'not-supported', diagnostics: `Group member '${reference.slice(0, 100)}' is not a Patient on this server; it was left out`, expression: ['Group.member.entity'] });
  }
  return [...keys];
}

/** The kick-off URL as the client sent it, for the manifest's `request`. */
function requestUrl(ctx: FhirContext, req: FhirRequest): string {
  const query = new URLSearchParams(req.query).toString();
  return `${ctx.baseUrl}/${req.path.join('/')}${query ? `?${query}` : ''}`;
}
