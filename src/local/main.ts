/**
 * `npm start`: plays every scenario in src/local/scenarios on the local cloud (no AWS account),
 * prints a timeline and a summary, writes .local/summary.json and .local/report.html, and exits
 * 0 only when every scenario ended as expected.
 *
 *   npm start -- --scenario <name>   play one scenario
 *   npm start -- --keep-running      then keep a local cloud up on the example config (rollouts.local.yml),
 *                                    new and idle; plays no scenario unless --scenario names some
 *   npm start -- --keep-running --speed 300   ... with 300 simulated seconds per second
 *   npm start -- --verbose           each scenario's timeline too (with the metric lines handlers write)
 *   npm start -- --quiet             summary only
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ScenarioResult } from './scenario-runner';
import type { Scenario } from './scenario-schema';
import { SCENARIO_DIR, scenarioFiles } from './scenario-schema';

// Before anything imports src/wiring.ts (it builds the handlers' logger).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

// The SDK's notice about future Node.js versions would bury the timeline (the SDK reads exactly
// this variable, when its first client is built: the scenarios are imported later).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', multiple: true },
      'keep-running': { type: 'boolean', default: false },
      speed: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      worker: { type: 'boolean', default: false },
    },
  });
  if (values.worker) return worker();
  if (values.help) {
    process.stdout.write(
      'usage: npm start -- [--scenario <name>]... [--keep-running [--speed <n>]] [--verbose | --quiet]\n' +
        '  (default) one line per scenario, then the summary; --verbose: every timeline, metric lines\n' +
        '            included; --quiet: the summary only\n' +
        '  --keep-running  then keep a new, idle local cloud on the example config up (rollouts.local.yml);\n' +
        '                  with it, only the scenarios named with --scenario are played first\n' +
        '  --speed <n>     with --keep-running: simulated seconds per second (default 60)\n' +
        `scenarios: ${SCENARIO_DIR}\n`,
    );
    return 0;
  }
  const speed = values.speed === undefined ? 60 : Number(values.speed);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 3600) {
    process.stderr.write(
      `--speed expects simulated seconds per second, 0 < n <= 3600, got "${values.speed}"\n`,
    );
    return 2;
  }
  const { loadScenarioFile, runScenario, clockText, ScenarioFileError } = await import('./scenario-runner');
  type TimelineEntry = import('./scenario-runner').TimelineEntry;
  type ScenarioResult = import('./scenario-runner').ScenarioResult;
  type Scenario = import('./scenario-schema').Scenario;
  const { summaryTable, writeReports } = await import('./report');
  const color = process.stdout.isTTY && !process.env.NO_COLOR;
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);

  let scenarios: Array<{ file: string; scenario: ReturnType<typeof loadScenarioFile> }>;
  try {
    scenarios = scenarioFiles().map((file) => ({ file, scenario: loadScenarioFile(file) }));
  } catch (error) {
    if (error instanceof ScenarioFileError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (values['keep-running'] && !values.scenario?.length) scenarios = [];
  if (values.scenario?.length) {
    const wanted = values.scenario;
    const unknown = wanted.filter((n) => !scenarios.some((s) => s.scenario.name === n));
    if (unknown.length) {
      process.stderr.write(
        `no scenario named ${unknown.join(', ')}; there are: ${scenarios.map((s) => s.scenario.name).join(', ')}\n`,
      );
      return 2;
    }
    scenarios = scenarios.filter((s) => wanted.includes(s.scenario.name));
  }

  const KIND: Record<string, string> = {
    step: paint('1;34', 'event   '),
    decision: paint('32', 'decision'),
    warn: paint('33', 'warning '),
    check: paint('1;31', 'check   '),
    metric: paint('2', 'metric  '),
  };
  const formatEntry = (entry: TimelineEntry): string => {
    const calls = Object.entries(entry.calls)
      .map(([op, n]) => (n > 1 ? `${op}×${n}` : op))
      .join(' ');
    const details = [calls ? `AWS: ${calls}` : '', entry.weights ? `weights: ${entry.weights}` : ''].filter(
      Boolean,
    );
    return `  ${paint('36', clockText(entry.at))}  ${KIND[entry.kind]}  ${entry.text}\n${
      details.length ? `${' '.repeat(22)}${paint('2', details.join('  |  '))}\n` : ''
    }`;
  };
  const verbose = values.verbose && !values.quiet;
  const header = (scenario: Scenario) =>
    verbose ? `\n${paint('1', `▶ ${scenario.name}`)}  ${paint('2', scenario.description)}\n` : '';
  const timeline = (entries: TimelineEntry[]) => (verbose ? entries.map(formatEntry).join('') : '');
  const footer = (result: ScenarioResult, scenario: Scenario) => {
    if (values.quiet) return '';
    const failures = result.failures.map((f) => `    ${paint('31', `- ${f}`)}\n`).join('');
    if (verbose) {
      const verdict = result.ok ? paint('32', '✔ as expected') : paint('31', '✘ not as expected');
      return `  ${verdict}: ${result.outcome}\n${failures}`;
    }
    const mark = result.ok ? paint('32', '✔') : paint('31', '✘');
    const took = paint(
      '2',
      `(${clockText(result.simulatedSeconds * 1000)} simulated, ${(result.wallMs / 1000).toFixed(1)} s)`,
    );
    return `${mark} ${scenario.name.padEnd(28)} ${result.outcome}  ${took}\n${failures}`;
  };

  const workers = Math.min(
    Number(process.env.ROLLOUTS_SCENARIO_WORKERS) || Math.min(availableParallelism(), 4),
    scenarios.length,
  );
  let results: ScenarioResult[];
  const started = Date.now();
  if (scenarios.length > 0 && !values.quiet) {
    process.stdout.write(
      `Playing ${scenarios.length} scenario(s) in ${workers} process(es): ${
        scenarios.length > 3 ? 'all of them take about a minute on 2 cores' : 'a few seconds each'
      }.${verbose ? '' : ' --verbose prints each timeline.'}\n`,
    );
  }
  if (workers > 1) {
    // Scenarios are independent: play them in child processes (each its own local cloud and
    // environment), printing each whole, in file order.
    results = await runInWorkers(scenarios, workers, (_index, result, scenario) =>
      process.stdout.write(header(scenario) + timeline(result.timeline) + footer(result, scenario)),
    );
  } else {
    results = [];
    for (const { file, scenario } of scenarios) {
      process.stdout.write(header(scenario));
      const result = await runScenario(scenario, {
        file,
        ...(verbose ? { onEntry: (entry: TimelineEntry) => process.stdout.write(formatEntry(entry)) } : {}),
      });
      results.push(result);
      process.stdout.write(footer(result, scenario));
    }
  }
  if (scenarios.length > 0 && !values.quiet)
    process.stdout.write(paint('2', `played in ${((Date.now() - started) / 1000).toFixed(0)} s\n`));

  if (results.length > 0) {
    process.stdout.write(`\n${summaryTable(results, color)}\n`);
    const written = writeReports(results);
    process.stdout.write(`\nreport: ${resolve(written.html)}\nsummary: ${resolve(written.summary)}\n`);
  }
  const allOk = results.every((r) => r.ok);

  if (values['keep-running']) {
    const { keepRunning, startExampleCloud } = await import('./keep-running');
    await keepRunning(await startExampleCloud(), {
      speed,
      paint,
      write: (text) => process.stdout.write(text),
    });
  }
  return allOk ? 0 : 1;
}

/** Plays scenarios in child processes; `onDone` sees each result in file order. */
function runInWorkers(
  scenarios: Array<{ file: string; scenario: Scenario }>,
  count: number,
  onDone: (index: number, result: ScenarioResult, scenario: Scenario) => void,
): Promise<ScenarioResult[]> {
  const results: Array<ScenarioResult | undefined> = scenarios.map(() => undefined);
  let next = 0;
  let printed = 0;
  return new Promise((done, fail) => {
    let running = 0;
    const start = () => {
      const child = fork(fileURLToPath(import.meta.url), ['--worker'], {
        execArgv: process.execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      running++;
      let current = -1;
      const give = () => {
        if (next >= scenarios.length) {
          child.send({ type: 'done' });
          return;
        }
        current = next++;
        child.send({ type: 'run', file: scenarios[current]!.file });
      };
      child.on('message', (message: { result: ScenarioResult }) => {
        results[current] = message.result;
        while (printed < results.length && results[printed]) {
          onDone(printed, results[printed]!, scenarios[printed]!.scenario);
          printed++;
        }
        give();
      });
      child.on('exit', (code) => {
        running--;
        if (current >= 0 && !results[current]) {
          fail(new Error(`the worker playing ${scenarios[current]!.file} exited with code ${code}`));
          return;
        }
        if (running === 0) done(results as ScenarioResult[]);
      });
      give();
    };
    for (let i = 0; i < count; i++) start();
  });
}

/** A child process of runInWorkers: plays the scenario files it is sent. */
async function worker(): Promise<number> {
  const { loadScenarioFile, runScenario } = await import('./scenario-runner');
  await new Promise<void>((done) => {
    process.on('message', (message: { type: 'run'; file: string } | { type: 'done' }) => {
      if (message.type === 'done') {
        done();
        return;
      }
      void runScenario(loadScenarioFile(message.file), { file: message.file }).then((result) =>
        process.send?.({ result }),
      );
    });
  });
  process.disconnect?.();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Sockets of closed stacks must not keep the process alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
