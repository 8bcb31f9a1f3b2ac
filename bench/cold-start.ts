import { execFileSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { HANDLERS, median, REPO, round, WORK_DIR } from './common';

/** serverless.yml's esbuild plugins (the source map keeps the service's own files only). */
const esbuildPlugins = createRequire(import.meta.url)('../serverless/esbuild-plugins.cjs') as Plugin[];

export interface ColdStart {
  handler: string;
  bundleBytes: number;
  /** the linked source map shipped next to the bundle (0 for the baseline) */
  mapBytes: number;
  /** as deployed: with the source map and NODE_OPTIONS=--enable-source-maps */
  initMsMedian: number;
  /** the same bundle without --enable-source-maps: what the source maps cost at init */
  initMsNoMapsMedian: number;
  /**
   * CPU time (user + system) of the same initialisations as initMsMedian: init is CPU-bound, and
   * CPU time moves far less than wall time when other work shares the cores
   */
  initCpuMsMedian: number;
  /** CPU time without --enable-source-maps */
  initCpuMsNoMapsMedian: number;
}

const BASELINE_SOURCE = `import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
const client = new SageMakerClient({});
export const handler = async (event: { name: string }) =>
  client.send(new DescribeEndpointCommand({ EndpointName: event.name }));
`;

/**
 * The same esbuild options as serverless.yml's serverless-esbuild config (CommonJS output, a
 * linked source map without the sources' text, the plugins). The baseline is a plain bundle
 * without a map or plugins; `baseline-plugins` is the same one-client handler with the plugins.
 */
const bundle = async (
  entry: string,
  outfile: string,
  { sourcemap, plugins }: { sourcemap: boolean; plugins: boolean },
): Promise<number> => {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    sourcemap: sourcemap ? 'linked' : false,
    sourcesContent: false,
    plugins: plugins ? esbuildPlugins : [],
    target: 'node22',
    platform: 'node',
    mainFields: ['module', 'main'],
    // serverless.yml `exclude: [yaml]`: functions read the JSON copy of the configuration
    external: ['yaml'],
    format: 'cjs',
    absWorkingDir: REPO,
    nodePaths: [resolve(REPO, 'node_modules')],
    logLevel: 'error',
  });
  return statSync(outfile).size;
};

/** Module initialisation of a bundle in a fresh Node process: wall and CPU time, in ms. */
const initMs = (file: string, sourceMaps: boolean): { wall: number; cpu: number } => {
  const script = `const c=process.cpuUsage();const t=process.hrtime.bigint();require(${JSON.stringify(file)});const w=Number(process.hrtime.bigint()-t)/1e6;const u=process.cpuUsage(c);process.stdout.write(w+' '+(u.user+u.system)/1e3)`;
  const out = execFileSync(
    process.execPath,
    [...(sourceMaps ? ['--enable-source-maps'] : []), '-e', script],
    {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      encoding: 'utf8',
    },
  );
  const [wall, cpu] = out.split(' ').map(Number);
  return { wall: wall!, cpu: cpu! };
};

export const bundleDir = resolve(WORK_DIR, 'bundles');
export const bundlePath = (name: string): string => resolve(bundleDir, `${name}.js`);

/** Builds every handler and the baseline; returns their sizes. */
export const buildBundles = async (): Promise<Map<string, number>> => {
  const sizes = new Map<string, number>();
  const baselineEntry = resolve(WORK_DIR, 'baseline-handler.ts');
  writeFileSync(baselineEntry, BASELINE_SOURCE);
  const plain = { sourcemap: false, plugins: false };
  sizes.set('baseline', await bundle(baselineEntry, bundlePath('baseline'), plain));
  sizes.set(
    'baseline-plugins',
    await bundle(baselineEntry, bundlePath('baseline-plugins'), { sourcemap: false, plugins: true }),
  );
  for (const name of HANDLERS) {
    const entry = resolve(REPO, 'handlers', `${name}.ts`);
    sizes.set(name, await bundle(entry, bundlePath(name), { sourcemap: true, plugins: true }));
  }
  return sizes;
};

export const coldStart = async (
  runs = 12,
): Promise<{ handlers: ColdStart[]; baseline: ColdStart; baselinePlugins: ColdStart }> => {
  const sizes = await buildBundles();
  const names = [...sizes.keys()];
  for (const name of names) initMs(bundlePath(name), true); // warm the OS file cache, not the process
  // round by round over every bundle, so that a slower stretch of the machine hits all alike
  const times = new Map<string, number[]>(names.map((name) => [name, []]));
  const withoutMaps = new Map<string, number[]>(names.map((name) => [name, []]));
  const cpu = new Map<string, number[]>(names.map((name) => [name, []]));
  const cpuWithoutMaps = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < runs; round++) {
    for (const name of names) {
      const asDeployed = initMs(bundlePath(name), !name.startsWith('baseline'));
      times.get(name)!.push(asDeployed.wall);
      cpu.get(name)!.push(asDeployed.cpu);
      const plain = initMs(bundlePath(name), false);
      withoutMaps.get(name)!.push(plain.wall);
      cpuWithoutMaps.get(name)!.push(plain.cpu);
    }
  }
  const mapBytes = (name: string): number =>
    existsSync(`${bundlePath(name)}.map`) ? statSync(`${bundlePath(name)}.map`).size : 0;
  const results: ColdStart[] = names.map((name) => ({
    handler: name,
    bundleBytes: sizes.get(name)!,
    mapBytes: mapBytes(name),
    initMsMedian: round(median(times.get(name)!), 2),
    initMsNoMapsMedian: round(median(withoutMaps.get(name)!), 2),
    initCpuMsMedian: round(median(cpu.get(name)!), 2),
    initCpuMsNoMapsMedian: round(median(cpuWithoutMaps.get(name)!), 2),
  }));
  const baseline = results.find((r) => r.handler === 'baseline')!;
  const baselinePlugins = results.find((r) => r.handler === 'baseline-plugins')!;
  return {
    handlers: results.filter((r) => r !== baseline && r !== baselinePlugins),
    baseline,
    baselinePlugins,
  };
};
