import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseRequestSet, RequestSetError } from '../domain/request-set';
import type { FieldIssue } from '../domain/schemas/issues';
import type { PreTrafficConfig } from './schema';

/**
 * What request-set files need of a configuration: its stages, any of which may carry a
 * pre-traffic check (the loaded configuration, whatever stages its groups run).
 */
export interface StagesWithPreTraffic {
  modelPackageGroups: Record<
    string,
    { stages: Record<string, { endpointName: string; preTraffic?: PreTrafficConfig | undefined }> }
  >;
}

/** Every stage with a request-set file, by group and stage name. */
const withFiles = <Config extends StagesWithPreTraffic>(config: Config) =>
  Object.entries(config.modelPackageGroups).flatMap(([group, { stages }]) =>
    Object.entries(stages).flatMap(([stage, { preTraffic }]) =>
      preTraffic?.requestSetFile ? [{ group, stage, preTraffic, file: preTraffic.requestSetFile }] : [],
    ),
  );

/**
 * Checks every `preTraffic.requestSetFile` of a configuration: it must exist next to the
 * configuration file (the path is relative to it) and hold a valid request set. Returns one
 * issue per problem, at the `requestSetFile` field.
 */
export function requestSetFileIssues(config: StagesWithPreTraffic, configPath: string): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const { group, stage, file } of withFiles(config)) {
    const path = ['modelPackageGroups', group, 'stages', stage, 'preTraffic', 'requestSetFile'];
    const absolute = resolve(dirname(configPath), file);
    let text: string;
    try {
      text = readFileSync(absolute, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      issues.push({
        path,
        message: `cannot read ${file} (${code === 'ENOENT' ? 'file not found' : String(error)})`,
      });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      issues.push({ path, message: `${file} is not JSON (${(error as Error).message})` });
      continue;
    }
    try {
      parseRequestSet(value, file);
    } catch (error) {
      if (!(error instanceof RequestSetError)) throw error;
      issues.push(...error.issues.map((issue) => ({ path, message: `${file}: ${issue}` })));
    }
  }
  return issues;
}

/**
 * The configuration with every request-set file read into its `preTraffic.requests` (the file's
 * `compareWithBaseline` applies unless the configuration gives one), so the service needs no file
 * at run time. Call after `requestSetFileIssues` found nothing.
 */
export function withRequestSets<Config extends StagesWithPreTraffic>(
  config: Config,
  configPath: string,
): Config {
  if (withFiles(config).length === 0) return config;
  const resolved = structuredClone(config);
  for (const { preTraffic, file } of withFiles(resolved)) {
    const set = parseRequestSet(JSON.parse(readFileSync(resolve(dirname(configPath), file), 'utf8')), file);
    preTraffic.requests = set.requests;
    preTraffic.compareWithBaseline ??= set.compareWithBaseline;
    // as in the packaged copy (inlineRequestSetFiles): the requests stand in for the file
    delete preTraffic.requestSetFile;
  }
  return resolved;
}

/**
 * A raw configuration document (as parsed from YAML) with each `preTraffic.requestSetFile`
 * replaced by the file's requests: the copy functions are packaged with carries its request sets.
 */
export function inlineRequestSetFiles(document: unknown, configPath: string): unknown {
  const copy = structuredClone(document) as {
    modelPackageGroups?: Record<
      string,
      { stages?: Record<string, { preTraffic?: Record<string, unknown> }> }
    >;
  };
  const stages = Object.values(copy?.modelPackageGroups ?? {}).flatMap((group) =>
    Object.values(group?.stages ?? {}),
  );
  for (const stage of stages) {
    const preTraffic = stage?.preTraffic;
    const file = preTraffic?.requestSetFile;
    if (!preTraffic || typeof file !== 'string') continue;
    const set = JSON.parse(readFileSync(resolve(dirname(configPath), file), 'utf8')) as Record<
      string,
      unknown
    >;
    delete preTraffic.requestSetFile;
    preTraffic.requests = set.requests;
    if (preTraffic.compareWithBaseline === undefined && set.compareWithBaseline !== undefined) {
      preTraffic.compareWithBaseline = set.compareWithBaseline;
    }
  }
  return copy;
}
