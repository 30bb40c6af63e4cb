/**
 * The status URL of a Bulk Data export (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-status-request):
 * 202 with X-Progress and Retry-After while the job waits or runs, 200 with the completion manifest, a 500
 * OperationOutcome when it failed, 404 once it expired or was cancelled; DELETE cancels
 * (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-delete-request).
 */
import { FhirError, notFound } from '../../../core/errors';
import { informational, outcome } from '../../../core/outcome';
import type { FhirContext } from '../../context';
import type { FhirRequest, FhirResponse } from '../../types';
import { fileUrl } from './files';
import { ERROR_FILE, requestersJob, type ExportJob } from './jobs';

/** Seconds a client is asked to wait between polls. */
const RETRY_AFTER_SECONDS = 2;

export async function exportStatus(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  const job = await requestersJob(ctx.store, id, req.access);
  if (job.status === 'failed') throw new FhirError('fault', `The export failed: ${job.failure ?? 'unknown error'}. DELETE this URL and start it again`);
  if (job.status !== 'completed') {
    return { status: 202, headers: { 'X-Progress': progressText(ctx, job), 'Retry-After': String(RETRY_AFTER_SECONDS) } };
  }
  return {
    status: 200,
    headers: job.expiresAt ? { Expires: new Date(job.expiresAt).toUTCString() } : {},
    content: { json: manifest(ctx, job) },
  };
}

export async function cancelExport(ctx: FhirContext, req: FhirRequest, id: string): Promise<FhirResponse> {
  await requestersJob(ctx.store, id, req.access);
  if (!(await ctx.bulkExport.cancel(id))) throw notFound(`No export job ${id.slice(0, 64)}: it finished and expired, or was cancelled`);
  return { status: 202, resource: outcome([informational(`Export ${id} was cancelled and its files removed`)]) };
}

function progressText(ctx: FhirContext, job: ExportJob): string {
  if (job.status === 'accepted') return 'queued';
  const now = ctx.bulkExport.progress(job._id);
  if (!now) return `${job.exported} resources exported; resuming`;
  return `${now.exported} resources exported; ${now.type} (type ${now.typeNumber} of ${job.types.length})`;
}

/** The completion manifest (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status). */
function manifest(ctx: FhirContext, job: ExportJob): Record<string, unknown> {
  return {
    transactionTime: job.transactionTime,
    request: job.request,
    requiresAccessToken: job.requester !== undefined,
    output: job.output.map((f) => ({ type: f.type, url: fileUrl(ctx, job._id, f.file), count: f.count })),
    ...(job.deleted?.length ? { deleted: job.deleted.map((f) => ({ type: f.type, url: fileUrl(ctx, job._id, f.file), count: f.count })) } : {}),
    error: job.issues.length ? [{ type: 'OperationOutcome', url: fileUrl(ctx, job._id, ERROR_FILE), count: job.issues.length }] : [],
  };
}
