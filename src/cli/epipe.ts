// A closed stdout (`tensorkit runs show … | head`) ends the command quietly with status 0, as Unix
// tools do, instead of an unhandled EPIPE error with a stack trace.

/** The part of a writable stream {@link quietEpipe} needs. */
export interface ErrorEmitter {
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown;
}

/**
 * Installs an `error` listener on `stream` (the process's stdout): EPIPE (the reader went away) calls
 * `exit(0)` at once; any other error is re-thrown. Returns the listener (for tests).
 */
export function quietEpipe(stream: ErrorEmitter, exit: (code: number) => void = (code) => process.exit(code)): (err: NodeJS.ErrnoException) => void {
  const listener = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') exit(0);
    else throw err;
  };
  stream.on('error', listener);
  return listener;
}
