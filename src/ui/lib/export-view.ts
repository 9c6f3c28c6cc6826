/**
 * Export the current view for slides (issue 9): the block graph, every disk grid with its title,
 * the host headings and the legend, as one SVG, or as a PNG drawn from that SVG.
 *
 * The SVG stands alone: the graph's SVG is cloned with its computed styles written onto each
 * element (the page's stylesheets do not travel with it), each grid canvas (cells, then the
 * overlay: outlines, labels) becomes an <image> with a PNG data URL, and texts are SVG <text>
 * (no foreignObject: slide tools ignore it). Positions are the page's, relative to the stage.
 */
import { MIXED_CONTENT } from '../../worker/protocol.js';
import { hexByte } from './format.js';
import { byteColour, EMPTY_COLOUR } from './palette.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** What the clone keeps of each graph element's computed style: what decides how it looks. */
const STYLE_PROPERTIES = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'stroke-linecap',
  'stroke-linejoin',
  // Edge labels keep their white halo under the letters (paint-order: stroke); without it the
  // halo was painted over them and the exported labels were blank gaps in their edges.
  'paint-order',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'letter-spacing',
  'text-anchor',
  'dominant-baseline',
  'visibility',
  'display',
] as const;
/** Space around the stage and for the legend and caption under it, in CSS px. */
const MARGIN_PX = 16;
const LEGEND_ROW_PX = 22;
const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif';

export interface ExportInput {
  /** The element holding the views (Stage's section). */
  readonly stage: HTMLElement;
  /** Patterns present on the disks (SimState.legend). */
  readonly legend: readonly number[];
  /** A line under the picture: what and when. */
  readonly caption: string;
}

function element<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Copies the computed look of `source` and its descendants onto `clone` (same structure). */
function inlineStyles(source: Element, clone: Element): void {
  const computed = getComputedStyle(source);
  const style = STYLE_PROPERTIES.map((property) => `${property}:${computed.getPropertyValue(property)}`).join(';');
  clone.setAttribute('style', style);
  clone.removeAttribute('class');
  for (let index = 0; index < source.children.length; index++) inlineStyles(source.children[index]!, clone.children[index]!);
}

/** The whole view as a standalone SVG document (text). */
export function viewToSvg({ stage, legend, caption }: ExportInput): { svg: string; widthPx: number; heightPx: number } {
  const origin = stage.getBoundingClientRect();
  const at = (box: DOMRect) => ({ x: box.left - origin.left + MARGIN_PX, y: box.top - origin.top + MARGIN_PX, width: box.width, height: box.height });
  const patterns = legend.filter((value) => value !== 0 && value !== MIXED_CONTENT);
  const legendItems: Array<{ colour: string; label: string }> = [{ colour: EMPTY_COLOUR, label: '0x00 empty' }, ...patterns.map((value) => ({ colour: byteColour(value), label: hexByte(value) })), { colour: 'none', label: 'not allocated (hollow)' }];
  const widthPx = Math.ceil(origin.width + 2 * MARGIN_PX);
  const heightPx = Math.ceil(origin.height + 2 * MARGIN_PX + 2 * LEGEND_ROW_PX + 8);
  const root = element('svg', { xmlns: SVG_NS, width: widthPx, height: heightPx, viewBox: `0 0 ${widthPx} ${heightPx}`, 'font-family': FONT });
  root.append(element('rect', { x: 0, y: 0, width: widthPx, height: heightPx, fill: '#ffffff' }));

  // The host cards' headings.
  for (const heading of stage.querySelectorAll<HTMLElement>('.host-head h2')) {
    const box = at(heading.getBoundingClientRect());
    root.append(element('text', { x: box.x, y: box.y + box.height * 0.8, 'font-size': 14, 'font-weight': 700, fill: getComputedStyle(heading).color }, heading.textContent?.trim() ?? ''));
  }
  // The graph.
  const graph = stage.querySelector<SVGSVGElement>('svg.graph-svg');
  if (graph) {
    const box = at(graph.getBoundingClientRect());
    const clone = graph.cloneNode(true) as SVGSVGElement;
    inlineStyles(graph, clone);
    clone.setAttribute('x', String(box.x));
    clone.setAttribute('y', String(box.y));
    clone.setAttribute('width', String(box.width));
    clone.setAttribute('height', String(box.height));
    root.append(clone);
  }
  // Each grid: its title, its cells and its overlay.
  for (const figure of stage.querySelectorAll<HTMLElement>('figure.disk[data-disk]')) {
    const title = figure.querySelector<HTMLElement>('figcaption .name');
    const label = title?.textContent?.trim() || figure.dataset.disk!;
    const canvases = figure.querySelectorAll<HTMLCanvasElement>('canvas');
    const first = canvases[0];
    if (!first) continue;
    const box = at(first.getBoundingClientRect());
    root.append(element('text', { x: box.x, y: box.y - 6, 'font-size': 12, 'font-weight': 700, fill: '#1f2933' }, label));
    for (const canvas of canvases) {
      const canvasBox = at(canvas.getBoundingClientRect());
      root.append(element('image', { x: canvasBox.x, y: canvasBox.y, width: canvasBox.width, height: canvasBox.height, href: canvas.toDataURL('image/png'), 'data-disk': figure.dataset.disk! }));
    }
  }
  // The legend and the caption, under the stage.
  let x = MARGIN_PX;
  const legendY = origin.height + 2 * MARGIN_PX;
  root.append(element('text', { x, y: legendY + 11, 'font-size': 11, 'font-weight': 700, fill: '#5f6b7a', 'letter-spacing': '0.06em' }, 'LEGEND'));
  x += 60;
  for (const item of legendItems) {
    root.append(element('rect', { x, y: legendY + 1, width: 12, height: 12, rx: 3, fill: item.colour === 'none' ? '#ffffff' : item.colour, stroke: item.colour === 'none' ? '#94a3b8' : 'none', 'stroke-width': 1.5 }));
    root.append(element('text', { x: x + 17, y: legendY + 11, 'font-size': 11.5, fill: '#475569' }, item.label));
    x += 17 + item.label.length * 6.6 + 14;
  }
  root.append(element('text', { x: MARGIN_PX, y: legendY + LEGEND_ROW_PX + 13, 'font-size': 11, fill: '#5f6b7a' }, caption));
  return { svg: `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(root)}\n`, widthPx, heightPx };
}

/** The SVG drawn at `scale` device pixels per CSS pixel, as PNG bytes. */
export async function svgToPng(svg: string, widthPx: number, heightPx: number, scale: number): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.decoding = 'sync';
    await new Promise<void>((resolve, reject) => {
      image.onload = () => resolve();
      image.onerror = () => reject(new Error('the exported SVG could not be drawn'));
      image.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(widthPx * scale);
    canvas.height = Math.round(heightPx * scale);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2D canvas to draw the PNG on');
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the PNG could not be encoded'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Hands a blob to the browser as a download named `fileName`. */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
