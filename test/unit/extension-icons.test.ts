import { readFileSync } from "node:fs";
import path from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { ICON_DIR, ICON_SIZES, ICON_STATES, iconFileName, renderIcon, type IconState } from "../../scripts/extension-icons.js";

const states = Object.keys(ICON_STATES) as IconState[];

describe("extension icons (extension/public/icons)", () => {
  it("are committed exactly as scripts/extension-icons.ts draws them (run npm run icons:extension after a change)", () => {
    for (const state of states)
      for (const size of ICON_SIZES)
        expect(readFileSync(path.join(ICON_DIR, iconFileName(state, size))).equals(renderIcon(size, state)), `${state} ${size}`).toBe(true);
  });

  it("are square PNGs of 16/32/48/128 px, transparent in the corners, one colour per state", () => {
    const centreColours = new Set<string>();
    for (const state of states) {
      for (const size of ICON_SIZES) {
        const png = PNG.sync.read(readFileSync(path.join(ICON_DIR, iconFileName(state, size))));
        expect([png.width, png.height]).toEqual([size, size]);
        expect(png.data[3]).toBe(0); // top-left corner alpha
        if (size === 128) {
          // Between the ring and the disc's edge: the state's colour.
          const offset = (64 * 128 + 64 + 50) * 4;
          centreColours.add([...png.data.subarray(offset, offset + 3)].join(","));
        }
      }
    }
    expect(centreColours.size).toBe(states.length);
  });
});
