import { describe, expect, it } from 'vitest';
import { LlmError } from '../../src/main/llm/errors';
import { filterAnswers, judgeRelevance } from '../../src/main/pipelines/answer-filters';
import { cleanCaption, runMtg, type MtgAnswer, type MtgDeps } from '../../src/main/pipelines/mtg';
import {
  compilePromptSet,
  defaultPromptSetBody,
  fillTemplate,
  promptSetHash,
  selectQuestions,
} from '../../src/main/pipelines/question-pool';

const set = compilePromptSet(defaultPromptSetBody());
const q = (id: string) => set.pool.find((x) => x.id === id)!;
const answer = (text: string): MtgAnswer => ({
  text,
  callId: 1,
  cached: false,
  latencyMs: 5,
  promptTokens: 10,
  completionTokens: 2,
});

/** A scripted VQA model: answers by the pool question inside the prompt, and records every prompt. */
function scripted(
  initial: string,
  answers: Record<string, string | Error>,
  reconstructed = 'RECONSTRUCTED',
): MtgDeps & { asked: string[]; reconstructPrompts: string[] } {
  const asked: string[] = [];
  const reconstructPrompts: string[] = [];
  return {
    asked,
    reconstructPrompts,
    ask: async (prompt, purpose) => {
      asked.push(prompt);
      if (purpose === 'mtg.initial') return answer(initial);
      const hit = set.pool.find((x) => prompt.includes(x.text));
      const a = hit ? answers[hit.id] : undefined;
      if (a instanceof Error) throw a;
      return answer(a ?? 'cannot tell');
    },
    reconstruct: async (prompt) => {
      reconstructPrompts.push(prompt);
      return answer(reconstructed);
    },
  };
}

describe('question pool', () => {
  it('skips questions the caption already settles and says what settled them', () => {
    const sel = selectQuestions(set, 'A man in a red jacket and blue jeans.', new Set(), 4);
    expect(sel.questions.map((x) => x.id)).toEqual(['hair-colour', 'hair-length', 'shoes', 'bag']);
    expect(sel.skipped.map((s) => s.questionId)).toEqual([
      'sex',
      'top-colour',
      'top-type',
      'bottom-colour',
      'bottom-type',
    ]);
    expect(sel.skipped[1]!.reason).toBe('settled: "red jacket"');
  });

  it('asks in pool order when nothing is known, and never re-asks', () => {
    const first = selectQuestions(set, 'A person.', new Set(), 2);
    expect(first.questions.map((x) => x.id)).toEqual(['sex', 'top-colour']);
    const next = selectQuestions(set, 'A person.', new Set(['sex', 'top-colour']), 1);
    expect(next.questions.map((x) => x.id)).toEqual(['top-type']);
  });

  it('versions by content: equal bodies hash alike, any edit changes the hash', () => {
    const body = defaultPromptSetBody();
    expect(promptSetHash(structuredClone(body))).toBe(promptSetHash(body));
    const edited = structuredClone(body);
    edited.templates.initial = 'Describe the pedestrian.';
    expect(promptSetHash(edited)).not.toBe(promptSetHash(body));
  });

  it('rejects a set whose regex does not compile, naming the question', () => {
    const body = defaultPromptSetBody();
    body.pool[0]!.settledBy = ['(unclosed'];
    expect(() => compilePromptSet(body)).toThrow(/settledBy\[0\] of question "sex"/);
  });

  it('fills templates and leaves unknown placeholders alone', () => {
    expect(fillTemplate('{question} ({x})', { question: 'Hat?' })).toBe('Hat? ({x})');
  });
});

describe('answer filters', () => {
  it('drops not-visible, refusal, negative and empty answers with their reasons', () => {
    expect(judgeRelevance(set, q('shoes'), 'Cannot tell.')).toMatchObject({
      kept: false,
      reason: 'not_visible',
    });
    expect(judgeRelevance(set, q('shoes'), 'The shoes are not visible in the image.')).toMatchObject({
      kept: false,
      reason: 'not_visible',
    });
    expect(judgeRelevance(set, q('shoes'), "I'm sorry, I can't help with that.")).toMatchObject({
      kept: false,
      reason: 'refusal',
    });
    expect(judgeRelevance(set, q('bag'), 'No.')).toMatchObject({ kept: false, reason: 'negative' });
    expect(judgeRelevance(set, q('bag'), '  ')).toMatchObject({ kept: false, reason: 'empty' });
  });

  it('turns short answers into stand-alone facts', () => {
    expect(judgeRelevance(set, q('shoes'), 'White.')).toEqual({ kept: true, fact: 'White shoes' });
    expect(judgeRelevance(set, q('bag'), 'Yes, a blue backpack.')).toEqual({
      kept: true,
      fact: 'a blue backpack',
    });
    expect(judgeRelevance(set, q('glasses'), 'Yes.')).toEqual({ kept: true, fact: 'wears glasses' });
    expect(judgeRelevance(set, q('hair-colour'), 'black hair')).toEqual({ kept: true, fact: 'black hair' });
  });

  it('drops an answer the caption or an earlier kept answer already states', () => {
    const v = filterAnswers(set, 'A woman in a red jacket.', [
      { question: q('top-colour'), answer: 'Red.' },
      { question: q('shoes'), answer: 'red' },
      { question: q('hair-colour'), answer: 'Black.' },
      { question: q('hair-length'), answer: 'black hair' },
    ]);
    expect(v.map((x) => (x.kept ? 'kept' : x.reason))).toEqual(['redundant', 'kept', 'kept', 'redundant']);
  });
});

describe('runMtg', () => {
  it('asks only unsettled questions, filters, and reconstructs from the kept pairs', async () => {
    const deps = scripted('A woman wearing a green t-shirt.', {
      'bottom-colour': 'Blue.',
      'bottom-type': 'Jeans.',
      'hair-colour': 'cannot tell',
      'hair-length': 'Long.',
      shoes: 'White.',
      bag: 'No.',
    });
    const out = await runMtg(deps, set, { rounds: 6 });
    expect(deps.asked[0]).toBe('Describe the person in the image.');
    expect(out.rounds.map((r) => r.questionId)).toEqual([
      'bottom-colour',
      'bottom-type',
      'hair-colour',
      'hair-length',
      'shoes',
      'bag',
    ]);
    expect(out.rounds.map((r) => r.dropReason)).toEqual([null, null, 'not_visible', null, null, 'negative']);
    expect(out.skipped.map((s) => s.questionId)).toEqual(['sex', 'top-colour', 'top-type']);
    expect(deps.reconstructPrompts).toHaveLength(1);
    const prompt = deps.reconstructPrompts[0]!;
    expect(prompt).toContain('Description: A woman wearing a green t-shirt.');
    expect(prompt).toContain("Q: What colour are the person's shoes?\nA: White.");
    expect(prompt).not.toContain('cannot tell');
    expect(prompt).toContain('Rephrase the description using all the above information.');
    expect(out.caption).toBe('RECONSTRUCTED');
    expect(out.calls).toBe(8);
    expect(out.promptTokens).toBe(80);
  });

  it('asks rounds in waves, letting earlier answers settle later questions', async () => {
    const deps = scripted('A person.', {
      sex: 'A man in a red jacket.',
      'top-colour': 'Red.',
      'top-type': 'A jacket.',
    });
    const out = await runMtg(deps, set, { rounds: 3, waveSize: 1 });
    // "A man in a red jacket" settles top colour and type, so wave 2 and 3 move on down the pool.
    expect(out.rounds.map((r) => r.questionId)).toEqual(['sex', 'bottom-colour', 'bottom-type']);
  });

  it('keeps the initial caption when nothing is kept, without a reconstructor call', async () => {
    const deps = scripted('A man.', {});
    const out = await runMtg(deps, set, { rounds: 3 });
    expect(out.caption).toBe('A man.');
    expect(out.reconstruction).toBeNull();
    expect(deps.reconstructPrompts).toHaveLength(0);
  });

  it('drops a refused or garbled answer as a round, but fails the image when the endpoint is down', async () => {
    const refused = scripted('A man.', {
      'top-colour': new LlmError('refused', 'The model refused to answer: no.'),
      'top-type': 'A hoodie.',
    });
    const out = await runMtg(refused, set, { rounds: 2 });
    expect(out.rounds.map((r) => [r.questionId, r.dropReason])).toEqual([
      ['top-colour', 'refusal'],
      ['top-type', null],
    ]);

    const down = scripted('A man.', {
      'top-colour': new LlmError('unreachable', 'Cannot reach http://x/v1.'),
    });
    await expect(runMtg(down, set, { rounds: 2 })).rejects.toThrow(/Cannot reach/);
  });

  describe('verification (optional second check of each kept answer)', () => {
    /** The scripted model, plus a verdict per fact for the verification prompts (anything else: "Yes."). */
    function withChecks(initial: string, answers: Record<string, string>, checks: Record<string, string>) {
      const base = scripted(initial, answers);
      const verifyPrompts: string[] = [];
      return {
        ...base,
        verifyPrompts,
        ask: async (prompt: string, purpose: 'mtg.initial' | 'mtg.question' | 'mtg.verify') => {
          if (purpose !== 'mtg.verify') return base.ask(prompt, purpose);
          verifyPrompts.push(prompt);
          const fact = Object.keys(checks).find((f) => prompt.includes(`"${f}"`));
          return answer(fact ? checks[fact]! : 'Yes.');
        },
      };
    }
    const qa = { 'bottom-colour': 'Blue.', 'hair-length': 'Long.', shoes: 'White.', bag: 'No.' };

    it("drops a kept answer the check contradicts, as unverified with the check's answer", async () => {
      const deps = withChecks('A woman wearing a green t-shirt and jeans.', qa, {
        'White shoes': 'No, the shoes are black.',
      });
      const out = await runMtg(deps, set, { rounds: 4, verify: true });
      expect(deps.verifyPrompts).toEqual([
        'Is the following true of the person in the image: "Blue bottoms"? Answer Yes or No.',
        'Is the following true of the person in the image: "Long hair"? Answer Yes or No.',
        'Is the following true of the person in the image: "White shoes"? Answer Yes or No.',
      ]);
      const shoes = out.rounds.find((r) => r.questionId === 'shoes')!;
      expect(shoes).toMatchObject({ kept: false, dropReason: 'unverified', fact: null, answer: 'White.' });
      expect(shoes.dropDetail).toContain('No, the shoes are black.');
      expect(deps.reconstructPrompts[0]).not.toContain('White');
      expect(deps.reconstructPrompts[0]).toContain('A: Blue.');
      // initial + 4 questions (hair colour is not visible, so not checked) + 3 checks + reconstruction
      expect(out.calls).toBe(9);
    });

    it('keeps an answer whose check says "Yes, …", and reads yes/no from the first word only', async () => {
      const deps = withChecks('A woman wearing a green t-shirt and jeans.', qa, {
        'Blue bottoms': 'Yes, the trousers are blue.',
        'Long hair': 'Her eyes are hidden, no way to tell.',
        'White shoes': 'Not sure.',
      });
      const out = await runMtg(deps, set, { rounds: 4, verify: true });
      // "eyes" is not a yes and the "no" later in that reply is not a no: unclear checks keep the answer.
      expect(out.rounds.map((r) => r.dropReason)).toEqual([null, 'not_visible', null, null]);
    });

    it("is off by default: no check is asked (the paper's behaviour)", async () => {
      const deps = withChecks('A woman wearing a green t-shirt and jeans.', qa, { 'White shoes': 'No.' });
      const out = await runMtg(deps, set, { rounds: 4 });
      expect(deps.verifyPrompts).toHaveLength(0);
      expect(out.rounds.find((r) => r.questionId === 'shoes')!.kept).toBe(true);
    });

    it('uses the default check for prompt sets saved before the template existed', () => {
      const old = defaultPromptSetBody();
      delete old.templates.verify;
      expect(compilePromptSet(old).verify).toContain('{fact}');
      const bad = defaultPromptSetBody();
      bad.templates.verify = 'Is it true?';
      expect(() => compilePromptSet(bad)).toThrow(/\{fact\}/);
    });
  });

  it('cleans wrappers reconstructors like to add', () => {
    expect(cleanCaption('Here is the rephrased description: "A man in a red coat."')).toBe(
      'A man in a red coat.',
    );
  });
});
