// The page of framewise serve in Debian's Chromium: log in, upload a clip, watch the
// progress reach done, check the timeline rows and thumbnails, and that model text is
// shown as text. Usage: node page.test.mjs BASE TOKEN CLIP SCREENSHOT PROFILE_DIR
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const [base, token, clip, screenshot, profile] = process.argv.slice(2);
const require = createRequire(process.env.NPM_DIR + '/package.json');
const { chromium } = require('playwright-core');

const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1200, height: 900 },
});
const problems = [];
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  // nothing but this server is ever reached
  await context.route('**/*', (route) => {
    const url = route.request().url();
    return url.startsWith(base) || url.startsWith(base.replace('http', 'ws'))
      ? route.continue() : route.abort();
  });

  await page.goto(base + '/');
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.fill('#token', 'wrong');
  await page.click('#login-form button');
  await page.locator('#login-error').filter({ hasText: 'wrong' }).waitFor();
  await page.fill('#token', token);
  await page.click('#login-form button');
  await page.locator('#submit-section').waitFor({ state: 'visible' });
  problems.length = 0; // the wrong token's 401 was logged on purpose
  await page.locator('#preset option').nth(1).waitFor({ state: 'attached' }); // the presets');

  await page.setInputFiles('#file', clip);
  await page.click('#submit');
  await page.locator('#state').filter({ hasText: /^done$/ }).waitFor({ timeout: 120000 });
  assert.equal(await page.locator('#progress').evaluate((p) => p.value), 1);

  const rows = page.locator('#timeline tbody tr.kf');
  await rows.nth(6).waitFor({ timeout: 30000 });
  assert.equal(await rows.count(), 7, 'one timeline row per keyframe');
  await page.waitForFunction(() => [...document.querySelectorAll('img.thumb')]
    .every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 30000 });
  assert.equal(await page.locator('img.thumb').count(), 7);
  // the model's markup is text, not elements
  const text = await rows.first().locator('td').nth(3).textContent();
  assert.ok(text.includes('<img src=x onerror='), 'the markup is shown as text: ' + text);
  assert.equal(await page.locator('#timeline b').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.ok(await page.locator('#downloads a').count() >= 6, 'downloads are offered');
  assert.ok(await page.locator('#jobs tbody tr').count() >= 1, 'the job is listed');
  await page.screenshot({ path: screenshot, fullPage: true });
  assert.deepEqual(problems, [], 'no errors in the page (CSP included)');
  console.log('ok: uploaded, watched to done, 7 rows with thumbnails, model text escaped');
} finally {
  await context.close();
}
