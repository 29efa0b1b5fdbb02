// The oracle's "understanding": what a chat request asks (caption, attribute question, yes/no, MTI's
// anchor check, MTG's reconstruction, MTI's aggregation) and the answer a good MLLM would give about
// this image — or, with the noise knobs, a plausibly bad one.
//
// Noise is a function of (seed, request kind, question text, image hash): asking the same thing twice
// gives the same answer, so caches and tests see a stable model. A wrong answer is only given where
// a right one exists ("cannot tell" stays "cannot tell"), so `wrongRate` is the share of wrong answers
// among determinable ones.
import { createRng, deriveSeed, type Rng } from '../../rng';
import {
  bagPhrase,
  bottomPhrase,
  capitalise,
  captionOf,
  clausesFor,
  DOMAINS,
  GROUP_OF,
  GROUPS,
  hairPhrase,
  hatPhrase,
  setFact,
  topPhrase,
  withArticle,
  type Facts,
  type Field,
  type Group,
} from './facts';
import {
  applyClaims,
  leadingYesNo,
  parseClaims,
  understandQuestion,
  valueIn,
  type Claim,
  type Intent,
} from './language';
import type { Percept } from './perception';

export const REQUEST_KINDS = [
  'describe',
  'attribute',
  'yesno',
  'anchor',
  'verify',
  'reconstruct',
  'aggregate',
  'imageColour',
  'generic',
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

export interface NoiseOptions {
  seed: number | string;
  /** Share of determinable answers (attribute, yes/no, anchor) that are wrong. */
  wrongRate: number;
  /** Share of captions that state one detail the image does not show. */
  hallucinationRate: number;
}

export interface OracleInput {
  /** Text of the last user message: the question. */
  question: string;
  /** Text of every message in order (system, user, assistant): what reconstruction reads. */
  conversation: string;
  /** The (first) image of the request, perceived; null for text-only requests. */
  percept: Percept | null;
}

export interface OracleAnswer {
  kind: RequestKind;
  content: string;
  /** The noise made this answer wrong (or the caption hallucinated). */
  noisy: boolean;
}

export const CANNOT_TELL = 'Cannot tell from this image.';

const ANCHOR =
  /\baccurately describe\b|\b(?:does|do|can|could|would)\s+(?:this|the(?: following)?|that)\s+(?:text|description|caption|sentence|query)\s+(?:accurately\s+|correctly\s+)?(?:describe|match|fit|apply)/i;
/** MTG's verification: "Is the following true of the person in the image: "red top"?" — a quoted statement to confirm. */
const VERIFY =
  /\b(?:is|are)\s+(?:the\s+following|this|that|it)\s+(?:statement\s+|fact\s+|claim\s+)?(?:true|correct|accurate)\b[^"“]*["“]([^"”]+)["”]/i;
const DESCRIBE =
  /\b(?:describe|description|caption|what does (?:the|this) person look like|tell me about|what do you see)\b/i;
/** MTI's aggregation names the user's own words: "a user is searching for…", "the query", "the original description". */
const QUERY = /\bquery\b|\bsearching for\b|\boriginal description\b/i;
const AGGREGATE =
  /\b(?:rephrase|rewrite|combine|merge|refine\w*|aggregat\w*|summari[sz]e|incorporat\w*|integrat\w*|update)\b/i;
const RECONSTRUCT =
  /\b(?:rephrase|rewrite|reconstruct\w*|paraphrase|combine|merge|summari[sz]e|all the above information)\b/i;
const BARE =
  /\banswer\s+(?:with\s+)?(?:only\s+)?(?:(?:a\s+)?"?yes"?\s*(?:or|\/)\s*"?no"?|(?:a\s+)?(?:single|one)\s+word)|\b(?:single|one)[- ]word answer|\byes or no\b\W*$/i;

/** Decides what the request is and answers it. Never throws for odd text: anything unclear gets a polite reply. */
export function respond(input: OracleInput, noise: NoiseOptions): OracleAnswer {
  const { question, conversation, percept } = input;
  const rngFor = (kind: string): Rng =>
    createRng(deriveSeed(noise.seed, 'noise', kind, question, percept?.hash ?? '-'));

  const verify = percept ? VERIFY.exec(question) : null;
  if (percept && verify) return verifyFact(verify[1] as string, percept.facts, rngFor('verify'), noise);
  if (percept && ANCHOR.test(question)) {
    const text = anchorText(question);
    if (text !== null) return anchor(text, percept.facts, rngFor('anchor'), noise);
  }
  // MTI's aggregation talks about "the query"; MTG's reconstruction about "the description".
  if (QUERY.test(conversation) && AGGREGATE.test(conversation))
    return { kind: 'aggregate', content: aggregate(conversation), noisy: false };
  // With an image, "summarise the person" is a captioning request unless there is material to rephrase.
  const material =
    !percept ||
    labelledBase(conversation) !== null ||
    /(?:^|\n)\s*(?:q|question)\s*\d*\s*[:：]|\?\s*\n/i.test(conversation);
  if (RECONSTRUCT.test(conversation) && material)
    return { kind: 'reconstruct', content: reconstruct(conversation), noisy: false };

  // MTI asks all its diagnostic questions in one numbered list and wants one numbered line each.
  const numbered = numberedQuestions(question);
  if (numbered.length >= 2) {
    if (!percept) return { kind: 'generic', content: NO_IMAGE, noisy: false };
    const answers = numbered.map((q) => single(q, coreQuestion(q), percept));
    return {
      kind: 'attribute',
      content: answers.map((a, i) => `${i + 1}. ${a.content}`).join('\n'),
      noisy: answers.some((a) => a.noisy),
    };
  }
  return single(question, coreQuestion(question), percept);

  function single(whole: string, core: string, p: Percept | null): OracleAnswer {
    return answerQuestion(whole, core, p, noise, (kind) =>
      createRng(deriveSeed(noise.seed, 'noise', kind, whole, p?.hash ?? '-')),
    );
  }
}

const NO_IMAGE =
  'I cannot see an image in this conversation. Attach the image (as a data: URL) and ask again.';

/** "1. What colour…?\n2. Is the person…?" → the questions, in order; [] when the text is not such a list. */
function numberedQuestions(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(\d{1,3})[.):]\s+(.*\?.*)$/.exec(line);
    if (m && Number(m[1]) === out.length + 1) out.push((m[2] as string).trim());
  }
  return out;
}

/** The question itself: up to its first "?" ("Is there a bag? If so, what kind?" is about the bag). */
function coreQuestion(text: string): string {
  const at = text.indexOf('?');
  return at >= 0 ? text.slice(0, at + 1) : text;
}

function answerQuestion(
  question: string,
  core: string,
  percept: Percept | null,
  noise: NoiseOptions,
  rngFor: (kind: string) => Rng,
): OracleAnswer {
  const intent = understandQuestion(core);
  if (!percept) {
    if (intent.kind !== 'unknown' || DESCRIBE.test(question)) {
      return { kind: 'generic', content: NO_IMAGE, noisy: false };
    }
    return { kind: 'generic', content: genericReply(question), noisy: false };
  }
  const describe =
    DESCRIBE.test(question) &&
    (intent.kind === 'unknown' ||
      intent.kind === 'fixed' ||
      ('group' in intent && (intent.group === 'person' || intent.group === null)));
  if (describe || intent.kind === 'unknown') return caption(percept, rngFor('caption'), noise);
  const bare = BARE.test(question);
  switch (intent.kind) {
    case 'imageColour':
      return { kind: 'imageColour', content: `${capitalise(percept.imageColour)}.`, noisy: false };
    case 'fixed':
      return {
        kind: 'attribute',
        content: bare && intent.yes !== undefined ? (intent.yes ? 'Yes.' : 'No.') : intent.answer,
        noisy: false,
      };
    case 'wh':
      return whAnswer(intent, percept.facts, rngFor('wh'), noise, bare);
    case 'yesno':
      return yesNoAnswer(intent, percept.facts, rngFor('yesno'), noise, bare);
    case 'inHand': {
      const f = percept.facts;
      if (f.bag === undefined || (f.bag === 'yes' && f.bagType === undefined))
        return { kind: 'yesno', content: CANNOT_TELL, noisy: false };
      const truth = f.bagType === 'handbag';
      const wrong = rngFor('inHand').chance(noise.wrongRate);
      const yes = truth !== wrong;
      const what = truth ? (bagPhrase(f) as string) : 'handbag';
      if (bare) return { kind: 'yesno', content: yes ? 'Yes.' : 'No.', noisy: wrong };
      return {
        kind: 'yesno',
        content: yes
          ? `Yes, the person is holding ${withArticle(what)}.`
          : 'No, the person is not holding anything in their hands.',
        noisy: wrong,
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Checking claims

type Verdict = 'yes' | 'no' | 'unknown';

function check(cl: Claim, f: Facts): Verdict {
  const v = f[cl.field];
  const bagGone = (cl.field === 'bagType' || cl.field === 'bagColour') && f.bag === 'no';
  const hatGone = cl.field === 'hatColour' && f.hat === 'no';
  if (cl.negated) {
    if (v !== undefined) return v === cl.value ? 'no' : 'yes';
    return bagGone || hatGone ? 'yes' : 'unknown';
  }
  if (bagGone || hatGone) return 'no';
  if (v === undefined) return 'unknown';
  return v === cl.value ? 'yes' : 'no';
}

/** 'no' if any claim contradicts the facts, 'yes' if all hold, else 'unknown'. */
function verdictOf(claims: readonly Claim[], f: Facts): Verdict {
  const vs = claims.map((cl) => check(cl, f));
  if (vs.includes('no')) return 'no';
  return vs.includes('unknown') ? 'unknown' : 'yes';
}

/** The text after "Text:" in MTI's anchor prompt, without the trailing "Answer Yes or No." */
function anchorText(question: string): string | null {
  const m = /\btext\s*[:：]\s*([\s\S]*)$/i.exec(question) ?? /["“]([^"”]{4,})["”]/.exec(question);
  if (!m) return null;
  return (m[1] as string).replace(/\s*(?:please\s+)?answer\b[\s\S]*$/i, '').trim();
}

function anchor(text: string, facts: Facts, rng: Rng, noise: NoiseOptions): OracleAnswer {
  // The anchor asks whether the text could describe this image: only a contradiction makes it "No".
  const yes = verdictOf(parseClaims(text), facts) !== 'no';
  const wrong = rng.chance(noise.wrongRate);
  return { kind: 'anchor', content: yes !== wrong ? 'Yes' : 'No', noisy: wrong };
}

/**
 * A statement to confirm, as any yes/no about the image: "No" only where it contradicts the image (a
 * fact the image cannot settle is not denied), and flipped at `wrongRate` where the image does settle it,
 * like every determinable answer.
 */
function verifyFact(statement: string, facts: Facts, rng: Rng, noise: NoiseOptions): OracleAnswer {
  const verdict = verdictOf(parseClaims(statement), facts);
  const yes = verdict !== 'no';
  const wrong = verdict !== 'unknown' && rng.chance(noise.wrongRate);
  return { kind: 'verify', content: yes !== wrong ? 'Yes.' : 'No.', noisy: wrong };
}

// ---------------------------------------------------------------------------------------------------
// Attribute answers

const PRESENCE: readonly Field[] = ['bag', 'hat', 'glasses'];

/** Makes one of `fields` wrong: another value of its domain, or the opposite for bag/cap/glasses. */
function corrupt(f: Facts, fields: readonly Field[], rng: Rng): boolean {
  const known = fields.filter((x) => f[x] !== undefined);
  if (known.length === 0) return false;
  const field = rng.pick(known);
  if (PRESENCE.includes(field)) {
    if (f[field] === 'yes') setFact(f, field, 'no');
    else {
      setFact(f, field, 'yes');
      if (field === 'bag') {
        setFact(f, 'bagType', rng.pick(DOMAINS.bagType));
        setFact(f, 'bagColour', rng.pick(DOMAINS.bagColour));
      }
      if (field === 'hat') setFact(f, 'hatColour', rng.pick(DOMAINS.hatColour));
    }
    return true;
  }
  setFact(f, field, rng.pick(DOMAINS[field].filter((v) => v !== f[field])));
  return true;
}

/** One sentence stating the asked fields; null when none of them is known. */
function statement(f: Facts, group: Group, fields: readonly Field[]): string | null {
  const asks = (x: Field): boolean => fields.includes(x);
  const known = fields.filter((x) => f[x] !== undefined);
  const absent = (group === 'bag' && f.bag === 'no') || (group === 'hat' && f.hat === 'no');
  if (known.length === 0 && !absent) return null;
  switch (group) {
    case 'person':
      if (asks('sex')) return f.sex ? `The person is ${withArticle(f.sex)}.` : null;
      return f.age === 'adult'
        ? 'The person looks like an adult.'
        : f.age
          ? `The person looks ${f.age}.`
          : null;
    case 'hair':
      if (asks('hairLength') && asks('hairColour')) return `The person has ${hairPhrase(f)}.`;
      return asks('hairLength') ? `The hair is ${f.hairLength}.` : `The hair is ${f.hairColour}.`;
    case 'top':
      if (asks('sleeves') && fields.length === 1) return `The sleeves are ${f.sleeves}.`;
      if (asks('topColour') && !asks('topType')) return `The upper-body clothing is ${f.topColour}.`;
      if (asks('topType') && !asks('topColour'))
        return `The person is wearing ${withArticle(f.topType as string)}.`;
      return `The person is wearing ${withArticle(topPhrase(f) as string)}.`;
    case 'bottom':
      if (asks('bottomLength') && fields.length === 1) return `The lower-body garment is ${f.bottomLength}.`;
      if (asks('bottomColour') && !asks('bottomType')) return `The lower-body clothing is ${f.bottomColour}.`;
      if (asks('bottomType') && !asks('bottomColour'))
        return `The person is wearing ${withArticle(f.bottomType as string)}.`;
      return `The person is wearing ${withArticle(bottomPhrase(f) as string)}.`;
    case 'shoes':
      return `The shoes are ${f.shoesColour}.`;
    case 'bag':
      if (f.bag === 'no') return 'The person is not carrying a bag.';
      if (asks('bagColour') && fields.length === 1) return f.bagColour ? `The bag is ${f.bagColour}.` : null;
      if (asks('bagType') && fields.length === 1)
        return f.bagType ? `The bag is ${withArticle(f.bagType)}.` : null;
      return `The person is carrying ${withArticle(bagPhrase(f) as string)}.`;
    case 'hat':
      if (f.hat === 'no') return 'The person is not wearing a hat.';
      if (asks('hatColour') && fields.length === 1) return f.hatColour ? `The cap is ${f.hatColour}.` : null;
      return `The person is wearing ${withArticle(hatPhrase(f) as string)}.`;
    case 'glasses':
      return f.glasses === 'yes' ? 'The person is wearing glasses.' : 'The person is not wearing glasses.';
  }
}

/** The bare value, for "answer with one word". */
function bareValue(f: Facts, fields: readonly Field[]): string | null {
  for (const x of fields) {
    const v = f[x];
    if (v !== undefined) return `${capitalise(v)}.`;
  }
  return null;
}

function whAnswer(
  intent: Extract<Intent, { kind: 'wh' }>,
  truth: Facts,
  rng: Rng,
  noise: NoiseOptions,
  bare: boolean,
): OracleAnswer {
  const f = { ...truth };
  const noisy = rng.chance(noise.wrongRate) && corrupt(f, intent.fields, rng);
  const said = bare ? bareValue(f, intent.fields) : statement(f, intent.group, intent.fields);
  return { kind: 'attribute', content: said ?? CANNOT_TELL, noisy: said !== null && noisy };
}

function yesNoAnswer(
  intent: Extract<Intent, { kind: 'yesno' }>,
  truth: Facts,
  rng: Rng,
  noise: NoiseOptions,
  bare: boolean,
): OracleAnswer {
  const verdict = verdictOf(intent.claims, truth);
  if (verdict === 'unknown') return { kind: 'yesno', content: CANNOT_TELL, noisy: false };
  const f = { ...truth };
  const wrong = rng.chance(noise.wrongRate);
  if (wrong) {
    // Change the facts so that the answer flips, then say the (wrong) facts as a real model would.
    if (verdict === 'yes') {
      const cl = rng.pick(intent.claims);
      if (cl.negated) setFact(f, cl.field, cl.value);
      else if (PRESENCE.includes(cl.field)) setFact(f, cl.field, cl.value === 'yes' ? 'no' : 'yes');
      else setFact(f, cl.field, rng.pick(DOMAINS[cl.field].filter((v) => v !== cl.value)));
    } else {
      for (const cl of intent.claims) {
        if (check(cl, f) !== 'no') continue;
        if (cl.negated) setFact(f, cl.field, rng.pick(DOMAINS[cl.field].filter((v) => v !== cl.value)));
        else setFact(f, cl.field, cl.value);
      }
    }
  }
  const yes = verdict === 'yes' ? !wrong : wrong;
  if (bare) return { kind: 'yesno', content: yes ? 'Yes.' : 'No.', noisy: wrong };
  // Say the facts behind the answer: the asked group for a "yes", the contradicted one for a "no".
  const about = yes ? intent.claims[0] : intent.claims.find((cl) => check(cl, f) === 'no');
  const group = about ? GROUP_OF[about.field] : intent.group;
  // The whole group ("a red t-shirt", not just "red"), except for the person: the sex or the age asked.
  const detail = group
    ? statement(f, group, group === 'person' && about ? [about.field] : GROUPS[group])
    : null;
  const lead = yes ? 'Yes' : 'No';
  return {
    kind: 'yesno',
    content: detail ? `${lead}, ${detail.charAt(0).toLowerCase()}${detail.slice(1)}` : `${lead}.`,
    noisy: wrong,
  };
}

// ---------------------------------------------------------------------------------------------------
// Captions

/** Extras a short first caption may add to sex and top, like a real MLLM's first answer. */
const CAPTION_EXTRAS: readonly (readonly Field[])[] = [
  ['hairLength', 'hairColour'],
  ['bottomColour', 'bottomType', 'bottomLength'],
  ['shoesColour'],
  ['bag', 'bagType', 'bagColour'],
  ['hat', 'hatColour'],
  ['glasses'],
];

/** A detail the image does not show, for a hallucinating caption. */
function hallucinate(f: Facts, sub: Facts, rng: Rng): boolean {
  const options: (() => void)[] = [];
  if (f.glasses !== 'yes') options.push(() => setFact(sub, 'glasses', 'yes'));
  if (f.hat === 'no') options.push(() => setFact(sub, 'hatColour', rng.pick(DOMAINS.hatColour)));
  if (f.bag === 'no')
    options.push(() => {
      setFact(sub, 'bagType', rng.pick(DOMAINS.bagType));
      setFact(sub, 'bagColour', rng.pick(DOMAINS.bagColour));
    });
  if (f.shoesColour)
    options.push(() =>
      setFact(sub, 'shoesColour', rng.pick(DOMAINS.shoesColour.filter((c) => c !== f.shoesColour))),
    );
  if (options.length === 0) return false;
  rng.pick(options)();
  return true;
}

function caption(p: Percept, rng: Rng, noise: NoiseOptions): OracleAnswer {
  const f = p.facts;
  // What to mention depends on the image only, so a cache or a repeated call sees the same caption.
  const pickRng = createRng(deriveSeed(noise.seed, 'caption-fields', p.hash));
  const sub: Facts = {};
  const copy = (fields: readonly Field[]): void => {
    for (const x of fields) if (f[x] !== undefined) sub[x] = f[x];
  };
  copy(['sex', 'topColour', 'topType']);
  const present = CAPTION_EXTRAS.filter(
    (fields) =>
      fields.some((x) => f[x] !== undefined) &&
      !(PRESENCE.includes(fields[0] as Field) && f[fields[0] as Field] !== 'yes'),
  );
  if (present.length > 0 && pickRng.next() < 0.8) copy(pickRng.pick(present));
  const noisy = rng.chance(noise.hallucinationRate) && hallucinate(f, sub, rng);
  return { kind: 'describe', content: captionOf(sub), noisy };
}

// ---------------------------------------------------------------------------------------------------
// Reconstruction (MTG) and aggregation (MTI)

/** The labelled description in a prompt ("Query: …", "Caption: …", "Description: …"), if any. */
function labelledBase(text: string): { text: string; at: number } | null {
  const m =
    /(?:^|\n|[.:]\s|\b(?:this|following|the)\s)\s*(?:original\s+|initial\s+|user(?:'s)?\s+)?(?:query|caption|description|text)\s*[:：]\s*["“]?([^\n"”]+)/i.exec(
      text,
    );
  if (!m) return null;
  return { text: (m[1] as string).trim(), at: m.index + m[0].length - (m[1] as string).length };
}

const UNHELPFUL =
  /\b(?:cannot|can't|can not|unable to) (?:tell|determine|see|say)\b|\bnot (?:visible|clear|possible to tell)\b|\bunclear\b|\bunknown\b/i;

/** Facts stated by a prompt's sentences, pairing each question with the answer after it. */
function factsOfDialogue(text: string, skip: { from: number; to: number } | null): Facts {
  const facts: Facts = {};
  const body = skip ? `${text.slice(0, skip.from)}\n${text.slice(skip.to)}` : text;
  const segments = body
    .split(/(?<=[.?!])\s+|\n+/)
    .map((s) =>
      s
        .replace(/^\s*(?:[-*•]|\d+[.)])?\s*(?:(?:q|a|question|answer|response)\s*\d*\s*[:：])?\s*/i, '')
        .trim(),
    );
  let pending: Intent | null = null;
  for (const seg of segments) {
    if (seg === '') continue;
    if (seg.endsWith('?')) {
      pending = understandQuestion(seg);
      continue;
    }
    if (UNHELPFUL.test(seg)) {
      pending = null;
      continue;
    }
    const claims = parseClaims(seg);
    if (pending?.kind === 'yesno') {
      const yn = leadingYesNo(seg);
      if (yn === 'yes') claims.unshift(...pending.claims);
      if (yn === 'no') {
        for (const cl of pending.claims) {
          if (PRESENCE.includes(cl.field) && !cl.negated)
            claims.unshift({ field: cl.field, value: cl.value === 'yes' ? 'no' : 'yes' });
          else if (!cl.negated) claims.unshift({ ...cl, negated: true });
        }
      }
    } else if (pending?.kind === 'wh') {
      const fields = pending.fields;
      if (!claims.some((cl) => fields.includes(cl.field))) {
        for (const x of fields) {
          const v = valueIn(seg, x);
          if (v !== null) claims.push({ field: x, value: v });
        }
      }
    }
    pending = null;
    applyClaims(facts, claims, setFact);
  }
  return facts;
}

/** MTG's reconstructor: one caption stating everything the caption and the kept answers said. */
function reconstruct(conversation: string): string {
  const facts = factsOfDialogue(conversation, null);
  if (Object.keys(facts).length === 0)
    return 'There is no description to rephrase: send the caption and the answers with the instruction.';
  return captionOf(positive(facts));
}

/** Absences are left unsaid, as in the datasets' captions. */
function positive(f: Facts): Facts {
  const out = { ...f };
  for (const x of PRESENCE) if (out[x] === 'no') delete out[x];
  return out;
}

/**
 * MTI's aggregation: the query as written, then one sentence with what the answers add. The query's
 * own facts win over answers that disagree with it: the user described their target.
 */
function aggregate(conversation: string): string {
  const base = labelledBase(conversation);
  if (!base) return reconstruct(conversation);
  const query = base.text.replace(/\s+/g, ' ').trim();
  const own: Facts = {};
  applyClaims(own, parseClaims(query), setFact);
  const told = factsOfDialogue(conversation, { from: base.at, to: base.at + base.text.length });
  const merged: Facts = positive({ ...told });
  applyClaims(merged, parseClaims(query), setFact);
  const added = (Object.keys(GROUPS) as Group[]).filter((g) =>
    GROUPS[g].some((x: Field) => merged[x] !== undefined && own[x] === undefined && !(x === 'sex')),
  );
  const extra = clausesFor(merged, added);
  const q = capitalise(/[.!?]$/.test(query) ? query : `${query}.`);
  return extra ? `${q} ${extra}` : q;
}

function genericReply(text: string): string {
  const word = /\breply with (?:the |a )?(?:single |one )?word\s*:?\s*"?([A-Za-z]+)/i.exec(text);
  if (word) return word[1] as string;
  return (
    'I am the CTGI oracle, a stand-in vision-language model for the synthetic world. Send an image and ask me to ' +
    'describe the person, ask about their clothing, hair, bag, cap or glasses, or ask whether a text describes the image.'
  );
}
