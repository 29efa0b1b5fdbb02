// MTG against the noisy oracle on the synthetic world: the multi-turn captions must state more of the
// true attributes than the single-turn captions they start from, without stating many false ones.
import { describe, expect, it } from 'vitest';
import { evalMtgQuality, formatQuality } from '../../scripts/eval-mtg-quality';

describe('MTG caption quality (synthetic world, noisy oracle)', () => {
  it('reconstructed captions beat initial captions on attribute recall; with verification, precision holds too', async () => {
    const r = await evalMtgQuality({
      identities: 20,
      views: 2,
      wrongRate: 0.1,
      hallucinationRate: 0.1,
      rounds: 6,
    });
    console.log(formatQuality(r));
    expect(r.failed).toBe(0);
    expect(r.reconstructed.recall).toBeGreaterThan(r.initial.recall + 0.2);
    expect(r.reconstructed.precision).toBeGreaterThan(r.initial.precision - 0.06);
    // The filters did work: some answers were dropped, each with a reason.
    expect(Object.values(r.droppedByReason).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // Verification catches the oracle's wrong answers: precision back to the initial captions' (within
    // half a point) while recall stays clearly above them.
    const v = r.verified!;
    expect(v.unverified).toBeGreaterThan(0);
    expect(v.quality.precision).toBeGreaterThanOrEqual(r.initial.precision - 0.005);
    expect(v.quality.precision).toBeGreaterThan(r.reconstructed.precision);
    expect(v.quality.recall).toBeGreaterThan(r.initial.recall + 0.2);
  });

  it('with a noiseless oracle the reconstruction states nothing false', async () => {
    const r = await evalMtgQuality({
      identities: 10,
      views: 1,
      wrongRate: 0,
      hallucinationRate: 0,
      rounds: 6,
    });
    expect(r.reconstructed.precision).toBe(1);
    // A truthful model confirms every true answer: verification then costs calls, never facts.
    expect(r.verified!.unverified).toBe(0);
    expect(r.verified!.quality.recall).toBe(r.reconstructed.recall);
    expect(r.reconstructed.recall).toBeGreaterThan(r.initial.recall);
  });
});
