/** Counting query and form parameters before decoding, whole or chunk by chunk (src/http/form-pairs.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PairCounter, pairsExceed } from '../../../src/http/form-pairs';

/** Named pairs as the server keeps them: URLSearchParams, empty names dropped. */
const named = (text: string): number => [...new URLSearchParams(text)].filter(([name]) => name !== '').length;

describe('parameter counting before decoding', () => {
  const texts = ['', 'a=1', 'a=1&b=2', '&&a=1&&', '=x&a&=&b=', 'a=%26&b=%3D&c=+', 'é=ü&&x', '&', '==&a==b'];

  it('counts what URLSearchParams keeps, empty names excluded', () => {
    for (const text of texts) {
      const n = named(text);
      assert.equal(pairsExceed(text, n), false, text);
      if (n > 0) assert.equal(pairsExceed(text, n - 1), true, text);
    }
  });

  it('gives the same count whatever the chunk boundaries', () => {
    for (const text of texts) {
      const bytes = Buffer.from(text);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const counter = new PairCounter(Infinity);
        counter.exceeded(bytes.subarray(0, cut));
        counter.exceeded(bytes.subarray(cut));
        assert.equal(counter.counted, named(text), `${text} split at ${cut}`);
      }
    }
  });

  it('stops at the first pair past the limit', () => {
    const form = Buffer.from(Array.from({ length: 100_000 }, (_, i) => `given=n${i}`).join('&'));
    assert.equal(new PairCounter(100).exceeded(form.subarray(0, 2000)), true);
  });
});
