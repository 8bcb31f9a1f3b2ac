/**
 * `npm start`: plays every scenario in src/local/scenarios on the local cloud (no AWS account),
 * prints a timeline and a summary, writes .local/summary.json and .local/report.html, and exits
 * 0 only when every scenario ended as expected.
 *
 *   npm start -- --scenario <name>   play one scenario
 *   npm start -- --keep-running      keep the (last) scenario's local cloud up afterwards
 *   npm start -- --quiet             summary only
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SCENARIO_DIR, scenarioFiles } from './scenario-schema';

// Before anything imports src/wiring.ts (it builds the handlers' logger).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

// The SDK's notice about future Node.js versions would bury the timeline; other warnings stay.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'NodeVersionSupportWarning' || warning.message.includes('NodeVersionSupportWarning'))
    return;
  process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', multiple: true },
      'keep-running': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm start -- [--scenario <name>]... [--keep-running] [--quiet]\n' +
        `scenarios: ${SCENARIO_DIR}\n`,
    );
    return 0;
  }
  const { loadScenarioFile, runScenario, clockText, ScenarioFileError } = await import('./scenario-runner');
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
  };
  const results = [];
  for (const [index, { file, scenario }] of scenarios.entries()) {
    const last = index === scenarios.length - 1;
    if (!values.quiet) {
      process.stdout.write(`\n${paint('1', `▶ ${scenario.name}`)}  ${paint('2', scenario.description)}\n`);
    }
    const result = await runScenario(scenario, {
      file,
      keepStack: values['keep-running'] && last,
      onEntry: values.quiet
        ? undefined
        : (entry) => {
            const calls = Object.entries(entry.calls)
              .map(([op, n]) => (n > 1 ? `${op}×${n}` : op))
              .join(' ');
            process.stdout.write(
              `  ${paint('36', clockText(entry.at))}  ${KIND[entry.kind]}  ${entry.text}\n`,
            );
            const details = [
              calls ? `AWS: ${calls}` : '',
              entry.weights ? `weights: ${entry.weights}` : '',
            ].filter(Boolean);
            if (details.length)
              process.stdout.write(`${' '.repeat(22)}${paint('2', details.join('  |  '))}\n`);
          },
    });
    results.push(result);
    if (!values.quiet) {
      const verdict = result.ok ? paint('32', '✔ as expected') : paint('31', '✘ not as expected');
      process.stdout.write(`  ${verdict}: ${result.outcome}\n`);
      for (const f of result.failures) process.stdout.write(`    ${paint('31', `- ${f}`)}\n`);
    }
  }

  process.stdout.write(`\n${summaryTable(results, color)}\n`);
  const written = writeReports(results);
  process.stdout.write(`\nreport: ${resolve(written.html)}\nsummary: ${resolve(written.summary)}\n`);
  const allOk = results.length > 0 && results.every((r) => r.ok);

  const kept = results[results.length - 1]?.stack;
  if (values['keep-running']) {
    if (!kept) {
      process.stderr.write('nothing to keep running: the last scenario did not leave a stack\n');
      return allOk ? 0 : 1;
    }
    await keepRunning(kept, paint);
  }
  return allOk ? 0 : 1;
}

/**
 * Leaves the local cloud up: one virtual minute passes per wall-clock second (the tick fires,
 * endpoints change state, traffic flows), so a CLI or `serverless invoke local` pointed at it sees
 * the service work. Ctrl-C stops it.
 */
async function keepRunning(
  stack: import('./stack').LocalStack,
  paint: (code: string, text: string) => string,
): Promise<void> {
  const env = stack.env();
  process.stdout.write(
    `\n${paint('1', 'The local cloud is still running')} at ${stack.cloud.url} (DynamoDB at ${stack.dynamoUrl}).\n` +
      'Point the CLI or `serverless invoke local` at it with:\n\n' +
      Object.entries(env)
        .map(([k, v]) => `  export ${k}=${v}`)
        .join('\n') +
      '\n\nOne simulated minute passes per second. Ctrl-C to stop.\n',
  );
  let stopping = false;
  await new Promise<void>((done) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      void stack.close().then(done, done);
    };
    let busy = false;
    const timer = setInterval(() => {
      if (busy || stopping) return;
      busy = true;
      stack
        .run(60_000)
        .catch((error: unknown) => process.stderr.write(`${String(error)}\n`))
        .finally(() => {
          busy = false;
        });
    }, 1000);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
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
