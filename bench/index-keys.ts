/**
 * Index entries per resource of a built data directory, by index, and how many of them are entries of a
 * document with no value for the index's parameter keys (every key after `type` null: the entries a sparse
 * index leaves out, src/search/indexes.ts). Reads the LMDB `index` database read-only.
 * Usage: npx tsx bench/index-keys.ts <dataDir>   (e.g. one built by bench/support/build-population.ts)
 */
import { resourceIndexes } from '../src/search/indexes';
import { encodedTupleLength, encodeKeyValue, prefixEnd } from '../src/storage/embedded/key-encoding';
import { PREFIX_LENGTH } from '../src/storage/embedded/lmdb-layout';
import { openEnvironment } from '../src/storage/embedded/lmdb-store';

const NULL = encodeKeyValue(null);
/** Index positions holding a parameter's values (not `type`, nor the always-present id and lastUpdated). */
const valuePosition = (path: string): boolean => !['type', '_id', 'id', 'lastUpdated'].includes(path);

function main(): void {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: npx tsx bench/index-keys.ts <dataDir>');
  const { env, meta, index, docs } = openEnvironment(dir, { readOnly: true });
  const prefixes = new Map(JSON.parse(meta.getBinary('prefixes')!.subarray(4).toString('utf8')) as Array<[string, string]>);
  const byPrefix = new Map([...prefixes].map(([name, prefix]) => [prefix, name]));
  const resourcesPrefix = prefixes.get('c/resources')!;
  let resources = 0;
  for (const _ of docs.getKeys({ start: resourcesPrefix, end: prefixEnd(resourcesPrefix) })) resources++;
  const specs = new Map(resourceIndexes.map((s) => [s.name, s]));
  const stats = new Map<string, { keys: number; nullTail: number; bytes: number; nullBytes: number }>();
  let other = 0;
  /** Keys and null-value keys by resource type (the first key of the type-led indexes). */
  const byType = new Map<string, { keys: number; nullTail: number; docs: number }>();
  for (const key of index.getKeys({ start: '\u0000', end: '\uffff' }) as Iterable<string>) {
    const name = byPrefix.get(key.slice(0, PREFIX_LENGTH)) ?? '?';
    const indexName = name.startsWith('i/resources/') ? name.slice('i/resources/'.length) : undefined;
    const spec = indexName ? specs.get(indexName) : undefined;
    if (!spec) {
      other++;
      continue;
    }
    const s = stats.get(spec.name) ?? { keys: 0, nullTail: 0, bytes: 0, nullBytes: 0 };
    stats.set(spec.name, s);
    const bytes = Buffer.byteLength(key);
    s.keys++;
    s.bytes += bytes;
    const sparse = spec.keys.map(([p]) => valuePosition(p));
    let at = PREFIX_LENGTH;
    let allNull = sparse.some(Boolean);
    for (let i = 0; i < spec.keys.length; i++) {
      const next = encodedTupleLength(key, 1, at);
      if (sparse[i] && key[at] !== NULL) allNull = false;
      at = next;
    }
    if (allNull) {
      s.nullTail++;
      s.nullBytes += bytes;
    }
    if (spec.keys[0][0] === 'type') {
      const type = key.slice(PREFIX_LENGTH + 1, encodedTupleLength(key, 1, PREFIX_LENGTH) - 2); // tag, type, STRING_END
      const t = byType.get(type) ?? { keys: 0, nullTail: 0, docs: 0 };
      byType.set(type, t);
      t.keys++;
      if (allNull) t.nullTail++;
      if (spec.name === 'type__id') t.docs++;
    }
  }
  let keys = 0;
  let nullTail = 0;
  let bytes = 0;
  let nullBytes = 0;
  process.stdout.write(`${resources.toLocaleString('en')} resources; index keys of other collections: ${other.toLocaleString('en')}\n`);
  process.stdout.write('index                     keys/resource  null-value keys/resource  share\n');
  for (const spec of resourceIndexes) {
    const s = stats.get(spec.name) ?? { keys: 0, nullTail: 0, bytes: 0, nullBytes: 0 };
    keys += s.keys;
    nullTail += s.nullTail;
    bytes += s.bytes;
    nullBytes += s.nullBytes;
    process.stdout.write(
      `${spec.name.padEnd(26)}${(s.keys / resources).toFixed(2).padStart(13)}${(s.nullTail / resources).toFixed(2).padStart(26)}${((100 * s.nullTail) / Math.max(1, s.keys)).toFixed(0).padStart(6)}%\n`,
    );
  }
  process.stdout.write(
    `total: ${(keys / resources).toFixed(1)} keys/resource, of which ${(nullTail / resources).toFixed(1)} (${((100 * nullTail) / keys).toFixed(0)}%) ` +
      `have no value for the index's parameter keys; key bytes ${(bytes / resources).toFixed(0)}/resource, ${(nullBytes / resources).toFixed(0)} of them null-value\n`,
  );
  for (const [type, t] of [...byType].sort((a, b) => b[1].docs - a[1].docs)) {
    process.stdout.write(
      `  ${type}: ${t.docs.toLocaleString('en')} resources, ${(t.keys / t.docs).toFixed(1)} type-led keys each, ${(t.nullTail / t.docs).toFixed(1)} of them null-value\n`,
    );
  }
  for (const [name, db] of [['docs', docs], ['index', index]] as const) {
    const st = db.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number; entryCount: number };
    const pages = st.treeBranchPageCount + st.treeLeafPageCount + st.overflowPages;
    process.stdout.write(`${name} database: ${st.entryCount.toLocaleString('en')} entries, ${pages.toLocaleString('en')} pages in use (${((pages * st.pageSize) / 1024 / 1024).toFixed(1)} MB)\n`);
  }
  void env.close();
}

main();
