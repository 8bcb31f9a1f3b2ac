import './env';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { callbackBatch, callbackThroughput } from './callbacks';
import { coldStart } from './cold-start';
import { REPO, WORK_DIR } from './common';
import { judgeBenchmark, printJudgeTable, ROLLOUTS_PER_CELL, writeJudgeChart } from './judge/run';
import { scenario } from './scenario';
import { QUERIES_PER_ROLLOUT, tickScaling } from './tick-scaling';

const log = (message: string) => process.stderr.write(`${message}\n`);
const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;
const ok = (pass: boolean) => (pass ? 'yes' : 'NO');

const printColdStart = (cold: Awaited<ReturnType<typeof coldStart>>): void => {
  console.log(
    "\nCold start (minified bundle with a linked source map, module init median of the fresh processes (12 unless --cold-start-runs) with --enable-source-maps; the baselines have no map; baseline-plugins is the baseline built with the functions' esbuild plugins)",
  );
  console.table(
    [...cold.handlers, cold.baseline, cold.baselinePlugins].map((c) => ({
      handler: c.handler,
      bundle: kb(c.bundleBytes),
      'source map': kb(c.mapBytes),
      'init ms without maps': c.initMsNoMapsMedian,
      'x baseline': (c.bundleBytes / cold.baseline.bundleBytes).toFixed(2),
      'x baseline-plugins': (c.bundleBytes / cold.baselinePlugins.bundleBytes).toFixed(2),
      'init ms': c.initMsMedian,
      'init x baseline': (c.initMsMedian / cold.baseline.initMsMedian).toFixed(2),
      'init cpu ms': c.initCpuMsMedian,
      'cpu x baseline': (c.initCpuMsMedian / cold.baseline.initCpuMsMedian).toFixed(2),
      'cpu ms without maps': c.initCpuMsNoMapsMedian,
      'cpu without maps x baseline': (c.initCpuMsNoMapsMedian / cold.baseline.initCpuMsNoMapsMedian).toFixed(
        2,
      ),
      'within 1.5x': ok(
        c.bundleBytes <= 1.5 * cold.baseline.bundleBytes &&
          c.initMsMedian <= 1.5 * cold.baseline.initMsMedian,
      ),
    })),
  );
};

const main = async () => {
  const started = Date.now();

  log('cold start: bundling the handlers and a baseline, timing module initialisation…');
  const runsAt = process.argv.indexOf('--cold-start-runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 12;
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`--cold-start-runs takes a whole number of runs, not ${process.argv[runsAt + 1]}`);
  }
  const cold = await coldStart(runs);
  if (process.argv.includes('--cold-start')) {
    printColdStart(cold);
    return;
  }
  log('memory and decision latency: a rollout scenario, each handler in its own process…');
  const run = await scenario();
  log('callback batch: 10 messages, 100 ms per SageMaker call…');
  const batch = await callbackBatch();
  log('callback throughput: 1,000 messages through the local queue…');
  const throughput = await callbackThroughput();
  log('tick scaling: R active rollouts x E idle endpoints…');
  const ticks = await tickScaling();
  log(`canary judges: ${ROLLOUTS_PER_CELL} simulated rollouts per cell and judge…`);
  const judge = judgeBenchmark();

  const results = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    coldStart: cold.handlers,
    baseline: cold.baseline,
    baselinePlugins: cold.baselinePlugins,
    callbackBatch: batch,
    callbackThroughput: throughput,
    tickScaling: ticks,
    decisionLatencyMsMedian: run.decisionLatencyMsMedian,
    decisionLatencyMsByHandler: run.decisionLatencyMsByHandler,
    peakRssMb: run.peakRssMb,
    executorLatency: run.executorLatency,
    judge: { rolloutsPerCell: ROLLOUTS_PER_CELL, ...judge },
  };
  mkdirSync(resolve(REPO, '.local'), { recursive: true });
  writeFileSync(resolve(REPO, '.local/bench.json'), `${JSON.stringify(results, null, 2)}\n`);

  printColdStart(cold);
  console.log('Callbacks');
  console.table({
    'batch of 10 (100 ms per SageMaker call)': {
      value: `${batch.batchMs} ms vs ${batch.callLatencyMs} ms for one message (${batch.ratio}x)`,
      target: '<= 1.5x',
      met: ok(batch.ratio <= 1.5),
    },
    'throughput through the local queue': {
      value: `${throughput.messages} messages in ${throughput.seconds} s = ${throughput.perSecond}/s`,
      target: 'one answer per token',
      met: ok(throughput.duplicateAnswers === 0 && throughput.unanswered === 0),
    },
  });
  console.log(
    `Tick (GetMetricData target: ceil(R x ${QUERIES_PER_ROLLOUT} / 500); wall target R=100 <= 2000 ms)`,
  );
  console.table(
    ticks.map((t) => ({
      R: t.active,
      E: t.idle,
      DescribeEndpoint: t.calls.DescribeEndpoint ?? 0,
      GetMetricData: t.calls.GetMetricData ?? 0,
      DescribeAlarms: t.calls.DescribeAlarms ?? 0,
      other: Object.entries(t.calls)
        .filter(([op]) => !['DescribeEndpoint', 'GetMetricData', 'DescribeAlarms'].includes(op))
        .map(([op, n]) => `${op}:${n}`)
        .join(' '),
      'calls met': ok(t.withinTarget),
      'wall ms (50 ms/call)': t.wallMs,
      'wall ms (no latency)': t.wallMsNoLatency,
    })),
  );
  console.log(
    `Decision latency (handler entry to first AWS request, warm): median ${run.decisionLatencyMsMedian} ms (target < 5)`,
  );
  console.table(run.decisionLatencyMsByHandler);
  const ex = run.executorLatency;
  console.log(
    'Executor split: convergence request sent (decision saved, its other effects done) to the executor’s first SageMaker call, wall clock, local queue',
  );
  console.table({
    'to first SageMaker call': {
      requests: ex.requests,
      'median ms': ex.toFirstCallMsMedian,
      'p90 ms': ex.toFirstCallMsP90,
    },
    'to first endpoint write': {
      requests: ex.writes,
      'median ms': ex.toFirstWriteMsMedian,
      'p90 ms': ex.toFirstWriteMsP90,
    },
  });
  console.log('Peak RSS per handler process over the scenario (target < 128 MB)');
  console.table(
    Object.fromEntries(Object.entries(run.peakRssMb).map(([h, mb]) => [h, { MB: mb, met: ok(mb < 128) }])),
  );
  printJudgeTable(judge.cells);
  console.log(writeJudgeChart(REPO, judge.cells));
  console.log(`\nWrote .local/bench.json in ${Math.round((Date.now() - started) / 1000)} s`);
};

main().then(
  () => {
    rmSync(WORK_DIR, { recursive: true, force: true });
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    rmSync(WORK_DIR, { recursive: true, force: true });
    process.exit(1);
  },
);
