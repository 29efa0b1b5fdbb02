// Cohen's κ against hand counts (issue 13.3).
import { describe, expect, it } from 'vitest';
import { cohenKappa, inDoubleShare, type Vote } from '../../src/main/team/agreement';

const rep = (n: number, pair: [Vote, Vote]): [Vote, Vote][] => Array.from({ length: n }, () => pair);

describe("Cohen's kappa", () => {
  it('matches a hand count: 4 both accept, 3 both reject, 2 A-only accepts, 1 B-only accepts', () => {
    // po = 7/10; A accepts 6/10, B accepts 5/10; pe = .6·.5 + .4·.5 = .5; κ = (.7 − .5)/(1 − .5) = .4
    const k = cohenKappa([
      ...rep(4, ['accept', 'accept']),
      ...rep(3, ['reject', 'reject']),
      ...rep(2, ['accept', 'reject']),
      ...rep(1, ['reject', 'accept']),
    ]);
    expect(k.n).toBe(10);
    expect(k.agreed).toBe(7);
    expect(k.kappa).toBeCloseTo(0.4, 10);
  });

  it('is 1 for full agreement, negative below chance, and undefined when there is nothing to tell apart', () => {
    expect(cohenKappa([...rep(3, ['accept', 'accept']), ...rep(2, ['reject', 'reject'])]).kappa).toBe(1);
    // Always opposite, half and half: po = 0, pe = .5 → κ = −1.
    expect(cohenKappa([...rep(2, ['accept', 'reject']), ...rep(2, ['reject', 'accept'])]).kappa).toBe(-1);
    expect(cohenKappa(rep(5, ['accept', 'accept'])).kappa).toBeNull();
    expect(cohenKappa([])).toEqual({ n: 0, agreed: 0, kappa: null });
  });

  it('picks a stable share of captions for double review', () => {
    const picked = Array.from({ length: 10_000 }, (_, i) => inDoubleShare(i + 1, 0.1)).filter(Boolean).length;
    expect(picked).toBeGreaterThan(900);
    expect(picked).toBeLessThan(1100);
    expect(inDoubleShare(42, 0)).toBe(false);
    expect(inDoubleShare(42, 1)).toBe(true);
  });
});
