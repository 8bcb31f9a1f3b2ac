import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveRegion } from '../adapters/aws-region';
import { CommandUrlSender } from '../adapters/command-url-sender';
import { DynamoDbStateStore } from '../adapters/dynamodb-state-store';
import { DynamoDbStatusReader } from '../adapters/dynamodb-status-reader';
import { SageMakerEndpointsFactory } from '../adapters/sagemaker-endpoints';
import { CONFIG_PATH_ENV, DEFAULT_CONFIG_PATH, loadConfigFile } from '../config/load';
import type { RolloutsConfig } from '../config/schema';
import type { ControlCommandSender } from '../ports/events';
import type { EndpointsFactory } from '../ports/sagemaker';
import type { StateStore } from '../ports/state-store';
import { UsageError } from './errors';

export const SERVICE = 'sagemaker-rollouts';
export const LOCAL_CONFIG_PATH = 'src/local/scenarios/rollouts.local.yml';

export interface GlobalOptions {
  stage?: string | undefined;
  table?: string | undefined;
  bus?: string | undefined;
  config?: string | undefined;
  region?: string | undefined;
  profile?: string | undefined;
  local?: string | undefined;
  endpointUrl?: string | undefined;
  dynamodbUrl?: string | undefined;
  commandUrl?: string | undefined;
}

export interface Settings {
  tableName: string;
  busName: string;
  /** absolute path of the rollouts config, when one was given or found */
  configPath?: string | undefined;
  /** the path was named explicitly (flag or env): a missing file is then an error */
  configExplicit: boolean;
  /** AWS_ENDPOINT_URL in effect: an emulator, possibly on virtual time */
  endpointUrl?: string | undefined;
  region: string;
  /** where the region came from (`--region`, `AWS_REGION`, `profile ops`, ...) */
  regionSource: string;
  local: boolean;
  /** the control function's URL (AuthType AWS_IAM), where commands are sent signed */
  commandUrl?: string | undefined;
}

/**
 * Settings from flags, then the environment `stack.env()` and `npm start -- --keep-running` give
 * (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB, TABLE_NAME, EVENT_BUS_NAME, ROLLOUTS_CONFIG_PATH),
 * then defaults derived from the stage. Flags are written into `env` before any SDK client
 * exists, because the clients read their endpoints, region and profile from it. The region is
 * picked as the AWS CLI and `osls deploy` pick it (`resolveRegion`).
 */
export const resolveSettings = async (options: GlobalOptions, env: NodeJS.ProcessEnv): Promise<Settings> => {
  const endpointUrl = options.local ?? options.endpointUrl;
  if (endpointUrl !== undefined) {
    if (!/^https?:\/\/[^\s]+$/.test(endpointUrl)) {
      throw new UsageError(
        `--local/--endpoint-url expects a URL such as http://127.0.0.1:4566, got "${endpointUrl}"`,
      );
    }
    env.AWS_ENDPOINT_URL = endpointUrl;
  }
  if (options.dynamodbUrl !== undefined) env.AWS_ENDPOINT_URL_DYNAMODB = options.dynamodbUrl;
  if (options.profile) env.AWS_PROFILE = options.profile;
  const { region, source: regionSource } = await resolveRegion({
    flag: options.region,
    profile: options.profile,
    env,
  });
  // every client the CLI makes uses it (the SDK alone would skip AWS_DEFAULT_REGION)
  env.AWS_REGION = region;
  const local = options.local !== undefined;
  if (local) {
    // the local cloud accepts any signature; without keys the SDK would look for real credentials
    env.AWS_ACCESS_KEY_ID ||= 'test';
    env.AWS_SECRET_ACCESS_KEY ||= 'test';
    if (!env.AWS_ENDPOINT_URL_DYNAMODB) {
      throw new UsageError(
        '--local needs the DynamoDB address as well: pass --dynamodb-url <url>, or export the environment block printed by `npm start -- --keep-running`',
      );
    }
  }
  const stage = options.stage ?? (local ? 'local' : 'dev');
  const explicitConfig = options.config ?? env[CONFIG_PATH_ENV];
  const configPath = resolve(
    process.cwd(),
    explicitConfig ?? (local && !existsSync(DEFAULT_CONFIG_PATH) ? LOCAL_CONFIG_PATH : DEFAULT_CONFIG_PATH),
  );
  return {
    tableName: options.table ?? env.TABLE_NAME ?? `${SERVICE}-${stage}`,
    busName: options.bus ?? env.EVENT_BUS_NAME ?? `${SERVICE}-${stage}`,
    configPath,
    configExplicit: explicitConfig !== undefined,
    endpointUrl: env.AWS_ENDPOINT_URL,
    region,
    regionSource,
    local,
    commandUrl: options.commandUrl ?? env.ROLLOUTS_COMMAND_URL,
  };
};

export interface Context {
  settings: Settings;
  store: StateStore;
  /** status reads: the active-deployments index and one Query per group, never a Scan */
  reader: Pick<DynamoDbStatusReader, 'activeGroupNames' | 'group' | 'executorErrors'>;
  sender: ControlCommandSender;
  endpoints: EndpointsFactory;
  /** The rollouts config: cross-account stages and canary steps. Undefined when there is no file. */
  config(): RolloutsConfig | undefined;
  /** Notes for stderr (e.g. why weights may be missing). */
  notes: string[];
}

export const buildContext = (settings: Settings): Context => {
  let loaded: { config: RolloutsConfig | undefined } | undefined;
  const notes: string[] = [];
  return {
    settings,
    store: new DynamoDbStateStore(settings.tableName),
    reader: new DynamoDbStatusReader(settings.tableName),
    sender: {
      send: (command) => {
        const url = settings.commandUrl;
        if (!url) {
          throw new UsageError(
            'commands go to the command URL: pass --command-url <url> (the stack output CommandUrl) or export ROLLOUTS_COMMAND_URL',
          );
        }
        if (!/^https?:\/\/[^\s]+$/.test(url))
          throw new UsageError(`--command-url expects a URL, got "${url}"`);
        return new CommandUrlSender(url, { region: settings.region, audience: settings.tableName }).send(
          command,
        );
      },
    },
    endpoints: new SageMakerEndpointsFactory(),
    notes,
    config() {
      if (loaded) return loaded.config;
      const path = settings.configPath;
      if (!path || (!settings.configExplicit && !existsSync(path))) {
        notes.push(
          `no rollouts config at ${path ?? DEFAULT_CONFIG_PATH}: endpoints are read with the default credentials and canary step counts are unknown (pass --config <file>)`,
        );
        loaded = { config: undefined };
        return undefined;
      }
      // an invalid or missing file named explicitly is a ConfigError, reported with its fields
      loaded = { config: loadConfigFile(path) };
      return loaded.config;
    },
  };
};
