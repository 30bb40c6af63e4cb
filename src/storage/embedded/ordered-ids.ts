/**
 * Ids in ascending (or descending) order, produced lazily from an unsorted list: each round selects the next
 * batch of smallest ids with a bounded heap (about one comparison per id) and sorts only that batch. A query
 * that stops after one page therefore costs about one pass over the ids instead of a full sort, which matters
 * when the ids are many and their strings are spread over a large heap.
 */
const FIRST_BATCH = 32;

export function* inOrder(ids: readonly string[], reverse = false): Generator<string> {
  const before = reverse ? (a: string, b: string) => a > b : (a: string, b: string) => a < b;
  let remaining = ids;
  let batch = FIRST_BATCH;
  while (remaining.length > 0) {
    if (remaining.length <= batch * 2) {
      yield* [...remaining].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
      return;
    }
    const selected = firstOf(remaining, batch, before);
    yield* selected;
    const last = selected[selected.length - 1];
    remaining = remaining.filter((id) => before(last, id));
    batch *= 4;
  }
}

/** The `count` first ids in `before` order, sorted; ids are distinct. */
function firstOf(ids: readonly string[], count: number, before: (a: string, b: string) => boolean): string[] {
  // A heap whose root is the last of the ids kept so far.
  const heap: string[] = [];
  const after = (a: string, b: string): boolean => before(b, a);
  for (const id of ids) {
    if (heap.length < count) {
      heap.push(id);
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!after(heap[i], heap[parent])) break;
        [heap[i], heap[parent]] = [heap[parent], heap[i]];
        i = parent;
      }
    } else if (before(id, heap[0])) {
      heap[0] = id;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let top = i;
        if (left < heap.length && after(heap[left], heap[top])) top = left;
        if (right < heap.length && after(heap[right], heap[top])) top = right;
        if (top === i) break;
        [heap[i], heap[top]] = [heap[top], heap[i]];
        i = top;
      }
    }
  }
  return heap.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
}
