import { loadSharedConfigFiles } from '@smithy/core/config';

export const FALLBACK_REGION = 'us-east-1';

export interface ResolvedRegion {
  region: string;
  /** where it came from, for messages: `--region`, `AWS_REGION`, `profile ops`, ... */
  source: string;
}

/**
 * The region the way the AWS CLI picks it: the `--region` flag, then AWS_REGION, then
 * AWS_DEFAULT_REGION, then the `region` of the profile in the shared config file (the flag's
 * profile, else AWS_PROFILE, else `default`; AWS_CONFIG_FILE moves the file), else us-east-1.
 * The SDK alone skips AWS_DEFAULT_REGION, so deploy and CLI both resolve it here.
 */
export const resolveRegion = async (input: {
  flag?: string | undefined;
  profile?: string | undefined;
  env: NodeJS.ProcessEnv;
}): Promise<ResolvedRegion> => {
  const { flag, env } = input;
  if (flag) return { region: flag, source: '--region' };
  if (env.AWS_REGION) return { region: env.AWS_REGION, source: 'AWS_REGION' };
  if (env.AWS_DEFAULT_REGION) return { region: env.AWS_DEFAULT_REGION, source: 'AWS_DEFAULT_REGION' };
  const profile = input.profile || env.AWS_PROFILE || 'default';
  const { configFile } = await loadSharedConfigFiles({
    ...(env.AWS_CONFIG_FILE ? { configFilepath: env.AWS_CONFIG_FILE } : {}),
    ignoreCache: true,
  });
  const fromProfile = configFile[profile]?.region;
  if (fromProfile) return { region: fromProfile, source: `profile ${profile}` };
  return { region: FALLBACK_REGION, source: 'default' };
};
