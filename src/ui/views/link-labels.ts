/**
 * Where the NBD links' labels ("NBD · up", "mirror NBD · down") and the cross of a link that is
 * down go, in graph units. Pure geometry: no DOM, so it is unit-tested.
 *
 * Each label takes the first spot in its order of preference that covers no obstacle (nodes,
 * host titles, the feed, labels placed before it); where every spot covers something (links
 * crowded among nodes: a quorum child's spares on a phone, three links to one export), the spot
 * that covers least. Labels are placed one after the other, so the order matters: every order of
 * up to MAX_ORDERED_LINKS links is tried and the one that covers least is kept.
 */
import { overlapArea, overlaps, pointOn, type Box, type Curve, type LayoutSpec, type Point } from './graph-layout.js';

export interface LinkLabelInput {
  readonly key: string;
  readonly curve: Curve;
  readonly up: boolean;
  /** 'mirror' for drive-mirror's link, else COLO's replication. */
  readonly purpose: string;
}

export interface LinkLabelPlace {
  readonly text: string;
  /** The label's centre and width; it is 18 high. */
  readonly label: Point;
  readonly width: number;
  /** Where the ✕ of a link that is down goes. */
  readonly cross: Point;
  /** Area of obstacles it covers, plus one per obstacle touched (0: it covers nothing). */
  readonly covered: number;
}

const LABEL_HEIGHT = 18;
const CROSS_SIZE = 18;
/** 5 links make 120 orders; past that, the links' own order. */
const MAX_ORDERED_LINKS = 5;

/**
 * Places the labels of `links` in a drawing of `spec`'s size and direction, keyed by link key.
 * `obstacles` (graph units) is not changed; the labels' boxes are returned in `labelBoxes`, for
 * what is placed after them.
 */
export function placeLinkLabels(links: readonly LinkLabelInput[], spec: Pick<LayoutSpec, 'width' | 'height' | 'link'>, obstacles: readonly Box[]): { places: Map<string, LinkLabelPlace>; labelBoxes: Box[] } {
  let best: { places: Map<string, LinkLabelPlace>; labelBoxes: Box[]; covered: number } | undefined;
  for (const order of links.length <= MAX_ORDERED_LINKS ? permutations(links) : [links]) {
    const blockers = [...obstacles];
    const places = new Map<string, LinkLabelPlace>();
    const labelBoxes: Box[] = [];
    let covered = 0;
    for (const link of order) {
      const place = placeOne(link, spec, blockers);
      const box = { x: place.label.x - place.width / 2, y: place.label.y - LABEL_HEIGHT / 2, width: place.width, height: LABEL_HEIGHT };
      blockers.push(box);
      labelBoxes.push(box);
      places.set(link.key, place);
      covered += place.covered;
    }
    if (!best || covered < best.covered) best = { places, labelBoxes, covered };
    if (covered === 0) break;
  }
  return best ? { places: best.places, labelBoxes: best.labelBoxes } : { places: new Map(), labelBoxes: [] };
}

function placeOne(link: LinkLabelInput, spec: Pick<LayoutSpec, 'width' | 'height' | 'link'>, obstacles: readonly Box[]): LinkLabelPlace {
  const middle = pointOn(link.curve, 0.5);
  const text = `${link.purpose === 'mirror' ? 'mirror NBD' : 'NBD'} · ${link.up ? 'up' : 'down'}`;
  const width = text.length * 6.2 + 14;
  const labelBox = (at: Point): Box => ({ x: at.x - width / 2, y: at.y - LABEL_HEIGHT / 2, width, height: LABEL_HEIGHT });
  const crossBox = (at: Point): Box => ({ x: at.x - CROSS_SIZE / 2, y: at.y - CROSS_SIZE / 2, width: CROSS_SIZE, height: CROSS_SIZE });
  const horizontal = spec.link === 'horizontal';
  // Side by side the label rides above the link and the cross sits on its middle; stacked, on it
  // with the cross beside it.
  let chosen: { label: Point; cross: Point } = horizontal ? { label: { x: middle.x, y: middle.y - 20 }, cross: middle } : { label: middle, cross: { x: middle.x + width / 2 + 12, y: middle.y } };
  let leastCovered = Number.POSITIVE_INFINITY;
  /** Takes the spot when it covers less than any before; true when it covers nothing. */
  const consider = (label: Point, cross: Point, boxes: readonly Box[], blockers: readonly Box[]): boolean => {
    if (boxes.some((box) => box.x < 0 || box.x + box.width > spec.width || box.y < 0 || box.y + box.height > spec.height)) return false;
    const covered = coverage(boxes, blockers);
    if (covered < leastCovered) {
      leastCovered = covered;
      chosen = { label, cross };
    }
    return covered === 0;
  };
  if (horizontal) {
    // Above the link (or below it) at the first point along it where the label covers nothing:
    // after a resume the link is short and runs between the survivor's nodes, and its middle lay
    // on one of them. Its ends come last: there the label sits over or under the node the link
    // leaves or reaches. A link that is down has its cross on its middle: the label keeps off it.
    const blockers = link.up ? obstacles : [...obstacles, crossBox(middle)];
    search: for (const t of [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82, 0.1, 0.9, 0, 1]) {
      const at = pointOn(link.curve, t);
      for (const dy of [-20, 20, -38, 38, -56, 56, -74, 74, -92, 92]) {
        const label = { x: at.x, y: at.y + dy };
        if (consider(label, middle, [labelBox(label)], blockers)) break search;
      }
    }
  } else {
    const along = [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82, 0.1, 0.9];
    search: {
      for (const t of along) {
        const at = pointOn(link.curve, t);
        // On the link, the cross of a link that is down after the label, or before it where that
        // side is taken (a host's title).
        for (const side of link.up ? [1] : [1, -1]) {
          const cross = { x: at.x + side * (width / 2 + 12), y: at.y };
          if (consider(at, cross, link.up ? [labelBox(at)] : [labelBox(at), crossBox(cross)], obstacles)) break search;
        }
      }
      // Where every spot on the link covers something, beside it: the label's near edge a few
      // units off the link, the cross on the link.
      for (const t of along) {
        const at = pointOn(link.curve, t);
        for (const [side, dy] of [[1, 0], [-1, 0], [1, -12], [-1, -12], [1, 12], [-1, 12]] as const) {
          const label = { x: at.x + side * (width / 2 + 6), y: at.y + dy };
          if (consider(label, at, link.up ? [labelBox(label)] : [labelBox(label), crossBox(at)], obstacles)) break search;
        }
      }
    }
  }
  // No spot lay inside the drawing: the default one, with what it really covers.
  const covered = leastCovered === Number.POSITIVE_INFINITY ? coverage([labelBox(chosen.label)], obstacles) : leastCovered;
  return { text, width, label: chosen.label, cross: chosen.cross, covered };
}

/** Area of `blockers` that `boxes` cover, plus one per blocker touched (within a unit). */
function coverage(boxes: readonly Box[], blockers: readonly Box[]): number {
  let covered = 0;
  for (const box of boxes) for (const obstacle of blockers) if (overlaps(box, obstacle, 1)) covered += overlapArea(box, obstacle) + 1;
  return covered;
}

/** Every order of `items` (n! of them), the given one first. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  const out: T[][] = [];
  items.forEach((item, index) => {
    for (const rest of permutations([...items.slice(0, index), ...items.slice(index + 1)])) out.push([item, ...rest]);
  });
  return out;
}
