import crypto from 'node:crypto';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';
import { expect, test } from './fixtures.ts';

// The connection check on loopback (test/net runs it across real network namespaces and firewalls).
test('the connection check works where calls need a token, runs again on request and leaves nothing behind', async ({ browser }) => {
  const server = await startTestServer({ env: { AUTH_SECRET: crypto.randomBytes(32).toString('base64url') } });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    for (let run = 0; run < 2; run++) {
      if (run === 0) await page.goto(`${server.url}/connectivity`);
      else await page.getByRole('button', { name: 'Run the check again' }).click();
      const status = page.getByRole('status');
      await expect(status).toHaveAttribute('data-outcome', 'udp', { timeout: 25_000 });
      await expect(status).toContainText('UDP ok');
    }
    // Each check ends its probe room with its socket: no router is left on the worker.
    await waitFor(() => server.registry.size === 0, { what: 'probe rooms closed' });
    const routers = (await Promise.all(server.pool.workers.map(async ({ worker }) => (await worker.dump()).routerIds))).flat();
    expect(routers).toEqual([]);
  } finally {
    await context.close();
    await server.close();
  }
});
