import assert from 'node:assert/strict';
import test from 'node:test';
import { Cancellation } from '../src/cancel.js';

test('abort runs each listener once, in order; removed and late listeners never run', () => {
  const c = new Cancellation();
  const calls: string[] = [];
  const removed = (): void => void calls.push('removed');
  c.addEventListener('abort', () => calls.push('a'), { once: true });
  c.addEventListener('abort', removed);
  c.addEventListener('abort', () => calls.push('b'));
  c.removeEventListener('abort', removed);
  assert.equal(c.signal.aborted, false);
  c.abort();
  c.abort();
  assert.equal(c.signal.aborted, true);
  c.addEventListener('abort', () => calls.push('late'));
  assert.deepEqual(calls, ['a', 'b']);
});

test('removing a listener that was never added, or after abort, is harmless', () => {
  const c = new Cancellation();
  c.removeEventListener('abort', () => {});
  c.abort();
  c.removeEventListener('abort', () => {});
  assert.equal(c.aborted, true);
});
