import { parseArgs } from 'node:util';
import { configCheck } from '../config/check';
import { isVerb, runCommand, VERBS } from './commands';
import { buildContext, type Context, type GlobalOptions, resolveSettings, type Settings } from './context';
import { describeFailure, EXIT, type ExitCode, UsageError } from './errors';
import { findDeployment, parseIdOrFail, renderHistory } from './history';
import { colours, formatTime, type Output, wantsColour } from './output';
import { collectStatus, renderStatus } from './status';

export const USAGE = `Usage: sagemaker-rollouts <command> [options]

Commands:
  status [group]                  deployments: stage, phase, live weights, canary progress, time in
                                  the current step, latest gate readings
      --all                       every deployment, not only those in flight (default: in flight,
                                  else each group's latest)
      --watch                     refresh until interrupted (Ctrl-C)
      --interval <seconds>        refresh period for --watch (default 2)
  history <deployment>            every transition: time, actor, reason, weights, gate readings
  ${VERBS.join(' | ')} <deployment> --reason "<why>"
                                  sends the command, signed with your AWS credentials, to the
                                  command URL and waits for its outcome (the actor recorded is
                                  the IAM principal that signed it)
      --command-url <url>         the stack's CommandUrl output (ROLLOUTS_COMMAND_URL)
      --timeout <seconds>         how long to wait for the outcome (default 60)
      --no-wait                   send and exit without waiting
  config check <file>             validates a rollouts configuration file

Where:
  --stage <stage>                 table and bus sagemaker-rollouts-<stage> (default dev; local with --local)
  --table <name>, --bus <name>    override the table (TABLE_NAME) and bus (EVENT_BUS_NAME)
  --config <file>                 rollouts config (ROLLOUTS_CONFIG_PATH, default rollouts.config.yml):
                                  endpoints, cross-account roles and canary steps
  --region <region>, --profile <profile>
                                  AWS settings (default: AWS_REGION, AWS_PROFILE and the usual chain)
  --local <url>                   the local cloud printed by \`npm start -- --keep-running\`
  --dynamodb-url <url>            its DynamoDB address (AWS_ENDPOINT_URL_DYNAMODB)
  --endpoint-url <url>            any AWS-compatible endpoint (AWS_ENDPOINT_URL)

Output:
  --json                          machine-readable output (one JSON document per line with --watch)
  --no-color                      no colour (also NO_COLOR=1; colour is only used on a terminal)

Deployments are named <group>:v<version>, or <group>:v<version>#<attempt> for retries.
Exit codes: 0 ok, 1 command refused or check failed, 2 usage error or unknown deployment,
3 timed out waiting for the outcome, 4 AWS or connection error.`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  watch: { type: 'boolean', short: 'w' },
  interval: { type: 'string' },
  all: { type: 'boolean' },
  reason: { type: 'string', short: 'r' },
  'command-url': { type: 'string' },
  timeout: { type: 'string' },
  'no-wait': { type: 'boolean' },
  stage: { type: 'string' },
  table: { type: 'string' },
  bus: { type: 'string' },
  config: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  local: { type: 'string' },
  'endpoint-url': { type: 'string' },
  'dynamodb-url': { type: 'string' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean | undefined };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** resolves when the user interrupts (Ctrl-C), ending --watch */
  interrupted?: Promise<void> | undefined;
}

const seconds = (value: string | undefined, flag: string, fallback: number): number => {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new UsageError(`${flag} expects a positive number of seconds, got "${value}"`);
  }
  return parsed;
};

const globals = (flags: Flags): GlobalOptions => ({
  stage: flags.stage,
  table: flags.table,
  bus: flags.bus,
  config: flags.config,
  region: flags.region,
  profile: flags.profile,
  local: flags.local,
  endpointUrl: flags['endpoint-url'],
  dynamodbUrl: flags['dynamodb-url'],
  commandUrl: flags['command-url'],
});

const printNotes = (ctx: Context, output: Output): void => {
  for (const note of ctx.notes.splice(0)) output.err(output.colour.dim(`note: ${note}`));
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const status = async (ctx: Context, flags: Flags, group: string | undefined, output: Output, io: CliIo) => {
  const options = { group, all: flags.all, wallClock: 0 };
  const once = async () => {
    const report = await collectStatus(ctx, { ...options, wallClock: Date.now() });
    printNotes(ctx, output);
    return report;
  };
  if (!flags.watch) {
    const report = await once();
    output.out(output.json ? JSON.stringify(report) : renderStatus(report, output.colour));
    return EXIT.ok;
  }
  const intervalMs = seconds(flags.interval, '--interval', 2) * 1000;
  let stop = false;
  void io.interrupted?.then(() => {
    stop = true;
  });
  while (!stop) {
    try {
      const report = await once();
      if (output.json) output.out(JSON.stringify(report));
      else {
        // clear the screen on a terminal; a separator when piped
        const head = output.isTty ? '\u001b[2J\u001b[H' : '';
        output.out(
          `${head}${output.colour.dim(`sagemaker-rollouts status  ${formatTime(Date.now())}  every ${intervalMs / 1000}s, Ctrl-C to stop`)}\n${renderStatus(report, output.colour)}\n`,
        );
      }
    } catch (error) {
      // a failed refresh is reported and the next one tried; the watch itself keeps going
      output.err(output.colour.red(describeFailure(error, undefined).message));
    }
    await Promise.race([sleep(intervalMs), io.interrupted ?? new Promise(() => {})]);
  }
  return EXIT.ok;
};

const run = async (
  flags: Flags,
  positionals: string[],
  output: Output,
  io: CliIo,
  onSettings: (settings: Settings) => void,
): Promise<ExitCode> => {
  const [command, ...rest] = positionals;
  if (flags.help || command === 'help') {
    output.out(USAGE);
    return EXIT.ok;
  }
  if (command === undefined) {
    output.err(USAGE);
    return EXIT.usage;
  }
  const context = async (): Promise<Context> => {
    const settings = resolveSettings(globals(flags), io.env);
    onSettings(settings);
    return buildContext(settings);
  };
  const extra = (expected: number) => {
    if (rest.length > expected)
      throw new UsageError(`unexpected argument "${rest[expected]}" for ${command}`);
  };

  if (command === 'config') {
    const [sub, path] = rest;
    if (sub !== 'check' || !path) throw new UsageError('usage: sagemaker-rollouts config check <file>');
    extra(2);
    const result = configCheck(path);
    if (output.json) {
      output.out(
        JSON.stringify(
          result.ok
            ? { ok: true, message: result.message, groups: Object.keys(result.config.modelPackageGroups) }
            : { ok: false, message: result.message, issues: result.issues },
        ),
      );
    } else if (result.ok) output.out(output.colour.green(result.message));
    else output.err(output.colour.red(result.message));
    return result.ok ? EXIT.ok : EXIT.rejected;
  }

  if (command === 'status') {
    extra(1);
    return status(await context(), flags, rest[0], output, io);
  }

  if (command === 'history') {
    extra(1);
    const id = rest[0];
    parseIdOrFail(id);
    const ctx = await context();
    const entries = await ctx.store.history(id!);
    // old deployments leave the group record (only the latest are kept) but keep their history
    if (entries.length === 0) await findDeployment(ctx, id!);
    output.out(
      output.json
        ? JSON.stringify({ deploymentId: id, entries })
        : renderHistory(id!, entries, output.colour),
    );
    return EXIT.ok;
  }

  if (isVerb(command)) {
    extra(1);
    const id = rest[0];
    parseIdOrFail(id);
    const ctx = await context();
    const result = await runCommand(ctx, {
      verb: command,
      deploymentId: id!,
      reason: flags.reason,
      wait: !flags['no-wait'],
      timeoutMs: seconds(flags.timeout, '--timeout', 60) * 1000,
      pollMs: 300,
    });
    if (output.json) {
      const { exitCode: _exitCode, ...rest } = result;
      output.out(JSON.stringify(rest));
    } else if (result.outcome === 'sent') {
      output.out(`${command} sent for ${result.deploymentId} (request ${result.requestId}); not waiting.`);
    } else if (result.outcome === 'rejected') {
      output.err(output.colour.red(`${command} ${result.deploymentId} refused: ${result.reason}`));
    } else {
      const t = result.transition!;
      const moved = t.from === t.to ? t.to : `${t.from} → ${t.to}`;
      output.out(
        `${output.colour.green(`${command} ${result.recordedOn} applied`)}: ${moved}: ${t.reason}` +
          (result.phase && result.phase !== t.to ? ` (now ${result.phase})` : ''),
      );
    }
    return result.exitCode;
  }

  throw new UsageError(`unknown command "${command}". Run \`sagemaker-rollouts --help\` for the commands.`);
};

/** The whole CLI: parses argv, runs the command, prints, and returns the exit code. */
export const runCli = async (argv: string[], io: CliIo): Promise<ExitCode> => {
  const isTty = io.stdout.isTTY === true;
  let json = argv.includes('--json');
  let output: Output = {
    out: (text) => io.stdout.write(`${text}\n`),
    err: (text) => io.stderr.write(`${text}\n`),
    colour: colours(wantsColour(isTty, io.env, argv.includes('--no-color'))),
    json,
    isTty,
  };
  let settings: Settings | undefined;
  try {
    let parsed: { values: Flags; positionals: string[] };
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(
        `${error instanceof Error ? error.message : String(error)}\nRun \`sagemaker-rollouts --help\` for the commands and options.`,
      );
    }
    json = parsed.values.json ?? false;
    output = { ...output, json };
    return await run(parsed.values, parsed.positionals, output, io, (resolved) => {
      settings = resolved;
    });
  } catch (error) {
    const failure = describeFailure(error, settings);
    if (json) {
      output.out(JSON.stringify({ ok: false, error: failure.message, exitCode: failure.exitCode }));
    } else {
      output.err(output.colour.red(`error: ${failure.message}`));
    }
    return failure.exitCode;
  }
};
