/**
 * What a timeline mark notes about its step (a checkpoint, a failover, ...), as a set of bits: a
 * module of its own, with no engine behind it, because the page decodes marks with it (the
 * timeline itself would bring the whole engine into the page's bundle).
 */
/** What is worth a marker on a timeline view, in the order a mark lists them (alphabetical). */
export const TIMELINE_NOTES = ['checkpoint', 'colo-start', 'error', 'failover', 'fault', 'restart'] as const;
export type TimelineNote = (typeof TIMELINE_NOTES)[number];

/** One frozen notes array per set of notes: marks share them (a run of 100,000 steps made as many arrays). */
const NOTES_BY_MASK: ReadonlyArray<readonly TimelineNote[]> = Array.from({ length: 1 << TIMELINE_NOTES.length }, (_, mask) =>
  Object.freeze(TIMELINE_NOTES.filter((_, bit) => (mask & (1 << bit)) !== 0)),
);

/** The notes whose bits (bit i: TIMELINE_NOTES[i]) are set in `mask`, in order. Throws a RangeError for a mask outside [0, 64). */
export function notesOfMask(mask: number): readonly TimelineNote[] {
  const notes = NOTES_BY_MASK[mask];
  if (notes === undefined) throw new RangeError(`${mask} is not a set of timeline notes`);
  return notes;
}

/** The bit of `note` in a notes mask (bit i: TIMELINE_NOTES[i]). */
export function noteBit(note: TimelineNote): number {
  return 1 << TIMELINE_NOTES.indexOf(note);
}
