import { describe, expect, it } from 'vitest';
import { awsClientSettings } from '../../src/aws-settings.js';

describe('AWS client settings from the run\'s environment', () => {
  const keys = { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' };

  it('reads region, the service\'s endpoint over the general one, and static keys', () => {
    const env = { ...keys, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://general', AWS_ENDPOINT_URL_S3: 'http://s3-only' };
    expect(awsClientSettings(env, 'S3')).toEqual({
      region: 'eu-west-1',
      endpoint: 'http://s3-only',
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'secret', sessionToken: 'token' },
    });
    expect(awsClientSettings(env, 'KMS').endpoint).toBe('http://general');
    expect(awsClientSettings({ AWS_ENDPOINT_URL_SESV2: 'http://ses' }, 'SESv2').endpoint).toBe('http://ses');
  });

  it('lets the config go over the environment, and a profile over the key variables (as the SDK\'s chain does)', () => {
    const env = { ...keys, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://general' };
    expect(awsClientSettings(env, 'S3', { region: 'us-west-2', endpoint: 'http://configured', profile: 'ci' })).toEqual({ region: 'us-west-2', endpoint: 'http://configured', profile: 'ci' });
    expect(awsClientSettings({ ...keys, AWS_PROFILE: 'dev' }, 'S3')).toEqual({ profile: 'dev' });
  });

  it('leaves out what neither gives, so the SDK\'s own chain goes on', () => {
    expect(awsClientSettings({ AWS_ACCESS_KEY_ID: 'only-half', AWS_REGION: '' }, 'S3')).toEqual({});
  });
});
