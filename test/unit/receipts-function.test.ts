/**
 * The CloudFront Function `receipts setup` deploys, run in Node on sample
 * viewer-request events (the shape CloudFront hands it, cloudfront-js-2.0).
 */
import { describe, expect, it } from 'vitest';
import { receiptsFunctionCode } from '../../src/receipts/setup-template.js';

type Handler = (event: unknown) => any;
const handlerOf = (code: string) => new Function(`${code}\nreturn handler;`)() as Handler;

const viewerRequest = (method: string, uri: string, querystring: Record<string, { value: string }> = {}) => ({
  version: '1.0',
  context: { distributionDomainName: 'd111111abcdef8.cloudfront.net', distributionId: 'EDFDVBD6EXAMPLE', eventType: 'viewer-request', requestId: 'abc' },
  viewer: { ip: '198.51.100.11' },
  request: { method, uri, querystring, headers: { host: { value: 'd111111abcdef8.cloudfront.net' } }, cookies: {} },
});

describe('receipts CloudFront Function', () => {
  const handler = handlerOf(receiptsFunctionCode('/r/v1'));

  it('answers 204, not cached, to a GET or HEAD of the receipts path, whatever the query', () => {
    for (const method of ['GET', 'HEAD']) {
      const response = handler(viewerRequest(method, '/r/v1', { e: { value: 'launch_ok' }, pkg: { value: 'maps' } }));
      expect(response).toEqual({ statusCode: 204, statusDescription: 'No Content', headers: { 'cache-control': { value: 'no-store' } } });
    }
  });

  it('lets every other request through unchanged', () => {
    for (const event of [viewerRequest('GET', '/channels/production/index.json'), viewerRequest('POST', '/r/v1'), viewerRequest('GET', '/r/v1/x'), viewerRequest('GET', '/r/v2')]) {
      expect(handler(event)).toBe(event.request);
    }
  });

  it('takes the path from the config', () => {
    expect(handlerOf(receiptsFunctionCode('/updates/r/v1'))(viewerRequest('GET', '/updates/r/v1')).statusCode).toBe(204);
  });
});
