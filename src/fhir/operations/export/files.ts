/**
 * Bulk Data output files (https://hl7.org/fhir/uv/bulkdata/export.html#file-request), served under the base URL
 * until the job expires. Only files listed in a completed job's manifest are served; the URL never names a path.
 * With access control on, only the job's requester may fetch them (`requiresAccessToken` true).
 */
import { join } from 'node:path';
import { notFound } from '../../../core/errors';
import type { FhirContext } from '../../context';
import type { FhirRequest, FhirResponse } from '../../types';
import { ERROR_FILE, requestersJob } from './jobs';

export const fileUrl = (ctx: FhirContext, job: string, file: string): string => `${ctx.baseUrl}/$export-file/${job}/${file}`;

export async function exportFile(ctx: FhirContext, req: FhirRequest, id: string, file: string): Promise<FhirResponse> {
  const job = await requestersJob(ctx.store, id, req.access);
  const files = [...job.output, ...(job.deleted ?? [])].map((f) => f.file);
  const listed = job.status === 'completed' && (files.includes(file) || (file === ERROR_FILE && job.issues.length > 0));
  if (!listed) throw notFound(`Export ${id.slice(0, 64)} has no file ${file.slice(0, 80)}`);
  return { status: 200, content: { file: join(ctx.bulkExport.directory(job._id), file), contentType: 'application/fhir+ndjson' } };
}
