import { describe, expect, it } from '@jest/globals';
import { DomainError } from '../errors.js';
import { collectJsonLines, jsonLines } from './json-lines.js';

const BOUNDS = { maxBytes: 1024 * 1024, maxEntries: 1000 };
const bytes = (text: string) => new TextEncoder().encode(text);

/** The chunks as requestChunks yields them, cut at the given byte offsets of the whole answer. */
async function* cutAt(whole: Uint8Array, offsets: number[]): AsyncGenerator<Uint8Array> {
  let from = 0;
  for (const to of [...offsets, whole.byteLength]) {
    yield whole.subarray(from, to);
    from = to;
  }
}

const anything = (value: unknown) => value;
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as DomainError,
  );

describe('JSON lines over a chunked answer', () => {
  it('reassembles values cut anywhere, inside a line and inside a UTF-8 character', async () => {
    const values = [{ name: 'a\nb' }, { name: 'grüße 🌡️' }, [1, 2], 'x', 42];
    const whole = bytes(jsonLines(values));
    const emoji = whole.indexOf(0xf0);
    for (const offsets of [[], [1], [emoji + 1, emoji + 2], [...Array(whole.byteLength - 1).keys()].map((i) => i + 1)]) {
      expect(await collectJsonLines(cutAt(whole, offsets), 'the list', BOUNDS, anything)).toEqual(values);
    }
  });

  it('answers an empty answer with no entries', async () => {
    expect(await collectJsonLines(cutAt(new Uint8Array(), []), 'the list', BOUNDS, anything)).toEqual([]);
  });

  it('refuses bytes that are not UTF-8, a line that is not JSON, and a value not accepted, as 503s naming the problem', async () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]), /the list came back malformed \(not UTF-8\)/],
      [Uint8Array.from([0x22, 0xf0, 0x9f]), /not UTF-8/],
      [bytes('{"a":1}\n{"a":\n'), /entry 1 is not JSON/],
      [bytes('{"a":1}\nnull\n'), /entry 1 is not a valid entry/],
    ];
    for (const [whole, message] of cases) {
      const error = await failure(collectJsonLines(cutAt(whole, []), 'the list', BOUNDS, (value) => value ?? undefined));
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, message: expect.stringMatching(message) });
    }
  });

  it('stops reading at its bounds of bytes and of entries, and ends the stream it read', async () => {
    let returned = 0;
    async function* endless(chunk: Uint8Array): AsyncGenerator<Uint8Array> {
      try {
        for (;;) yield chunk;
      } finally {
        returned++;
      }
    }
    const tooLarge = await failure(
      collectJsonLines(endless(bytes('x'.repeat(4096))), 'the list', { maxBytes: 65_536, maxEntries: 10 }, anything),
    );
    expect(tooLarge).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: 'the list is larger than 65536 bytes, more than this server answers at once',
    });
    const tooMany = await failure(collectJsonLines(endless(bytes('1\n2\n')), 'the list', { maxBytes: 65_536, maxEntries: 10 }, anything));
    expect(tooMany).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/more than 10 entries/) });
    expect(returned).toBe(2);
  });
});
