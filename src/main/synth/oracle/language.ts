// The oracle's reading of English: which facts a sentence claims ("a young woman in a red t-shirt"
// claims sex, age, top colour and top type) and what a question asks for. Deterministic pattern
// matching over a small lexicon — enough for captions in the style of CUHK-PEDES and for the question
// pool of MTG/MTI, phrased in any of the usual ways.
//
// Binding rules: a colour or length binds to the garment noun it precedes ("long black hair") or that
// a copula links it to ("the skirt is short", "the upper-body clothing is red"). A bag, cap or glasses
// under a negation in the same clause ("without glasses", "is not carrying a bag") is an absence.
import { COLOUR_NAMES } from '../../pipelines/attributes';
import { DOMAINS, type Facts, type Field, type Group } from './facts';

export interface Claim {
  field: Field;
  value: string;
  /** "the shirt is not red": true when the field must NOT have this value. */
  negated?: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Lexicon

const COLOUR_WORDS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(COLOUR_NAMES.map((c) => [c, c])),
  gray: 'grey',
  navy: 'blue',
  violet: 'purple',
  lilac: 'purple',
  lavender: 'purple',
  magenta: 'pink',
  crimson: 'red',
  scarlet: 'red',
  maroon: 'red',
  gold: 'yellow',
  golden: 'yellow',
  silver: 'grey',
  blond: 'yellow',
  blonde: 'yellow',
};

type Region = 'person' | 'hair' | 'top' | 'sleeves' | 'bottom' | 'shoes' | 'bag' | 'hat' | 'glasses';

interface Noun {
  region: Region;
  /** What the noun itself claims: "jeans" is bottomType=jeans, "woman" is sex=woman. */
  claims: readonly Claim[];
}

const c = (field: Field, value: string): Claim => ({ field, value });
const noun = (region: Region, ...claims: Claim[]): Noun => ({ region, claims });

const NOUNS: Readonly<Record<string, Noun>> = {
  person: noun('person'),
  pedestrian: noun('person'),
  individual: noun('person'),
  man: noun('person', c('sex', 'man')),
  men: noun('person', c('sex', 'man')),
  gentleman: noun('person', c('sex', 'man')),
  guy: noun('person', c('sex', 'man')),
  boy: noun('person', c('sex', 'man'), c('age', 'young')),
  woman: noun('person', c('sex', 'woman')),
  women: noun('person', c('sex', 'woman')),
  lady: noun('person', c('sex', 'woman')),
  girl: noun('person', c('sex', 'woman'), c('age', 'young')),
  hair: noun('hair'),
  hairstyle: noun('hair'),
  't-shirt': noun('top', c('topType', 't-shirt')),
  shirt: noun('top', c('topType', 'shirt')),
  blouse: noun('top', c('topType', 'shirt')),
  sweater: noun('top', c('topType', 'sweater')),
  jumper: noun('top', c('topType', 'sweater')),
  pullover: noun('top', c('topType', 'sweater')),
  sweatshirt: noun('top', c('topType', 'sweater')),
  jacket: noun('top', c('topType', 'jacket')),
  coat: noun('top', c('topType', 'jacket')),
  blazer: noun('top', c('topType', 'jacket')),
  hoodie: noun('top', c('topType', 'hoodie')),
  hoody: noun('top', c('topType', 'hoodie')),
  top: noun('top'),
  'upper-body': noun('top'),
  sleeve: noun('sleeves'),
  sleeves: noun('sleeves'),
  trousers: noun('bottom', c('bottomType', 'trousers')),
  slacks: noun('bottom', c('bottomType', 'trousers')),
  jeans: noun('bottom', c('bottomType', 'jeans')),
  denims: noun('bottom', c('bottomType', 'jeans')),
  shorts: noun('bottom', c('bottomType', 'shorts'), c('bottomLength', 'short')),
  skirt: noun('bottom', c('bottomType', 'skirt')),
  pants: noun('bottom'),
  bottoms: noun('bottom'),
  'lower-body': noun('bottom'),
  shoes: noun('shoes'),
  shoe: noun('shoes'),
  sneakers: noun('shoes'),
  trainers: noun('shoes'),
  boots: noun('shoes'),
  footwear: noun('shoes'),
  backpack: noun('bag', c('bag', 'yes'), c('bagType', 'backpack')),
  rucksack: noun('bag', c('bag', 'yes'), c('bagType', 'backpack')),
  knapsack: noun('bag', c('bag', 'yes'), c('bagType', 'backpack')),
  handbag: noun('bag', c('bag', 'yes'), c('bagType', 'handbag')),
  purse: noun('bag', c('bag', 'yes'), c('bagType', 'handbag')),
  'shoulder-bag': noun('bag', c('bag', 'yes'), c('bagType', 'shoulder bag')),
  satchel: noun('bag', c('bag', 'yes'), c('bagType', 'shoulder bag')),
  bag: noun('bag', c('bag', 'yes')),
  bags: noun('bag', c('bag', 'yes')),
  cap: noun('hat', c('hat', 'yes')),
  hat: noun('hat', c('hat', 'yes')),
  beanie: noun('hat', c('hat', 'yes')),
  headwear: noun('hat', c('hat', 'yes')),
  glasses: noun('glasses', c('glasses', 'yes')),
  sunglasses: noun('glasses', c('glasses', 'yes')),
  spectacles: noun('glasses', c('glasses', 'yes')),
  eyeglasses: noun('glasses', c('glasses', 'yes')),
  eyewear: noun('glasses', c('glasses', 'yes')),
};

const AGE_WORDS: Readonly<Record<string, string>> = {
  young: 'young',
  teen: 'young',
  teenage: 'young',
  teenager: 'young',
  youth: 'young',
  elderly: 'elderly',
  senior: 'elderly',
  'middle-aged': 'adult',
  adult: 'adult',
};

const PRONOUNS: Readonly<Record<string, string>> = {
  he: 'man',
  his: 'man',
  him: 'man',
  she: 'woman',
  her: 'woman',
  hers: 'woman',
};

/** Words that may sit between a determiner and a noun without changing what it is. */
const SKIPPABLE = new Set([
  'dark',
  'light',
  'bright',
  'pale',
  'deep',
  'plain',
  'simple',
  'casual',
  'solid',
  'small',
  'large',
  'big',
  'little',
  'medium',
  'loose',
  'tight',
  'baggy',
  'slim',
  'pair',
  'of',
  'coloured',
  'colored',
  'colour',
  'color',
  'sleeved',
  'baseball',
  'sports',
  'sport',
  'casual',
  'denim',
  'knee-length',
  'full-length',
  'old',
]);
/** Words after a garment noun that do not end its phrase: "upper-body clothing is red". */
const FILLERS = new Set([
  'clothing',
  'clothes',
  'garment',
  'garments',
  'wear',
  'outfit',
  'colour',
  'color',
  'that',
  'which',
]);
const COPULAS = new Set([
  'is',
  'are',
  'was',
  'were',
  'looks',
  'look',
  'appears',
  'appear',
  'seems',
  'seem',
  'be',
  'being',
  'to',
  'mostly',
  'all',
  'entirely',
  'mainly',
  'quite',
  'very',
  'rather',
  'fairly',
]);
const CLAUSE_BREAKS = new Set([
  '.',
  ',',
  ';',
  ':',
  '!',
  '?',
  'and',
  'but',
  'while',
  'although',
  'who',
  'which',
  'that',
  'yes',
  'or',
]);
const NEGATORS = new Set([
  'no',
  'not',
  'without',
  'never',
  'nor',
  'neither',
  'none',
  'dont',
  'doesnt',
  'isnt',
  'arent',
  'wasnt',
  'hasnt',
]);
const isNegator = (t: string): boolean => NEGATORS.has(t) || t.endsWith("n't");

// ---------------------------------------------------------------------------------------------------
// Tokens

/** Lower case, straight quotes, and the multi-word names of things joined into single tokens. */
export function normalise(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/'s\b/g, '')
    .replace(/\bupper[\s-]+body\b|\bupper\s+(?=garment|clothing|clothes|part)/g, 'upper-body ')
    .replace(/\blower[\s-]+body\b|\blower\s+(?=garment|clothing|clothes|part)/g, 'lower-body ')
    .replace(/\b(?:shoulder|messenger|crossbody|cross-body|sling)[\s-]+bags?\b/g, 'shoulder-bag')
    .replace(/\bhand[\s-]+bags?\b/g, 'handbag')
    .replace(/\bback[\s-]+packs?\b/g, 'backpack')
    .replace(/\b(?:t|tee)[\s-]?shirts?\b|\btees?\b/g, 't-shirt')
    .replace(/\b(short|long)[\s-]+sleeve[sd]?\b/g, (_m, l: string) => `${l}-sleeved`)
    .replace(/\bsleeveless\b/g, 'short-sleeved')
    .replace(/\b(short|long)[\s-]+haired\b/g, (_m, l: string) => `${l}-haired`)
    .replace(/\bmiddle[\s-]+aged\b/g, 'middle-aged')
    .replace(/\beye\s+glasses\b/g, 'eyeglasses')
    .replace(/\s+/g, ' ');
}

export function tokenize(normalised: string): string[] {
  return normalised.match(/[a-z]+(?:[-'][a-z]+)*|[.,;:!?]/g) ?? [];
}

// ---------------------------------------------------------------------------------------------------
// Claims

export interface ParseOptions {
  /** Whether "she"/"he" claim a sex. True for descriptions; false for questions ("what is he or she wearing?"). */
  pronouns?: boolean;
  /** A yes/no question puts the adjective after the noun without a copula: "Is the upper-body clothing red?". */
  question?: boolean;
}

function colourField(region: Region): Field | null {
  switch (region) {
    case 'hair':
      return 'hairColour';
    case 'top':
    case 'sleeves':
      return 'topColour';
    case 'bottom':
      return 'bottomColour';
    case 'shoes':
      return 'shoesColour';
    case 'bag':
      return 'bagColour';
    case 'hat':
      return 'hatColour';
    default:
      return null;
  }
}

function lengthField(region: Region): Field | null {
  return region === 'hair'
    ? 'hairLength'
    : region === 'sleeves'
      ? 'sleeves'
      : region === 'bottom'
        ? 'bottomLength'
        : null;
}

/** A modifier word's meaning for a noun of `region`, or null when the word is not a modifier. */
function modifier(word: string, region: Region): Claim[] | null {
  const colour = COLOUR_WORDS[word];
  if (colour !== undefined) {
    const f = colourField(region);
    return f ? [c(f, colour)] : [];
  }
  if (word === 'short' || word === 'long') {
    const f = lengthField(region);
    return f ? [c(f, word)] : [];
  }
  if (word === 'short-sleeved' || word === 'long-sleeved')
    return [c('sleeves', word.slice(0, word.indexOf('-')))];
  if (word === 'short-haired' || word === 'long-haired')
    return [c('hairLength', word.slice(0, word.indexOf('-')))];
  const age = AGE_WORDS[word] ?? (word === 'old' && region === 'person' ? 'elderly' : undefined);
  if (age !== undefined) return region === 'person' ? [c('age', age)] : [];
  if (SKIPPABLE.has(word)) return [];
  // "red-and-white", "dark-blue", "bluish": the colour part of a hyphenated word.
  const parts = word.split('-');
  if (parts.length > 1 && parts.some((p) => COLOUR_WORDS[p] !== undefined || SKIPPABLE.has(p))) {
    const f = colourField(region);
    const colours = parts.map((p) => COLOUR_WORDS[p]).filter((x): x is string => x !== undefined);
    return f ? colours.map((x) => c(f, x)) : [];
  }
  return null;
}

/** Whether a negation governs the phrase that starts at `start` (looking back within its clause). */
function negatedAt(tokens: readonly string[], start: number): boolean {
  for (let i = start - 1; i >= 0 && i >= start - 6; i--) {
    const t = tokens[i] as string;
    if (isNegator(t)) return true;
    if (CLAUSE_BREAKS.has(t)) return false;
  }
  return false;
}

/** Every claim the text makes, in order of appearance (duplicates removed). */
export function parseClaims(text: string, opts: ParseOptions = {}): Claim[] {
  const tokens = tokenize(normalise(text));
  const out: Claim[] = [];
  const push = (cl: Claim): void => {
    if (!out.some((o) => o.field === cl.field && o.value === cl.value && !!o.negated === !!cl.negated))
      out.push(cl);
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (opts.pronouns !== false && PRONOUNS[t]) push(c('sex', PRONOUNS[t]));
    if (t === 'short-sleeved' || t === 'long-sleeved') push(c('sleeves', t.slice(0, t.indexOf('-'))));
    if (t === 'short-haired' || t === 'long-haired') push(c('hairLength', t.slice(0, t.indexOf('-'))));
    if (AGE_WORDS[t] && !(t === 'adult' && tokens[i + 1] && NOUNS[tokens[i + 1] as string]))
      push(c('age', AGE_WORDS[t]));
    const n = NOUNS[t];
    if (!n) continue;
    // "a pair of glasses" / "the person's hair": skip an apostrophe-s owner; "hair" after "long-haired" is fine.
    const mods: Claim[] = [];
    let start = i;
    for (let j = i - 1; j >= 0; j--) {
      const m = modifier(tokens[j] as string, n.region);
      if (m === null) break;
      mods.push(...m);
      start = j;
    }
    // Postposed: "hair is long and black", "the upper-body clothing is not red".
    const post: Claim[] = [];
    let k = i + 1;
    while (k < tokens.length && FILLERS.has(tokens[k] as string)) k++;
    let sawCopula = false;
    let postNegated = false;
    while (k < tokens.length && (COPULAS.has(tokens[k] as string) || isNegator(tokens[k] as string))) {
      if (isNegator(tokens[k] as string)) postNegated = true;
      else sawCopula = true;
      k++;
    }
    if (sawCopula || opts.question) {
      for (; k < tokens.length; k++) {
        const w = tokens[k] as string;
        if (w === 'and' || SKIPPABLE.has(w) || w === 'in') continue;
        const m = modifier(w, n.region);
        if (m === null || m.length === 0) break;
        post.push(...m.map((x) => (postNegated ? { ...x, negated: true } : x)));
      }
    }
    const negated = negatedAt(tokens, start);
    if (negated) {
      // Only an absence is clear enough to use: "no bag", "without glasses", "not wearing a cap".
      // A negated garment ("not a red shirt") could be wrong in any of its parts, so it says nothing.
      if (mods.length === 0 && (n.region === 'bag' || n.region === 'hat' || n.region === 'glasses')) {
        const typed = n.claims.find((x) => x.field === 'bagType');
        if (typed && t !== 'bag' && t !== 'bags') push({ ...typed, negated: true });
        else push(c(n.region, 'no'));
      }
      continue;
    }
    for (const cl of n.claims) push(cl);
    for (const cl of mods.reverse()) push(cl);
    for (const cl of post) push(cl);
  }
  return out;
}

/** Facts stated by a text: the last claim on a field wins; negated claims only remove a value they deny. */
export function applyClaims(
  facts: Facts,
  claims: readonly Claim[],
  set: (f: Facts, field: Field, value: string) => void,
): void {
  for (const cl of claims) {
    if (cl.negated) {
      if (facts[cl.field] === cl.value) delete facts[cl.field];
    } else set(facts, cl.field, cl.value);
  }
}

// ---------------------------------------------------------------------------------------------------
// Questions

export type Intent =
  /** What is X? `fields` are the fields asked for (one group). */
  | { kind: 'wh'; group: Group; fields: readonly Field[] }
  /** Is it so? `claims` are what must hold (presence claims for "is there a bag?"). */
  | { kind: 'yesno'; claims: readonly Claim[]; group: Group | null }
  /** "Is the person holding anything in their hands?" (only a handbag is ever held). */
  | { kind: 'inHand' }
  /** The colour of the whole image (the endpoint probe's red square). */
  | { kind: 'imageColour' }
  /** A pool question about something the world never has or the image does not show. */
  | { kind: 'fixed'; answer: string; yes?: boolean }
  | { kind: 'unknown' };

const AUX = new Set([
  'is',
  'are',
  'does',
  'do',
  'did',
  'can',
  'could',
  'has',
  'have',
  'was',
  'were',
  'would',
  'will',
  'should',
]);

/** Region words a question may use without naming a garment. */
const QUESTION_REGIONS: readonly [RegExp, Group][] = [
  [
    /\b(?:upper-body|top|torso|chest|t-shirt|shirt|blouse|sweater|jumper|jacket|coat|hoodie|sleeves?|sleeved|short-sleeved|long-sleeved)\b/,
    'top',
  ],
  [/\b(?:lower-body|bottoms?|pants|trousers|jeans|shorts|skirt|legs?)\b/, 'bottom'],
  [/\b(?:shoes?|footwear|feet|sneakers|boots|trainers)\b/, 'shoes'],
  [/\b(?:hair|hairstyle|haired)\b/, 'hair'],
  [/\b(?:bags?|backpack|handbag|shoulder-bag|purse|rucksack|carrying|carry|carries)\b/, 'bag'],
  [/\b(?:hats?|cap|headwear|beanie|head)\b/, 'hat'],
  [/\b(?:glasses|sunglasses|spectacles|eyeglasses|eyewear)\b/, 'glasses'],
  [/\b(?:sex|gender|male|female|man|woman|boy|girl|men|women)\b/, 'person'],
  [/\b(?:age|old|young|elderly|adult|middle-aged)\b/, 'person'],
];

type Aspect = 'colour' | 'type' | 'length' | 'sleeves' | 'sex' | 'age' | null;

function aspectOf(q: string, group: Group): Aspect {
  if (group === 'person') {
    if (
      /\b(?:age|old|young|elderly|adult|middle-aged)\b/.test(q) &&
      !/\b(?:sex|gender|male|female|man|woman)\b/.test(q)
    )
      return 'age';
    return 'sex';
  }
  if (/\bsleeve|sleeved\b/.test(q)) return 'sleeves';
  if (/\bcolou?rs?\b|\bshade\b|\bwhat colou?r/.test(q)) return 'colour';
  if (/\b(?:type|kind|sort|style)\b/.test(q)) return 'type';
  if (/\b(?:length|long|short|how long)\b/.test(q)) return 'length';
  return null;
}

function fieldsFor(group: Group, aspect: Aspect): readonly Field[] {
  switch (group) {
    case 'person':
      return aspect === 'age' ? ['age'] : ['sex'];
    case 'hair':
      return aspect === 'colour'
        ? ['hairColour']
        : aspect === 'length'
          ? ['hairLength']
          : ['hairLength', 'hairColour'];
    case 'top':
      if (aspect === 'colour') return ['topColour'];
      if (aspect === 'type') return ['topType'];
      if (aspect === 'sleeves' || aspect === 'length') return ['sleeves'];
      return ['topColour', 'topType'];
    case 'bottom':
      if (aspect === 'colour') return ['bottomColour'];
      if (aspect === 'type') return ['bottomType'];
      if (aspect === 'length') return ['bottomLength'];
      return ['bottomColour', 'bottomType'];
    case 'shoes':
      return ['shoesColour'];
    case 'bag':
      return aspect === 'colour'
        ? ['bagColour']
        : aspect === 'type'
          ? ['bagType']
          : ['bag', 'bagType', 'bagColour'];
    case 'hat':
      return aspect === 'colour' ? ['hatColour'] : ['hat', 'hatColour'];
    case 'glasses':
      return ['glasses'];
  }
}

/** "long or short", "a man or a woman", "red or blue": an alternative question names two values of one kind. */
function asksAlternative(q: string): boolean {
  const m = /\b([a-z-]+) or (?:an? )?([a-z-]+)\b/.exec(q);
  if (!m) return false;
  const [a, b] = [m[1] as string, m[2] as string];
  const kind = (w: string): string | null =>
    COLOUR_WORDS[w]
      ? 'colour'
      : /^(?:long|short)(?:-sleeved|-haired)?$/.test(w)
        ? 'length'
        : ['man', 'woman', 'male', 'female', 'boy', 'girl'].includes(w)
          ? 'sex'
          : AGE_WORDS[w] || w === 'old'
            ? 'age'
            : null;
  const ka = kind(a);
  return ka !== null && ka === kind(b) && a !== b;
}

/** What a question asks about the image. */
export function understandQuestion(question: string): Intent {
  const q = normalise(question).trim();
  const tokens = tokenize(q);
  const regions = QUESTION_REGIONS.filter(([re]) => re.test(q)).map(([, g]) => g);
  // The first garment-like region mentioned wins; "person" only when nothing else is named.
  const firstHit = (): Group | null => {
    let best: Group | null = null;
    let bestAt = Infinity;
    for (const [re, g] of QUESTION_REGIONS) {
      if (g === 'person') continue;
      const m = re.exec(q);
      if (m && m.index < bestAt) {
        bestAt = m.index;
        best = g;
      }
    }
    return best ?? (regions.includes('person') ? 'person' : null);
  };
  // Items in hand: in this world, only a handbag is held.
  if (
    /\b(?:in (?:his|her|their|the) hands?|holding|hold|holds)\b/.test(q) &&
    !/\bbag|backpack|handbag/.test(q)
  )
    return { kind: 'inHand' };
  const group = firstHit();
  if (group === null) {
    if (/\bcolou?r\b/.test(q) && /\b(?:image|picture|photo|this)\b/.test(q)) return { kind: 'imageColour' };
    return fixedAnswer(q);
  }
  const first = tokens[0] ?? '';
  const yesNo = AUX.has(first) || /^(?:is|are|does|do) there\b/.test(q);
  if (yesNo && !asksAlternative(q)) {
    let claims = parseClaims(question, { pronouns: false, question: true });
    // "a bag or a backpack", "a hat or a cap": either will do, so only the presence is asked.
    const either = /\b([a-z-]+) or (?:an? )?([a-z-]+)\b/.exec(q);
    const [na, nb] = either
      ? [NOUNS[either[1] as string], NOUNS[either[2] as string]]
      : [undefined, undefined];
    if (na && nb && na.region === nb.region && na !== nb) {
      const typed = new Set(
        [...na.claims, ...nb.claims].filter((x) => x.field !== na.region).map((x) => x.field),
      );
      claims = claims.filter((x) => !typed.has(x.field));
    }
    if (/\bmale\b/.test(q)) claims.push(c('sex', 'man'));
    if (/\bfemale\b/.test(q)) claims.push(c('sex', 'woman'));
    if (claims.length === 0 && (group === 'bag' || group === 'hat' || group === 'glasses')) {
      const neg = /\b(?:no|not|without|n't)\b/.test(q);
      claims = [c(group, neg ? 'no' : 'yes')];
    }
    // "Is it a t-shirt, a shirt or a jacket?" names several values of one field: it asks which.
    const several = claims.some((a) =>
      claims.some((b) => a.field === b.field && a.value !== b.value && !a.negated && !b.negated),
    );
    if (claims.length > 0 && !several) return { kind: 'yesno', claims, group };
  }
  const aspect = aspectOf(q, group);
  return { kind: 'wh', group, fields: fieldsFor(group, aspect) };
}

/** Pool questions the world answers the same way for everyone, or cannot answer from a picture. */
function fixedAnswer(q: string): Intent {
  if (
    /\b(?:pattern|patterned|patterns|stripes?|striped|plaid|checked|checkered|print|printed|logo|logos|graphic)\b/.test(
      q,
    )
  ) {
    return { kind: 'fixed', answer: 'The clothes are plain, without any visible pattern.', yes: false };
  }
  if (/\bscarf|scarves\b/.test(q))
    return { kind: 'fixed', answer: 'No, the person is not wearing a scarf.', yes: false };
  if (/\bumbrella\b/.test(q))
    return { kind: 'fixed', answer: 'No, the person is not holding an umbrella.', yes: false };
  if (/\b(?:other people|another person|anyone else|others|other persons|someone else|crowd)\b/.test(q)) {
    return { kind: 'fixed', answer: 'No, there is only one person in the image.', yes: false };
  }
  if (/\bbelt\b/.test(q)) return { kind: 'fixed', answer: 'Cannot tell; no belt is visible.' };
  if (/\b(?:background|scene|setting|location|where)\b/.test(q))
    return { kind: 'fixed', answer: 'Cannot tell; the background shows nothing distinctive.' };
  if (
    /\b(?:doing|action|activity|walking|running|riding|bicycle|bike|standing|sitting|posture|pose|facing|view|orientation|direction|seen from|front|side)\b/.test(
      q,
    )
  ) {
    return { kind: 'fixed', answer: 'Cannot tell from this image.' };
  }
  return { kind: 'unknown' };
}

const PRESENCE: ReadonlySet<Field> = new Set(['bag', 'hat', 'glasses']);

/** Domain values a bare short answer ("Red.", "Long.", "A backpack.") may name, for a field asked about. */
export function valueIn(answer: string, field: Field): string | null {
  const tokens = tokenize(normalise(answer));
  for (const t of tokens) {
    const v =
      COLOUR_WORDS[t] ??
      (t === 'male'
        ? 'man'
        : t === 'female'
          ? 'woman'
          : t === 'shoulder-bag'
            ? 'shoulder bag'
            : (AGE_WORDS[t] ?? t));
    // Presence fields are answered by a leading yes/no, never by a bare word.
    if (!PRESENCE.has(field) && DOMAINS[field].includes(v)) return v;
    const n = NOUNS[t];
    const fromNoun = n?.claims.find((x) => x.field === field);
    if (fromNoun) return fromNoun.value;
  }
  return null;
}

/** "Yes"/"No" as the first word, as MTI reads answers ("eyes" is not a yes). */
export function leadingYesNo(text: string): 'yes' | 'no' | null {
  const m = /^\W*(yes|no)\b/i.exec(text);
  return m ? ((m[1] as string).toLowerCase() as 'yes' | 'no') : null;
}
