declare module 'virtual:scenario-index' {
  /** The scenario library, read from public/scenarios when the app is built. */
  const entries: ReadonlyArray<{ path: string; group: string; title: string; description: string }>;
  export default entries;
}
