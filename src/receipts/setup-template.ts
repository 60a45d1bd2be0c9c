/**
 * What `receipts setup` prints: a CloudFormation template for the AWS side
 * of receipts. A CloudFront Function answers 204 on the receipts path (no
 * origin request), a cache behaviour there caches nothing, the distribution
 * writes standard logs to a log bucket that forgets them after a while, and
 * the Athena (Glue) table reads those logs. Pure: tested by evaluating the
 * function's code on sample events and by cfn-lint.
 */

/** The CloudFront standard log fields in order (what the Athena table's columns read). */
export const CLOUDFRONT_LOG_COLUMNS: [string, string][] = [
  ['date', 'date'], ['time', 'string'], ['location', 'string'], ['bytes', 'bigint'], ['request_ip', 'string'], ['method', 'string'], ['host', 'string'],
  ['uri', 'string'], ['status', 'int'], ['referrer', 'string'], ['user_agent', 'string'], ['query_string', 'string'], ['cookie', 'string'],
  ['result_type', 'string'], ['request_id', 'string'], ['host_header', 'string'], ['request_protocol', 'string'], ['request_bytes', 'bigint'],
  ['time_taken', 'float'], ['xforwarded_for', 'string'], ['ssl_protocol', 'string'], ['ssl_cipher', 'string'], ['response_result_type', 'string'],
  ['http_version', 'string'], ['fle_status', 'string'], ['fle_encrypted_fields', 'int'], ['c_port', 'int'], ['time_to_first_byte', 'float'],
  ['x_edge_detailed_result_type', 'string'], ['sc_content_type', 'string'], ['sc_content_len', 'bigint'], ['sc_range_start', 'bigint'], ['sc_range_end', 'bigint'],
];

/**
 * The CloudFront Function (cloudfront-js-2.0): 204 with no body for a GET or
 * HEAD of the receipts path, so receipts never reach the origin and cost one
 * log line each; anything else goes on unchanged.
 */
export function receiptsFunctionCode(receiptsPath: string): string {
  return `function handler(event) {
  var request = event.request;
  if (request.uri !== ${JSON.stringify(receiptsPath)} || (request.method !== 'GET' && request.method !== 'HEAD')) return request;
  return { statusCode: 204, statusDescription: 'No Content', headers: { 'cache-control': { value: 'no-store' } } };
}
`;
}

export interface SetupOptions {
  /** The path receipts are sent to (`/r/v1`). */
  receiptsPath: string;
}

/** The template, as a JSON-ready object. */
export function receiptsSetupTemplate({ receiptsPath }: SetupOptions): Record<string, unknown> {
  const sub = (text: string) => ({ 'Fn::Sub': text });
  const ref = (name: string) => ({ Ref: name });
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `update-publish receipts: a CloudFront distribution in front of the store answering 204 on ${receiptsPath}, its standard logs in a log bucket, and the Athena table health reads (athena://<workgroup>/<database>.<table>).`,
    Parameters: {
      StoreBucketDomainName: { Type: 'String', Description: 'Regional domain name of the store bucket, e.g. my-updates.s3.eu-west-1.amazonaws.com' },
      StoreOriginPath: { Type: 'String', Default: '', Description: 'The store prefix inside the bucket, e.g. /prod (empty for the bucket root)' },
      LogPrefix: { Type: 'String', Default: 'cf/', Description: 'Key prefix of the log files in the log bucket (receipts.source is s3://<log bucket>/<prefix>)' },
      LogRetentionDays: { Type: 'Number', Default: 90, MinValue: 1, Description: 'Days log files are kept' },
      AthenaDatabase: { Type: 'String', Default: 'update_publish', AllowedPattern: '^[a-z0-9_]+$' },
      AthenaTable: { Type: 'String', Default: 'receipts', AllowedPattern: '^[a-z0-9_]+$' },
    },
    Resources: {
      LogBucket: {
        Type: 'AWS::S3::Bucket',
        Properties: {
          // CloudFront standard logging writes with ACLs: the bucket must allow them.
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
          BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
          LifecycleConfiguration: { Rules: [{ Id: 'ExpireLogs', Status: 'Enabled', Prefix: ref('LogPrefix'), ExpirationInDays: ref('LogRetentionDays') }] },
        },
      },
      ReceiptsFunction: {
        Type: 'AWS::CloudFront::Function',
        Properties: {
          Name: sub('${AWS::StackName}-receipts'),
          AutoPublish: true,
          FunctionCode: receiptsFunctionCode(receiptsPath),
          FunctionConfig: { Comment: `204 on ${receiptsPath}: device receipts are only logged`, Runtime: 'cloudfront-js-2.0' },
        },
      },
      StoreOriginAccessControl: {
        Type: 'AWS::CloudFront::OriginAccessControl',
        Properties: {
          OriginAccessControlConfig: { Name: sub('${AWS::StackName}-store'), OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
        },
      },
      Distribution: {
        Type: 'AWS::CloudFront::Distribution',
        Properties: {
          DistributionConfig: {
            Enabled: true,
            Comment: 'update-publish store with receipts',
            HttpVersion: 'http2and3',
            Origins: [
              {
                Id: 'store',
                DomainName: ref('StoreBucketDomainName'),
                OriginPath: ref('StoreOriginPath'),
                OriginAccessControlId: { 'Fn::GetAtt': ['StoreOriginAccessControl', 'Id'] },
                S3OriginConfig: { OriginAccessIdentity: '' },
              },
            ],
            DefaultCacheBehavior: {
              TargetOriginId: 'store',
              ViewerProtocolPolicy: 'redirect-to-https',
              AllowedMethods: ['GET', 'HEAD'],
              // CachingOptimized honours the store's Cache-Control per object.
              CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
              Compress: true,
            },
            CacheBehaviors: [
              {
                PathPattern: receiptsPath.replace(/^\//, ''),
                TargetOriginId: 'store',
                ViewerProtocolPolicy: 'https-only',
                AllowedMethods: ['GET', 'HEAD'],
                // CachingDisabled: every receipt is a request CloudFront logs.
                CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
                FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': ['ReceiptsFunction', 'FunctionMetadata.FunctionARN'] } }],
              },
            ],
            Logging: { Bucket: { 'Fn::GetAtt': ['LogBucket', 'RegionalDomainName'] }, Prefix: ref('LogPrefix'), IncludeCookies: false },
          },
        },
      },
      ReceiptsDatabase: {
        Type: 'AWS::Glue::Database',
        Properties: { CatalogId: ref('AWS::AccountId'), DatabaseInput: { Name: ref('AthenaDatabase'), Description: 'update-publish receipts' } },
      },
      ReceiptsTable: {
        Type: 'AWS::Glue::Table',
        Properties: {
          CatalogId: ref('AWS::AccountId'),
          DatabaseName: ref('ReceiptsDatabase'),
          TableInput: {
            Name: ref('AthenaTable'),
            TableType: 'EXTERNAL_TABLE',
            Parameters: { 'skip.header.line.count': '2', EXTERNAL: 'TRUE' },
            StorageDescriptor: {
              Columns: CLOUDFRONT_LOG_COLUMNS.map(([Name, Type]) => ({ Name, Type })),
              Location: sub('s3://${LogBucket}/${LogPrefix}'),
              InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
              OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
              SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', Parameters: { 'field.delim': '\t', 'serialization.format': '\t' } },
            },
          },
        },
      },
    },
    Outputs: {
      DistributionDomainName: { Description: 'Give apps https://<this>/ as the store URL', Value: { 'Fn::GetAtt': ['Distribution', 'DomainName'] } },
      DistributionArn: { Description: 'Grant it s3:GetObject on the store bucket (origin access control)', Value: sub('arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}') },
      ReceiptsSource: { Description: 'receipts.source for health and rollout tick', Value: sub('s3://${LogBucket}/${LogPrefix}') },
      AthenaSource: { Description: 'or, counted in Athena', Value: sub('athena://primary/${AthenaDatabase}.${AthenaTable}') },
    },
  };
}
