/**
 * What deploying and removing this stack asks of the deployer: the actions CloudFormation calls
 * with the deployer's credentials for each resource type of the packaged template (create,
 * update, delete and the reads its handlers make), and those osls calls itself. Kept by hand:
 * a resource type not listed here fails the deployer policy test until it is added.
 */
export const ACTIONS_BY_TYPE: Record<string, string[]> = {
  'AWS::S3::Bucket': [
    's3:CreateBucket',
    's3:DeleteBucket',
    's3:PutEncryptionConfiguration',
    's3:GetEncryptionConfiguration',
    's3:PutBucketTagging',
    's3:GetBucketTagging',
    's3:GetBucketLocation',
    's3:ListBucket',
  ],
  'AWS::S3::BucketPolicy': ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:GetBucketPolicy'],
  'AWS::Logs::LogGroup': [
    'logs:CreateLogGroup',
    'logs:DeleteLogGroup',
    'logs:PutRetentionPolicy',
    'logs:DeleteRetentionPolicy',
    'logs:DescribeLogGroups',
    'logs:TagResource',
    'logs:ListTagsForResource',
  ],
  'AWS::Lambda::Function': [
    'lambda:CreateFunction',
    'lambda:DeleteFunction',
    'lambda:UpdateFunctionCode',
    'lambda:UpdateFunctionConfiguration',
    'lambda:GetFunction',
    'lambda:GetFunctionConfiguration',
    'lambda:PutFunctionConcurrency',
    'lambda:DeleteFunctionConcurrency',
    'lambda:TagResource',
    'lambda:ListTags',
    'iam:PassRole',
  ],
  'AWS::Lambda::Version': ['lambda:PublishVersion', 'lambda:ListVersionsByFunction', 'lambda:GetFunction'],
  'AWS::Lambda::EventInvokeConfig': [
    'lambda:PutFunctionEventInvokeConfig',
    'lambda:UpdateFunctionEventInvokeConfig',
    'lambda:DeleteFunctionEventInvokeConfig',
    'lambda:GetFunctionEventInvokeConfig',
  ],
  'AWS::Lambda::Url': [
    'lambda:CreateFunctionUrlConfig',
    'lambda:UpdateFunctionUrlConfig',
    'lambda:DeleteFunctionUrlConfig',
    'lambda:GetFunctionUrlConfig',
  ],
  'AWS::Lambda::Permission': ['lambda:AddPermission', 'lambda:RemovePermission', 'lambda:GetPolicy'],
  'AWS::Lambda::EventSourceMapping': [
    'lambda:CreateEventSourceMapping',
    'lambda:UpdateEventSourceMapping',
    'lambda:DeleteEventSourceMapping',
    'lambda:GetEventSourceMapping',
    'lambda:ListEventSourceMappings',
  ],
  'AWS::Events::Rule': [
    'events:PutRule',
    'events:DeleteRule',
    'events:DescribeRule',
    'events:PutTargets',
    'events:RemoveTargets',
    'events:ListTargetsByRule',
  ],
  // a statement of the bus's policy: PutPermission (create, update), RemovePermission (delete)
  'AWS::Events::EventBusPolicy': [
    'events:PutPermission',
    'events:RemovePermission',
    'events:DescribeEventBus',
  ],
  'AWS::Events::EventBus': [
    'events:CreateEventBus',
    'events:DeleteEventBus',
    'events:UpdateEventBus',
    'events:DescribeEventBus',
    'events:TagResource',
    'events:ListTagsForResource',
  ],
  'AWS::DynamoDB::Table': [
    'dynamodb:CreateTable',
    'dynamodb:DeleteTable',
    'dynamodb:UpdateTable',
    'dynamodb:DescribeTable',
    'dynamodb:UpdateTimeToLive',
    'dynamodb:DescribeTimeToLive',
    'dynamodb:UpdateContinuousBackups',
    'dynamodb:DescribeContinuousBackups',
    'dynamodb:TagResource',
    'dynamodb:ListTagsOfResource',
  ],
  'AWS::SQS::Queue': [
    'sqs:CreateQueue',
    'sqs:DeleteQueue',
    'sqs:SetQueueAttributes',
    'sqs:GetQueueAttributes',
    'sqs:GetQueueUrl',
    'sqs:TagQueue',
    'sqs:ListQueueTags',
  ],
  'AWS::SQS::QueuePolicy': ['sqs:SetQueueAttributes', 'sqs:GetQueueAttributes'],
  'AWS::IAM::Role': [
    'iam:CreateRole',
    'iam:DeleteRole',
    'iam:GetRole',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:GetRolePolicy',
    'iam:ListRolePolicies',
    'iam:ListAttachedRolePolicies',
  ],
  'AWS::IAM::ManagedPolicy': [
    'iam:CreatePolicy',
    'iam:DeletePolicy',
    'iam:GetPolicy',
    'iam:GetPolicyVersion',
    'iam:CreatePolicyVersion',
    'iam:DeletePolicyVersion',
    'iam:ListPolicyVersions',
    'iam:ListEntitiesForPolicy',
    // a managed policy given Roles attaches itself to them
    'iam:AttachRolePolicy',
    'iam:DetachRolePolicy',
  ],
  'AWS::CloudWatch::Alarm': [
    'cloudwatch:PutMetricAlarm',
    'cloudwatch:DeleteAlarms',
    'cloudwatch:DescribeAlarms',
    'cloudwatch:TagResource',
    'cloudwatch:ListTagsForResource',
  ],
  'AWS::CloudWatch::Dashboard': [
    'cloudwatch:PutDashboard',
    'cloudwatch:DeleteDashboards',
    'cloudwatch:GetDashboard',
  ],
  'AWS::SNS::Topic': [
    'sns:CreateTopic',
    'sns:DeleteTopic',
    'sns:SetTopicAttributes',
    'sns:GetTopicAttributes',
    'sns:TagResource',
    'sns:ListTagsForResource',
  ],
  'AWS::SNS::TopicPolicy': ['sns:SetTopicAttributes', 'sns:GetTopicAttributes'],
};

/** Called on the stack and its deployment bucket by `osls deploy` and `osls remove` themselves. */
export const STACK_ACTIONS = [
  'cloudformation:CreateStack',
  'cloudformation:UpdateStack',
  'cloudformation:DeleteStack',
  'cloudformation:CreateChangeSet',
  'cloudformation:ExecuteChangeSet',
  'cloudformation:DescribeChangeSet',
  'cloudformation:DeleteChangeSet',
  'cloudformation:DescribeStacks',
  'cloudformation:DescribeStackEvents',
  'cloudformation:DescribeStackResource',
  'cloudformation:ListStackResources',
  'cloudformation:GetTemplate',
];
export const ARTIFACT_ACTIONS = ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:ListBucket'];

/** With a customer managed key, DynamoDB checks the key and creates its grant as the deployer. */
export const TABLE_KEY_ACTIONS = ['kms:DescribeKey', 'kms:CreateGrant'];

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

const glob = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);
const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** The statements allowing `action` on `arn` (IAM's wildcard matching, case as written). */
export const allowing = (statements: Statement[], action: string, arn: string): Statement[] =>
  statements.filter(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => glob(a, action)) &&
      list(s.Resource).some((r) => glob(r, arn)),
  );
