import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import packageJson from '../../package.json';
import { configCheck } from '../config/check';
import type { OperatorVerb } from '../domain/model';
import { runCommand, VERBS } from './commands';
import { buildContext, type Context, type GlobalOptions, resolveSettings, type Settings } from './context';
import { describeFailure, EXIT, type ExitCode, UsageError } from './errors';
import { findDeployment, parseIdOrFail, renderHistory, requireGroup } from './history';
import { addLocalCommands } from './local';
import { colours, formatTime, type Output, tableWidth, wantsColour } from './output';
import { collectStatus, renderStatus } from './status';
import { describeOutcome, waitForDeployment } from './wait';

export const VERSION: string = packageJson.version;

export const EXIT_CODES_HELP = `Exit codes:
  0  ok; with status --wait: the deployment succeeded
  1  the command was refused, or the check failed
  2  usage error, or unknown deployment
  3  timed out (a command's outcome, or status --wait --timeout)
  4  AWS or connection error (credentials, permissions, network)
  5  status --wait: the deployment ended without going live (rolled back, failed, aborted, superseded)
  6  status --wait: the deployment waits for an operator (canary paused, or awaiting approval)`;

const FOOTER = `
Deployments are named <group>:v<version>, or <group>:v<version>#<attempt> for retries.
Run \`sagemaker-rollouts <command> --help\` for a command's options.

${EXIT_CODES_HELP}`;

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean | undefined; columns?: number | undefined };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** resolves when the user interrupts (Ctrl-C), ending --watch */
  interrupted?: Promise<void> | undefined;
}

interface GlobalFlags {
  stage?: string;
  table?: string;
  bus?: string;
  config?: string;
  region?: string;
  profile?: string;
  local?: string;
  endpointUrl?: string;
  dynamodbUrl?: string;
  commandUrl?: string;
  json?: boolean;
  color: boolean;
}

const positiveSeconds = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError(`expected a positive number of seconds, got "${value}".`);
  }
  return parsed;
};

const globals = (flags: GlobalFlags): GlobalOptions => ({
  stage: flags.stage,
  table: flags.table,
  bus: flags.bus,
  config: flags.config,
  region: flags.region,
  profile: flags.profile,
  local: flags.local,
  endpointUrl: flags.endpointUrl,
  dynamodbUrl: flags.dynamodbUrl,
  commandUrl: flags.commandUrl,
});

const printNotes = (ctx: Context, output: Output): void => {
  for (const note of ctx.notes.splice(0)) output.err(output.colour.dim(`note: ${note}`));
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** What a command run needs: where to print, and the AWS context (built on first use). */
export interface Session {
  output: Output;
  io: CliIo;
  context(): Promise<Context>;
  /** the exit code of the command that ran */
  exitCode: ExitCode;
}

const watchStatus = async (
  session: Session,
  target: string | undefined,
  options: { all?: boolean; interval?: number },
): Promise<ExitCode> => {
  const { output, io } = session;
  const ctx = await session.context();
  const intervalMs = (options.interval ?? 2) * 1000;
  let stop = false;
  void io.interrupted?.then(() => {
    stop = true;
  });
  while (!stop) {
    try {
      const report = await collectStatus(ctx, { target, all: options.all, wallClock: Date.now() });
      printNotes(ctx, output);
      if (output.json) output.out(JSON.stringify(report));
      else {
        // clear the screen on a terminal; a separator when piped
        const head = output.isTty ? '\u001b[2J\u001b[H' : '';
        output.out(
          `${head}${output.colour.dim(`sagemaker-rollouts status  ${formatTime(Date.now())}  every ${intervalMs / 1000}s, Ctrl-C to stop`)}\n${renderStatus(report, output.colour, output.width)}\n`,
        );
      }
    } catch (error) {
      const failure = describeFailure(error, ctx.settings);
      // only a connection problem may pass; credentials, permissions or a missing table will not
      if (!failure.transient) throw error;
      if (output.json)
        output.out(JSON.stringify({ ok: false, error: failure.message, exitCode: failure.exitCode }));
      else output.err(output.colour.red(failure.message));
    }
    await Promise.race([sleep(intervalMs), io.interrupted ?? new Promise(() => {})]);
  }
  return EXIT.ok;
};

const status = async (
  session: Session,
  target: string | undefined,
  options: { all?: boolean; watch?: boolean; interval?: number; wait?: boolean; timeout?: number },
): Promise<ExitCode> => {
  const { output } = session;
  if (options.wait) {
    if (options.watch || options.all)
      throw new UsageError('--wait follows one deployment: drop --watch and --all');
    if (!target) throw new UsageError('--wait needs a deployment, e.g. `status churn-model:v3 --wait`');
    parseIdOrFail(target);
    const ctx = await session.context();
    let lastPhase: string | undefined;
    let lastRetrying: string | undefined;
    let saidAwaiting = false;
    const outcome = await waitForDeployment(ctx, target, {
      timeoutMs: (options.timeout ?? 30 * 60) * 1000,
      intervalMs: (options.interval ?? 5) * 1000,
      onAwaiting: () => {
        if (output.json || saidAwaiting) return;
        saidAwaiting = true;
        output.err(
          output.colour.dim(
            `${formatTime(Date.now())}  ${target}: not recorded yet, waiting for the service to receive its approval`,
          ),
        );
      },
      onRefresh: (d, retrying) => {
        if (output.json) return;
        if (d.phase !== lastPhase) {
          lastPhase = d.phase;
          output.err(
            output.colour.dim(
              `${formatTime(Date.now())}  ${d.id}: ${d.phase}${d.reason ? ` (${d.reason})` : ''}`,
            ),
          );
        }
        // once per error met (its age alone changing is no news)
        const met = retrying?.replace(/ since \S+:/, ':');
        if (met !== lastRetrying) {
          lastRetrying = met;
          if (retrying) output.err(output.colour.yellow(`${formatTime(Date.now())}  ${d.id}: ${retrying}`));
        }
      },
    });
    if (output.json) output.out(JSON.stringify(outcome));
    else {
      const paint =
        outcome.exitCode === EXIT.ok
          ? output.colour.green
          : outcome.exitCode === EXIT.unsuccessful
            ? output.colour.red
            : output.colour.yellow;
      output.out(paint(describeOutcome(outcome)));
    }
    return outcome.exitCode;
  }
  if (options.timeout !== undefined) throw new UsageError('--timeout applies to --wait');
  if (options.watch) return watchStatus(session, target, options);
  const ctx = await session.context();
  if (target?.includes(':')) parseIdOrFail(target);
  const report = await collectStatus(ctx, { target, all: options.all, wallClock: Date.now() });
  printNotes(ctx, output);
  if (target?.includes(':') && report.rows.length === 0) await findDeployment(ctx, target);
  else if (target && report.rows.length === 0) await requireGroup(ctx, target);
  output.out(output.json ? JSON.stringify(report) : renderStatus(report, output.colour, output.width));
  return EXIT.ok;
};

const history = async (session: Session, id: string, options: { wide?: boolean }): Promise<ExitCode> => {
  const { output } = session;
  parseIdOrFail(id);
  const ctx = await session.context();
  const entries = await ctx.store.history(id);
  // old deployments leave the group record (only the latest are kept) but keep their history
  if (entries.length === 0) await findDeployment(ctx, id);
  output.out(
    output.json
      ? JSON.stringify({ deploymentId: id, entries })
      : renderHistory(
          id,
          entries,
          output.colour,
          options.wide ? undefined : output.width,
          ctx.settings.region,
        ),
  );
  return EXIT.ok;
};

const command = async (
  session: Session,
  verb: OperatorVerb,
  id: string,
  options: { reason?: string; timeout?: number; wait: boolean; full?: boolean; in?: string },
): Promise<ExitCode> => {
  const { output } = session;
  parseIdOrFail(id);
  const ctx = await session.context();
  const result = await runCommand(ctx, {
    verb,
    deploymentId: id,
    reason: options.reason,
    wait: options.wait,
    timeoutMs: (options.timeout ?? 60) * 1000,
    pollMs: 300,
    full: options.full,
    stage: options.in,
  });
  if (output.json) {
    const { exitCode: _exitCode, ...rest } = result;
    output.out(JSON.stringify(rest));
  } else if (result.outcome === 'sent') {
    output.out(`${verb} sent for ${result.deploymentId} (request ${result.requestId}); not waiting.`);
  } else if (result.outcome === 'rejected') {
    output.err(output.colour.red(`${verb} ${result.deploymentId} refused: ${result.reason}`));
  } else {
    const t = result.transition!;
    const moved = t.from === t.to ? t.to : `${t.from} → ${t.to}`;
    output.out(
      `${output.colour.green(`${verb} ${result.recordedOn} applied`)}: ${moved}: ${t.reason}` +
        (result.phase && result.phase !== t.to ? ` (now ${result.phase})` : ''),
    );
  }
  return result.exitCode;
};

const VERB_HELP: Record<OperatorVerb, string> = {
  promote:
    'advance the canary to its next step (Argo-compatible); --full skips the remaining steps or ends a bake; in manual mode grants the approval',
  pause: 'hold the canary at its current weights (gates still roll back on a breach)',
  resume: 'continue a paused canary',
  abort: 'stop the deployment and roll prod back to the version it serves',
  rollback:
    'end an in-flight deployment rolled back, or take the version serving prod back to the previous good one; --in qa takes QA back to the version prod serves',
  retry: 'start a new attempt of a version that failed, was rolled back or aborted',
};

const buildProgram = (session: Session): Command => {
  const { io } = session;
  const program = new Command('sagemaker-rollouts')
    .description('Operate sagemaker-rollouts deployments: status, history and operator commands.')
    .version(VERSION, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help (also per command: <command> --help)')
    .helpCommand('help [command]', 'show help for a command')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // errors are printed once, by runCli, as text or JSON
      outputError: () => {},
    })
    .addOption(
      new Option(
        '--stage <stage>',
        'table and bus sagemaker-rollouts-<stage> (default dev; local with --local)',
      ),
    )
    .option('--table <name>', 'the table (default TABLE_NAME, else from the stage)')
    .option('--bus <name>', 'the event bus (default EVENT_BUS_NAME, else from the stage)')
    .option(
      '--config <file>',
      'rollouts config: endpoints, cross-account roles, canary steps (ROLLOUTS_CONFIG_PATH, default rollouts.config.yml)',
    )
    .option(
      '--region <region>',
      "AWS region (default AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1; as the AWS CLI)",
    )
    .option('--profile <profile>', 'AWS profile (default AWS_PROFILE and the usual chain)')
    .option('--local <url>', 'the local cloud printed by `npm start -- --keep-running`')
    .option('--dynamodb-url <url>', 'its DynamoDB address (AWS_ENDPOINT_URL_DYNAMODB)')
    .option('--endpoint-url <url>', 'any AWS-compatible endpoint (AWS_ENDPOINT_URL)')
    .option('--command-url <url>', "the stack's CommandUrl output, where commands go (ROLLOUTS_COMMAND_URL)")
    .option('--json', 'machine-readable output; errors too (one JSON document per line with --watch)')
    .option('--no-color', 'no colour (also NO_COLOR=1; colour is only used on a terminal)')
    .addHelpText('after', FOOTER);

  program
    .command('status')
    .argument('[target]', 'a group, or one deployment (<group>:v<version>)')
    .description(
      "deployments: stage, phase, weights, canary progress, time in step, latest gate readings; then each stage of their groups: endpoint, live weights, the deployment in it and a canary's verdict",
    )
    .option('--all', 'every deployment of every configured group, finished ones too (default: in flight)')
    .option('-w, --watch', 'refresh until interrupted (Ctrl-C)')
    .option(
      '--wait',
      'follow one deployment until it ends or needs an operator; the exit code says how (a version approved a moment ago is waited for up to 2 minutes)',
    )
    .option(
      '--timeout <seconds>',
      'with --wait: give up after this long (default 1800), exit 3',
      positiveSeconds,
    )
    .option('--interval <seconds>', 'refresh period (default 2, 5 with --wait)', positiveSeconds)
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .action(async (target: string | undefined, options) => {
      session.exitCode = await status(session, target, options);
    });

  program
    .command('history')
    .argument('<deployment>', '<group>:v<version>[#<attempt>]')
    .description('every transition: time, actor, reason, weights, gate readings')
    .option('--wide', 'full text, whatever the terminal width')
    .action(async (id: string, options) => {
      session.exitCode = await history(session, id, options);
    });

  for (const verb of VERBS) {
    const sub = program
      .command(verb)
      .argument('<deployment>', '<group>:v<version>[#<attempt>]')
      .description(VERB_HELP[verb])
      .addHelpText(
        'after',
        '\nThe command is signed with your AWS credentials and sent to the command URL; the actor recorded is the IAM principal that signed it. The outcome the control function records is awaited.',
      )
      .option('-r, --reason <why>', 'why (required: every command is in the audit history)')
      .option('--timeout <seconds>', 'how long to wait for the outcome (default 60)', positiveSeconds)
      .option('--no-wait', 'send and exit without waiting');
    if (verb === 'promote')
      sub
        .option(
          '--full',
          'skip the remaining canary steps (the candidate takes all traffic), or end a bake between stages',
        )
        .option(
          '--in <stage>',
          'the stage to promote into: prod, the default (a version enters qa once approved; --stage is the serverless stage)',
        );
    if (verb === 'rollback')
      sub.option(
        '--in <stage>',
        "the stage to roll back: prod, the default; qa takes QA back from the deployment's version to the version prod serves (--stage is the serverless stage)",
      );
    sub.action(async (id: string, options) => {
      session.exitCode = await command(session, verb, id, options);
    });
  }

  program
    .command('config')
    .description('configuration files')
    .command('check')
    .argument('<file>', 'a rollouts configuration (YAML or JSON)')
    .description('validate a rollouts configuration file')
    .action((path: string) => {
      const { output } = session;
      const result = configCheck(path);
      if (output.json) {
        output.out(
          JSON.stringify(
            result.ok
              ? {
                  ok: true,
                  message: result.message,
                  groups: Object.keys(result.config.modelPackageGroups),
                  warnings: result.warnings,
                }
              : { ok: false, message: result.message, issues: result.issues },
          ),
        );
      } else if (result.ok) {
        for (const warning of result.warnings) output.err(output.colour.yellow(warning));
        output.out(output.colour.green(result.message));
      } else output.err(output.colour.red(result.message));
      session.exitCode = result.ok ? EXIT.ok : EXIT.rejected;
    });

  addLocalCommands(program, session);
  return program;
};

/** Commander's own stops: help and version are successes, anything else a usage error. */
const commanderExit = (error: CommanderError): { ok: boolean; message: string } => {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')
    return { ok: true, message: '' };
  if (error.code === 'commander.help' || error.code === 'commander.executeSubCommandAsync') {
    return { ok: false, message: 'a command is required. Run `sagemaker-rollouts --help` for the commands.' };
  }
  const message = error.message.replace(/^error: /, '');
  return {
    ok: false,
    message: `${message}\nRun \`sagemaker-rollouts --help\` for the commands and options.`,
  };
};

/** The whole CLI: parses argv, runs the command, prints, and returns the exit code. */
export const runCli = async (argv: string[], io: CliIo): Promise<ExitCode> => {
  const isTty = io.stdout.isTTY === true;
  // known before parsing, so that even a usage error is reported in the form asked for
  const json = argv.includes('--json');
  const output: Output = {
    out: (text) => io.stdout.write(`${text}\n`),
    err: (text) => io.stderr.write(`${text}\n`),
    colour: colours(wantsColour(isTty, io.env, argv.includes('--no-color'))),
    json,
    isTty,
    width: tableWidth(io.stdout, io.env),
  };
  let settings: Settings | undefined;
  const session: Session = {
    output,
    io,
    exitCode: EXIT.ok,
    context: async () => {
      settings = await resolveSettings(globals(program.opts<GlobalFlags>()), io.env);
      return buildContext(settings);
    },
  };
  const program = buildProgram(session);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return session.exitCode;
  } catch (error) {
    let failure: { message: string; exitCode: ExitCode };
    if (error instanceof CommanderError) {
      const stop = commanderExit(error);
      if (stop.ok) return EXIT.ok;
      failure = { message: stop.message, exitCode: EXIT.usage };
    } else failure = describeFailure(error, settings);
    if (json) output.out(JSON.stringify({ ok: false, error: failure.message, exitCode: failure.exitCode }));
    else output.err(output.colour.red(`error: ${failure.message}`));
    return failure.exitCode;
  }
};
