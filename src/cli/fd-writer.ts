/**
 * Output written straight to a file descriptor, not through process.stdout: the first use of
 * process.stdout loads Node's stream modules (a few milliseconds of a run that takes about a
 * hundred), and on a pipe it would hold a long --trace in memory instead of waiting for the reader.
 */
import { writeSync } from 'node:fs';

export type WriteSync = (fd: number, buffer: Uint8Array, offset: number) => number;

const MILLISECOND_WAIT = new Int32Array(new SharedArrayBuffer(4));

/**
 * A function that writes all of a text to `fd` before returning. When the reader goes away
 * (`colo-sim run --trace ... | head` closes the pipe), later text is dropped: the run goes on
 * quietly and still ends with its exit code, as it did through process.stdout.
 */
export function fdWriter(fd: number, write: WriteSync = writeSync): (text: string) => void {
  let readerGone = false;
  return (text) => {
    if (readerGone) return;
    const bytes = Buffer.from(text, 'utf8');
    for (let offset = 0; offset < bytes.length; ) {
      try {
        offset += write(fd, bytes, offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          // A pipe its creator made non-blocking is full: give the reader a millisecond.
          Atomics.wait(MILLISECOND_WAIT, 0, 0, 1);
        } else if (code === 'EPIPE') {
          readerGone = true;
          return;
        } else {
          throw error;
        }
      }
    }
  };
}
