/**
 * fdWriter (src/cli/fd-writer.ts), how the CLI writes its output: every byte, in order, through
 * partial writes and a full non-blocking pipe; nothing more once the reader has gone.
 */
import { describe, expect, it } from 'vitest';
import { fdWriter, type WriteSync } from '../../src/cli/fd-writer.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

/** A file descriptor that takes at most `chunkBytes` per write and fails as `script` says, call by call. */
function fakeFd(chunkBytes: number, script: Array<string | undefined> = []) {
  const received: number[] = [];
  const fds: number[] = [];
  let call = 0;
  const write: WriteSync = (fd, buffer, offset) => {
    fds.push(fd);
    const failure = script[call++];
    if (failure) throw errno(failure);
    const taken = buffer.subarray(offset, offset + chunkBytes);
    received.push(...taken);
    return taken.length;
  };
  return { write, text: () => Buffer.from(received).toString('utf8'), calls: () => call, fds };
}

describe('fdWriter', () => {
  it('writes every byte in order, through partial writes, to its file descriptor', () => {
    const fd = fakeFd(3);
    const out = fdWriter(7, fd.write);
    out('PASS  ── step 1 ‹blk_co_pwritev›\n');
    out('second line\n');
    expect(fd.text()).toBe('PASS  ── step 1 ‹blk_co_pwritev›\nsecond line\n');
    expect(new Set(fd.fds)).toEqual(new Set([7]));
  });

  it('waits and tries again while a non-blocking pipe is full (EAGAIN)', () => {
    const fd = fakeFd(4, [undefined, 'EAGAIN', 'EAGAIN', undefined]);
    fdWriter(1, fd.write)('abcdefghij');
    expect(fd.text()).toBe('abcdefghij');
    expect(fd.calls()).toBe(5);
  });

  it('once the reader has gone (EPIPE), drops the rest without writing or throwing', () => {
    const fd = fakeFd(4, [undefined, 'EPIPE']);
    const out = fdWriter(1, fd.write);
    out('abcdefgh');
    out('more');
    expect(fd.text()).toBe('abcd');
    expect(fd.calls()).toBe(2);
  });

  it('other errors are not hidden', () => {
    const fd = fakeFd(4, ['EBADF']);
    expect(() => fdWriter(1, fd.write)('abc')).toThrow('EBADF');
  });
});
