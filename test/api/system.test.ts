import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { postJson, startApi, type RunningApi } from '../support/api-server.ts';
import { launchChromium } from '../support/chromium.ts';

describe('system endpoints', () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ lowStockThreshold: 3 });
  });
  after(() => api.close());

  it('GET /health reports status, version and uptime', async () => {
    const health = await (await fetch(`${api.baseUrl}/health`)).json();
    expect(health).to.include({ status: 'ok', version: 'test' });
    expect(health.uptimeSeconds).to.be.a('number').that.is.at.least(0);
  });

  it('GET /analytics reports counts, revenue, recent orders, top and low-stock products', async () => {
    const user = await (
      await postJson(api.baseUrl, '/users', { username: 'stats', email: 's@example.com' })
    ).json();
    const cheap = await (
      await postJson(api.baseUrl, '/products', { name: 'Cheap', price: 0.1, stock: 100 })
    ).json();
    const dear = await (
      await postJson(api.baseUrl, '/products', { name: 'Dear', price: 0.2, stock: 4 })
    ).json();
    await postJson(api.baseUrl, '/orders', {
      userId: user.id,
      items: [{ productId: cheap.id, quantity: 3 }],
    });
    await postJson(api.baseUrl, '/orders', {
      userId: user.id,
      items: [{ productId: dear.id, quantity: 1 }],
    });
    const analytics = await (await fetch(`${api.baseUrl}/analytics`)).json();
    expect(analytics.counts).to.deep.equal({ users: 1, products: 2, orders: 2 });
    expect(analytics.totalRevenue).to.equal(0.5);
    expect(analytics.lastFiveMinutes).to.deep.equal({ orders: 2, revenue: 0.5 });
    expect(analytics.topProducts[0]).to.deep.equal({
      productId: cheap.id,
      name: 'Cheap',
      unitsSold: 3,
      revenue: 0.3,
    });
    expect(analytics.lowStockProducts).to.deep.equal([
      { productId: dear.id, name: 'Dear', stock: 3 },
    ]);
  });

  it('GET /openapi.json is an OpenAPI 3.1 document built from the schemas', async () => {
    const document = await (await fetch(`${api.baseUrl}/openapi.json`)).json();
    expect(document.openapi).to.equal('3.1.0');
    expect(Object.keys(document.paths)).to.include.members([
      '/users',
      '/users/{id}',
      '/products',
      '/orders',
      '/health',
    ]);
    const newUser = document.components.schemas.NewUser;
    expect(newUser.properties.username).to.include({ minLength: 3, maxLength: 32 });
    expect(newUser.required).to.include.members(['username', 'email']);
    expect(document.components.schemas.NewOrder.properties.items.minItems).to.equal(1);
  });

  describe('GET /docs in headless Chromium', () => {
    let browser: Browser;
    before(async function () {
      this.timeout(300_000); // includes a one-time install of Debian's chromium
      browser = await launchChromium();
    });
    after(() => browser?.close());

    it('renders the API operations from locally served assets', async () => {
      const page = await browser.newPage();
      const external: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(api.baseUrl)) external.push(request.url());
      });
      await page.goto(`${api.baseUrl}/docs`);
      await page.locator('.opblock-summary-path', { hasText: '/users/{id}' }).first().waitFor();
      const paths = await page.locator('.opblock-summary-path').allInnerTexts();
      expect(paths.map((path) => path.trim())).to.include.members([
        '/users',
        '/products',
        '/orders',
        '/health',
      ]);
      expect(await page.locator('.opblock-tag').allInnerTexts()).to.satisfy((tags: string[]) =>
        tags.some((tag) => tag.includes('Orders')),
      );
      expect(external, 'requests outside the API').to.deep.equal([]);
    });
  });
});
