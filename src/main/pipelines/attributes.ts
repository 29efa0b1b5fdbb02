// The person-attribute model: what a person can wear, the colour palette, per-identity sampling, and
// the phrases/captions that describe a person. Evaluation derives its one-attribute queries from it
// (eval.ts, eval-mti.ts, with the ground truth of `attributes.json`); the synthetic world renders from
// it, and the toy CLIP text tower and the oracle MLLM read its vocabulary, so every word they may need
// is exported here as data, not buried in templates. It lives in pipelines/ (plain functions, no I/O)
// because evaluation must read it and synth/ sits above pipelines (CONTEXT.md, layers).
import type { Rng } from '../rng';

/**
 * The clothing palette, sRGB. Chosen far apart (every pair ≥ ~95 apart in RGB, most far more) so that
 * the mean colour of a region core, after lighting (×0.85–1.15), resizing and JPEG, is still nearest to
 * the colour it was painted with.
 */
export const COLOURS = {
  black: [25, 25, 25],
  white: [235, 235, 235],
  grey: [128, 128, 128],
  red: [200, 30, 35],
  blue: [30, 70, 190],
  green: [40, 140, 50],
  yellow: [240, 215, 40],
  orange: [240, 120, 20],
  purple: [120, 45, 150],
  pink: [235, 110, 180],
  brown: [115, 70, 35],
} as const satisfies Record<string, readonly [number, number, number]>;

export type ColourName = keyof typeof COLOURS;
export type Rgb = readonly [number, number, number];
export const COLOUR_NAMES = Object.keys(COLOURS) as ColourName[];

export const SEXES = ['man', 'woman'] as const;
export type Sex = (typeof SEXES)[number];
export const AGE_GROUPS = ['young', 'adult', 'elderly'] as const;
export type AgeGroup = (typeof AGE_GROUPS)[number];
export const HAIR_LENGTHS = ['short', 'long'] as const;
export type HairLength = (typeof HAIR_LENGTHS)[number];
/** Hair is painted with palette colours too, so the hair core classifies like any garment. */
export const HAIR_COLOURS = ['black', 'brown', 'grey', 'white'] as const satisfies readonly ColourName[];
export type HairColour = (typeof HAIR_COLOURS)[number];
// No coat or dress: a garment that hangs over the hips would hide the bottom garment's region core.
export const TOP_TYPES = ['t-shirt', 'shirt', 'sweater', 'jacket', 'hoodie'] as const;
export type TopType = (typeof TOP_TYPES)[number];
export const SLEEVE_LENGTHS = ['short', 'long'] as const;
export type SleeveLength = (typeof SLEEVE_LENGTHS)[number];
export const BOTTOM_TYPES = ['trousers', 'jeans', 'shorts', 'skirt'] as const;
export type BottomType = (typeof BOTTOM_TYPES)[number];
export const BOTTOM_LENGTHS = ['short', 'long'] as const;
export type BottomLength = (typeof BOTTOM_LENGTHS)[number];
export const BAG_TYPES = ['none', 'backpack', 'handbag', 'shoulder bag'] as const;
export type BagType = (typeof BAG_TYPES)[number];
export const HAT_TYPES = ['none', 'cap'] as const;
export type HatType = (typeof HAT_TYPES)[number];

export interface PersonAttributes {
  sex: Sex;
  ageGroup: AgeGroup;
  hair: { length: HairLength; colour: HairColour };
  top: { colour: ColourName; type: TopType; sleeves: SleeveLength };
  bottom: { colour: ColourName; type: BottomType; length: BottomLength };
  shoes: { colour: ColourName };
  /** colour is null exactly when type is 'none'. */
  bag: { type: BagType; colour: ColourName | null };
  /** colour is null exactly when type is 'none'; a cap never has the hair's colour (it would hide). */
  hat: { type: HatType; colour: ColourName | null };
  glasses: boolean;
}

/** Nouns that name something worn or carried, each with the attribute it belongs to. */
export const GARMENT_WORDS = {
  hair: 'hair',
  't-shirt': 'top',
  shirt: 'top',
  sweater: 'top',
  jacket: 'top',
  hoodie: 'top',
  sleeves: 'top',
  trousers: 'bottom',
  jeans: 'bottom',
  shorts: 'bottom',
  skirt: 'bottom',
  shoes: 'shoes',
  backpack: 'bag',
  handbag: 'bag',
  bag: 'bag',
  cap: 'hat',
  glasses: 'glasses',
} as const satisfies Record<string, 'hair' | 'top' | 'bottom' | 'shoes' | 'bag' | 'hat' | 'glasses'>;
export type GarmentWord = keyof typeof GARMENT_WORDS;

/** Every word the captions use to carry meaning, grouped, for toy text encoders and answer parsers. */
export const VOCABULARY = {
  colours: COLOUR_NAMES,
  garments: Object.keys(GARMENT_WORDS) as GarmentWord[],
  sexes: { man: ['man', 'he', 'his', 'him', 'male'], woman: ['woman', 'she', 'her', 'female'] },
  ages: { young: ['young'], adult: [], elderly: ['elderly'] },
  lengths: ['short', 'long'],
} as const;

// ---------------------------------------------------------------------------------------------------
// Sampling

/** Samples one identity. The caller retries with the same rng to avoid duplicate attribute sets. */
export function sampleAttributes(rng: Rng): PersonAttributes {
  const sex = rng.pick(SEXES);
  const woman = sex === 'woman';
  const ageGroup = rng.weighted<AgeGroup>([
    ['young', 0.35],
    ['adult', 0.5],
    ['elderly', 0.15],
  ]);
  const hairColour: HairColour =
    ageGroup === 'elderly'
      ? rng.weighted<HairColour>([
          ['grey', 0.5],
          ['white', 0.4],
          ['black', 0.05],
          ['brown', 0.05],
        ])
      : rng.weighted<HairColour>([
          ['black', 0.5],
          ['brown', 0.4],
          ['grey', 0.05],
          ['white', 0.05],
        ]);
  const hairLength: HairLength = rng.chance(woman ? 0.75 : 0.1) ? 'long' : 'short';

  const topType = rng.weighted<TopType>([
    ['t-shirt', 0.3],
    ['shirt', 0.2],
    ['sweater', 0.15],
    ['jacket', 0.2],
    ['hoodie', 0.15],
  ]);
  const sleeves: SleeveLength =
    topType === 't-shirt' ? 'short' : topType === 'shirt' && rng.chance(0.5) ? 'short' : 'long';
  const topColour = rng.pick(COLOUR_NAMES);

  const bottomType = rng.weighted<BottomType>(
    woman
      ? [
          ['trousers', 0.3],
          ['jeans', 0.3],
          ['shorts', 0.15],
          ['skirt', 0.25],
        ]
      : [
          ['trousers', 0.45],
          ['jeans', 0.35],
          ['shorts', 0.2],
        ],
  );
  // Top and bottom never share a colour, so "red top, blue bottom" and its swap are different people.
  const bottomChoices = COLOUR_NAMES.filter((c) => c !== topColour);
  const bottomColour =
    bottomType === 'jeans' && topColour !== 'blue' && rng.chance(0.5) ? 'blue' : rng.pick(bottomChoices);
  const bottomLength: BottomLength =
    bottomType === 'shorts'
      ? 'short'
      : bottomType === 'skirt'
        ? rng.chance(0.5)
          ? 'short'
          : 'long'
        : 'long';

  const shoesColour = rng.pick(COLOUR_NAMES);
  const bagType = rng.weighted<BagType>([
    ['none', 0.4],
    ['backpack', 0.25],
    ['handbag', woman ? 0.2 : 0.03],
    ['shoulder bag', 0.15],
  ]);
  const bagColour = bagType === 'none' ? null : rng.pick(COLOUR_NAMES);
  const hasCap = rng.chance(0.2);
  const hatColour = hasCap ? rng.pick(COLOUR_NAMES.filter((c) => c !== hairColour)) : null;
  const glasses = rng.chance(ageGroup === 'elderly' ? 0.5 : 0.15);

  return {
    sex,
    ageGroup,
    hair: { length: hairLength, colour: hairColour },
    top: { colour: topColour, type: topType, sleeves },
    bottom: { colour: bottomColour, type: bottomType, length: bottomLength },
    shoes: { colour: shoesColour },
    bag: { type: bagType, colour: bagColour },
    hat: { type: hasCap ? 'cap' : 'none', colour: hatColour },
    glasses,
  };
}

/** A stable key: two identities with the same key look the same. */
export function attributeKey(a: PersonAttributes): string {
  return JSON.stringify([
    a.sex,
    a.ageGroup,
    a.hair.length,
    a.hair.colour,
    a.top.colour,
    a.top.type,
    a.top.sleeves,
    a.bottom.colour,
    a.bottom.type,
    a.bottom.length,
    a.shoes.colour,
    a.bag.type,
    a.bag.colour,
    a.hat.type,
    a.hat.colour,
    a.glasses,
  ]);
}

// ---------------------------------------------------------------------------------------------------
// Phrases and captions

export interface AttributePhrases {
  /** "young woman", "man", "elderly man". */
  person: string;
  hair: string;
  top: string;
  sleeves: string;
  bottom: string;
  shoes: string;
  bag: string | null;
  hat: string | null;
  glasses: string | null;
}

/** The canonical phrase of each attribute, lower case, without articles. */
export function describeAttributes(a: PersonAttributes): AttributePhrases {
  const age = a.ageGroup === 'adult' ? '' : `${a.ageGroup} `;
  const bottom =
    a.bottom.type === 'skirt'
      ? `${a.bottom.length} ${a.bottom.colour} skirt`
      : `${a.bottom.colour} ${a.bottom.type}`;
  return {
    person: `${age}${a.sex}`,
    hair: `${a.hair.length} ${a.hair.colour} hair`,
    top: `${a.top.colour} ${a.top.type}`,
    sleeves: `${a.top.sleeves} sleeves`,
    bottom,
    shoes: `${a.shoes.colour} shoes`,
    bag: a.bag.type === 'none' ? null : `${a.bag.colour} ${a.bag.type}`,
    hat: a.hat.type === 'none' ? null : `${a.hat.colour} ${a.hat.type}`,
    glasses: a.glasses ? 'glasses' : null,
  };
}

/** Short phrases ("red t-shirt", "black trousers", "blue backpack"), one per attribute present. */
export function attributePhrases(a: PersonAttributes): string[] {
  const p = describeAttributes(a);
  return [p.person, p.hair, p.top, p.sleeves, p.bottom, p.shoes, p.bag, p.hat, p.glasses].filter(
    (s): s is string => s !== null,
  );
}

const PLURAL_HEADS = new Set(['trousers', 'jeans', 'shorts', 'shoes', 'glasses', 'sleeves', 'hair']);

/** "a red t-shirt", "an orange cap", "blue jeans". */
export function withArticle(phrase: string): string {
  const head = phrase.split(' ').at(-1) ?? '';
  if (PLURAL_HEADS.has(head)) return phrase;
  return /^[aeiou]/.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * A natural 1–3 sentence caption that states every attribute, in one of several phrasings. Each
 * canonical phrase of `attributePhrases` appears verbatim (case aside), so a test can check coverage.
 */
export function templateCaption(a: PersonAttributes, rng: Rng): string {
  const p = describeAttributes(a);
  const he = a.sex === 'woman' ? 'she' : 'he';
  const top = `${withArticle(p.top)} with ${p.sleeves}`;
  const bottom = withArticle(p.bottom);
  const carried: string[] = [];
  if (p.bag) carried.push(`${rng.pick(['carries', 'has'])} ${withArticle(p.bag)}`);
  const worn = [p.hat ? withArticle(p.hat) : null, p.glasses].filter((s): s is string => s !== null);
  if (worn.length > 0) carried.push(`wears ${list(worn)}`);
  const extras = carried.length > 0 ? ` ${capitalise(he)} ${list(carried)}.` : '';

  switch (rng.int(4)) {
    case 0:
      return `${capitalise(withArticle(p.person))} with ${p.hair}, wearing ${top}, ${bottom} and ${p.shoes}.${extras}`;
    case 1:
      return `The ${p.person} has ${p.hair}. ${capitalise(he)} is wearing ${top} and ${bottom}, with ${p.shoes}.${extras}`;
    case 2:
      return `This ${p.person} wears ${top}, ${bottom} and ${p.shoes}, and has ${p.hair}.${extras}`;
    default:
      return `${capitalise(withArticle(p.person))} in ${top} and ${bottom} is walking. ${capitalise(he)} has ${p.hair} and ${p.shoes}.${extras}`;
  }
}

/** CUHK-PEDES-style processed tokens: lower case words, punctuation dropped, "t-shirt" kept whole. */
export function tokenizeCaption(caption: string): string[] {
  return caption.toLowerCase().match(/[a-z0-9]+(?:[-'][a-z0-9]+)*/g) ?? [];
}

/** The ground-truth file a synthetic world writes beside its images (synth/world.ts `WORLD_FILES`). */
export const ATTRIBUTES_FILE = 'attributes.json';

/** What evaluation reads of that file: each image's attributes (synth/world.ts `GroundTruth` has more). */
export interface AttributeTruth {
  /** The images folder, relative to the file. */
  imageRoot: string;
  images: readonly { file: string; attributes: PersonAttributes }[];
}
