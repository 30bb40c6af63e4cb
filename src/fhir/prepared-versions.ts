/**
 * The versions a transaction Bundle writes, validated and indexed for all its plain POST and PUT entries in one
 * pass before the entries run one by one (src/fhir/transaction.ts). The work is the same as writeVersion's for
 * each write (src/fhir/persist.ts), but done back to back for a few hundred resources the validator and the extractor
 * run at about a third of their cost interleaved with everything else an entry does (bench/ingest-stages.ts
 * against the in-process profile of bench/bundle-profile.ts: ~40 against ~110 µs per resource).
 *
 * Nothing is decided here: writeVersion takes a prepared version only for the very body object it was made from,
 * with the same type and id, and raises the validation error it met (if any) at the entry, where it would have
 * raised it. meta.lastUpdated is stamped here, in processing order, inside the transaction; meta.versionId by
 * writeVersion, which knows the version before (neither is checked by validation beyond its type, nor indexed).
 */
import type { Resource } from 'fhir/r4';
import type { FhirContext, Indexer } from './context';
import { assertValid } from './incoming';
import { stampedVersion } from './persist';

type ExtractedIndex = ReturnType<Indexer['extract']>;

interface PreparedVersion {
  type: string;
  id: string;
  resource: Resource;
  extracted?: ExtractedIndex;
  error?: unknown;
}

export class PreparedVersions {
  private readonly byBody = new WeakMap<object, PreparedVersion>();

  /** Validates and indexes `body` as `type/id` would be stored now (as version 1 until writeVersion says). */
  prepare(ctx: FhirContext, type: string, id: string, body: Resource): void {
    const resource = stampedVersion(body, id, ctx.clock.now(), 1);
    const prepared: PreparedVersion = { type, id, resource };
    try {
      assertValid(ctx, resource);
      prepared.extracted = ctx.indexer.extract(resource);
    } catch (error) {
      prepared.error = error;
    }
    this.byBody.set(body, prepared);
  }

  /** The version prepared from this body for `type/id`, as version `versionId`, once (a second call finds none). */
  take(type: string, id: string, body: object, versionId: number): { resource: Resource; extracted: ExtractedIndex } | undefined {
    const prepared = this.byBody.get(body);
    if (!prepared || prepared.type !== type || prepared.id !== id) return undefined;
    this.byBody.delete(body);
    if (prepared.error !== undefined) throw prepared.error;
    (prepared.resource.meta as { versionId: string }).versionId = String(versionId);
    return { resource: prepared.resource, extracted: prepared.extracted as ExtractedIndex };
  }
}
