/**
 * Maintenance of a stopped LMDB data directory (docs/storage.md#maintenance): `npm run store:check` verifies every
 * stored value's checksum and that the index entries are exactly those the documents make; `npm run
 * store:compact` replaces the LMDB file by a compacting copy (free pages dropped, e.g. after a bulk import or many
 * deletes). Both take the directory's lock, so they refuse a directory a running server holds.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StorageCorrupt, StorageUnavailable, type Doc } from '../port';
import { fsyncDirectorySync, pathIn } from './data-files';
import { LmdbIndex, type StoredIndex } from './lmdb-index';
import { LAYOUT_VERSION, LMDB_DIR, META_LAYOUT_KEY, PREFIX_LENGTH, PrefixTable, decodeDocument, indexEntry, rangeEnd } from './lmdb-layout';
import { openEnvironment } from './lmdb-store';
import { acquireLock } from './lock';

export interface CheckReport {
  documents: number;
  indexEntries: number;
  /** One line per problem found (damaged value, missing or stray index entry), at most `maxProblems`. */
  problems: string[];
  /** Problems found in all (problems lists the first ones). */
  problemCount: number;
  /** Set when the index entries were not checked (an older layout, whose indexes the next open rebuilds). */
  indexesSkipped?: string;
}

const ALL = { start: '\u0001', end: '\u00ff' };

/** Scans a stopped data directory; never writes to it. */
export async function checkDataDir(dataDir: string, maxProblems = 100): Promise<CheckReport> {
  if (!existsSync(pathIn(dataDir, LMDB_DIR))) throw new StorageUnavailable(`${dataDir} holds no LMDB store (${LMDB_DIR}/ is missing)`);
  const release = acquireLock(dataDir);
  const { env, docs, index, meta } = openEnvironment(dataDir);
  const report: CheckReport = { documents: 0, indexEntries: 0, problems: [], problemCount: 0 };
  const problem = (line: string): void => {
    report.problemCount++;
    if (report.problems.length < maxProblems) report.problems.push(line);
  };
  try {
    const metaValue = (key: string): string | null => {
      const value = meta.getBinary(key);
      if (value === undefined) return null;
      try {
        return decodeDocument(value, 'meta', key);
      } catch (error) {
        problem(`meta ${key}: ${(error as Error).message}`);
        return null;
      }
    };
    const layout = (JSON.parse(metaValue(META_LAYOUT_KEY) ?? '{}') as { layout?: number }).layout ?? LAYOUT_VERSION;
    if (layout < LAYOUT_VERSION) {
      report.indexesSkipped = `LMDB layout ${layout}: its index entries are not checked (the server's next start rebuilds every index in layout ${LAYOUT_VERSION})`;
    }
    const prefixes = PrefixTable.load(meta);
    const collections = new Map([...prefixes.names()].filter(([, name]) => name.startsWith('c/')).map(([prefix, name]) => [prefix, name.slice(2)]));
    const indexes = new Map<string, LmdbIndex[]>();
    for (const key of report.indexesSkipped ? [] : meta.getKeys({ start: 'indexes/', end: 'indexes0' })) {
      const json = metaValue(key as string);
      if (json === null) continue;
      const collection = (key as string).slice('indexes/'.length);
      const list: LmdbIndex[] = [];
      for (const stored of JSON.parse(json) as StoredIndex[]) {
        const prefix = prefixes.get(indexEntry(collection, stored.spec.name));
        if (prefix === undefined) problem(`index ${stored.spec.name} of collection ${collection} has no key prefix`);
        else list.push(new LmdbIndex(prefix, stored.spec, index, stored));
      }
      indexes.set(collection, list);
    }
    const expected = new Map<LmdbIndex, number>();
    for (const { key, value } of docs.getRange(ALL)) {
      report.documents++;
      const known = collections.get((key as string).slice(0, PREFIX_LENGTH));
      const [collection, id] = known === undefined ? ['?', key as string] : [known, (key as string).slice(PREFIX_LENGTH)];
      if (known === undefined) problem(`document key ${JSON.stringify(key)} belongs to no collection`);
      let doc: Doc;
      try {
        doc = JSON.parse(decodeDocument(value, collection, id)) as Doc;
      } catch (error) {
        problem(error instanceof StorageCorrupt ? error.message : `document ${id} of collection ${collection} is not JSON: ${(error as Error).message}`);
        continue;
      }
      if (known !== undefined && doc._id !== id) problem(`document stored under ${id} of collection ${collection} has _id ${doc._id}`);
      for (const idx of indexes.get(collection) ?? []) {
        if (idx.incomplete) continue;
        for (const entry of idx.entryKeys(doc)) {
          expected.set(idx, (expected.get(idx) ?? 0) + 1);
          if (!index.doesExist(entry)) problem(`index ${idx.spec.name} of collection ${collection} lacks an entry for document ${id}`);
        }
      }
    }
    for (const [collection, list] of indexes) {
      for (const idx of list) {
        const stored = index.getKeysCount({ start: idx.prefix, end: rangeEnd(idx.prefix) });
        report.indexEntries += stored;
        const want = expected.get(idx) ?? 0;
        if (!idx.incomplete && stored > want) problem(`index ${idx.spec.name} of collection ${collection} holds ${stored - want} entries that no readable document makes`);
      }
    }
  } finally {
    await env.close();
    release();
  }
  return report;
}

/** Replaces the LMDB file of a stopped data directory by a compacted copy; resolves to the sizes before and after. */
export async function compactDataDir(dataDir: string): Promise<{ before: number; after: number }> {
  const live = pathIn(dataDir, LMDB_DIR);
  if (!existsSync(live)) throw new StorageUnavailable(`${dataDir} holds no LMDB store (${LMDB_DIR}/ is missing)`);
  const release = acquireLock(dataDir);
  const copy = pathIn(dataDir, `${LMDB_DIR}.compacting`);
  const old = pathIn(dataDir, `${LMDB_DIR}.before-compaction`);
  try {
    rmSync(copy, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
    const before = statSync(join(live, 'data.mdb')).size;
    const { env } = openEnvironment(dataDir);
    try {
      mkdirSync(copy);
      await env.backup(copy, true);
    } finally {
      await env.close();
    }
    fsyncDirectorySync(copy);
    renameSync(live, old);
    renameSync(copy, live);
    fsyncDirectorySync(dataDir);
    rmSync(old, { recursive: true, force: true });
    return { before, after: statSync(join(live, 'data.mdb')).size };
  } catch (error) {
    rmSync(copy, { recursive: true, force: true });
    throw error;
  } finally {
    release();
  }
}
