/**
 * Draws the extension's icons: a round "jack" (a ring and a centre plug, white) on a disc whose
 * colour says the connection state — the toolbar shows signed-out (grey), connected (green) and
 * replaced (amber, "active in another window"). Sizes 16/32/48/128 as the Chrome Web Store and
 * the toolbar ask. `npm run icons:extension` writes them to extension/public/icons/ (vite copies
 * that folder into the build); test/unit/extension-icons.test.ts checks the committed files are
 * exactly what this draws. PNG encoding: pngjs (pure JS, deterministic output).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PNG } from "pngjs";

export const ICON_SIZES = [16, 32, 48, 128] as const;
export const ICON_STATES = { "signed-out": [0x80, 0x86, 0x8b], connected: [0x1e, 0x8e, 0x3e], replaced: [0xe3, 0x74, 0x00] } as const;
export type IconState = keyof typeof ICON_STATES;
export const ICON_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "../extension/public/icons");

export const iconFileName = (state: IconState, size: number) => `${state}-${size}.png`;

/** Coverage of one pixel by the shapes, from a 4×4 grid of samples (anti-aliased edges). */
const SAMPLES = 4;

export function renderIcon(size: number, state: IconState): Buffer {
  const png = new PNG({ width: size, height: size });
  const [red, green, blue] = ICON_STATES[state];
  const centre = size / 2;
  const disc = size * 0.47;
  const ringOuter = size * 0.3;
  const ringInner = size * 0.2;
  const plug = size * 0.09;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let discHits = 0;
      let whiteHits = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const distance = Math.hypot(x + (sx + 0.5) / SAMPLES - centre, y + (sy + 0.5) / SAMPLES - centre);
          if (distance > disc) continue;
          discHits++;
          if ((distance <= ringOuter && distance >= ringInner) || distance <= plug) whiteHits++;
        }
      }
      const total = SAMPLES * SAMPLES;
      const white = discHits === 0 ? 0 : whiteHits / discHits;
      const offset = (y * size + x) * 4;
      png.data[offset] = Math.round(red + (255 - red) * white);
      png.data[offset + 1] = Math.round(green + (255 - green) * white);
      png.data[offset + 2] = Math.round(blue + (255 - blue) * white);
      png.data[offset + 3] = Math.round((255 * discHits) / total);
    }
  }
  return PNG.sync.write(png, { colorType: 6 });
}

export function writeIcons(dir = ICON_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const state of Object.keys(ICON_STATES) as IconState[]) {
    for (const size of ICON_SIZES) {
      const file = path.join(dir, iconFileName(state, size));
      writeFileSync(file, renderIcon(size, state));
      written.push(file);
    }
  }
  return written;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const file of writeIcons()) process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
}
