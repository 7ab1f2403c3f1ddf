// A proxy whose port was taken between freePort and its bind is started again on fresh ports; any other
// failure is the cell's at once. Checked on our proxy's own words for a taken port (nghttpx's and HAProxy's in
// their live tests).
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { AXIS_DEFAULTS } from '../matrix/axes.js';
import { addressInUse, PORT_ATTEMPTS, startOnFreshPorts } from '../orchestrator/port-retry.js';
import { freePort } from '../orchestrator/ports.js';
import { ExitedBeforeReadyError, Supervisor } from '../orchestrator/supervisor.js';
import type { ProxyCellSpec } from '../proxies/driver.js';
import { sluiceDriver } from '../proxies/sluice.js';

const taken = (tail: string): ExitedBeforeReadyError => new ExitedBeforeReadyError('proxy exited with code 1 before http://127.0.0.1:1/ready was ready', tail);

test('addressInUse: a taken address in the message, in the stderr of a child that exited, or in a wrapped cause', () => {
  assert.equal(addressInUse(taken('sluice-proxy: cannot start: listen EADDRINUSE: address already in use 127.0.0.1:46521')), true);
  assert.equal(addressInUse(new Error('nghttpx did not start', { cause: taken('bind() failed: Address already in use') })), true);
  assert.equal(addressInUse(new Error('haproxy did not start: exited\n[ALERT] cannot bind socket (Address already in use) [127.0.0.1:80]')), true);
  assert.equal(addressInUse(taken('sluice-proxy: --stream-window: not a number')), false);
  assert.equal(addressInUse(new Error('proxy did not report ready within 15000 ms')), false);
  assert.equal(addressInUse('EADDRINUSE'), false, 'not an Error');
});

test('startOnFreshPorts: again on a new spec while the address is taken; any other failure at once; gives up after PORT_ATTEMPTS', async () => {
  let specs = 0;
  const spec = (): Promise<number> => Promise.resolve(++specs);
  const started: number[] = [];
  const result = await startOnFreshPorts(spec, (n) => {
    started.push(n);
    return n < 3 ? Promise.reject(taken('listen EADDRINUSE')) : Promise.resolve(`up on spec ${n}`);
  });
  assert.equal(result, 'up on spec 3');
  assert.deepEqual(started, [1, 2, 3], 'each attempt on its own spec');

  specs = 0;
  await assert.rejects(
    startOnFreshPorts(spec, () => Promise.reject(taken('unknown flag --frobnicate'))),
    (err: Error) => err instanceof ExitedBeforeReadyError && /frobnicate/.test(err.stderrTail),
  );
  assert.equal(specs, 1, 'another failure is not retried');

  specs = 0;
  await assert.rejects(startOnFreshPorts(spec, () => Promise.reject(taken('listen EADDRINUSE'))), ExitedBeforeReadyError);
  assert.equal(specs, PORT_ATTEMPTS);
});

test('our proxy on a taken port fails its start in words addressInUse knows, and leaves no process', { timeout: 30_000 }, async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const sup = new Supervisor();
  try {
    const spec: ProxyCellSpec = {
      params: AXIS_DEFAULTS,
      listen: `127.0.0.1:${port}`,
      admin: `127.0.0.1:${await freePort()}`,
      discovery: { endpoints: ['127.0.0.1:9'] },
      upstreamProtocol: 'h2',
      extraFlags: [],
      workDir: tmpdir(),
    };
    await assert.rejects(sluiceDriver().start(sup, spec), (err: unknown) => {
      assert.ok(err instanceof ExitedBeforeReadyError, String(err));
      assert.match(err.stderrTail, /EADDRINUSE/);
      assert.equal(addressInUse(err), true);
      return true;
    });
  } finally {
    await sup.stopAll();
    server.close();
  }
  assert.equal(sup.size, 0);
});
