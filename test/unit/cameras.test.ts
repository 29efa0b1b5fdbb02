import { describe, expect, it } from 'vitest';
import {
  cameraOf,
  compilePattern,
  localToEpochMs,
  matchFileName,
  previewPattern,
  recordingStart,
} from '../../src/main/footage/cameras';

describe('camera patterns', () => {
  it('reads camera and start from names like cam03_20261204_081500.mp4, and says why others do not match', () => {
    const r = previewPattern('{camera}_{date:YYYYMMDD}_{time:HHmmss}', [
      'cam03_20261204_081500.mp4',
      '/archive/lobby/Lobby_East_20261204_235959.mkv',
      'cam03_20261304_081500.mp4',
      'cam03_20261204_0815.mp4',
      'cam03-20261204-081500.mp4',
      'cam03_20260230_081500.mp4',
    ]);
    expect(r[0]).toEqual({
      ok: true,
      file: 'cam03_20261204_081500.mp4',
      camera: 'cam03',
      localStart: '2026-12-04T08:15:00.000',
      epochMs: null,
      fields: { camera: 'cam03', date: '20261204', time: '081500' },
    });
    // {camera} takes underscores too: the date/time after it decide where it ends.
    expect(r[1]).toMatchObject({ ok: true, camera: 'Lobby_East', localStart: '2026-12-04T23:59:59.000' });
    expect(r[2]).toEqual({
      ok: false,
      file: 'cam03_20261304_081500.mp4',
      reason: 'does not match at character 7 ("20261304_081500"): month 13 is not a month.',
    });
    expect(r[3]).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/character 16 \("0815"\): expected 2 digits for ss/),
    });
    expect(r[4]).toMatchObject({
      ok: false,
      reason: 'does not match at character 1 ("cam03-20261204-0…"): expected {camera} followed by "_".',
    });
    expect(r[5]).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/day 30 does not exist in month 2/),
    });
  });

  it('knows separators, two-digit years, milliseconds, datetime, epoch, wildcards, literal braces and extensions', () => {
    const one = (p: string, f: string) => previewPattern(p, [f])[0];
    expect(
      one('{date:YYYY-MM-DD} {time:HH.mm.ss.SSS} {camera}', '2026-12-04 08.15.00.250 Gate 2.avi'),
    ).toMatchObject({
      ok: true,
      camera: 'Gate 2',
      localStart: '2026-12-04T08:15:00.250',
    });
    expect(one('ch{camera}_{datetime:YYMMDDHHmmss}', 'ch01_261204081500.mp4')).toMatchObject({
      camera: '01',
      localStart: '2026-12-04T08:15:00.000',
    });
    expect(one('{camera}-{epoch}', 'door-1764836100.ts')).toMatchObject({
      camera: 'door',
      epochMs: 1764836100000,
    });
    expect(one('{camera}-{epoch}', 'door-1764836100123.ts')).toMatchObject({ epochMs: 1764836100123 });
    expect(one('NVR_export_*_{camera}_{date:YYYYMMDD}', 'NVR_export_7_cam9_20261204.mp4')).toMatchObject({
      camera: 'cam9',
    });
    expect(one('{{{camera}}}', '{hall}.mp4')).toMatchObject({ ok: true, camera: 'hall' });
    expect(one('{camera}.mp4', 'hall.mp4')).toMatchObject({ ok: true, camera: 'hall' });
    expect(one('{camera}.mp4', 'hall.mkv')).toMatchObject({ ok: false });
    // Literal text ignores case, the camera's name keeps it.
    expect(one('CAM{camera}', 'cam03.mp4')).toMatchObject({ ok: true, camera: '03' });
  });

  it('lists every problem of a pattern at once', () => {
    expect(() => compilePattern('{camera}{any}_{date:YYYYMMDQ}_{time:HHmm}_{foo}_{date:DD}/x{')).toThrowError(
      /cannot be used:\n- The pattern has a \/ or \\.*\n- \{date:YYYYMMDQ\}: "DQ" is not a date\/time token.*\n- \{foo\} is not a field.*\n- \{date:DD\} has no year.*\n- \{date:DD\} needs both MM and DD.*\n- Character \d+: "\{" is not closed.*\n- A date or time field appears more than once.*\n- \{camera\} is followed directly by \{any\}/s,
    );
    expect(() => compilePattern('{time:HHmmss}')).toThrow(/needs a \{date:…\}/);
    expect(() => compilePattern('{date}')).toThrow(/needs a format/);
    expect(() => compilePattern('x'.repeat(201))).toThrow(/at most 200/);
  });

  it('stays fast on names built to make a matcher backtrack', () => {
    const p = compilePattern('{camera}_{any}_{any}_{any}_{date:YYYYMMDD}');
    const name = `${'a_'.repeat(120)}b`;
    const t0 = performance.now();
    expect(matchFileName(p, name).ok).toBe(false);
    expect(performance.now() - t0).toBeLessThan(200);
  });
});

describe('recording start and camera', () => {
  it('takes the file name first, then the container creation time, then the user', () => {
    const m = previewPattern('{camera}_{date:YYYYMMDD}_{time:HHmmss}', ['cam03_20261204_081500.mp4'])[0]!;
    expect(recordingStart({ match: m, creationTime: '2020-01-01T00:00:00Z', offset: 60 })).toEqual({
      epochMs: Date.UTC(2026, 11, 4, 7, 15, 0),
      source: 'file-name',
      from: '2026-12-04T08:15:00.000',
    });
    const none = previewPattern('{camera}_{date:YYYYMMDD}', ['no-date.mp4'])[0]!;
    expect(
      recordingStart({ match: none, creationTime: '2026-12-04T08:15:00.000000Z', offset: 0 }),
    ).toMatchObject({
      epochMs: Date.UTC(2026, 11, 4, 8, 15, 0),
      source: 'container',
    });
    // A recorder that never set its clock writes 1970 (or 1904): not a time.
    expect(
      recordingStart({ creationTime: '1970-01-01T00:00:00Z', user: '2026-12-04T09:00:00+02:00', offset: 0 }),
    ).toMatchObject({
      epochMs: Date.UTC(2026, 11, 4, 7, 0, 0),
      source: 'user',
    });
    expect(recordingStart({ user: '2026-12-04T09:00:00', offset: -300 })!.epochMs).toBe(
      Date.UTC(2026, 11, 4, 14, 0, 0),
    );
    expect(recordingStart({ offset: 0 })).toBeNull();
    expect(() => recordingStart({ user: 'yesterday', offset: 0 })).toThrow(/not a local time/);
  });

  it('converts a local time on a camera clock with a fixed offset or the system zone', () => {
    expect(localToEpochMs('2026-12-04T08:15:00', 0)).toBe(Date.UTC(2026, 11, 4, 8, 15));
    expect(localToEpochMs('2026-12-04T08:15:00.5', 120)).toBe(Date.UTC(2026, 11, 4, 6, 15, 0, 500));
    expect(localToEpochMs('2026-12-04T08:15:00', 'system')).toBe(new Date(2026, 11, 4, 8, 15).getTime());
  });

  it('is the pattern’s camera, else the folder under the root, else the root’s name', () => {
    const m = previewPattern('{camera}_{date:YYYYMMDD}', ['cam7_20261204.mp4'])[0];
    expect(cameraOf('/footage', '/footage/site A/cam7_20261204.mp4', m)).toEqual({
      name: 'cam7',
      source: 'file-name',
    });
    expect(cameraOf('/footage', '/footage/site A/door/x.mp4', null)).toEqual({
      name: 'site A/door',
      source: 'folder',
    });
    expect(cameraOf('/footage/lobby', '/footage/lobby/x.mp4')).toEqual({ name: 'lobby', source: 'folder' });
  });
});
