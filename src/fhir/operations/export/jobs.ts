/**
 * Bulk Data export jobs as stored records (https://hl7.org/fhir/uv/bulkdata/export.html): one document per job
 * in its own collection, so a restarted server finds every job it accepted and the client's status URL keeps
 * working. The job holds everything needed to (re)run it: the resolved request and its `transactionTime`, so a
 * job restarted after a crash exports the same resources.
 */
import { notFound } from '../../../core/errors';
import type { OperationOutcomeIssue } from '../../../core/outcome';
import type { Doc, StoreReader } from '../../../storage/port';
import { sameRequester, type StoredToken } from '../../../access/tokens';
import type { RequestAccess } from '../../../access/request-access';

export const EXPORT_JOBS = 'export_jobs';
/** The file of a job's warnings and errors, one OperationOutcome per line. */
export const ERROR_FILE = 'OperationOutcome.ndjson';

export type ExportLevel = 'system' | 'patient' | 'group';

/** accepted: waiting to run; running; completed: manifest ready; failed: the poll answers with an OperationOutcome. */
export type ExportStatus = 'accepted' | 'running' | 'completed' | 'failed';

export interface ExportOutputFile {
  type: string;
  /** File name inside the job's directory. */
  file: string;
  count: number;
}

export interface ExportJob extends Doc {
  status: ExportStatus;
  /** The kick-off URL as the client sent it (manifest `request`). */
  request: string;
  level: ExportLevel;
  /** Group export: the local keys (`Patient/x`) of the Group's active Patient members at kick-off. */
  patients?: string[];
  /** The resource types to export, in export order. */
  types: string[];
  /** `_since`: only resources changed after this instant. */
  since?: string;
  /** `_typeFilter` queries (without `Type?`) by resource type; a type's queries are alternatives. */
  typeFilters: Record<string, string[]>;
  /** Every resource changed up to this instant is exported, none changed after it (the visibility horizon at kick-off). */
  transactionTime: string;
  /** Warnings and errors for the manifest's `error` file (ignored parameters, unusable Group members, ...). */
  issues: OperationOutcomeIssue[];
  /** How many of `types` are finished. */
  typesDone: number;
  /** Files of the types finished so far (all types once completed). */
  output: ExportOutputFile[];
  /** Files of deletions (transaction Bundles of DELETE entries) of the types finished so far, for `_since` system exports. */
  deleted?: ExportOutputFile[];
  /** Resources written so far (completed types). */
  exported: number;
  acceptedAt: string;
  completedAt?: string;
  /** When the files and this job are removed (set on completion or failure). */
  expiresAt?: string;
  /** Why the job failed (status failed). */
  failure?: string;
  /** Who asked (absent with access control off): the job exports what this token may read when it runs. */
  requester?: StoredToken;
}

export async function loadJob(store: StoreReader, id: string): Promise<ExportJob | null> {
  return (await store.findOne(EXPORT_JOBS, { _id: id })) as ExportJob | null;
}

/** The job, when `access` is its requester's: anyone else is told it does not exist (404). */
export async function requestersJob(store: StoreReader, id: string, access: RequestAccess | undefined): Promise<ExportJob> {
  const job = await existingJob(store, id);
  if (job.requester && !(access?.token && sameRequester(access.token, job.requester))) {
    throw notFound(`No export job ${id.slice(0, 64)}: it finished and expired, or was cancelled`);
  }
  return job;
}

/** The job, or 404 for one that expired, was cancelled or never existed. */
export async function existingJob(store: StoreReader, id: string): Promise<ExportJob> {
  const job = await loadJob(store, id);
  if (!job) throw notFound(`No export job ${id.slice(0, 64)}: it finished and expired, or was cancelled`);
  return job;
}
