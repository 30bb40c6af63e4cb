/** A StoreReader that records the queries it receives and answers from canned documents (no query evaluation). */
import type { Doc, Filter, FindOptions, StoreReader } from '../../../../src/storage/port';

export class RecordingStore implements StoreReader {
  readonly finds: Array<{ collection: string; filter: Filter; options?: FindOptions }> = [];

  constructor(private readonly answers: Doc[][] = []) {}

  async find(collection: string, filter: Filter, options?: FindOptions): Promise<Doc[]> {
    this.finds.push({ collection, filter, ...(options ? { options } : {}) });
    return this.answers.shift() ?? [];
  }

  async findOne(collection: string, filter: Filter, options?: FindOptions): Promise<Doc | null> {
    return (await this.find(collection, filter, options))[0] ?? null;
  }

  async count(): Promise<number> {
    return 0;
  }
}

export const fixedClock = { now: () => '2024-06-01T00:00:00.000Z' };
