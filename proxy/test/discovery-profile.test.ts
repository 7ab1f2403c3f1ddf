// The profile route lookup alone: the first route that matches by method and whole-path regex (query ignored)
// wins; no profile or no match gives DEFAULT_ROUTE; a new profile replaces the old whole; a bad regex is
// reported and its route skipped.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_ROUTE, ProfileStore, type ProfileRoute } from '../src/discovery/profile.js';

const route = (over: Partial<ProfileRoute>): ProfileRoute => ({
  name: 'r',
  method: '',
  pathRegex: '',
  retryable: false,
  timeoutMs: 0,
  ...over,
});

describe('profile routes', () => {
  test('without a profile every request gets the default route', () => {
    const store = new ProfileStore();
    assert.deepEqual(store.routeFor({ method: 'GET', path: '/x' }), { retryable: false });
    assert.equal(store.routeFor({ method: 'POST', path: '/' }), DEFAULT_ROUTE);
  });

  test('method and anchored path regex; first match wins; the query is not part of the path', () => {
    const store = new ProfileStore();
    assert.deepEqual(
      store.set([
        route({ name: 'get-item', method: 'GET', pathRegex: '/items/\\d+', retryable: true, timeoutMs: 250 }),
        route({ name: 'items', pathRegex: '/items/.*', timeoutMs: 1000 }),
        route({ name: 'any-post', method: 'post' }),
      ]),
      [],
    );
    assert.deepEqual(store.routeFor({ method: 'GET', path: '/items/42' }), { name: 'get-item', retryable: true, timeoutMs: 250 });
    assert.deepEqual(store.routeFor({ method: 'get', path: '/items/42?full=1' }), { name: 'get-item', retryable: true, timeoutMs: 250 });
    // Not the whole path: /items/42/parts is no \d+, so the second route.
    assert.deepEqual(store.routeFor({ method: 'GET', path: '/items/42/parts' }), { name: 'items', retryable: false, timeoutMs: 1000 });
    assert.deepEqual(store.routeFor({ method: 'DELETE', path: '/items/42' }), { name: 'items', retryable: false, timeoutMs: 1000 });
    // Anchored at the start too: a path that only contains /items/ is not matched.
    assert.equal(store.routeFor({ method: 'GET', path: '/v2/items/1' }), DEFAULT_ROUTE);
    assert.deepEqual(store.routeFor({ method: 'POST', path: '/v2/items/1' }), { name: 'any-post', retryable: false });
  });

  test('a new profile replaces the old one; an empty one clears it; a bad regex skips only its route', () => {
    const store = new ProfileStore();
    store.set([route({ name: 'all', retryable: true })]);
    assert.equal(store.routeFor({ method: 'GET', path: '/' }).retryable, true);
    const problems = store.set([route({ name: 'broken', pathRegex: '/(' }), route({ name: 'slow', pathRegex: '/slow', timeoutMs: 50 })]);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /route "broken": bad path regex/);
    assert.equal(store.routeFor({ method: 'GET', path: '/' }), DEFAULT_ROUTE, 'the old "all" route is gone');
    assert.equal(store.routeFor({ method: 'GET', path: '/slow' }).timeoutMs, 50);
    store.set([]);
    assert.equal(store.routeFor({ method: 'GET', path: '/slow' }), DEFAULT_ROUTE);
  });
});
