// Shared by the MTG tests and bench: a scripted MLLM for fake-openai (answers are a pure function of the
// request, so a replayed request gets the same answer), the server-side key of a request (prompt text +
// image bytes) used to prove that nothing is asked twice, and a small dataset of real image files.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

interface Body {
  messages: {
    role: string;
    content: string | { type: string; text?: string; image_url?: { url: string } }[];
  }[];
}

const COLOURS = ['red', 'blue', 'green', 'black', 'white', 'grey', 'yellow', 'purple'];

export function promptOf(body: Body): { text: string; image: string | null } {
  let text = '';
  let image: string | null = null;
  for (const m of body.messages) {
    if (typeof m.content === 'string') text += m.content;
    else {
      for (const p of m.content) {
        if (p.type === 'image_url') image = p.image_url?.url ?? null;
        else text += p.text ?? '';
      }
    }
  }
  return { text, image };
}

/** What the server saw: the same prompt about the same image bytes is the same key. */
export function requestKey(body: Body): string {
  const { text, image } = promptOf(body);
  return createHash('sha256')
    .update(text)
    .update('\0')
    .update(image ?? '')
    .digest('hex');
}

/** A deterministic stand-in MLLM: a short caption, short answers (some "cannot tell"), a merged caption. */
export function scriptedAnswer(body: Body): string {
  const { text, image } = promptOf(body);
  const h = createHash('sha256')
    .update(text)
    .update(image ?? '')
    .digest();
  if (image === null)
    return `A person described from ${text.split('\n').filter((l) => l.startsWith('A: ')).length} answers.`;
  if (text.startsWith('Describe the person'))
    return `A person in a ${COLOURS[h[0]! % COLOURS.length]} jacket.`;
  if (h[1]! % 4 === 0) return 'cannot tell';
  return `${COLOURS[h[2]! % COLOURS.length]} ${['striped', 'plain', 'small', 'large', 'long', 'short'][h[3]! % 6]}`;
}

/** `n` distinct PNG crops in a fresh folder (distinct bytes, so distinct cache keys). */
export async function imageFolder(n: number, prefix = 'mtg-imgs-'): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const bytes = await sharp({
        create: { width: 16, height: 32, channels: 3, background: { r: i % 256, g: (i >> 8) % 256, b: 120 } },
      })
        .png()
        .toBuffer();
      writeFileSync(join(root, `p${String(i).padStart(5, '0')}.png`), bytes);
    }),
  );
  return root;
}
