// What the oracle knows (or has been told) about one person, as flat fields with string values, and
// how it says those facts in English. A flat record keeps the three jobs that use it simple: checking
// a claim against what the image shows, merging what a caption and answers state, and picking a wrong
// value when the oracle is asked to err.
import {
  AGE_GROUPS,
  BOTTOM_LENGTHS,
  BOTTOM_TYPES,
  COLOUR_NAMES,
  HAIR_COLOURS,
  HAIR_LENGTHS,
  SEXES,
  SLEEVE_LENGTHS,
  TOP_TYPES,
  type PersonAttributes,
} from '../../pipelines/attributes';

export const FIELDS = [
  'sex',
  'age',
  'hairLength',
  'hairColour',
  'topColour',
  'topType',
  'sleeves',
  'bottomColour',
  'bottomType',
  'bottomLength',
  'shoesColour',
  'bag',
  'bagType',
  'bagColour',
  'hat',
  'hatColour',
  'glasses',
] as const;
export type Field = (typeof FIELDS)[number];

/** Known fields only; a missing field means "cannot tell". `bag`, `hat`, `glasses` are 'yes' | 'no'. */
export type Facts = Partial<Record<Field, string>>;

const YES_NO = ['yes', 'no'] as const;

/** Every value a field can take in the synthetic world (what a wrong answer is drawn from). */
export const DOMAINS: Readonly<Record<Field, readonly string[]>> = {
  sex: SEXES,
  age: AGE_GROUPS,
  hairLength: HAIR_LENGTHS,
  hairColour: HAIR_COLOURS,
  topColour: COLOUR_NAMES,
  topType: TOP_TYPES,
  sleeves: SLEEVE_LENGTHS,
  bottomColour: COLOUR_NAMES,
  bottomType: BOTTOM_TYPES,
  bottomLength: BOTTOM_LENGTHS,
  shoesColour: COLOUR_NAMES,
  bag: YES_NO,
  bagType: ['backpack', 'handbag', 'shoulder bag'],
  bagColour: COLOUR_NAMES,
  hat: YES_NO,
  hatColour: COLOUR_NAMES,
  glasses: YES_NO,
};

/** Fields that are said together (one answer, one clause of a caption). */
export const GROUPS = {
  person: ['sex', 'age'],
  hair: ['hairLength', 'hairColour'],
  top: ['topColour', 'topType', 'sleeves'],
  bottom: ['bottomColour', 'bottomType', 'bottomLength'],
  shoes: ['shoesColour'],
  bag: ['bag', 'bagType', 'bagColour'],
  hat: ['hat', 'hatColour'],
  glasses: ['glasses'],
} as const satisfies Record<string, readonly Field[]>;
export type Group = keyof typeof GROUPS;
export const GROUP_OF: Readonly<Record<Field, Group>> = Object.fromEntries(
  (Object.entries(GROUPS) as [Group, readonly Field[]][]).flatMap(([g, fs]) => fs.map((f) => [f, g])),
) as Record<Field, Group>;

/** The whole truth about an identity of the world. */
export function factsOf(a: PersonAttributes): Facts {
  const f: Facts = {
    sex: a.sex,
    age: a.ageGroup,
    hairLength: a.hair.length,
    hairColour: a.hair.colour,
    topColour: a.top.colour,
    topType: a.top.type,
    sleeves: a.top.sleeves,
    bottomColour: a.bottom.colour,
    bottomType: a.bottom.type,
    bottomLength: a.bottom.length,
    shoesColour: a.shoes.colour,
    bag: a.bag.type === 'none' ? 'no' : 'yes',
    hat: a.hat.type === 'none' ? 'no' : 'yes',
    glasses: a.glasses ? 'yes' : 'no',
  };
  if (a.bag.type !== 'none') {
    f.bagType = a.bag.type;
    if (a.bag.colour) f.bagColour = a.bag.colour;
  }
  if (a.hat.colour) f.hatColour = a.hat.colour;
  return f;
}

/**
 * Sets a field and keeps the record coherent: a bag's type or colour means there is a bag, "no bag"
 * clears them (likewise for the cap).
 */
export function setFact(f: Facts, field: Field, value: string): void {
  f[field] = value;
  if ((field === 'bagType' || field === 'bagColour') && f.bag !== 'yes') f.bag = 'yes';
  if (field === 'hatColour' && f.hat !== 'yes') f.hat = 'yes';
  if (field === 'bag' && value === 'no') {
    delete f.bagType;
    delete f.bagColour;
  }
  if (field === 'hat' && value === 'no') delete f.hatColour;
}

// ---------------------------------------------------------------------------------------------------
// Saying facts

const PLURAL_HEADS = new Set([
  'trousers',
  'jeans',
  'shorts',
  'pants',
  'shoes',
  'glasses',
  'sleeves',
  'hair',
  'clothes',
]);

/** "a red t-shirt", "an orange cap", "blue jeans", "black pants". */
export function withArticle(phrase: string): string {
  const head = phrase.split(' ').at(-1) ?? '';
  if (PLURAL_HEADS.has(head)) return phrase;
  return /^[aeiou]/.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}

export const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

export function listPhrases(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

const words = (...parts: (string | undefined | null | false)[]): string => parts.filter(Boolean).join(' ');

/** "young woman", "man", "person" (an adult is just "man"/"woman", as the world's captions say). */
export function personPhrase(f: Facts): string {
  return words(f.age && f.age !== 'adult' ? f.age : null, f.sex ?? 'person');
}

/** "long black hair", "short hair"; null when nothing about the hair is known. */
export function hairPhrase(f: Facts): string | null {
  if (!f.hairLength && !f.hairColour) return null;
  return words(f.hairLength, f.hairColour, 'hair');
}

/** "red t-shirt", "red top" (type unknown), "jacket" (colour unknown); null when neither is known. */
export function topPhrase(f: Facts): string | null {
  if (!f.topColour && !f.topType) return null;
  return words(f.topColour, f.topType ?? 'top');
}

/** "blue jeans", "short red skirt", "long grey pants" (type unknown). */
export function bottomPhrase(f: Facts): string | null {
  if (!f.bottomColour && !f.bottomType) return null;
  const type = f.bottomType ?? 'pants';
  // The length is only worth saying where the type leaves it open.
  const length = type === 'skirt' || type === 'pants' ? f.bottomLength : undefined;
  return words(length, f.bottomColour, type);
}

export function shoesPhrase(f: Facts): string | null {
  return f.shoesColour ? `${f.shoesColour} shoes` : null;
}

/** "red backpack", "bag" (type and colour unknown); null unless there is a bag. */
export function bagPhrase(f: Facts): string | null {
  if (f.bag !== 'yes') return null;
  return words(f.bagColour, f.bagType ?? 'bag');
}

/** The world's only hat is a cap. */
export function hatPhrase(f: Facts): string | null {
  if (f.hat !== 'yes') return null;
  return words(f.hatColour, 'cap');
}

/** The top with its sleeves: "a red t-shirt with short sleeves". */
function topWithSleeves(f: Facts): string | null {
  const top = topPhrase(f);
  if (!top) return f.sleeves ? `a top with ${f.sleeves} sleeves` : null;
  return f.sleeves ? `${withArticle(top)} with ${f.sleeves} sleeves` : withArticle(top);
}

/**
 * A caption stating every known fact and nothing else, worded like the world's template captions:
 * "A young woman with long black hair, wearing a red t-shirt with short sleeves, blue jeans and white
 * shoes. She carries a black backpack and wears glasses." Absent items are left unsaid, as in the
 * datasets' captions.
 */
export function captionOf(f: Facts): string {
  const hair = hairPhrase(f);
  const worn = [
    topWithSleeves(f),
    bottomPhrase(f) && withArticle(bottomPhrase(f) as string),
    shoesPhrase(f),
  ].filter((s): s is string => !!s);
  let first = capitalise(withArticle(personPhrase(f)));
  if (hair) first += ` with ${hair}`;
  if (worn.length > 0) first += `${hair ? ',' : ''} wearing ${listPhrases(worn)}`;
  const extras = extrasClause(f);
  return `${first}.${extras ? ` ${extras}` : ''}`;
}

/** "She carries a red backpack and wears a blue cap and glasses." or '' when nothing is carried or worn. */
function extrasClause(f: Facts): string {
  const subject = pronoun(f);
  const parts: string[] = [];
  const bag = bagPhrase(f);
  if (bag) parts.push(`carries ${withArticle(bag)}`);
  const worn = [
    hatPhrase(f) && withArticle(hatPhrase(f) as string),
    f.glasses === 'yes' ? 'glasses' : null,
  ].filter((s): s is string => !!s);
  if (worn.length > 0) parts.push(`wears ${listPhrases(worn)}`);
  return parts.length > 0 ? `${capitalise(subject)} ${listPhrases(parts)}.` : '';
}

/** "she", "he", or "the person" (singular verbs work with all three). */
export function pronoun(f: Facts): string {
  return f.sex === 'woman' ? 'she' : f.sex === 'man' ? 'he' : 'the person';
}

/**
 * Clauses for a subset of groups, with a subject: "She has long hair, wears white shoes and carries a
 * red backpack." Used to add what answers told to a query without rewriting the query.
 */
export function clausesFor(f: Facts, groups: readonly Group[]): string {
  const parts: string[] = [];
  for (const g of groups) {
    switch (g) {
      case 'person':
        if (f.age) parts.push(f.age === 'adult' ? 'is an adult' : `is ${f.age}`);
        break;
      case 'hair': {
        const h = hairPhrase(f);
        if (h) parts.push(`has ${h}`);
        break;
      }
      case 'top': {
        const t = topWithSleeves(f);
        if (t) parts.push(`wears ${t}`);
        break;
      }
      case 'bottom': {
        const b = bottomPhrase(f);
        if (b) parts.push(`wears ${withArticle(b)}`);
        break;
      }
      case 'shoes': {
        const s = shoesPhrase(f);
        if (s) parts.push(`wears ${s}`);
        break;
      }
      case 'bag': {
        const b = bagPhrase(f);
        if (b) parts.push(`carries ${withArticle(b)}`);
        else if (f.bag === 'no') parts.push('carries no bag');
        break;
      }
      case 'hat': {
        const h = hatPhrase(f);
        if (h) parts.push(`wears ${withArticle(h)}`);
        else if (f.hat === 'no') parts.push('wears no hat');
        break;
      }
      case 'glasses':
        if (f.glasses === 'yes') parts.push('wears glasses');
        else if (f.glasses === 'no') parts.push('wears no glasses');
        break;
    }
  }
  return parts.length > 0 ? `${capitalise(pronoun(f))} ${listPhrases(parts)}.` : '';
}
