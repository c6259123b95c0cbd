// Browser test of the HTML report (issue 6), run by .ci/run after `cargo test`:
// generates reports with the imtriage binary, opens them in headless Debian Chromium through
// playwright-core, checks the rendered DOM (findings, evidence marks, filters, print styles, no
// network, no script injection from bundle content) and takes a screenshot (tests/browser/out/,
// or docs/report.png for the README with UPDATE_SCREENSHOT=1).
//
// Usage: node tests/browser/report.test.js   (IMTRIAGE_BIN overrides target/debug/imtriage,
// CHROMIUM overrides /usr/bin/chromium)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');

const root = path.resolve(__dirname, '..', '..');
const bin = process.env.IMTRIAGE_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(root, 'target'), 'debug', 'imtriage');
const out = path.join(__dirname, 'out');
fs.mkdirSync(out, { recursive: true });

let failures = 0;
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures++;
}

// Exit status 1 means "findings": expected here.
function report(args, file) {
  try {
    execFileSync(bin, ['analyze', '--quiet', '--output', 'html', '-o', file, ...args], { cwd: root, stdio: 'inherit' });
  } catch (e) {
    if (e.status !== 1) throw e;
  }
  return file;
}

// A bundle whose web.config carries markup in an IM key: it reaches excerpts and the timeline.
function hostileBundle() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imtriage-hostile-'));
  const src = path.join(root, 'samples', 'owa-im-webconfig-on-2016plus', 'positive');
  fs.cpSync(src, dir, { recursive: true });
  const wc = path.join(dir, 'MBX01', 'IIS', 'ClientAccess-Owa_web.config');
  const text = fs.readFileSync(wc, 'utf8').replace(
    /(key="IMServerName"\s+value=")[^"]*"/,
    '$1&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;&lt;script&gt;window.__pwned=2&lt;/script&gt;"'
  );
  fs.writeFileSync(wc, text);
  return dir;
}

(async () => {
  const main = report(
    ['samples/mixed-exchange-pool-client'],
    path.join(out, 'report.html')
  );
  const hostile = report([hostileBundle()], path.join(out, 'hostile.html'));

  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imtriage-chromium-'));
  // A new, empty profile (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1366, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage();
    const requests = [];
    page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    await page.goto('file://' + main);
    const findings = await page.locator('article.finding').count();
    check(findings >= 1, `findings rendered (${findings})`);
    const ids = await page.locator('article.finding').evaluateAll((els) => els.map((e) => e.dataset.id));
    console.log('     finding ids: ' + ids.join(', '));
    check((await page.locator('section.host').count()) >= 2, 'one section per host (MBX01, POOL01)');
    check((await page.locator('tr.ev.evidence').count()) >= 1, 'evidence marked in the timeline');
    check((await page.locator('tr.fnd').count()) === findings, 'each finding appears in its host timeline');
    check(await page.locator('article.finding ol.fix li').first().isVisible(), 'fix steps visible');
    check((await page.locator('article.finding td.place').first().textContent()).length > 0, 'evidence place shown');

    // Severity filter: "critical" hides the error findings, "all" shows them again.
    await page.selectOption('#f-sev', '0');
    check((await page.locator('article.finding:visible').count()) === 0, 'severity filter hides error findings');
    await page.selectOption('#f-sev', '');
    check((await page.locator('article.finding:visible').count()) === findings, 'severity filter "all" shows them again');

    // Host filter.
    await page.selectOption('#f-host', 'POOL01');
    check(await page.locator('section.host[data-host="POOL01"]').isVisible(), 'host filter keeps POOL01');
    check(!(await page.locator('section.host[data-host="MBX01"]').isVisible()), 'host filter hides MBX01');
    await page.selectOption('#f-host', '');

    // Source filter: only sipstack rows remain among timeline event rows.
    const allRows = await page.locator('tr.ev:visible').count();
    await page.selectOption('#f-src', 'sipstack');
    const shownSources = await page.locator('tr.ev:visible').evaluateAll((els) => els.map((e) => e.dataset.source));
    check(shownSources.length > 0 && shownSources.length < allRows && shownSources.every((s) => s === 'sipstack'),
      `source filter shows only sipstack rows (${shownSources.length} of ${allRows})`);
    await page.selectOption('#f-src', '');
    await page.check('#f-evidence');
    const evOnly = await page.locator('tr.ev:visible').count();
    check(evOnly > 0 && evOnly === (await page.locator('tr.ev.evidence').count()), 'evidence-only shows just evidence rows');
    await page.uncheck('#f-evidence');

    // The README's screenshot is refreshed only on request, so CI never rewrites a tracked file.
    const shot = process.env.UPDATE_SCREENSHOT ? path.join(root, 'docs', 'report.png') : path.join(out, 'report.png');
    await page.screenshot({ path: shot });
    check(fs.statSync(shot).size > 10000, `screenshot written to ${path.relative(root, shot)}`);
    await page.emulateMedia({ media: 'print' });
    check(!(await page.locator('#filters').isVisible()), 'filters hidden when printing');
    await page.emulateMedia({ media: 'screen' });

    // Hostile content is text, never markup.
    await page.goto('file://' + hostile);
    check(await page.evaluate(() => window.__pwned === undefined), 'markup in bundle content does not run');
    check((await page.locator('main img').count()) === 0, 'markup in bundle content creates no element');
    check((await page.content()).includes('&lt;script&gt;window.__pwned=2&lt;/script&gt;'), 'markup shown as text');

    check(requests.length === 0, `no network requests (${requests.join(', ')})`);
    check(errors.length === 0, `no script errors (${errors.join('; ')})`);
  } finally {
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  if (failures) {
    console.error(`${failures} browser check(s) failed`);
    process.exit(1);
  }
  console.log('browser test passed');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
