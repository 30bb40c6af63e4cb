/**
 * A bounded cache of parsed, deep-frozen documents (STORE_CACHE_MB), least recently used out first. Sizes are
 * estimated from the stored JSON text (a parsed document takes a few times its text on the heap). It holds
 * documents of the durable state only: the store drops an entry when a commit that wrote it becomes durable.
 */
import type { Doc } from '../port';

/** Heap bytes of a parsed document per byte of its JSON text (measured: 2.5–4 for FHIR resources). */
const HEAP_PER_JSON_BYTE = 3;

export class DocumentCache {
  private readonly entries = new Map<string, { doc: Doc; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): Doc | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.doc;
  }

  /** The cached document without marking it as recently used (bulk reads must not reorder the cache). */
  peek(key: string): Doc | undefined {
    return this.entries.get(key)?.doc;
  }

  set(key: string, doc: Doc, jsonLength: number): void {
    const bytes = jsonLength * HEAP_PER_JSON_BYTE;
    if (bytes > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, { doc, bytes });
    this.bytes += bytes;
    if (this.bytes <= this.maxBytes) return;
    // Over the bound: the oldest entries go until 1/16 of it is free, so that the walk from the Map's start (which
    // passes the slots of entries deleted since its last rehash) is taken once per many inserts, not per insert.
    const target = this.maxBytes - this.maxBytes / 16;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= target) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}
