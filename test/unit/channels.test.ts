// The channel list the preload and the renderer use is zod-free (shared/channels.ts) and must name exactly the
// channels the contract validates; the features' schema maps merged into the contract must not share a name
// (a spread would silently keep the last one).
import { describe, expect, it } from 'vitest';
import { CHANNELS, isChannel } from '../../src/shared/channels';
import { invokeSchemas } from '../../src/shared/contract';
import { footageInvokeSchemas } from '../../src/shared/footage/contract';
import { mtiInvokeSchemas } from '../../src/shared/mti/contract';
import { reviewInvokeSchemas } from '../../src/shared/review/contract';
import { teamInvokeSchemas } from '../../src/shared/team/contract';

describe('the channel list', () => {
  it('names exactly the channels the contract has schemas for', () => {
    expect([...CHANNELS].sort()).toEqual(Object.keys(invokeSchemas).sort());
    expect(isChannel('library:stats')).toBe(true);
    expect(isChannel('fs:readFile')).toBe(false);
    expect(isChannel('toString')).toBe(false);
  });

  it('merges feature schema maps that share no channel name', () => {
    const features = [reviewInvokeSchemas, mtiInvokeSchemas, footageInvokeSchemas, teamInvokeSchemas];
    const seen = new Map<string, number>();
    for (const [i, map] of features.entries())
      for (const name of Object.keys(map)) {
        expect(seen.has(name), `${name} is defined by two feature maps (${seen.get(name)} and ${i})`).toBe(
          false,
        );
        seen.set(name, i);
      }
  });
});
