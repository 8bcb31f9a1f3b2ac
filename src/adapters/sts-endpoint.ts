/**
 * The regional STS endpoint both sides of a proof of identity use: AWS_ENDPOINT_URL_STS or
 * AWS_ENDPOINT_URL when set (an emulator), else `https://sts.<region>.amazonaws.com` (`.cn` in
 * the China regions). Never a URL taken from a request.
 */
export const stsEndpointUrl = (region: string, env: NodeJS.ProcessEnv = process.env): URL => {
  const override = env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL;
  if (override) return new URL(override);
  return new URL(`https://sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}/`);
};
