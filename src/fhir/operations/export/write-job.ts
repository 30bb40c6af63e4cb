/**
 * Runs one Bulk Data export job (https://hl7.org/fhir/uv/bulkdata/export.html): for each resource type, the
 * matching current resources are read from the store a page at a time in `_id` order (a keyset cursor, so memory
 * does not grow with the export) and appended to that type's NDJSON file. Each page query is the same live filter
 * search uses (src/search/service.ts `criteriaFilter`, which takes the access scope), narrowed to the job: changed
 * after `_since`, and for Patient and Group exports in a member's Patient compartment. Records changed after
 * `transactionTime` (written while the job runs) are dropped from each page rather than excluded by the query: a
 * range on `lastUpdated` that holds nearly every record would compete with the `[type, _id]` index the keyset
 * walks (on the embedded engine each page then re-read the type from its start: 1.6 ms per resource at 100,000).
 * Progress is saved after every type, so a job interrupted by a restart resumes with the type it was writing.
 * System exports with `_since` also list the resources deleted since then (reportsDeletions).
 */
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import type { Bundle } from 'fhir/r4';
import { join } from 'node:path';
import type { Filter, Store } from '../../../storage/port';
import { RESOURCES, type ResourceRecord } from '../../../storage/records';
import type { SearchService } from '../../../search/service';
import type { ExportJob, ExportOutputFile } from './jobs';

/** Group members whose compartments one page query covers (an `$in` the compartment index serves). */
const MEMBERS_PER_QUERY = 100;

/**
 * Characters of NDJSON per piece of a page's text (a page of 1,000 resources is ~550 KB). Each piece stays below
 * V8's large-object size (128 KiB, two bytes a character at worst): a large string still waiting for its write
 * when the young generation is collected is promoted to the old generation at once, where it stays, garbage,
 * until the next full collection (one or two page texts per young collection, 16 MB of old generation per
 * 100,000 resources exported); a small one is copied within the young generation and dies there.
 */
const PIECE_CHARS = 32 * 1024;

export interface WriteJobDeps {
  store: Store;
  search: SearchService;
  /** Resources read per page. */
  pageSize: number;
  /** The job's directory. */
  dir: string;
  /** Access scope of the requester ANDed into every query (`{}` when unrestricted). */
  scope: Filter;
  /**
   * The final check of each record against that scope before it is written (STYLE: a final check on what leaves);
   * absent when the scope is unrestricted (a system/ token without purpose of use), which then costs nothing.
   */
  admit?: (record: ResourceRecord) => boolean;
}

export interface JobControl {
  /** Checked between pages: true once the job was cancelled or the server is stopping. */
  interrupted(): boolean;
  /** Resources written so far in the current type. */
  progress(type: string, written: number): void;
  /** Saves the job after a finished type. */
  save(job: ExportJob): Promise<void>;
}

export class Interrupted extends Error {}

export async function writeJob(deps: WriteJobDeps, job: ExportJob, control: JobControl): Promise<ExportJob> {
  await mkdir(deps.dir, { recursive: true });
  let current = job;
  for (const type of job.types.slice(job.typesDone)) {
    const file = `${type}.ndjson`;
    const alternatives = await typeFilters(deps, job, type);
    const count = await writePages(deps, selections(job, type, alternatives, deps.admit), job.transactionTime, join(deps.dir, file), control, {
      // The final check reads the whole record (index fields, compartments).
      projection: deps.admit ? undefined : job.level === 'group' ? { lastUpdated: 1, resource: 1, compartments: 1 } : { lastUpdated: 1, resource: 1 },
      lines: (rows) => pieces(rows.map((row) => `${JSON.stringify(row.resource)}\n`)),
      progress: (written) => control.progress(type, written),
    });
    const deleted = reportsDeletions(job) ? await writeDeletions(deps, job, type, control) : undefined;
    current = {
      ...current,
      typesDone: current.typesDone + 1,
      exported: current.exported + count,
      output: count > 0 ? [...current.output, { type, file, count }] : current.output,
      ...(deleted ? { deleted: [...(current.deleted ?? []), deleted] } : {}),
    };
    await control.save(current);
  }
  return current;
}

/**
 * Deletions are reported for system-level exports with `_since` (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status,
 * `deleted`): a tombstone keeps no compartments nor search index, so Patient and Group exports cannot tell whose it was.
 */
export const reportsDeletions = (job: ExportJob): boolean => job.level === 'system' && job.since !== undefined;

/** The type's resources deleted after `_since` (up to transactionTime), as transaction Bundles of DELETE entries, one per page. */
async function writeDeletions(deps: WriteJobDeps, job: ExportJob, type: string, control: JobControl): Promise<ExportOutputFile | undefined> {
  const file = `${type}.deleted.ndjson`;
  const tombstones: Filter = { type, deleted: true, lastUpdated: { $gt: job.since, $lte: job.transactionTime } };
  const filter = Object.keys(deps.scope).length ? { $and: [deps.scope, tombstones] } : tombstones;
  const count = await writePages(deps, [{ filter }], job.transactionTime, join(deps.dir, file), control, {
    projection: { type: 1, id: 1, lastUpdated: 1 },
    lines: (rows) => [`${JSON.stringify(deletionBundle(rows))}\n`],
    progress: () => undefined,
  });
  return count > 0 ? { type: 'Bundle', file, count } : undefined;
}

function deletionBundle(rows: ResourceRecord[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: rows.map((row) => ({ request: { method: 'DELETE', url: `${row.type}/${row.id}` } })),
  };
}

interface PageWriter {
  /** The fields read; undefined = the whole record. */
  projection: Record<string, 1> | undefined;
  /** NDJSON text of one page of records (each line ending in a newline), in pieces written one after another. */
  lines(rows: ResourceRecord[]): string[];
  /** Records written so far. */
  progress(written: number): void;
}

/**
 * Writes the records of `selections` changed up to `horizon` to `path` a page at a time (a keyset over `_id`), so
 * memory holds one page.
 * The file is opened with the first record (most types of a system export have none), truncating what an
 * interrupted earlier run left, and removed when nothing was written. Resolves with the number of records.
 */
async function writePages(deps: WriteJobDeps, selected: Iterable<Selection>, horizon: string, path: string, control: JobControl, writer: PageWriter): Promise<number> {
  let handle: FileHandle | undefined;
  let written = 0;
  // The previous page's write, still running while the next page is read (so at most two pages are held).
  let pending: Promise<unknown> = Promise.resolve();
  try {
    for (const { filter, keep } of selected) {
      let after = '';
      for (;;) {
        if (control.interrupted()) throw new Interrupted();
        const rows = (await deps.store.find(RESOURCES, { $and: [filter, { _id: { $gt: after } }] }, {
          sort: [['_id', 1]],
          limit: deps.pageSize,
          readOnce: true,
          ...(writer.projection ? { projection: writer.projection } : {}),
        })) as ResourceRecord[];
        if (rows.length === 0) break;
        after = rows[rows.length - 1]?._id as string;
        const kept = rows.filter((row) => row.lastUpdated <= horizon && (!keep || keep(row)));
        if (kept.length) {
          const text = writer.lines(kept);
          await pending;
          handle ??= await open(path, 'w');
          pending = writeAll(handle, text);
          pending.catch(() => undefined); // awaited before the next write or below; not an unhandled rejection meanwhile
          written += kept.length;
        }
        writer.progress(written);
        if (rows.length < deps.pageSize) break;
      }
    }
    await pending;
  } finally {
    await pending.catch(() => undefined);
    await handle?.close();
  }
  if (written === 0) await rm(path, { force: true });
  return written;
}

/** Lines joined into pieces of about PIECE_CHARS characters (a longer line is a piece of its own). */
function pieces(lines: string[]): string[] {
  const out: string[] = [];
  let from = 0;
  let chars = 0;
  for (let i = 0; i < lines.length; i++) {
    chars += (lines[i] as string).length;
    if (chars < PIECE_CHARS && i < lines.length - 1) continue;
    out.push(lines.slice(from, i + 1).join(''));
    from = i + 1;
    chars = 0;
  }
  return out;
}

async function writeAll(handle: FileHandle, text: readonly string[]): Promise<void> {
  for (const piece of text) await handle.write(piece);
}

/** The filters of a type: live records within the scope, one per `_typeFilter` alternative (or one without criteria). */
async function typeFilters(deps: WriteJobDeps, job: ExportJob, type: string): Promise<Filter[]> {
  const queries = job.typeFilters[type] ?? [''];
  const filters: Filter[] = [];
  // Checked at kick-off; anything unsupported was reported there and is ignored here.
  for (const query of queries) filters.push((await deps.search.criteriaFilter(type, [...new URLSearchParams(query)], 'lenient', { scope: deps.scope })).filter);
  return job.since ? filters.map((criteria) => ({ $and: [criteria, { lastUpdated: { $gt: job.since } }] })) : filters;
}

interface Selection {
  filter: Filter;
  /** A check on each record, when the filter alone would repeat records across selections. */
  keep?: (record: ResourceRecord) => boolean;
}

/**
 * The page queries of a type: system level reads the filter as it is; Patient level adds membership of some
 * Patient compartment; Group level walks the members a slice at a time, and keeps a record in the slice of its
 * first member only, so a resource in two members' compartments is written once. `_typeFilter` alternatives are
 * ORed into one filter.
 */
function* selections(job: ExportJob, type: string, alternatives: Filter[], admit?: (record: ResourceRecord) => boolean): Generator<Selection> {
  // The type is repeated outside the alternatives so that the planner can walk the `type, _id` index.
  const criteria = alternatives.length === 1 ? (alternatives[0] as Filter) : { $and: [{ type }, { $or: alternatives }] };
  if (job.level === 'system') {
    yield { filter: criteria, ...(admit ? { keep: admit } : {}) };
    return;
  }
  if (job.level === 'patient') {
    yield { filter: { $and: [criteria, { compartments: { $elemMatch: { $gte: 'Patient/', $lt: 'Patient0' } } }] }, ...(admit ? { keep: admit } : {}) };
    return;
  }
  const members = job.patients ?? [];
  const slice = new Map(members.map((key, i) => [key, Math.floor(i / MEMBERS_PER_QUERY)]));
  for (let start = 0; start < members.length; start += MEMBERS_PER_QUERY) {
    const index = start / MEMBERS_PER_QUERY;
    const keys = members.slice(start, start + MEMBERS_PER_QUERY);
    yield {
      filter: { $and: [criteria, { compartments: { $in: keys } }] },
      keep: (record) => Math.min(...record.compartments.map((c) => slice.get(c) ?? Infinity)) === index && (!admit || admit(record)),
    };
  }
}
