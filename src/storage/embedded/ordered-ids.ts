/**
 * Ids in ascending (or descending) order, produced lazily from an unsorted list: each round selects the next
 * batch of smallest ids with a bounded heap (about one comparison per id) and sorts only that batch. A query
 * that stops after one page therefore costs about one pass over the ids instead of a full sort, which matters
 * when the ids are many and their strings are spread over a large heap. Repeated ids come out side by side.
 */
import { Heap } from './heap';

const FIRST_BATCH = 32;

/** Whether id `a` comes before id `b`, ascending or (`reverse`) descending. */
export const idBefore = (reverse: boolean): ((a: string, b: string) => boolean) => (reverse ? (a, b) => a > b : (a, b) => a < b);

export function* inOrder(ids: readonly string[], reverse = false): Generator<string> {
  const before = idBefore(reverse);
  let remaining = ids;
  let batch = FIRST_BATCH;
  while (remaining.length > 0) {
    if (remaining.length <= batch * 2) {
      yield* [...remaining].sort(comparatorOf(before));
      return;
    }
    const selected = firstOf(remaining, batch, before);
    yield* selected;
    const last = selected[selected.length - 1];
    remaining = remaining.filter((id) => before(last, id));
    batch *= 4;
  }
}

/** The `count` first ids in `before` order (a repeated id may fill several places), sorted. */
function firstOf(ids: readonly string[], count: number, before: (a: string, b: string) => boolean): string[] {
  const kept = new Heap<string>((a, b) => before(b, a)); // top: the last of the ids kept so far
  for (const id of ids) {
    if (kept.size < count) kept.push(id);
    else if (before(id, kept.peek()!)) kept.replaceTop(id);
  }
  return kept.toArray().sort(comparatorOf(before));
}

const comparatorOf =
  (before: (a: string, b: string) => boolean) =>
  (a: string, b: string): number =>
    before(a, b) ? -1 : before(b, a) ? 1 : 0;

/** Id streams that are each in id order (descending when `reverse`), merged into one: a k-way merge. */
export function* mergeById(streams: Array<Iterator<string>>, reverse = false): Generator<string> {
  if (streams.length === 1) {
    for (let next = streams[0].next(); !next.done; next = streams[0].next()) yield next.value;
    return;
  }
  type Stream = { id: string; rest: Iterator<string> };
  const before = idBefore(reverse);
  const heap = new Heap<Stream>((a, b) => before(a.id, b.id));
  for (const rest of streams) {
    const first = rest.next();
    if (!first.done) heap.push({ id: first.value, rest });
  }
  for (let head = heap.peek(); head; head = heap.peek()) {
    yield head.id;
    const next = head.rest.next();
    if (next.done) heap.pop();
    else heap.replaceTop({ id: next.value, rest: head.rest });
  }
}
