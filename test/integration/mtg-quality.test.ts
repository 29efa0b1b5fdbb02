// MTG against the noisy oracle on the synthetic world: the multi-turn captions must state more of the
// true attributes than the single-turn captions they start from, without stating many false ones.
import { describe, expect, it } from 'vitest';
import { evalMtgQuality, formatQuality } from '../../scripts/eval-mtg-quality';

describe('MTG caption quality (synthetic world, noisy oracle)', () => {
  it('reconstructed captions beat initial captions on attribute recall, precision within 6 points', async () => {
    const r = await evalMtgQuality({ identities: 20, views: 2, wrongRate: 0.1, hallucinationRate: 0.1, rounds: 6 });
    console.log(formatQuality(r));
    expect(r.failed).toBe(0);
    expect(r.reconstructed.recall).toBeGreaterThan(r.initial.recall + 0.2);
    expect(r.reconstructed.precision).toBeGreaterThan(r.initial.precision - 0.06);
    // The filters did work: some answers were dropped, each with a reason.
    expect(Object.values(r.droppedByReason).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('with a noiseless oracle the reconstruction states nothing false', async () => {
    const r = await evalMtgQuality({ identities: 10, views: 1, wrongRate: 0, hallucinationRate: 0, rounds: 6 });
    expect(r.reconstructed.precision).toBe(1);
    expect(r.reconstructed.recall).toBeGreaterThan(r.initial.recall);
  });
});
