/**
 * What the page exposes for tests and benchmarks (src/main.ts). One declaration for both: the
 * crash benchmark shares the e2e helpers, and two declarations of window.coloSim in one program
 * would silently shadow each other (skipLibCheck hides the conflict in .d.ts files).
 */
/// <reference path="../../e2e/globals.d.ts" />
export {};
