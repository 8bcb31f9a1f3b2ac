import { type ChildProcess, spawn } from 'node:child_process';

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
