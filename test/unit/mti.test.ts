import { describe, expect, it } from 'vitest';
import type { ImageId } from '#shared/ids';
import { MTI_DEFAULTS, mtiParamsOf, type MtiParams } from '#shared/mti/types';
import {
  findAnchor,
  findAnchorSequential,
  fuseScores,
  rankAll,
  runMti,
  topK,
  type Candidate,
  type MtiDeps,
} from '../../src/main/pipelines/mti';
import {
  anchorPrompt,
  parseAggregate,
  parseNumberedAnswers,
  parseYesNo,
  questionsPrompt,
} from '../../src/main/pipelines/mti-prompts';
import { compilePromptSet, defaultPromptSetBody } from '../../src/main/pipelines/question-pool';

const pool = compilePromptSet(defaultPromptSetBody());
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((res, rej) => {
    const onAbort = (): void => {
      clearTimeout(t);
      rej(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      res();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** A seeded PRNG, so a failing case can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const gallery = Int32Array.from({ length: 50 }, (_, i) => 1000 + i);
const candidates = (n: number): Candidate[] =>
  Array.from({ length: n }, (_, i) => ({ index: i, rank: i + 1, score: 1 - i / 100 }));

/** A world of 50 images with fixed similarity rows and an MLLM that says yes for a chosen set of images. */
function fakeDeps(opts: {
  yes: (imageId: number) => boolean;
  latency?: (imageId: number) => number;
  base: Float32Array;
  refinedRow?: Float32Array;
  fail?: 'yesno' | 'questions' | 'aggregate';
}): MtiDeps & { calls: { yesno: number[]; questions: number; aggregate: number } } {
  const calls = { yesno: [] as number[], questions: 0, aggregate: 0 };
  return {
    calls,
    gallery,
    pool,
    scoreAll: async (text) => (text === 'a person in red' ? opts.base : (opts.refinedRow ?? opts.base)),
    askYesNo: async (imageId, _q, signal) => {
      calls.yesno.push(imageId);
      await sleep(opts.latency?.(imageId) ?? 1, signal);
      if (opts.fail === 'yesno') throw new Error('500 from the endpoint');
      return opts.yes(imageId) ? 'Yes, it does.' : 'No.';
    },
    askQuestions: async (_id, questions) => {
      calls.questions++;
      if (opts.fail === 'questions') throw new Error('500 from the endpoint');
      return questions.map(() => 'black');
    },
    aggregate: async (query, answers) => {
      calls.aggregate++;
      if (opts.fail === 'aggregate') throw new Error('the endpoint timed out');
      return `${query}, ${answers.map((a) => a.answer).join(', ')}`;
    },
  };
}

const params = (p: Partial<MtiParams> = {}): MtiParams => ({ ...MTI_DEFAULTS, ...p });
const descending = (n: number, top = 0.4): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => top - i * 0.005);

describe('MTI prompts and parsing', () => {
  it('reads yes/no from the first word only: "eyes" and "I cannot say yes" are not yes', () => {
    expect(parseYesNo('Yes.')).toBe('yes');
    expect(parseYesNo('  **Yes**, the person wears red')).toBe('yes');
    expect(parseYesNo('Answer: No')).toBe('no');
    expect(parseYesNo('no')).toBe('no');
    expect(parseYesNo('eyes')).toBe('unclear');
    expect(parseYesNo('Her eyes are brown, yes')).toBe('unclear');
    expect(parseYesNo('I cannot say yes or no.')).toBe('unclear');
    expect(parseYesNo('Nobody is wearing red')).toBe('unclear');
    expect(parseYesNo('')).toBe('unclear');
  });

  it('uses the reference anchor prompt and numbers the questions of one call', () => {
    expect(anchorPrompt('a woman in a red coat.')).toBe(
      'Can this text accurately describe the image? Text: a woman in a red coat. Answer Yes or No.',
    );
    expect(questionsPrompt(['What colour is the hair?', 'Is there a bag?'])).toContain(
      '1. What colour is the hair?\n2. Is there a bag?',
    );
  });

  it('aligns numbered answers with their questions, whatever the numbering style', () => {
    expect(parseNumberedAnswers('1. Red\n2) a backpack\n**3.** cannot tell', 3)).toEqual([
      'Red',
      'a backpack',
      'cannot tell',
    ]);
    expect(parseNumberedAnswers('Q2: long\nQ1: black', 3)).toEqual(['black', 'long', null]);
    expect(parseNumberedAnswers('Red.', 1)).toEqual(['Red.']);
    expect(parseNumberedAnswers('Red.', 2)).toEqual([null, null]);
    expect(parseAggregate('Description: "A man in a red shirt."\n\nNotes: none')).toBe(
      'A man in a red shirt.',
    );
  });
});

describe('ranking helpers', () => {
  it('orders ties by gallery index and skips excluded images', () => {
    const s = Float32Array.from([0.5, 0.9, 0.5, 0.9, 0.1]);
    expect(topK(s, 3)).toEqual([1, 3, 0]);
    expect(topK(s, 3, new Set([1]))).toEqual([3, 0, 2]);
    expect([...rankAll(s)]).toEqual([1, 3, 0, 2, 4]);
  });

  it('topK skips NaN, stops at the gallery size and agrees with a full sort on random scores', () => {
    expect(topK(Float32Array.from([NaN, 0.2, NaN, 0.7]), 5)).toEqual([3, 1]);
    expect(topK(Float32Array.from([0.3, 0.1]), 0)).toEqual([]);
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 20; trial++) {
      // Few distinct values, so ties are common.
      const s = Float32Array.from({ length: 200 }, () =>
        rand() < 0.05 ? NaN : Math.round(rand() * 20) / 20,
      );
      const exclude = new Set(Array.from({ length: 30 }, () => Math.floor(rand() * 200)));
      const k = 1 + Math.floor(rand() * 40);
      const naive = [...rankAll(s)].filter((i) => !Number.isNaN(s[i]!) && !exclude.has(i)).slice(0, k);
      expect(topK(s, k, exclude)).toEqual(naive);
    }
  });

  it('gives the anchor the fused score λ·S + 1 − λ and mixes the rest', () => {
    const base = Float32Array.from([0.3, 0.2, 0.1]);
    const refined = Float32Array.from([0.5, 0.4, 0.9]);
    const fused = fuseScores(base, refined, 1, 0.8);
    expect(fused[1]).toBeCloseTo(0.8 * 0.2 + 0.2, 6);
    expect(fused[0]).toBeCloseTo(0.8 * 0.3 + 0.2 * 0.5, 6);
    expect(fused[2]).toBeCloseTo(0.8 * 0.1 + 0.2 * 0.9, 6);
  });
});

describe('MTI parameters', () => {
  it('defaults to checking all K candidates at once, and reads the knob of searches saved under its old name', () => {
    expect(MTI_DEFAULTS.checkConcurrency).toBe(MTI_DEFAULTS.k);
    expect(mtiParamsOf({ concurrency: 3 }).checkConcurrency).toBe(3);
    expect(mtiParamsOf({ concurrency: 3, checkConcurrency: 7 }).checkConcurrency).toBe(7);
    expect(mtiParamsOf({ xi: 0.5, checkConcurrency: undefined })).toEqual({ ...MTI_DEFAULTS, xi: 0.5 });
    expect(mtiParamsOf({})).not.toHaveProperty('concurrency');
  });
});

describe('anchor search', () => {
  it('chooses the same anchor, with the same checks, as the sequential algorithm under random latencies, at every concurrency', async () => {
    for (const checkConcurrency of [1, 2, 5, 7, 20, 64]) {
      for (let seed = 1; seed <= 25; seed++) {
        const r = rng(seed * 101 + checkConcurrency);
        const yes = new Set(gallery.filter(() => r() < 0.15));
        const lat = new Map([...gallery].map((id) => [id, Math.floor(r() * 5)]));
        const deps = fakeDeps({
          yes: (id) => yes.has(id),
          latency: (id) => lat.get(id)!,
          base: descending(50),
        });
        const cands = candidates(20);
        const seq = await findAnchorSequential(deps, 'q', cands, new AbortController().signal);
        const conc = await findAnchor(deps, 'q', cands, {
          checkConcurrency,
          signal: new AbortController().signal,
        });
        const at = `concurrency ${checkConcurrency}, seed ${seed}`;
        expect(conc.anchorAt, at).toBe(seq.anchorAt);
        expect(
          conc.checks.map((c) => [c.imageId, c.verdict]),
          at,
        ).toEqual(seq.checks.map((c) => [c.imageId, c.verdict]));
        // Never fewer calls than the sequential algorithm; exactly as many when one check runs at a time.
        expect(conc.calls, at).toBeGreaterThanOrEqual(seq.calls);
        expect(conc.calls, at).toBeLessThanOrEqual(cands.length);
        if (checkConcurrency === 1) expect(conc.calls, at).toBe(seq.calls);
      }
    }
  }, 30_000);

  it('makes exactly the sequential calls at concurrency 1', async () => {
    const deps = fakeDeps({ yes: (id) => id === 1004, latency: () => 2, base: descending(50) });
    const found = await findAnchor(deps, 'q', candidates(20), {
      checkConcurrency: 1,
      signal: new AbortController().signal,
    });
    expect(found.anchorAt).toBe(4);
    expect(found.calls).toBe(5);
    expect(deps.calls.yesno).toEqual([1000, 1001, 1002, 1003, 1004]);
  });

  it('cancels the checks of lower ranks still in flight as soon as a yes is known', async () => {
    const aborted: number[] = [];
    let rank1Answered = false;
    const deps = fakeDeps({ yes: (id) => id === 1001, base: descending(50) });
    deps.askYesNo = async (id, _q, signal) => {
      deps.calls.yesno.push(id);
      signal.addEventListener('abort', () => !rank1Answered && aborted.push(id), { once: true });
      // Rank 1 answers late: the yes at rank 2 is known long before the anchor is resolved.
      await sleep(id === 1000 ? 80 : id === 1001 ? 1 : 1000, signal);
      if (id === 1000) rank1Answered = true;
      return id === 1001 ? 'Yes' : 'No';
    };
    const t0 = performance.now();
    const found = await findAnchor(deps, 'q', candidates(10), {
      checkConcurrency: 5,
      signal: new AbortController().signal,
    });
    expect(found.anchorAt).toBe(1);
    expect(performance.now() - t0).toBeLessThan(500);
    // Ranks 3–5 were in flight and were cancelled when rank 2 said yes, before rank 1 answered; 6–10 never started.
    expect(aborted.sort()).toEqual([1002, 1003, 1004]);
    expect(deps.calls.yesno.sort()).toEqual([1000, 1001, 1002, 1003, 1004]);
  });

  it('runs checks concurrently: a yes at rank 7 of 20 costs about one latency, not seven', async () => {
    const deps = fakeDeps({ yes: (id) => id === 1006, latency: () => 40, base: descending(50) });
    const t0 = performance.now();
    const found = await findAnchor(deps, 'q', candidates(20), {
      checkConcurrency: 20,
      signal: new AbortController().signal,
    });
    const ms = performance.now() - t0;
    expect(found.anchorAt).toBe(6);
    expect(found.checks).toHaveLength(7);
    expect(ms).toBeLessThan(40 * 3);
  });

  it('never starts candidates below a known yes when checks go in waves', async () => {
    const deps = fakeDeps({
      yes: (id) => id === 1001,
      latency: (id) => (id === 1001 ? 1 : 30),
      base: descending(50),
    });
    const found = await findAnchor(deps, 'q', candidates(20), {
      checkConcurrency: 4,
      signal: new AbortController().signal,
    });
    expect(found.anchorAt).toBe(1);
    expect(Math.max(...deps.calls.yesno)).toBeLessThan(1004);
  });

  it('ignores a failing check below the anchor but fails on one the sequential search would reach', async () => {
    const below = fakeDeps({ yes: (id) => id === 1000, base: descending(50) });
    below.askYesNo = async (id) => {
      if (id === 1003) throw new Error('boom');
      await sleep(id === 1000 ? 10 : 1);
      return id === 1000 ? 'Yes' : 'No';
    };
    expect(
      (
        await findAnchor(below, 'q', candidates(10), {
          checkConcurrency: 10,
          signal: new AbortController().signal,
        })
      ).anchorAt,
    ).toBe(0);
    const above = fakeDeps({ yes: (id) => id === 1005, base: descending(50) });
    above.askYesNo = async (id) => {
      if (id === 1002) throw new Error('boom at rank 3');
      return id === 1005 ? 'Yes' : 'No';
    };
    await expect(
      findAnchor(above, 'q', candidates(10), { checkConcurrency: 10, signal: new AbortController().signal }),
    ).rejects.toThrow('boom at rank 3');
  });

  it('treats "eyes" as no anchor', async () => {
    const deps = fakeDeps({ yes: () => false, base: descending(50) });
    deps.askYesNo = async () => 'eyes';
    const found = await findAnchor(deps, 'q', candidates(5), {
      checkConcurrency: 5,
      signal: new AbortController().signal,
    });
    expect(found.anchorAt).toBeNull();
    expect(found.checks.map((c) => c.verdict)).toEqual([
      'unclear',
      'unclear',
      'unclear',
      'unclear',
      'unclear',
    ]);
  });

  it('stops early: a top-1 above ξ that the MLLM confirms is checked alone and asked no questions', async () => {
    const base = descending(50, 0.9);
    const deps = fakeDeps({ yes: () => true, base });
    const out = await runMti(deps, 'a person in red', params({ xi: 0.85 }), new AbortController().signal);
    expect(deps.calls.yesno).toEqual([1000]);
    expect(deps.calls.questions).toBe(0);
    expect(out.rounds[0]!.earlyStop).toBe(true);
    expect(out.rounds[0]!.anchor!.imageId).toBe(1000);
    expect(out.calls).toBe(1);
  });

  it('does not stop early below ξ, nor when the MLLM rejects the confident top-1', async () => {
    const below = fakeDeps({ yes: () => true, base: descending(50, 0.8) });
    const a = await runMti(below, 'a person in red', params({ xi: 0.85 }), new AbortController().signal);
    expect(a.rounds[0]!.earlyStop).toBe(false);
    expect(below.calls.questions).toBe(1);
    const rejected = fakeDeps({ yes: (id) => id === 1002, base: descending(50, 0.9) });
    const b = await runMti(rejected, 'a person in red', params({ xi: 0.85 }), new AbortController().signal);
    expect(b.rounds[0]!.earlyStop).toBe(false);
    expect(b.rounds[0]!.anchor!.imageId).toBe(1002);
  });
});

describe('runMti', () => {
  it('re-ranks with q̂ and lifts the anchor to λ·S(q, v̄) + 1 − λ', async () => {
    const base = descending(50, 0.4);
    const refinedRow = Float32Array.from({ length: 50 }, (_, i) => (i === 30 ? 0.95 : 0.1));
    const deps = fakeDeps({ yes: (id) => id === 1004, base, refinedRow });
    const out = await runMti(deps, 'a person in red', params({ lambda: 0.8 }), new AbortController().signal);
    const round = out.rounds[0]!;
    expect(round.anchor).toMatchObject({ imageId: 1004 as ImageId, rank: 5, by: 'mllm' });
    expect(round.refined).toContain('a person in red');
    expect(deps.calls.questions).toBe(1);
    expect(deps.calls.aggregate).toBe(1);
    expect(out.scores[4]).toBeCloseTo(0.8 * base[4]! + 0.2, 6);
    expect(out.scores[30]).toBeCloseTo(0.8 * base[30]! + 0.2 * 0.95, 6);
    expect(rankAll(out.scores)[0]).toBe(4);
  });

  it('leaves the ranking unchanged when no candidate is confirmed', async () => {
    const base = descending(50);
    const deps = fakeDeps({ yes: () => false, base });
    const out = await runMti(deps, 'a person in red', params({ k: 20 }), new AbortController().signal);
    expect(out.rounds[0]!.anchor).toBeNull();
    expect(out.rounds[0]!.note).toMatch(/No anchor/);
    expect([...out.scores]).toEqual([...base]);
    expect(deps.calls.yesno).toHaveLength(20);
    expect(deps.calls.questions).toBe(0);
  });

  it('falls back to the plain ranking, with the reason, when the endpoint fails mid-dialogue', async () => {
    const base = descending(50);
    const deps = fakeDeps({ yes: (id) => id === 1001, base, fail: 'aggregate' });
    const out = await runMti(deps, 'a person in red', params(), new AbortController().signal);
    expect(out.fallback).toMatch(/failed in round 1.*timed out.*query alone/);
    expect(out.rounds).toHaveLength(0);
    expect([...out.scores]).toEqual([...base]);
  });

  it('examines the next candidates in later rounds and never re-asks a question', async () => {
    const base = descending(50);
    const deps = fakeDeps({ yes: (id) => id === 1000 || id === 1003, base });
    const out = await runMti(
      deps,
      'a person in red',
      params({ rounds: 2, questions: 2 }),
      new AbortController().signal,
    );
    expect(out.rounds).toHaveLength(2);
    expect(out.rounds[1]!.query).toBe(out.rounds[0]!.refined);
    expect(out.rounds[1]!.checks.map((c) => c.imageId)).not.toContain(1000);
    const ids = out.rounds.flatMap((r) => r.questions.map((q) => q.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is cancelled by its signal', async () => {
    const deps = fakeDeps({ yes: () => false, latency: () => 200, base: descending(50) });
    const ctl = new AbortController();
    const run = runMti(deps, 'a person in red', params(), ctl.signal);
    setTimeout(() => ctl.abort(new Error('The search was cancelled.')), 20);
    await expect(run).rejects.toThrow('cancelled');
  });
});
