import { describe, expect, it } from 'vitest';
import { canonicalHash, canonicalJson } from '../../src/main/canonical-json';
import { requestHash } from '../../src/main/llm/hash';
import { promptSetHash } from '../../src/main/pipelines/question-pool';
import type { PromptSetBody } from '#shared/llm/types';

// Keys stored in workspaces (llm_calls.request_hash, prompt_sets.sha256) must not move when the code that
// makes them does. The expected values were computed on main before canonical JSON had one owner
// (llm/hash.ts and pipelines/question-pool.ts each had their own key sorter).
describe('canonical JSON and the keys made from it', () => {
  it('sorts keys at every depth, drops undefined members and keeps array order', () => {
    const value = { b: [3, { z: 1, a: undefined, y: [null, 'x'] }], a: 'é', c: { d: 1.5, b: true } };
    expect(canonicalJson(value)).toBe('{"a":"é","b":[3,{"y":[null,"x"],"z":1}],"c":{"b":true,"d":1.5}}');
    expect(canonicalJson({ c: value.c, a: value.a, b: value.b })).toBe(canonicalJson(value));
  });

  it('keeps a prompt set content address byte-identical', () => {
    const body = {
      name: 'mine',
      version: undefined,
      templates: { caption: 'Describe {x}.', reconstruct: 'Merge' },
      pool: [{ id: 'hair', kind: 'open', text: 'Hair?', settledBy: ['hair'] }],
      filters: { refusal: ['cannot'], notVisible: [], negative: 'no' },
    } as unknown as PromptSetBody;
    const pinned = '9a62a6d582bb0050ed158735cfc70ea9aa55bc55c1c40a96a80427bdab599ad5';
    expect(promptSetHash(body)).toBe(pinned);
    // db/repos/mtg.ts addresses a saved set with canonicalHash directly: the same key.
    expect(canonicalHash(body)).toBe(pinned);
  });

  it('keeps LLM cache keys byte-identical', () => {
    expect(
      requestHash({
        baseUrl: 'http://127.0.0.1:8000/v1/',
        model: 'oracle',
        messages: [
          { role: 'system', content: 'sys' },
          { role: 'user', content: 'Describe the person.' },
        ],
        imageSha256: ['ab'.repeat(32)],
        temperature: 0,
        maxTokens: 256,
      }),
    ).toBe('52106fb329bced25c938cde03d739fb6bfe0b8a3f979a29f39e5ed7f57ac7cfd');
    expect(
      requestHash({
        baseUrl: 'https://api.example.com/v1',
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'q' }],
        imageSha256: [],
        temperature: null,
        maxTokens: 64,
        tokenLimitParam: 'max_completion_tokens',
        params: {
          seed: 7,
          response_format: { type: 'json_object', schema: { b: 1, a: [2, { d: 1, c: 0 }] } },
        },
      }),
    ).toBe('de1fff696a86320a538775df3bf1b2d1f9af939e7775d13d38a4ade74c66af0f');
    expect(
      requestHash({
        baseUrl: 'http://h/v1',
        model: 'm',
        messages: [{ role: 'assistant', content: 'a' }],
        imageSha256: ['0'.repeat(64), 'f'.repeat(64)],
        temperature: 0.7,
        maxTokens: 1,
        params: { top_p: 0.9, omitted: undefined },
      }),
    ).toBe('54df31c070bca7d8dbee2a43a3c996e0ddd33fcdfc2f62e4fd44dcf08204f557');
  });
});
