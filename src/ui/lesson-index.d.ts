declare module 'virtual:lesson-index' {
  /** The course, read from public/lessons when the app is built, in course order. */
  const entries: ReadonlyArray<{
    /** lesson.id: the lesson's URL is #/learn/<id>. */
    id: string;
    /** The file's path under public/lessons. */
    file: string;
    title: string;
    description: string;
    order: number;
    minutes: number;
    covers: string[];
    /** The steps the player stops at: say, ask and task. */
    stops: number;
  }>;
  export default entries;
}
