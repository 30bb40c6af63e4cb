/**
 * The Bulk Data export job runner: runs accepted jobs one at a time in the background, keeps their state in the
 * store (src/fhir/operations/export/jobs.ts), and on start resumes every job a previous process accepted or was
 * running, from the first type it had not finished. Completed and failed jobs, with their files, are removed once
 * the retention time has passed (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status:
 * `Expires`). One server instance should run export jobs per store.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OperationOutcome } from 'fhir/r4';
import type { Clock } from '../../../core/clock';
import { StorageConflict, type Doc, type Filter, type Store } from '../../../storage/port';
import type { SearchService } from '../../../search/service';
import type { Logger } from '../../../http/logger';
import { ERROR_FILE, EXPORT_JOBS, loadJob, type ExportJob } from './jobs';
import { Interrupted, writeJob } from './write-job';

export interface ExportRunnerOptions {
  store: Store;
  search: SearchService;
  clock: Clock;
  logger: Logger;
  /** Directory holding one sub-directory of NDJSON files per job. */
  dir: string;
  pageSize: number;
  retentionMs: number;
  /** Resource types with a Patient compartment membership (exported at Patient and Group level). */
  patientCompartmentTypes: readonly string[];
  /** The access filter of a job's requester, decided when the job runs (src/access/control.ts); none = unrestricted. */
  scopeOf?: (job: ExportJob) => Promise<Filter>;
  /** The final check of one record against such a filter (src/access/control.ts `test`). */
  admits?: (scope: Filter, record: Doc) => boolean;
}

export interface JobProgress {
  type: string;
  /** Position of `type` in the job's types, from 1. */
  typeNumber: number;
  exported: number;
}

export class ExportRunner {
  private readonly queue: string[] = [];
  private readonly cancelled = new Set<string>();
  private running: { id: string; progress: JobProgress } | null = null;
  private draining = false;
  private drained: Promise<void> = Promise.resolve();
  private sweeper: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(private readonly options: ExportRunnerOptions) {}

  get patientCompartmentTypes(): readonly string[] {
    return this.options.patientCompartmentTypes;
  }

  /** The directory of a job's files. */
  directory(id: string): string {
    return join(this.options.dir, id);
  }

  /** Removes expired jobs and queues every job that was accepted or running when the last process stopped. */
  async start(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true }).catch((err: Error) => {
      throw new Error(`the export directory ${this.options.dir} (EXPORT_DIR) cannot be used: ${err.message}`);
    });
    await this.sweep();
    const pending = (await this.options.store.find(EXPORT_JOBS, { status: { $in: ['accepted', 'running'] } }, { sort: [['acceptedAt', 1], ['_id', 1]] })) as ExportJob[];
    for (const job of pending) this.queue.push(job._id);
    if (pending.length) this.options.logger.log({ level: 'info', msg: 'export jobs resumed', jobs: pending.length });
    this.kick();
    const every = Math.min(60_000, Math.max(1000, this.options.retentionMs / 4));
    this.sweeper = setInterval(() => void this.sweep().catch((err: unknown) => this.fail('export sweep failed', err)), every);
    this.sweeper.unref();
  }

  /** Stores a new job and queues it. Resolves once the job is durable, so the status URL works from then on. */
  async submit(job: ExportJob): Promise<void> {
    await this.options.store.transaction((tx) => tx.insert(EXPORT_JOBS, job));
    this.queue.push(job._id);
    this.kick();
  }

  /** In-memory progress of the job running now. */
  progress(id: string): JobProgress | undefined {
    return this.running?.id === id ? this.running.progress : undefined;
  }

  /** Cancels a job (waiting, running or finished) and removes its files; false when there is no such job. */
  async cancel(id: string): Promise<boolean> {
    const job = await loadJob(this.options.store, id);
    if (!job) return false;
    this.cancelled.add(id);
    const index = this.queue.indexOf(id);
    if (index >= 0) this.queue.splice(index, 1);
    await this.remove(id);
    this.cancelled.delete(id);
    return true;
  }

  /** Lets the running job stop at its next page (it resumes on the next start) and ends the sweeper. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    await this.drained;
  }

  private kick(): void {
    if (this.draining || this.stopping || this.queue.length === 0) return;
    this.draining = true;
    this.drained = this.drain()
      .catch((err: unknown) => this.fail('export runner failed', err))
      .finally(() => {
        this.draining = false;
        this.kick();
      });
  }

  private async drain(): Promise<void> {
    for (let id = this.queue.shift(); id !== undefined && !this.stopping; id = this.queue.shift()) {
      const job = await loadJob(this.options.store, id);
      if (!job || (job.status !== 'accepted' && job.status !== 'running')) continue;
      this.running = { id, progress: { type: job.types[job.typesDone] ?? '', typeNumber: job.typesDone + 1, exported: job.exported } };
      try {
        await this.run(job);
      } finally {
        this.running = null;
      }
    }
  }

  private async run(accepted: ExportJob): Promise<void> {
    const id = accepted._id;
    const dir = this.directory(id);
    let job: ExportJob = { ...accepted, status: 'running' };
    try {
      if (!(await this.save(job))) return;
      const scope = this.options.scopeOf ? await this.options.scopeOf(job) : {};
      const admits = this.options.admits;
      job = await writeJob(
        { store: this.options.store, search: this.options.search, pageSize: this.options.pageSize, dir, scope, ...(admits && Object.keys(scope).length > 0 ? { admit: (record) => admits(scope, record) } : {}) },
        job,
        {
          interrupted: () => this.stopping || this.cancelled.has(id),
          progress: (type, written) => {
            if (this.running?.id === id) this.running.progress = { type, typeNumber: job.types.indexOf(type) + 1, exported: job.exported + written };
          },
          save: async (next) => {
            job = next;
            if (!(await this.save(next))) throw new Interrupted();
          },
        },
      );
      if (job.issues.length) await writeFile(join(dir, ERROR_FILE), job.issues.map((issue) => `${JSON.stringify(errorOutcome(issue))}\n`).join(''));
      const completedAt = this.options.clock.now();
      await this.save({ ...job, status: 'completed', completedAt, expiresAt: this.expiry(completedAt) });
      this.options.logger.log({ level: 'info', msg: 'export completed', job: id, resources: job.exported });
    } catch (err) {
      if (err instanceof Interrupted) return;
      this.fail('export job failed', err, id);
      const completedAt = this.options.clock.now();
      await this.save({ ...job, status: 'failed', completedAt, expiresAt: this.expiry(completedAt), failure: 'the export could not be written; see the server log' });
    }
  }

  /** Replaces the stored job; false when it is gone (cancelled meanwhile). */
  private async save(job: ExportJob): Promise<boolean> {
    try {
      await this.options.store.transaction((tx) => tx.replace(EXPORT_JOBS, job));
      return true;
    } catch (err) {
      if (err instanceof StorageConflict) return false;
      throw err;
    }
  }

  private expiry(from: string): string {
    return new Date(Date.parse(from) + this.options.retentionMs).toISOString();
  }

  /** Removes the jobs whose retention time has passed, with their files. */
  private async sweep(): Promise<void> {
    const expired = (await this.options.store.find(EXPORT_JOBS, { expiresAt: { $lte: this.options.clock.now() } } as Filter, { projection: { _id: 1 } })) as ExportJob[];
    for (const job of expired) await this.remove(job._id);
  }

  /** Files first, then the job: once the status URL answers 404, the files are gone too. */
  private async remove(id: string): Promise<void> {
    await this.drainedFor(id);
    await rm(this.directory(id), { recursive: true, force: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTDIR') throw err; // a parent is no directory: there is nothing to remove
    });
    await this.options.store.transaction((tx) => tx.delete(EXPORT_JOBS, id));
  }

  /** Waits until the job is no longer running (a cancelled job stops at its next page). */
  private async drainedFor(id: string): Promise<void> {
    while (this.running?.id === id) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  private fail(msg: string, err: unknown, job?: string): void {
    this.options.logger.log({ level: 'error', msg, ...(job ? { job } : {}), error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
}

/** One line of the error file: an OperationOutcome (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-output-file-request). */
function errorOutcome(issue: ExportJob['issues'][number]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [issue] } as OperationOutcome;
}
