import { describe, expect, it } from 'vitest';
import { decodeBmp, readBmpHeader } from '../../src/main/media/bmp';
import {
  cameraFromPath,
  detectFormat,
  formatFromFileName,
  normalizeRelPath,
  parseJson,
  recordsToItems,
} from '../../src/main/datasets/formats';
import { decodeAnnotationBytes } from '../../src/main/datasets/source';
import { isImageName } from '../../src/main/datasets/walk';

const cuhk = {
  split: 'train',
  captions: ['A man.'],
  file_path: 'CUHK01/0363004.png',
  processed_tokens: [['a', 'man']],
  id: 1,
};
const icfg = {
  split: 'test',
  captions: ['A woman.'],
  file_path: 'test/0027/0027_010_05_0303afternoon_1591_0.jpg',
  id: 27,
};
const rstp = { id: 3903, img_path: '3903_c14_0007.jpg', captions: ['One.', 'Two.'], split: 'train' };

describe('parseJson', () => {
  it('turns a syntax error position into line and column', () => {
    expect(() => parseJson('[\n {"a": 1\n  "b": 2}]', 'x.json')).toThrow(
      /x\.json is not valid JSON at line 3, column 3/,
    );
  });
  it('says a file that stops early may be cut short', () => {
    expect(() => parseJson('[{"a": ', 'x.json')).toThrow(/not valid JSON/);
  });
  it('accepts a byte-order mark, which Windows editors add', () => {
    expect(parseJson('\ufeff[1]', 'x.json')).toEqual([1]);
  });
});

describe('format detection', () => {
  it('knows the usual file names, both ICFG spellings included', () => {
    expect(formatFromFileName('/d/CUHK-PEDES/reid_raw.json')).toBe('cuhk-pedes');
    expect(formatFromFileName('caption_all.json')).toBe('cuhk-pedes');
    expect(formatFromFileName('ICFG-PEDES.json')).toBe('icfg-pedes');
    expect(formatFromFileName('ICFG_PEDES.json')).toBe('icfg-pedes');
    expect(formatFromFileName('data_captions.json')).toBe('rstpreid');
    expect(formatFromFileName('labels.json')).toBeNull();
  });

  it('falls back on the records when the name says nothing', () => {
    expect(detectFormat('a.json', [cuhk])).toBe('cuhk-pedes');
    expect(detectFormat('a.json', [icfg])).toBe('icfg-pedes');
    expect(detectFormat('a.json', [rstp])).toBe('rstpreid');
  });

  it('a forced format wins over the name, but only if the records fit it', () => {
    expect(detectFormat('reid_raw.json', [icfg], 'icfg-pedes')).toBe('icfg-pedes');
    expect(() => detectFormat('data_captions.json', [rstp], 'icfg-pedes')).toThrow(
      /cannot be read as ICFG-PEDES .*need the fields id, file_path, captions, but have id, img_path, captions, split\. It looks like RSTPReid/,
    );
  });

  it('a file named like one format holding another is refused with the likely format', () => {
    expect(() => detectFormat('reid_raw.json', [rstp])).toThrow(/as CUHK-PEDES.*It looks like RSTPReid/);
  });

  it('refuses non-lists, empty lists and a folder format with a file', () => {
    expect(() => detectFormat('a.json', { images: [] })).toThrow(/top level is an object with keys images/);
    expect(() => detectFormat('a.json', [])).toThrow(/holds no records/);
    expect(() => detectFormat('a.json', [cuhk], 'folder')).toThrow(/takes no annotation file/);
  });
});

describe('records to items', () => {
  it('keeps id as text, the split, the trimmed captions and a camera', () => {
    const { items, problems } = recordsToItems('rstpreid', [{ ...rstp, captions: [' One. ', ''] }]);
    expect(items).toEqual([
      {
        relPath: '3903_c14_0007.jpg',
        label: 'record 1 (3903_c14_0007.jpg)',
        personId: '3903',
        split: 'train',
        camera: 'c14',
        captions: ['One.'],
      },
    ]);
    expect(problems).toEqual([
      { severity: 'warning', item: 'record 1 (3903_c14_0007.jpg)', message: '1 empty caption(s) left out.' },
    ]);
  });

  it('records without split (caption_all.json) get none; splits are case-insensitive', () => {
    const { items } = recordsToItems('cuhk-pedes', [
      { ...cuhk, split: undefined },
      { ...cuhk, file_path: 'b.png', split: 'TEST' },
    ]);
    expect(items.map((i) => i.split)).toEqual([null, 'test']);
  });

  it('reports bad fields and repeated paths per record, and keeps the rest', () => {
    const { items, problems } = recordsToItems('cuhk-pedes', [
      cuhk,
      { ...cuhk, id: null },
      { ...cuhk, file_path: 'CUHK01\\0363004.png' },
      { ...cuhk, file_path: 'x.png', captions: [1, 2] },
    ]);
    expect(items).toHaveLength(1);
    expect(problems.map((p) => p.item)).toEqual([
      'record 2 (CUHK01/0363004.png)',
      'record 3 (CUHK01/0363004.png)',
      'record 4 (x.png)',
    ]);
    expect(problems[1]?.message).toMatch(/repeats the image of record 1/);
  });
});

describe('liberal reading, noted once per file', () => {
  it('reads each plain bend and says what it converted, one sentence per kind', () => {
    const { items, problems, notes } = recordsToItems('cuhk-pedes', [
      { ...cuhk, file_path: 'a\\1.png', captions: 'One caption as a string.' },
      { ...cuhk, file_path: './a/2.png', id: '0012', captions: ['Kept.', null] },
      { ...cuhk, file_path: 'a/3.png', id: ' 12 ', split: ' Train ', extra: 1, more: 2 },
      { ...cuhk, file_path: 'a/4.png', captions: 'Another one.', extra: 3 },
    ]);
    expect(problems).toEqual([]);
    expect(items.map((i) => [i.relPath, i.personId, i.split, i.captions])).toEqual([
      ['a/1.png', '1', 'train', ['One caption as a string.']],
      ['a/2.png', '12', 'train', ['Kept.']],
      ['a/3.png', '12', 'train', ['A man.']],
      ['a/4.png', '1', 'train', ['Another one.']],
    ]);
    expect(notes).toEqual([
      '1 path with Windows separators (\\) was read with /',
      '2 captions given as a string were read as one-caption lists',
      '1 path starting with ./ was read without it',
      '2 ids given as numeric strings were read as numbers ("0012" → 12)',
      '1 null caption in a caption list was left out',
      '1 split written in another case or with spaces was read as train/val/test',
      'fields the import does not use were ignored: "extra" (2 records), "more" (1 record)',
    ]);
  });

  it('a file the loaders read as they are has no notes (processed_tokens is a known field)', () => {
    expect(recordsToItems('cuhk-pedes', [cuhk]).notes).toEqual([]);
    expect(recordsToItems('rstpreid', [rstp]).notes).toEqual([]);
  });

  it('still skips what is unclear: captions that are numbers or objects, an id that is not one', () => {
    const { items, problems } = recordsToItems('cuhk-pedes', [
      { ...cuhk, captions: 42 },
      { ...cuhk, file_path: 'b.png', captions: [{ text: 'x' }] },
      { ...cuhk, file_path: 'c.png', id: [] },
    ]);
    expect(items).toEqual([]);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/"captions" should be a list of strings \(or one string\), but is 42/),
      expect.stringMatching(/"captions" should be a list of strings/),
      expect.stringMatching(/"id" should be a person id/),
    ]);
  });
});

describe('annotation text encodings', () => {
  it('reads UTF-8 as it is, with no note', () => {
    expect(decodeAnnotationBytes(Buffer.from('["café"]', 'utf8'))).toEqual({ text: '["café"]', notes: [] });
  });
  it('removes a UTF-8 byte-order mark and says so', () => {
    const r = decodeAnnotationBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[1]')]));
    expect(r).toEqual({ text: '[1]', notes: ['a UTF-8 byte-order mark at the start was removed'] });
  });
  it('reads UTF-16 with a byte-order mark', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('["naïve"]', 'utf16le')]);
    expect(decodeAnnotationBytes(le).text).toBe('["naïve"]');
    expect(decodeAnnotationBytes(le).notes[0]).toMatch(/UTF-16 \(little-endian/);
  });
  it('reads bytes that are not UTF-8 as Windows-1252, naming the first bad byte, instead of U+FFFD', () => {
    const r = decodeAnnotationBytes(Buffer.from('[\n "Caf\xe9 \x80 cr\xe8me"]', 'latin1'));
    expect(r.text).toBe('[\n "Café € crème"]');
    expect(r.notes).toEqual([
      expect.stringMatching(
        /not valid UTF-8 \(first bad byte 0xe9 at line 2, column 6\); it was read as Windows-1252/,
      ),
    ]);
  });
});

describe('paths and cameras', () => {
  it('normalizes Windows separators and leading ./', () => {
    expect(normalizeRelPath('.\\CUHK01\\1.png')).toBe('CUHK01/1.png');
    expect(normalizeRelPath('./a/b.jpg')).toBe('a/b.jpg');
  });
  it('derives the camera from Market, RSTPReid, MSMT17 and VIPeR names, and nothing from others', () => {
    expect(cameraFromPath('Market/0001_c1s1_001051_00.jpg')).toBe('c1');
    expect(cameraFromPath('3903_c14_0007.jpg')).toBe('c14');
    expect(cameraFromPath('train/0003/0003_000_01_0303morning_0015_0.jpg')).toBe('01');
    expect(cameraFromPath('VIPER/cam_b/001_90.bmp')).toBe('cam_b');
    expect(cameraFromPath('CUHK01/0363004.png')).toBeNull();
  });
  it('lists image files by extension, whatever the case', () => {
    expect(['a.JPG', 'b.jpeg', 'c.Png', 'd.webp', 'e.BMP'].every(isImageName)).toBe(true);
    expect(['a.txt', 'b.jpg.json', 'c.gif'].some(isImageName)).toBe(false);
  });
});

describe('BMP', () => {
  function bmp8(): Buffer {
    // 3×2, 8-bit palette of 256 greys, bottom-up rows padded to 4 bytes.
    const offset = 14 + 40 + 256 * 4;
    const buf = Buffer.alloc(offset + 4 * 2);
    buf.write('BM', 0, 'ascii');
    buf.writeUInt32LE(buf.length, 2);
    buf.writeUInt32LE(offset, 10);
    buf.writeUInt32LE(40, 14);
    buf.writeInt32LE(3, 18);
    buf.writeInt32LE(2, 22);
    buf.writeUInt16LE(8, 28);
    for (let i = 0; i < 256; i++) buf.fill(i, 54 + i * 4, 54 + i * 4 + 3);
    buf.set([10, 20, 30], offset); // bottom row
    buf.set([40, 50, 60], offset + 4); // top row
    return buf;
  }
  it('decodes a palette bitmap top row first', () => {
    const { width, height, data } = decodeBmp(bmp8());
    expect([width, height]).toEqual([3, 2]);
    expect([...data.subarray(0, 3)]).toEqual([40, 40, 40]);
    expect([...data.subarray(9, 12)]).toEqual([10, 10, 10]);
  });
  it('refuses a truncated bitmap, reading its size from the header alone', () => {
    const cut = bmp8().subarray(0, 1080); // the header and palette, half a row of pixels
    expect(readBmpHeader(cut)).toMatchObject({ width: 3, height: 2, bitsPerPixel: 8 });
    expect(() => decodeBmp(cut)).toThrow(/truncated/);
  });
});
