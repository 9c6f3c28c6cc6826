/**
 * What a saved session is made of, record by record, and reading it back.
 *
 * - `meta`: the engine snapshot (small: no disk bytes), where the session's lists end, the
 *   scenario's progress. Rewritten by every save.
 * - the stores' records (storage/tracked-stores.ts): the disks' bytes.
 * - `['steps', page]`, `['results', page]`, `['events', page]`, `['qmp', page]`: the session's
 *   steps (for export), the loaded scenario's step results, the event log (the last
 *   EVENT_LOG_LIMIT events), and the QMP traffic of both hosts (the `qmp` and `qmp-event`
 *   events, the last QMP_LOG_LIMIT: the consoles' transcripts). Paged, so a save writes what was
 *   added. A page is an array of items; a results page is written in columns
 *   (StepResultColumns), and one saved as an array (before colo-sim 0.1's columns) still reads.
 * - `scenario-text`: the loaded scenario's file, written once when it is loaded.
 * - `history`: the commands the user sent and what each did (the last HISTORY_LIMIT).
 *
 * Every save writes its records in one transaction, so all of this is always one instant.
 * `SAVED_STATE_VERSION` names the shape; version 1 (colo-sim 0.1: one meta record holding the
 * session's steps and the scenario's text and results, chunk records of bytes) is migrated.
 */
import type { SimulationSnapshot } from '../engine/colo/snapshot.js';
import { migrateSnapshot } from '../engine/colo/snapshot-migration.js';
import type { LiveInvariantsState } from '../engine/invariants/live-invariants.js';
import type { RunnerProgress, StepResult } from '../engine/scenario/runner.js';
import type { SimEvent } from '../engine/sim/events.js';
import type { SavedRecord } from '../storage/persistence.js';
import { isStoreRecordKey, loadStoreRecord, type LoadedChunks } from '../storage/tracked-stores.js';
import type { PagedLogState } from './paged-log.js';
import { isBranchKey, TIMELINE_KEY } from './session-timeline.js';
import { decodeStepResults, isStepResultColumns } from './step-result-columns.js';

export const SAVED_STATE_VERSION = 2;
export const META_KEY = 'meta';
export const SCENARIO_TEXT_KEY = 'scenario-text';
export const HISTORY_KEY = 'history';

export const STEPS_LOG = 'steps';
export const RESULTS_LOG = 'results';
export const EVENTS_LOG = 'events';
export const QMP_LOG = 'qmp';
export const PAGE_SIZE = 256;
/** Events kept in the log (and saved): the newest this many. */
export const EVENT_LOG_LIMIT = 4000;
/**
 * QMP commands and events kept for the consoles (and saved): the newest this many. The event
 * log cannot serve: it keeps the last EVENT_LOG_LIMIT events of every kind, and a workload
 * pushes a console's commands out of it within a second of virtual time.
 */
export const QMP_LOG_LIMIT = 2000;
/** Commands kept in the history (and saved): the newest this many. */
export const HISTORY_LIMIT = 300;

export type { HistoryEntry } from './protocol.js';
import type { HistoryEntry } from './protocol.js';

export interface SavedScenario {
  readonly name: string;
  readonly progress: RunnerProgress;
  readonly results: PagedLogState;
}

export interface SavedMeta {
  readonly version: typeof SAVED_STATE_VERSION;
  readonly snapshot: SimulationSnapshot;
  /** Virtual time and scheduler position when the last command ended: where an export's next gap starts. */
  readonly lastCommandEndUs: number;
  readonly entriesRunAtLastCommand: number;
  readonly steps: PagedLogState;
  readonly scenario: SavedScenario | null;
  readonly events: PagedLogState;
  /** Absent in sessions saved before the consoles: their transcripts start from the event log. */
  readonly qmp?: PagedLogState;
  readonly nextHistoryId: number;
  /**
   * The live invariants' state (what this epoch overwrote and copied, the last checkpoint's
   * check). Absent in saves made before it: checking then starts afresh at the next checkpoint.
   */
  readonly invariants?: LiveInvariantsState;
}

/** Everything read back from the store, sorted by kind. */
export interface LoadedRecords {
  readonly meta: unknown;
  readonly chunks: LoadedChunks;
  /** Each list's pages by page index: arrays of items, or (the results list) a page in columns. */
  readonly pages: Map<string, Map<number, unknown>>;
  readonly scenarioText: { readonly name: string; readonly text: string } | undefined;
  readonly history: HistoryEntry[];
  readonly recordCount: number;
  /** Time travel: the `timeline` record and the branches' records by id (session-timeline.ts). */
  readonly timeline?: unknown;
  readonly branches?: Map<number, unknown>;
}

/** Sorts raw records by what they are. Throws on a record this release cannot read. */
export function sortRecords(records: readonly SavedRecord[]): LoadedRecords {
  let meta: unknown;
  const chunks: LoadedChunks = new Map();
  const pages = new Map<string, Map<number, unknown>>();
  let scenarioText: LoadedRecords['scenarioText'];
  let history: HistoryEntry[] = [];
  let timeline: unknown;
  const branches = new Map<number, unknown>();
  for (const [key, value] of records) {
    if (key === META_KEY) meta = value;
    else if (key === TIMELINE_KEY) timeline = value;
    else if (isBranchKey(key)) branches.set(key[1], value);
    else if (key === SCENARIO_TEXT_KEY) scenarioText = value as LoadedRecords['scenarioText'];
    else if (key === HISTORY_KEY) history = value as HistoryEntry[];
    else if (isStoreRecordKey(key)) loadStoreRecord(chunks, key, value);
    else if (Array.isArray(key) && key.length === 2 && typeof key[0] === 'string' && typeof key[1] === 'number' && (Array.isArray(value) || isStepResultColumns(value))) {
      let log = pages.get(key[0]);
      if (!log) pages.set(key[0], (log = new Map()));
      // The results list's pages are saved in columns (step-result-columns.ts), and are decoded
      // by resultPagesOf once the scenario's descriptions are known; those saved before were
      // arrays of results, as every other list's pages are.
      log.set(key[1], value);
    }
    // Other keys (a writability probe) are not part of the session.
  }
  return { meta, chunks, pages, scenarioText, history, recordCount: records.length, timeline, branches };
}

/** Version 1's meta record. */
interface SavedMetaV1 {
  readonly version: 1;
  readonly snapshot: { readonly version: 1 };
  readonly sessionSteps: unknown[];
  readonly lastCommandEndUs: number;
  readonly scenario: { readonly name: string; readonly text: string; readonly progress: { nextIndex: number; finished: boolean; failure?: StepResult }; readonly results: StepResult[] } | null;
}

/** A session read back, in today's shape: what the session restores from. */
export interface SessionToRestore {
  readonly meta: SavedMeta;
  readonly chunks: LoadedChunks;
  readonly pages: Map<string, Map<number, unknown>>;
  readonly scenarioText: LoadedRecords['scenarioText'];
  readonly history: HistoryEntry[];
  /** The saved shape was older: everything must be saved again in today's shape. */
  readonly migratedFrom: number | undefined;
  /** Time travel's records, if any were saved. */
  readonly timeline?: unknown;
  readonly branches?: Map<number, unknown>;
}

/** Today's shape of what was loaded; throws with a plain message when it cannot be read. */
export function upgradeLoaded(loaded: LoadedRecords): SessionToRestore {
  const meta = loaded.meta as { version?: unknown } | undefined;
  if (!meta || typeof meta !== 'object') throw new Error('the saved meta record is missing');
  if (meta.version === SAVED_STATE_VERSION) {
    const current = meta as SavedMeta;
    return {
      meta: { ...current, snapshot: migrateSnapshot(current.snapshot) },
      chunks: loaded.chunks,
      pages: loaded.pages,
      scenarioText: loaded.scenarioText,
      history: loaded.history,
      migratedFrom: undefined,
      ...(loaded.timeline === undefined ? {} : { timeline: loaded.timeline }),
      ...(loaded.branches ? { branches: loaded.branches } : {}),
    };
  }
  if (meta.version !== 1) throw new Error(`the saved simulation has format version ${String(meta.version)}; this colo-sim reads versions 1 to ${SAVED_STATE_VERSION}`);
  const v1 = meta as SavedMetaV1;
  const snapshot = migrateSnapshot(v1.snapshot);
  const pages = new Map<string, Map<number, unknown>>();
  const paged = (items: readonly unknown[]): { state: PagedLogState; pages: Map<number, unknown[]> } => {
    const byPage = new Map<number, unknown[]>();
    for (let start = 0; start < items.length; start += PAGE_SIZE) byPage.set(start / PAGE_SIZE, items.slice(start, start + PAGE_SIZE));
    return { state: { firstIndex: 0, endIndex: items.length }, pages: byPage };
  };
  const steps = paged(v1.sessionSteps);
  pages.set(STEPS_LOG, steps.pages);
  let scenario: SavedScenario | null = null;
  let scenarioText: LoadedRecords['scenarioText'];
  if (v1.scenario) {
    const results = paged(v1.scenario.results);
    pages.set(RESULTS_LOG, results.pages);
    scenarioText = { name: v1.scenario.name, text: v1.scenario.text };
    scenario = { name: v1.scenario.name, progress: { ...v1.scenario.progress, failure: v1.scenario.progress.failure ?? null, pending: [] }, results: results.state };
  }
  return {
    meta: {
      version: SAVED_STATE_VERSION,
      snapshot,
      lastCommandEndUs: v1.lastCommandEndUs,
      entriesRunAtLastCommand: 0,
      steps: steps.state,
      scenario,
      events: { firstIndex: 0, endIndex: 0 },
      nextHistoryId: 1,
    },
    chunks: loaded.chunks,
    pages,
    scenarioText,
    history: [],
    migratedFrom: 1,
  };
}

/**
 * The results list's pages as results: pages in columns decoded with `knownDescriptions` (the
 * loaded scenario's step descriptions, which a page leaves out where they are the same), pages
 * saved as arrays by an earlier release as they are. Throws a TypeError on a malformed page or
 * one leaving out a description the scenario does not have (see decodeStepResults).
 */
export function resultPagesOf(pages: ReadonlyMap<string, ReadonlyMap<number, unknown>>, knownDescriptions: readonly string[]): ReadonlyMap<number, StepResult[]> {
  const decoded = new Map<number, StepResult[]>();
  for (const [page, value] of pages.get(RESULTS_LOG) ?? []) {
    decoded.set(page, Array.isArray(value) ? (value as StepResult[]) : decodeStepResults(value as never, knownDescriptions));
  }
  return decoded;
}

export function pagesOf<T>(pages: ReadonlyMap<string, ReadonlyMap<number, unknown>>, name: string): ReadonlyMap<number, T[]> {
  return (pages.get(name) ?? new Map()) as ReadonlyMap<number, T[]>;
}

export type { SimEvent };
