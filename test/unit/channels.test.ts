// The channel list the preload and the renderer use is zod-free (shared/channels.ts) and must name exactly the
// channels the contract validates; the features' maps (schemas in shared/contract.ts, handlers in
// api/handlers.ts) are merged by one function that refuses a channel two features define (a spread would
// silently keep the last one).
import { describe, expect, it } from 'vitest';
import { CHANNELS, isChannel } from '#shared/channels';
import { invokeSchemas } from '#shared/contract';
import { mergeFeatures } from '#shared/merge';
import { reviewInvokeSchemas } from '#shared/review/contract';
import { teamInvokeSchemas } from '#shared/team/contract';

describe('the channel list', () => {
  it('names exactly the channels the contract has schemas for', () => {
    expect([...CHANNELS].sort()).toEqual(Object.keys(invokeSchemas).sort());
    expect(isChannel('library:stats')).toBe(true);
    expect(isChannel('fs:readFile')).toBe(false);
    expect(isChannel('toString')).toBe(false);
  });
});

describe('mergeFeatures', () => {
  it("merges the features' maps entry by entry", () => {
    const merged = mergeFeatures({ review: reviewInvokeSchemas, team: teamInvokeSchemas });
    expect(Object.keys(merged).sort()).toEqual(
      [...Object.keys(reviewInvokeSchemas), ...Object.keys(teamInvokeSchemas)].sort(),
    );
    expect(merged['review:queue']).toBe(reviewInvokeSchemas['review:queue']);
    expect(merged['users:list']).toBe(teamInvokeSchemas['users:list']);
  });

  it('refuses a channel two features define, naming it and both features', () => {
    const stats = { 'library:stats': () => 1 };
    expect(() => mergeFeatures({ library: stats, jobs: { 'jobs:list': () => [] }, review: stats })).toThrow(
      'Channel "library:stats" is defined by two features, "library" and "review": give it one owner.',
    );
    // A schema map too: the team's channels handed in twice under another feature's name.
    expect(() => mergeFeatures({ team: teamInvokeSchemas, mti: { ...teamInvokeSchemas } })).toThrow(
      /Channel "session:whoami" is defined by two features, "team" and "mti"/,
    );
  });
});
