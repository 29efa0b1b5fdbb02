import { describe, expect, it } from 'vitest';
import { renderPerson, sampleScene } from '../../src/main/synth/render';
import { createRng } from '../../src/main/rng';
import {
  planFootage,
  renderFootageFrame,
  renderScene,
  SCENE_PALETTE,
  SCENE_STYLES,
  walkDuration,
} from '../../src/main/synth/footage';
import { planWorld } from '../../src/main/synth/world';

describe('synthetic footage plan', () => {
  it('is a function of the seed: cameras, walks, names on the camera pattern', () => {
    const a = planFootage({ seed: 5, durationSeconds: 16 });
    expect(planFootage({ seed: 5, durationSeconds: 16 })).toEqual(a);
    expect(planFootage({ seed: 6, durationSeconds: 16 })).not.toEqual(a);
    expect(a.cameras.map((c) => c.file)).toEqual([
      'cam01/cam01_20261204_081500.mp4',
      'cam02/cam02_20261204_081537.mp4',
      'cam03/cam03_20261204_081614.mp4',
    ]);
    for (const c of a.cameras) {
      expect(c.frames).toBe(400);
      // A true identity is one walk per camera.
      expect(new Set(c.walks.map((w) => w.personId)).size).toBe(c.walks.length);
      // Someone is in the picture from the first frame; someone walks against the flow and crosses.
      expect(c.walks[0]!.enter).toBeLessThan(0);
      expect(new Set(c.walks.map((w) => w.direction)).size).toBe(2);
      // Walkers with the flow never catch up with the one ahead.
      const flow = c.walks.filter((w) => w.direction === c.walks[0]!.direction);
      for (let i = 1; i < flow.length; i++) {
        const [ahead, behind] = [flow[i - 1]!, flow[i]!];
        expect(behind.enter + walkDuration(behind, 640, 360)).toBeGreaterThan(
          ahead.enter + walkDuration(ahead, 640, 360),
        );
      }
    }
  });

  it('paints scenes only in colours no person wears (≥ 45 RGB units from every rendered person pixel)', () => {
    const palette = Object.values(SCENE_PALETTE);
    const plan = planWorld({ identities: 60, views: 1, seed: 3 });
    let nearest = Infinity;
    for (const [k, p] of plan.identities.entries()) {
      for (const lighting of [0.85, 1.15]) {
        const scene = { ...sampleScene('side', createRng(k)), lighting };
        const { rgb, labels } = renderPerson(
          { ...scene, attributes: p.attributes, skin: p.skin },
          { width: 48, height: 96 },
        );
        for (let i = 0; i < labels.length; i++) {
          if (labels[i] === 0) continue;
          for (const c of palette)
            nearest = Math.min(
              nearest,
              Math.hypot(rgb[i * 3]! - c[0], rgb[i * 3 + 1]! - c[1], rgb[i * 3 + 2]! - c[2]),
            );
        }
      }
    }
    expect(nearest).toBeGreaterThanOrEqual(45);
    // And the scene's own pixels stay near the palette (wall, ground, details, texture, shading).
    const s = renderScene(SCENE_STYLES[1]!, 160, 90, 1);
    let far = 0;
    for (let i = 0; i < 160 * 90; i++)
      far = Math.max(
        far,
        Math.min(
          ...palette.map((c) => Math.hypot(s[i * 3]! - c[0], s[i * 3 + 1]! - c[1], s[i * 3 + 2]! - c[2])),
        ),
      );
    expect(far).toBeLessThan(15);
  });

  it('boxes each person where it painted them, with the share of them left visible', () => {
    const plan = planFootage({ seed: 2, durationSeconds: 8 });
    const cam = plan.cameras[0]!;
    const people = new Map(plan.people.map((p) => [p.personId, p]));
    const scene = renderScene(SCENE_STYLES[0]!, plan.width, plan.height, 9);
    for (const f of [0, 50, 120]) {
      const { rgb, boxes } = renderFootageFrame(
        scene,
        cam,
        people,
        f,
        plan.fps,
        plan.width,
        plan.height,
        1,
        4,
      );
      expect(boxes.length).toBeGreaterThan(0);
      let outside = 0;
      let changed = 0;
      for (let y = 0; y < plan.height; y++)
        for (let x = 0; x < plan.width; x++) {
          const i = (y * plan.width + x) * 3;
          if (rgb[i] === scene[i] && rgb[i + 1] === scene[i + 1] && rgb[i + 2] === scene[i + 2]) continue;
          changed++;
          if (!boxes.some((b) => x >= b.box[0] && x < b.box[2] && y >= b.box[1] && y < b.box[3])) outside++;
        }
      expect(changed).toBeGreaterThan(500);
      expect(outside).toBe(0);
      for (const b of boxes) {
        expect(b.visibility).toBeGreaterThan(0);
        expect(b.visibility).toBeLessThanOrEqual(1);
        // The box is tight: its edge rows and columns hold painted pixels.
        const [x1, y1, x2, y2] = b.box;
        const painted = (x: number, y: number) =>
          [0, 1, 2].some((c) => rgb[(y * plan.width + x) * 3 + c] !== scene[(y * plan.width + x) * 3 + c]);
        expect(Array.from({ length: x2 - x1 }, (_, k) => painted(x1 + k, y1)).some(Boolean)).toBe(true);
        expect(Array.from({ length: y2 - y1 }, (_, k) => painted(x1, y1 + k)).some(Boolean)).toBe(true);
      }
    }
  });
});
