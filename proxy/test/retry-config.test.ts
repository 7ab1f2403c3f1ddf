// The timeout and retry flags: accepted forms, and bad values stopping the proxy with the flag's name.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../src/config.js';
import { configOf } from './support.js';

const EP = ['--endpoints', '127.0.0.1:9001'];

function refused(argv: string[], where: string, detail: RegExp): void {
  assert.throws(
    () => parseConfig([...EP, ...argv]),
    (err: unknown) => err instanceof ConfigError && err.where === where && detail.test(err.message),
  );
}

describe('timeout and retry flags', () => {
  test('accepted values', () => {
    assert.equal(configOf([...EP, '--request-timeout', '1.5s']).requestTimeout, 1500);
    assert.equal(configOf([...EP, '--request-timeout', 'off']).requestTimeout, 0);
    assert.equal(configOf([...EP, '--request-timeout', '0']).requestTimeout, 0);
    assert.equal(configOf([...EP, '--connect-timeout', '250ms']).connectTimeout, 250);
    assert.equal(configOf([...EP, '--retries', '0']).retries, 0);
    assert.equal(configOf([...EP, '--retry-budget-ratio', '1.5']).retryBudgetRatio, 1.5);
    assert.equal(configOf([...EP, '--retry-budget-ttl', '60s']).retryBudgetTtl, 60_000);
    assert.equal(configOf([...EP, '--retry-backoff-base', '0ms']).retryBackoffBase, 0);
    assert.deepEqual(configOf([...EP, '--retryable-routes', '/a.B/, /c/']).retryableRoutes, ['/a.B/', '/c/']);
    assert.deepEqual(configOf(EP).retryableRoutes, []);
    const env = parseConfig(EP, { SLUICE_PROXY_RETRY_BUFFER_BYTES: '1024' });
    assert.equal(!env.help && env.config.retryBufferBytes, 1024);
  });

  test('bad values name the flag and what is allowed', () => {
    refused(['--request-timeout', '10'], '--request-timeout', /not a duration/);
    refused(['--connect-timeout', '0ms'], '--connect-timeout', /too short/);
    refused(['--retries', '-1'], '--retries', /from 0 to 100/);
    refused(['--retry-budget-ratio', '-0.1'], '--retry-budget-ratio', /from 0 to 1000/);
    refused(['--retry-budget-ratio', 'lots'], '--retry-budget-ratio', /"lots"/);
    refused(['--retry-budget-min-per-s', '1.5'], '--retry-budget-min-per-s', /integer/);
    refused(['--retry-budget-ttl', '500ms'], '--retry-budget-ttl', /too short/);
    refused(['--retry-budget-ttl', '2m'], '--retry-budget-ttl', /at most 60s/);
    refused(['--retry-backoff-max', '1'], '--retry-backoff-max', /not a duration/);
    refused(['--retry-buffer-bytes', '64k'], '--retry-buffer-bytes', /"64k"/);
    refused(['--retryable-routes', 'api/'], '--retryable-routes', /not a path prefix/);
  });
});
