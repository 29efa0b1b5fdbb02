// The oracle's understanding without a server: reading claims from captions and answers, telling what
// a question asks, and answering from known facts (perception is tested through the server in
// test/integration/oracle.test.ts).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import pool from '../../resources/prompts/mtg-default.json';
import {
  sampleAttributes,
  templateCaption,
  type PersonAttributes,
} from '../../src/main/pipelines/attributes';
import { captionOf, factsOf, setFact, type Facts, type Field } from '../../src/main/synth/oracle/facts';
import {
  applyClaims,
  leadingYesNo,
  parseClaims,
  understandQuestion,
} from '../../src/main/synth/oracle/language';
import { factsFromReading, loadWorld, type Percept } from '../../src/main/synth/oracle/perception';
import { respond, type NoiseOptions } from '../../src/main/synth/oracle/respond';
import { createRng, deriveSeed } from '../../src/main/rng';

const people = (n: number, seed = 1): PersonAttributes[] =>
  Array.from({ length: n }, (_, i) => sampleAttributes(createRng(deriveSeed(seed, 'oracle-test', i))));

const factsOfText = (text: string): Facts => {
  const f: Facts = {};
  applyClaims(f, parseClaims(text), setFact);
  return f;
};

/** What a template caption states: everything but an adult's age, absences, and lengths the type implies. */
function stated(a: PersonAttributes): Facts {
  const f = factsOf(a);
  if (f.age === 'adult') delete f.age;
  if (a.bottom.type !== 'skirt' && a.bottom.type !== 'shorts') delete f.bottomLength;
  for (const k of ['bag', 'hat', 'glasses'] as const) if (f[k] === 'no') delete f[k];
  return f;
}

const percept = (facts: Facts, hash = 'h'): Percept => ({
  hash,
  width: 128,
  height: 256,
  facts,
  imageColour: 'grey',
  candidates: 1,
  personId: 1,
});
const CLEAN: NoiseOptions = { seed: 1, wrongRate: 0, hallucinationRate: 0 };

/** Whether a text contradicts the facts (the anchor's rule, asked of the oracle itself). */
const contradicts = (text: string, facts: Facts): boolean =>
  respond(
    {
      question: `Can this text accurately describe the image? Text: ${text}. Answer Yes or No.`,
      conversation: '',
      percept: percept(facts),
    },
    CLEAN,
  ).content === 'No';

describe('reading claims', () => {
  it('recovers every fact a template caption states, in all its phrasings', () => {
    for (const [i, a] of people(300).entries()) {
      const caption = templateCaption(a, createRng(i));
      expect(factsOfText(caption), caption).toEqual(stated(a));
    }
  });

  it('binds colours and lengths to the garment they precede or that a copula links them to', () => {
    expect(
      factsOfText(
        'A young woman with long black hair, wearing a red t-shirt with short sleeves, a short blue skirt and white shoes.',
      ),
    ).toEqual({
      age: 'young',
      sex: 'woman',
      hairLength: 'long',
      hairColour: 'black',
      topColour: 'red',
      topType: 't-shirt',
      sleeves: 'short',
      bottomType: 'skirt',
      bottomLength: 'short',
      bottomColour: 'blue',
      shoesColour: 'white',
    });
    expect(
      factsOfText(
        'The upper-body clothing is red. The sleeves are long. The lower-body garment is short. The shoes are grey.',
      ),
    ).toEqual({
      topColour: 'red',
      sleeves: 'long',
      bottomLength: 'short',
      shoesColour: 'grey',
    });
    expect(
      factsOfText("The man's upper body garment is a navy jacket and his pants are gray."),
    ).toMatchObject({ sex: 'man', topColour: 'blue', topType: 'jacket', bottomColour: 'grey' });
  });

  it('reads absences under a negation in the same clause, and nothing from a negated garment', () => {
    expect(factsOfText('An elderly man without glasses who is not carrying a bag and wears no hat.')).toEqual(
      { age: 'elderly', sex: 'man', glasses: 'no', bag: 'no', hat: 'no' },
    );
    expect(factsOfText('She is not wearing a red shirt.')).toEqual({ sex: 'woman' });
    expect(factsOfText('No, the person is not wearing glasses, but carries a green backpack.')).toEqual({
      glasses: 'no',
      bag: 'yes',
      bagType: 'backpack',
      bagColour: 'green',
    });
  });

  it('reads a yes or no from the first word only', () => {
    expect(leadingYesNo('Yes, the person is carrying a bag.')).toBe('yes');
    expect(leadingYesNo('No.')).toBe('no');
    expect(leadingYesNo('Her eyes are brown')).toBeNull();
  });
});

describe('what a question asks', () => {
  const wh = (q: string): readonly Field[] | null => {
    const i = understandQuestion(q);
    return i.kind === 'wh' ? i.fields : null;
  };

  it('maps the usual phrasings of the question pool to the fields they ask', () => {
    expect(wh("What colour is the person's upper-body clothing?")).toEqual(['topColour']);
    expect(wh('What color is the shirt?')).toEqual(['topColour']);
    expect(wh('What type of lower-body garment is the person wearing?')).toEqual(['bottomType']);
    expect(wh('What is the hair length?')).toEqual(['hairLength']);
    expect(wh('Does the person have long or short hair?')).toEqual(['hairLength']);
    expect(wh('Are the sleeves long or short?')).toEqual(['sleeves']);
    expect(wh('What is the gender of the person?')).toEqual(['sex']);
    expect(wh('Is this a man or a woman?')).toEqual(['sex']);
    expect(wh('How old is the person?')).toEqual(['age']);
    expect(wh('What kind of shoes is the person wearing?')).toEqual(['shoesColour']);
  });

  it('understands every question of the default MTG pool', () => {
    const kinds = Object.fromEntries(
      pool.pool.map((q) => [q.id, understandQuestion(q.text.slice(0, q.text.indexOf('?') + 1))]),
    );
    expect(kinds.sex).toMatchObject({ kind: 'wh', fields: ['sex'] });
    expect(kinds['top-colour']).toMatchObject({ kind: 'wh', fields: ['topColour'] });
    expect(kinds['top-type']).toMatchObject({ kind: 'wh', fields: ['topType'] });
    expect(kinds['bottom-colour']).toMatchObject({ kind: 'wh', fields: ['bottomColour'] });
    expect(kinds['bottom-type']).toMatchObject({ kind: 'wh', fields: ['bottomType'] });
    expect(kinds['hair-colour']).toMatchObject({ kind: 'wh', fields: ['hairColour'] });
    expect(kinds['hair-length']).toMatchObject({ kind: 'wh', fields: ['hairLength'] });
    expect(kinds.shoes).toMatchObject({ kind: 'wh', fields: ['shoesColour'] });
    // "a bag or a backpack" asks whether there is any bag, not whether it is a backpack.
    expect(kinds.bag).toMatchObject({ kind: 'yesno', claims: [{ field: 'bag', value: 'yes' }] });
    expect(kinds.hat).toMatchObject({ kind: 'yesno', claims: [{ field: 'hat', value: 'yes' }] });
    expect(kinds.glasses).toMatchObject({ kind: 'yesno', claims: [{ field: 'glasses', value: 'yes' }] });
    expect(kinds.sleeves).toMatchObject({ kind: 'wh', fields: ['sleeves'] });
    expect(kinds['bottom-length']).toMatchObject({ kind: 'wh', fields: ['bottomLength'] });
    expect(kinds.age).toMatchObject({ kind: 'wh', fields: ['age'] });
    expect(kinds['in-hand']).toMatchObject({ kind: 'inHand' });
    for (const id of ['pattern', 'scarf', 'belt', 'action', 'view', 'others', 'background'])
      expect(kinds[id], id).toMatchObject({ kind: 'fixed' });
  });

  it('turns a yes/no question into the claims that must hold', () => {
    expect(understandQuestion('Is the person wearing a red shirt?')).toMatchObject({
      kind: 'yesno',
      claims: [
        { field: 'topType', value: 'shirt' },
        { field: 'topColour', value: 'red' },
      ],
    });
    expect(understandQuestion('Is the upper-body clothing blue?')).toMatchObject({
      kind: 'yesno',
      claims: [{ field: 'topColour', value: 'blue' }],
    });
    // Several values of one field: the question asks which one.
    expect(understandQuestion('Is the top a t-shirt, a shirt or a jacket?')).toMatchObject({
      kind: 'wh',
      group: 'top',
    });
  });
});

describe('answers from facts', () => {
  const ask = (question: string, facts: Facts, noise = CLEAN): string =>
    respond({ question, conversation: question, percept: percept(facts) }, noise).content;

  it('checks the anchor text: yes unless something contradicts the image', () => {
    for (const [i, a] of people(60, 2).entries()) {
      const f = factsOf(a);
      const caption = templateCaption(a, createRng(i));
      expect(contradicts(caption, f), caption).toBe(false);
      const other = ['red', 'blue', 'green'].find((c) => c !== a.top.colour) as string;
      expect(contradicts(`A person in a ${other} ${a.top.type}.`, f)).toBe(true);
    }
    // What the oracle cannot see does not make it say no.
    const colourOnly: Facts = {
      topColour: 'red',
      bottomColour: 'blue',
      shoesColour: 'black',
      hairColour: 'brown',
      bag: 'no',
      hat: 'no',
    };
    expect(contradicts('A woman with glasses in a red sweater and blue jeans.', colourOnly)).toBe(false);
    expect(contradicts('A woman in a red sweater carrying a backpack.', colourOnly)).toBe(true);
  });

  it("answers MTG's verification check from the image, with the noise of any yes/no", () => {
    const verify = (fact: string): string =>
      `Is the following true of the person in the image: "${fact}"? Answer Yes or No.`;
    const f: Facts = { topColour: 'red', shoesColour: 'white', hairLength: 'long', glasses: 'no' };
    expect(
      respond({ question: verify('Red top'), conversation: '', percept: percept(f) }, CLEAN),
    ).toMatchObject({ kind: 'verify', content: 'Yes.' });
    expect(ask(verify('Black shoes'), f)).toBe('No.');
    expect(ask(verify('wears glasses'), f)).toBe('No.');
    // Not settled by the image: not denied.
    expect(ask(verify('a blue backpack'), f)).toBe('Yes.');
    // wrongRate flips a share of the checks, as it does every determinable answer.
    const noisy = { ...CLEAN, wrongRate: 0.3 };
    const flipped = Array.from(
      { length: 200 },
      (_, i) =>
        respond({ question: verify('Red top'), conversation: '', percept: percept(f, `img${i}`) }, noisy)
          .content === 'No.',
    ).filter(Boolean).length;
    expect(flipped).toBeGreaterThan(30);
    expect(flipped).toBeLessThan(90);
  });

  it('answers attribute questions with the fact, and "cannot tell" when it is not known', () => {
    const f = factsOf(people(1)[0] as PersonAttributes);
    expect(ask('What colour is the upper-body clothing?', f)).toBe(
      `The upper-body clothing is ${f.topColour}.`,
    );
    expect(ask('What is the hair length?', { topColour: 'red' })).toBe('Cannot tell from this image.');
    expect(ask('Is the person wearing glasses?', { ...f, glasses: 'yes' })).toBe(
      'Yes, the person is wearing glasses.',
    );
    expect(ask('Is the person wearing glasses? Answer Yes or No.', { ...f, glasses: 'no' })).toBe('No.');
    expect(ask('Is the person carrying a bag?', { bag: 'yes', bagType: 'backpack', bagColour: 'red' })).toBe(
      'Yes, the person is carrying a red backpack.',
    );
    expect(ask('Is the upper-body clothing green?', { topColour: 'red', topType: 'hoodie' })).toBe(
      'No, the person is wearing a red hoodie.',
    );
    expect(ask('What colour is this image? Answer with one word.', {})).toBe('Grey.');
  });

  it('gives a short first caption: true facts, but only some of them', () => {
    let fewer = 0;
    for (const [i, a] of people(50, 3).entries()) {
      const f = factsOf(a);
      const c = respond(
        { question: 'Describe the person in the image.', conversation: '', percept: percept(f, `img${i}`) },
        CLEAN,
      ).content;
      const said = factsOfText(c);
      for (const [k, v] of Object.entries(said)) expect(f[k as Field], `${c} says ${k}=${v}`).toBe(v);
      expect(said.sex).toBe(a.sex);
      expect(said.topColour).toBe(a.top.colour);
      if (Object.keys(said).length < Object.keys(stated(a)).length - 2) fewer++;
    }
    expect(fewer).toBe(50);
  });

  it('takes "summarise the person" with an image as a caption request, not as a rephrasing', () => {
    const f = factsOf(people(1, 8)[0] as PersonAttributes);
    expect(
      respond(
        {
          question: "Summarise the person's appearance.",
          conversation: "Summarise the person's appearance.",
          percept: percept(f),
        },
        CLEAN,
      ).kind,
    ).toBe('describe');
  });

  it('hallucinates a false detail in captions at hallucinationRate 1', () => {
    for (const [i, a] of people(30, 4).entries()) {
      const f = factsOf(a);
      const c = respond(
        { question: 'Describe the person.', conversation: '', percept: percept(f, `img${i}`) },
        { ...CLEAN, hallucinationRate: 1 },
      );
      expect(c.noisy).toBe(true);
      expect(contradicts(c.content, f), c.content).toBe(true);
    }
  });

  it('gives the same answer to the same request, and about 30% wrong answers at wrongRate 0.3', () => {
    const noise = { ...CLEAN, wrongRate: 0.3 };
    let wrong = 0;
    let n = 0;
    for (const [i, a] of people(200, 5).entries()) {
      const f = factsOf(a);
      const q = "What colour is the person's upper-body clothing?";
      const one = respond({ question: q, conversation: q, percept: percept(f, `img${i}`) }, noise);
      const two = respond({ question: q, conversation: q, percept: percept(f, `img${i}`) }, noise);
      expect(two).toEqual(one);
      n++;
      if (!one.content.includes(` ${a.top.colour}.`)) wrong++;
      expect(one.noisy).toBe(!one.content.includes(` ${a.top.colour}.`));
    }
    expect(wrong / n).toBeGreaterThan(0.2);
    expect(wrong / n).toBeLessThan(0.4);
  });
});

describe('reconstruction and aggregation', () => {
  const text = (s: string): string => respond({ question: s, conversation: s, percept: null }, CLEAN).content;

  it('rephrases a caption and its Q&A into one caption with exactly the stated facts', () => {
    const prompt = `Here is a description of a person in an image, followed by questions about the same image and their answers.

Description: A woman wearing a red t-shirt.

Q: Is the person carrying a bag or a backpack? If so, what kind and what colour?
A: Yes, the person is carrying a blue backpack.
Q: Is the person's hair short or long?
A: Long.
Q: What colour are the person's shoes?
A: White.
Q: Is the person wearing glasses?
A: No.
Q: What is in the background behind the person?
A: Cannot tell.

Rephrase the description using all the above information. Write one fluent, concise description of the person in one to three sentences. Do not add anything that is not stated above.`;
    const out = text(prompt);
    expect(out).toBe(
      'A woman with long hair, wearing a red t-shirt and white shoes. She carries a blue backpack.',
    );
    expect(factsOfText(out)).toEqual({
      sex: 'woman',
      hairLength: 'long',
      topColour: 'red',
      topType: 't-shirt',
      shoesColour: 'white',
      bag: 'yes',
      bagType: 'backpack',
      bagColour: 'blue',
    });
  });

  it("keeps MTI's query word for word and adds only what the answers state", () => {
    const prompt = `A user is searching for a person with this description: a man in a grey hoodie near the station

Questions about the person and their answers:
Q: What colour is the garment on the person's lower body?
A: The lower-body clothing is black.
Q: What colour is the garment on the person's upper body?
A: The upper-body clothing is green.
Q: Is the person wearing a hat or a cap? If so, what colour?
A: cannot tell

Combine the description and the answers into one concise description of the person, in one or two sentences. Keep everything the original description says, add only what the answers state, and leave out answers that say something cannot be seen. Reply with the description only.`;
    // The query's grey top stands (the user described their target); the trousers are new.
    expect(text(prompt)).toBe('A man in a grey hoodie near the station. He wears black pants.');
  });

  it('renders facts back to a caption that reads as the same facts', () => {
    for (const a of people(100, 6)) expect(factsOfText(captionOf(factsOf(a)))).toEqual(stated(a));
  });
});

describe('what the oracle knows from a colour reading', () => {
  async function worldOf(people: PersonAttributes[]): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'ctgi-oracle-world-'));
    const identities = people.map((attributes, i) => ({ personId: i + 1, split: 'train', attributes }));
    await writeFile(
      path.join(dir, 'attributes.json'),
      JSON.stringify({
        version: 1,
        seed: 1,
        imageRoot: 'imgs',
        size: { width: 128, height: 256 },
        identities,
        images: [],
      }),
    );
    return dir;
  }
  const base = people(1, 7)[0] as PersonAttributes;
  const reading = {
    top: base.top.colour,
    bottom: base.bottom.colour,
    shoes: base.shoes.colour,
    hair: base.hair.colour,
    hat: base.hat.colour,
    bag:
      base.bag.type === 'none'
        ? null
        : { type: base.bag.type, colour: base.bag.colour as NonNullable<typeof base.bag.colour> },
  };

  it('knows everything about the one identity wearing these colours', async () => {
    const world = await loadWorld(await worldOf([base]));
    expect(factsFromReading(reading, world)).toEqual({ facts: factsOf(base), candidates: 1, personId: 1 });
  });

  it('knows only what all look-alikes agree on, and only colours without a world or a match', async () => {
    const twin: PersonAttributes = {
      ...base,
      sex: base.sex === 'man' ? 'woman' : 'man',
      glasses: !base.glasses,
    };
    const world = await loadWorld(await worldOf([base, twin]));
    const { facts, candidates, personId } = factsFromReading(reading, world);
    expect([candidates, personId]).toEqual([2, null]);
    expect(facts.sex).toBeUndefined();
    expect(facts.glasses).toBeUndefined();
    expect(facts.topType).toBe(base.top.type);
    const stranger = factsFromReading(
      { ...reading, shoes: base.shoes.colour === 'red' ? 'blue' : 'red' },
      world,
    );
    expect(stranger.candidates).toBe(0);
    expect(Object.keys(stranger.facts).sort()).toEqual(
      Object.keys(factsFromReading(reading, null).facts).sort(),
    );
    expect(stranger.facts.sex).toBeUndefined();
  });

  it('says what to do when the world folder is not a world', async () => {
    await expect(loadWorld(await mkdtemp(path.join(tmpdir(), 'ctgi-oracle-empty-')))).rejects.toThrow(
      /ctgi synth --out DIR/,
    );
  });
});
