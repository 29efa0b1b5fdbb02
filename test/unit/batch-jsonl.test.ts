import { describe, expect, it } from 'vitest';
import { customIdOf, parseCustomId, parseResults, requestLine } from '../../src/main/llm/batch/jsonl';
import { costOf } from '../../src/main/llm/cost';

const HASH = 'a'.repeat(64);

describe('Batch API files', () => {
  it('writes one request per line in the OpenAI batch format, its custom_id carrying purpose and key', () => {
    const line = JSON.parse(
      requestLine(customIdOf('mtg.question', HASH), {
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ) as Record<string, unknown>;
    expect(line).toEqual({
      custom_id: `mtg.question:${HASH}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(parseCustomId(line.custom_id as string)).toEqual({ purpose: 'mtg.question', requestHash: HASH });
    expect(parseCustomId('request-1')).toBeNull(); // not ours: reported as unknown by the import
  });

  it('reads output and error lines, and says which line of which file is not a result', () => {
    const text = [
      JSON.stringify({
        id: 'x',
        custom_id: 'a',
        response: { status_code: 200, body: { choices: [] } },
        error: null,
      }),
      '',
      JSON.stringify({ custom_id: 'b', response: null, error: { code: 'batch_expired', message: 'late' } }),
    ].join('\n');
    expect(parseResults(text, 'out.jsonl')).toEqual([
      { custom_id: 'a', response: { status_code: 200, body: { choices: [] } }, error: null },
      { custom_id: 'b', response: null, error: { code: 'batch_expired', message: 'late' } },
    ]);
    expect(() => parseResults('{"custom_id":"a"}\nnot json', 'o.jsonl')).toThrow(
      'o.jsonl, line 2, is not JSON',
    );
    expect(() => parseResults('{"response":{}}', 'o.jsonl')).toThrow('line 1, has no custom_id');
  });

  it('prices tokens per million, batch calls at the discount, and says "unknown" without a price', () => {
    const price = { priceInput: 2.5, priceOutput: 10, batchDiscount: 0.5 };
    expect(costOf(price, 1_000_000, 100_000, false)).toBeCloseTo(3.5, 12);
    expect(costOf(price, 1_000_000, 100_000, true)).toBeCloseTo(1.75, 12);
    expect(costOf({ ...price, priceOutput: null }, 10, 10, false)).toBeNull();
    expect(costOf({ ...price, priceOutput: null }, 10, 0, false)).toBeCloseTo(0.000025, 12);
  });
});
