/**
 * The page's visual language: a colour per content byte, a colour per layer of the secondary's
 * chain, per replication stage, and for errors. Cells use the byte colours; everything that
 * names a layer (frames, badges, "served from" rings) uses the layer colours.
 */
import { MIXED_CONTENT } from '../../worker/protocol.js';
import type { Stage } from '../../engine/sim/events.js';

/**
 * Colours for the patterns people use: the brush's bytes (0x11 ... 0xff) and the other bytes the
 * hand-written scenarios write (0x24, 0x26, 0x27, 0x35). They were chosen by a max-min search
 * so that any two of them, and each of them against EMPTY_COLOUR, ZERO_CLUSTER_COLOUR and the
 * page's white, differ by a CIEDE2000 ΔE of at least 10 for normal vision and under the
 * simulations of protanopia, deuteranopia and tritanopia of Machado, Oliveira & Fernandes (2009),
 * "A Physiologically-based Model for Simulation of Color Vision Deficiency", IEEE TVCG 15(6),
 * doi:10.1109/TVCG.2009.113 (the severity-1.0 matrices, applied to linear sRGB).
 * tests/unit/palette.test.ts recomputes this and fails below 10. Bytes outside this list get a
 * generated colour (below) with no such promise: the cell labels (`b`) tell them apart.
 */
const CURATED: Record<number, string> = {
  0x11: '#0070d4',
  0x22: '#d29b34',
  0x24: '#9e8145',
  0x26: '#1296fa',
  0x27: '#70638f',
  0x33: '#88b47e',
  0x35: '#6e3905',
  0x44: '#af9c9d',
  0x55: '#ffcd64',
  0x66: '#00745e',
  0x77: '#c03f63',
  0x88: '#514535',
  0x99: '#42eeb7',
  0xaa: '#2443a2',
  0xbb: '#9d97bb',
  0xcc: '#78848e',
  0xdd: '#886100',
  0xee: '#a0c9ff',
  0xff: '#454461',
};

/** The bytes with a curated colour (the palette test checks every pair of them). */
export const CURATED_PATTERNS: readonly number[] = Object.keys(CURATED).map(Number);

export const EMPTY_COLOUR = '#dce2e9';
/** A qcow2 cluster allocated as zeros: it masks its backing file, unlike an unallocated one. */
/**
 * Distinct (ΔE ≥ 10, as above) from every curated colour. Against EMPTY_COLOUR it is too, for
 * normal vision; the two never need telling apart by colour alone: a qcow2 grid shows an
 * unallocated cell hollow, so its only grey is this one.
 */
export const ZERO_CLUSTER_COLOUR = '#b1bac9';
export const MIXED_COLOUR = '#6b7280';
export const MIXED_STRIPE = '#c4c9d1';
export const UNALLOCATED_STROKE = '#cfd6df';

const cache = new Map<number, string>();

export function byteColour(value: number): string {
  const cached = cache.get(value);
  if (cached) return cached;
  let colour: string;
  if (value === 0) colour = EMPTY_COLOUR;
  else if (value === MIXED_CONTENT) colour = MIXED_COLOUR;
  else if (CURATED[value]) colour = CURATED[value]!;
  else {
    const hue = (value * 137.508) % 360;
    const light = 48 + ((value * 7) % 3) * 7;
    colour = hslToHex(hue, 0.55, light / 100);
  }
  cache.set(value, colour);
  return colour;
}

/** Readable text on a byte's colour: near-black or white, whichever has the higher WCAG contrast. */
export function textOn(value: number): string {
  return textOnColour(byteColour(value));
}

const DARK_TEXT = '#111827';

export function textOnColour(hex: string): string {
  const background = relativeLuminance(hex);
  const dark = relativeLuminance(DARK_TEXT);
  return (background + 0.05) / (dark + 0.05) >= 1.05 / (background + 0.05) ? DARK_TEXT : '#ffffff';
}

/** WCAG 2 relative luminance of an sRGB colour "#rrggbb". */
export function relativeLuminance(hex: string): number {
  const channel = (offset: number) => {
    const value = Number.parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

function hslToHex(h: number, s: number, l: number): string {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  const hex = (x: number) =>
    Math.round(x * 255)
      .toString(16)
      .padStart(2, '0');
  return `#${hex(f(0))}${hex(f(8))}${hex(f(4))}`;
}

/** The patterns offered as brushes. */
export const BRUSH_PATTERNS = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00];

export const LAYER_COLOUR: Record<string, string> = {
  'primary-disk': '#3d5a98',
  'secondary-disk': '#0f7f86',
  'hidden-disk': '#b7791f',
  'active-disk': '#7048c8',
  'svm-view': '#334155',
};

/** Stage badges carry white text: each colour gives it a contrast of at least 4.5:1 (WCAG AA). */
export const STAGE_COLOUR: Record<Stage, string> = {
  none: '#5f6b7a',
  running: '#1a7f4b',
  failover: '#9a5b00',
  'failover-failed': '#b42318',
  done: '#4866c4',
};

export const STAGE_LABEL: Record<Stage, string> = {
  none: 'none',
  running: 'running',
  failover: 'failover',
  'failover-failed': 'failover failed',
  done: 'done',
};

export const ERROR_COLOUR = '#d64545';
export const READ_COLOUR = '#0ea5e9';
export const COPY_COLOUR = '#b7791f';
export const QUIRK_COLOUR = '#8b5cf6';
