'use strict';
/**
 * The region for serverless.yml, picked as the AWS CLI and the operator CLI pick it (--region,
 * AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1): `${file(./serverless/region.cjs):region}`.
 */
const { require: tsRequire } = require('tsx/cjs/api');

const { resolveRegion } = tsRequire('../src/adapters/aws-region.ts', __filename);

module.exports.region = async ({ options }) =>
  (await resolveRegion({ flag: options.region, profile: options['aws-profile'], env: process.env })).region;
