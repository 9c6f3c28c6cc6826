/**
 * Turns off zod's JIT for this process. The first time zod parses an object schema it compiles
 * a parser for it with new Function; that pays off over many parses, but `colo-sim run` parses
 * a few files and exits, and code made by new Function cannot come from the code cache, so each
 * run paid the compile (about 10 ms of a 150 ms run). The results are the same without it.
 *
 * A module of its own, imported first by colo-sim.ts: zod reads the setting when a schema is
 * made, which happens while the engine's modules load, before colo-sim.ts's own code runs.
 */
import { config } from 'zod/mini';

config({ jitless: true });
