/**
 * The audit trail on MongoDB: its own `audit` collection (never `resources`), one document per event
 * {_id: sequence, hash, text, idx} with indexes on the search values, and `audit_head` {_id: 'head', sequence,
 * hash} written after each batch. Group commit as on LMDB: the events that arrive while a batch is being written
 * go out together as the next ordered insertMany, with journaled majority write concern, so an append resolves
 * only once its event is durable on a majority. The sequence is the `_id` (unique by nature): one server process
 * writes a trail, and a second writer's insert collides on `_id` and fails, which stops that writer's trail (and
 * its requests) rather than forking the chain. The shared contract (test/contract/audit-trail-contract.ts) runs
 * against it when MONGODB_URI is set.
 */
import type { AuditEvent } from 'fhir/r4';
import { MongoClient, type Collection, type Filter } from 'mongodb';
import { ChainChecker, GENESIS, seal, unseal, type ChainReport, type SealedEvent } from './chain';
import { indexValuesOf, type AuditIndexValues } from './index-keys';
import { AUDIT_FIELDS, AuditUnavailable, COUNT_LIMIT, missingTail, refusal, stampInOrder, type AuditPage, type AuditQuery, type AuditTrail } from './trail';

interface EventDoc extends SealedEvent {
  _id: number;
  idx: AuditIndexValues;
}
interface HeadDoc {
  _id: string;
  sequence: number;
  hash: string;
}

export class MongoAuditTrail implements AuditTrail {
  readonly kind = 'mongodb';
  private queue: Array<{ doc: EventDoc; resolve: (n: number) => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private closed = false;

  private constructor(
    private readonly client: MongoClient,
    private readonly events: Collection<EventDoc>,
    private readonly heads: Collection<HeadDoc>,
    private head: { sequence: number; hash: string; recorded: string },
  ) {}

  static async open(uri: string, db: string): Promise<MongoAuditTrail> {
    const client = await new MongoClient(uri).connect();
    const events = client.db(db).collection<EventDoc>('audit');
    const heads = client.db(db).collection<HeadDoc>('audit_head');
    await events.createIndexes([{ key: { 'idx.date': 1 } }, ...AUDIT_FIELDS.map((f) => ({ key: { [`idx.${f}`]: 1 } }))]);
    const last = await events.find({}, { sort: { _id: -1 }, limit: 1 }).next();
    const head = last ? { sequence: last._id, hash: last.hash, recorded: (JSON.parse(last.text) as AuditEvent).recorded } : { sequence: 0, hash: GENESIS, recorded: '' };
    return new MongoAuditTrail(client, events, heads, head);
  }

  append(event: AuditEvent): Promise<number> {
    if (this.closed || this.failed) return Promise.reject(new AuditUnavailable(this.failure() ?? 'unavailable'));
    const stamped = stampInOrder(event, this.head.recorded);
    const sealed = seal(stamped, this.head.sequence + 1, this.head.hash);
    this.head = { sequence: sealed.sequence, hash: sealed.hash, recorded: stamped.recorded };
    return new Promise((resolve, reject) => {
      this.queue.push({ doc: { _id: sealed.sequence, ...sealed, idx: indexValuesOf(stamped) }, resolve, reject });
      if (this.queue.length === 1) this.flushing = this.flushing.then(() => new Promise((r) => setImmediate(r))).then(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    try {
      if (this.failed) throw this.failed;
      await this.events.insertMany(batch.map((b) => b.doc), { ordered: true, writeConcern: { w: 'majority', journal: true } });
      const last = batch[batch.length - 1]!.doc;
      await this.heads.replaceOne({ _id: 'head' }, { sequence: last.sequence, hash: last.hash }, { upsert: true, writeConcern: { w: 'majority', journal: true } });
      for (const b of batch) b.resolve(b.doc.sequence);
    } catch (err) {
      this.failed ??= err instanceof Error ? err : new Error(String(err));
      for (const b of batch) b.reject(new AuditUnavailable(`the audit event could not be stored: ${this.failed.message}`));
    }
  }

  async read(sequence: number): Promise<AuditEvent | undefined> {
    const doc = await this.events.findOne({ _id: sequence });
    if (!doc) return undefined;
    const prev = sequence > 1 ? ((await this.events.findOne({ _id: sequence - 1 }, { projection: { hash: 1 } }))?.hash ?? GENESIS) : GENESIS;
    return unseal(doc, prev);
  }

  async search(query: AuditQuery): Promise<AuditPage> {
    const and: Array<Filter<EventDoc>> = query.filters.map(({ field, values }) => ({ [`idx.${field}`]: { $in: values } }) as Filter<EventDoc>);
    for (const { low, high } of query.dates) and.push({ 'idx.date': { ...(low !== undefined ? { $gte: low } : {}), ...(high !== undefined ? { $lt: high } : {}) } } as Filter<EventDoc>);
    const filter: Filter<EventDoc> = and.length ? { $and: and } : {};
    const counted = await this.events.countDocuments(filter, { limit: COUNT_LIMIT + 1 });
    const total = counted > COUNT_LIMIT ? undefined : counted;
    const pageFilter: Filter<EventDoc> = query.before !== undefined ? { $and: [filter, { _id: { $lt: query.before } }] } : filter;
    const docs = await this.events.find(pageFilter, { sort: { _id: -1 }, limit: query.count + 1, projection: { _id: 1 } }).toArray();
    const more = docs.length > query.count;
    const page = docs.slice(0, query.count);
    const events: AuditEvent[] = [];
    for (const d of page) {
      const e = await this.read(d._id);
      if (e) events.push(e);
    }
    return { events, ...(total !== undefined ? { total } : {}), ...(more ? { next: page[page.length - 1]!._id } : {}) };
  }

  async *scan(from = 1): AsyncIterable<AuditEvent> {
    let previous = from > 1 ? ((await this.events.findOne({ _id: from - 1 }))?.hash ?? GENESIS) : GENESIS;
    for await (const doc of this.events.find({ _id: { $gte: from } }, { sort: { _id: 1 } })) {
      yield unseal(doc, previous);
      previous = doc.hash;
    }
  }

  async verify(options: { tail?: number } = {}): Promise<ChainReport> {
    const last = await this.events.find({}, { sort: { _id: -1 }, limit: 1 }).next();
    const from = options.tail !== undefined && last ? Math.max(1, last._id - options.tail + 1) : 1;
    const before = from > 1 ? await this.events.findOne({ _id: from - 1 }) : null;
    const checker = new ChainChecker(from > 1 ? { sequence: from, previous: before?.hash ?? '' } : undefined);
    for await (const doc of this.events.find({ _id: { $gte: from } }, { sort: { _id: 1 } })) if (!checker.next(doc._id, doc.hash, doc.text)) break;
    const report = checker.report;
    const head = await this.heads.findOne({ _id: 'head' });
    // The head is written after its batch, so it may lag the last event after a crash, never lead it.
    if (report.ok && head && head.sequence > (last?._id ?? 0)) {
      report.ok = false;
      report.broken = missingTail(last?._id ?? 0, head.sequence);
    }
    return report;
  }

  failure(): string | undefined {
    return refusal(this.failed, this.closed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.client.close();
  }
}
