/**
 * The page's visual language: a colour per content byte, a colour per layer of the secondary's
 * chain, per replication stage, and for errors. Cells use the byte colours; everything that
 * names a layer (frames, badges, "served from" rings) uses the layer colours.
 */
import { MIXED_CONTENT } from '../../worker/protocol.js';
import type { Stage } from '../../engine/sim/events.js';

/** Curated colours for the patterns people type (0x11, 0x22, ...). */
const CURATED: Record<number, string> = {
  0x11: '#4e79a7',
  0x22: '#f28e2b',
  0x33: '#59a14f',
  0x44: '#b07aa1',
  0x55: '#e3b505',
  0x66: '#3fa7a0',
  0x77: '#f07fa0',
  0x88: '#9c755f',
  0x99: '#8cc26d',
  0xaa: '#2f6f8f',
  0xbb: '#c792c0',
  0xcc: '#6fb3c9',
  0xdd: '#d9a441',
  0xee: '#a0b8e8',
  0xff: '#4f5866',
};

export const EMPTY_COLOUR = '#dce2e9';
/** A qcow2 cluster allocated as zeros: it masks its backing file, unlike an unallocated one. */
export const ZERO_CLUSTER_COLOUR = '#b9c3cf';
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

/** Readable text on a byte's colour. */
export function textOn(value: number): string {
  if (value === 0) return '#334155';
  const hex = byteColour(value);
  const r = Number.parseInt(hex.slice(1, 3), 16);
  const g = Number.parseInt(hex.slice(3, 5), 16);
  const b = Number.parseInt(hex.slice(5, 7), 16);
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#1f2933' : '#ffffff';
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

export const STAGE_COLOUR: Record<Stage, string> = {
  none: '#8a94a3',
  running: '#22935a',
  failover: '#d08a00',
  'failover-failed': '#d64545',
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
