import { runCli } from './cli';

const interrupted = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

/*
 * A reader that stops early (`| head -1`, a closed terminal) is no failure of the command: stop
 * quietly with exit 0 as a Unix filter does. Node ignores SIGPIPE and reports the closed pipe as an
 * EPIPE 'error' event instead, which would otherwise be thrown as an uncaught stack trace. A closed
 * stderr only loses the messages; the command goes on and exits with its own code.
 */
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
process.stderr.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  interrupted,
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(4);
  },
);
