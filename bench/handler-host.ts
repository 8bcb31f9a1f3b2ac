import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parse } from 'yaml';
import { createTableInput } from '../src/adapters/dynamodb-state-store';
import type { LocalStack } from '../src/local/stack';
import { REPO, WORK_DIR } from './common';

/**
 * Runs in the child: loads one handler bundle, invokes it for each event the parent sends, and
 * reports for each invocation the time from handler entry to its first outgoing AWS request
 * (every SDK call goes through node:http, observed with diagnostics_channel), and at the end
 * the process's peak RSS.
 */
const CHILD = `
const dc = require('node:diagnostics_channel');
const mod = require(process.env.BENCH_BUNDLE);
let entry; let first;
dc.subscribe('http.client.request.start', () => { if (entry !== undefined && first === undefined) first = process.hrtime.bigint(); });
const context = (name) => ({ functionName: name, functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:' + name,
  memoryLimitInMB: '512', awsRequestId: String(Math.random()), logGroupName: '/aws/lambda/' + name, logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 60000, done() {}, fail() {}, succeed() {} });
process.on('message', async (msg) => {
  if (msg.type === 'exit') {
    process.send({ type: 'rss', maxRssKb: process.resourceUsage().maxRSS }, () => process.exit(0));
    return;
  }
  first = undefined; entry = process.hrtime.bigint();
  try {
    const result = await mod[msg.exportName](msg.event, context(msg.functionName));
    const decisionMs = first === undefined ? null : Number(first - entry) / 1e6;
    entry = undefined;
    process.send({ type: 'result', id: msg.id, result: result ?? null, decisionMs });
  } catch (error) {
    entry = undefined;
    process.send({ type: 'error', id: msg.id, message: String(error && error.message || error) });
  }
});
process.send({ type: 'ready' });
`;

export interface HostStats {
  /** Warm invocations only: the first one in a process is a cold start (config, clients). */
  decisionMs: number[];
  invocations: number;
}

export class HandlerHost {
  readonly stats: HostStats = { decisionMs: [], invocations: 0 };
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private rss?: (kb: number) => void;

  private constructor(
    private readonly child: ChildProcess,
    private readonly exportName: string,
  ) {
    child.on('message', (raw) => {
      const msg = raw as {
        type: string;
        id: number;
        result?: unknown;
        message?: string;
        decisionMs?: number | null;
        maxRssKb?: number;
      };
      if (msg.type === 'rss') return this.rss?.(msg.maxRssKb!);
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.type === 'error') return waiter.reject(new Error(msg.message));
      if (this.stats.invocations++ > 0 && typeof msg.decisionMs === 'number')
        this.stats.decisionMs.push(msg.decisionMs);
      waiter.resolve(msg.result);
    });
  }

  static async start(bundle: string, exportName: string, env: Record<string, string>): Promise<HandlerHost> {
    const child = spawn(process.execPath, ['-e', CHILD], {
      env: { PATH: process.env.PATH ?? '', ...env, BENCH_BUNDLE: bundle },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`handler host for ${bundle} exited with ${code}`)));
    });
    return new HandlerHost(child, exportName);
  }

  invoke(functionName: string, event: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ type: 'invoke', id, functionName, exportName: this.exportName, event });
    });
  }

  /** Ends the child; resolves with its peak RSS in MB. */
  stop(): Promise<number> {
    return new Promise((resolve) => {
      this.rss = (kb) => resolve(kb / 1024);
      this.child.send({ type: 'exit' });
    });
  }
}

/**
 * Runs the stack's functions (all, or the ones named) each from its bundle in a process of its
 * own, as in Lambda: the local cloud's and the local DynamoDB's work stays in this process and is
 * not counted against the function. The bundles read a JSON copy of the configuration, as when
 * packaged. Returns the hosts; stop them before closing the stack.
 */
export const hostFunctions = async (
  stack: LocalStack,
  bundleOf: (handlerName: string) => string,
  names?: string[],
  extraEnv: Record<string, string> = {},
): Promise<Map<string, HandlerHost>> => {
  const packagedConfig = resolve(WORK_DIR, `rollouts.config.${process.pid}.${Date.now()}.json`);
  writeFileSync(
    packagedConfig,
    JSON.stringify(parse(readFileSync(stack.env().ROLLOUTS_CONFIG_PATH!, 'utf8'))),
  );
  const env = {
    ...stack.env(),
    ROLLOUTS_CONFIG_PATH: packagedConfig,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extraEnv,
  };
  const hosts = new Map<string, HandlerHost>();
  for (const [name, fn] of Object.entries(stack.wiring.functions)) {
    if (names && !names.includes(name)) continue;
    hosts.set(name, await HandlerHost.start(bundleOf(basename(fn.handlerFile, '.ts')), fn.exportName, env));
  }
  // Every invocation the stack makes of a hosted function goes to that function's process.
  const local = stack as unknown as { handler: (name: string) => Promise<unknown> };
  const inProcess = local.handler.bind(stack);
  local.handler = async (name: string) => {
    const host = hosts.get(name);
    return host ? (event: unknown) => host.invoke(name, event) : inProcess(name);
  };
  return hosts;
};

/**
 * A local DynamoDB (dynalite) in a process of its own, with the service's table: in AWS the
 * table's work is not done on the function's CPU, nor on the emulator's event loop.
 */
export const separateTable = async (tableName: string): Promise<{ url: string; stop: () => void }> => {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const d = require('dynalite')({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
       d.listen(0, '127.0.0.1', () => process.send(d.address().port));`,
    ],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  const port = await new Promise<number>((done, fail) => {
    child.once('message', (p) => done(p as number));
    child.once('exit', (code) => fail(new Error(`dynalite exited with ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  await new DynamoDBClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  }).send(new CreateTableCommand(createTableInput(tableName)));
  return { url, stop: () => child.kill() };
};
