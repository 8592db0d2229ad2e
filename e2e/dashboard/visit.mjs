#!/usr/bin/env node
// Visit dashboard pages in headless Chromium and report what a person would see, as JSON.
//
//   node e2e/dashboard/visit.mjs --plan plan.json --artifacts test-artifacts/e2e/dashboard
//
// plan.json:
// {
//   "base": "http://127.0.0.1:3978",
//   "viewport": {"width": 1366, "height": 768},
//   "login": {"email": "dx-admin@demo-city.example.jp", "password": ""},   // local mode sign-in (optional)
//   "host": {"url": "http://127.0.0.1:4000/host.html?tab=…"},             // or: a page that frames the tab
//   "stubCdn": true,                                                       // answer the Teams JS library's CDN call locally
//   "visits": [{"path": "/dashboard/overview", "screenshot": "overview", "fullPage": true,
//               "waitFor": "main h1", "keyboard": 12, "click": "nav a[data-page=surveys]",
//               "hostEval": "hostSave()"}]                        // run in the host page, then read its log
// }
// For each visit: HTTP status, title, h1, counts of tables/charts/CSV links, cells marked as
// suppressed, the elements focused by pressing Tab `keyboard` times, horizontal overflow at this
// viewport, and CSV links fetched with the page's credentials. Console errors, page errors and failed
// requests are collected for the whole run. Chromium comes from the e2e harness (e2e/lib), with the
// same flags, a fresh profile and only loopback addresses reachable.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from '../lib/playground.mjs';

const { values: args } = parseArgs({
  options: { plan: { type: 'string' }, artifacts: { type: 'string', default: 'test-artifacts/e2e/dashboard' } },
});
if (!args.plan) {
  console.error('usage: visit.mjs --plan FILE|- [--artifacts DIR]');
  process.exit(2);
}
const plan = JSON.parse(fs.readFileSync(args.plan === '-' ? 0 : args.plan, 'utf8'));
const artifacts = path.resolve(args.artifacts);
const report = { ok: false, error: null, visits: [], consoleErrors: [], pageErrors: [], failedRequests: [], screenshots: [] };

const session = await launch({ artifactsDir: artifacts, viewport: plan.viewport || { width: 1366, height: 768 } });
const page = session.context.pages()[0] || (await session.context.newPage());
const watch = (p, where) => {
  p.on('console', (m) => {
    if (m.type() === 'error') report.consoleErrors.push(`${where}: ${m.text()}`);
  });
  p.on('pageerror', (e) => report.pageErrors.push(`${where}: ${e.message}`));
  p.on('requestfailed', (r) => report.failedRequests.push(`${r.url()} ${r.failure()?.errorText || ''}`));
};
watch(page, 'page');
if (plan.stubCdn) {
  // Stands in for Microsoft's CDN, which the Teams JS library asks for its list of Teams origins.
  await page.route('https://res.cdn.office.net/**', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ validOrigins: ['teams.microsoft.com'] }) }),
  );
}

async function snapshot(frame, visit) {
  return frame.evaluate((keyboard) => {
    const text = (el) => (el ? el.textContent.replace(/\s+/g, ' ').trim() : null);
    return {
      title: document.title,
      lang: document.documentElement.lang,
      htmlClass: document.documentElement.className,
      h1: text(document.querySelector('main h1')),
      tables: document.querySelectorAll('main table').length,
      tableRows: [...document.querySelectorAll('main table')].map((t) => t.tBodies[0]?.rows.length || 0),
      captions: [...document.querySelectorAll('main table caption')].map(text),
      charts: document.querySelectorAll('main svg.chart').length,
      chartsTitled: [...document.querySelectorAll('main svg.chart')].filter((s) => s.querySelector('title')?.textContent).length,
      csvLinks: [...document.querySelectorAll('main a.csv')].map((a) => a.getAttribute('href')),
      suppressedCells: document.querySelectorAll('main td.suppressed').length,
      localBanner: text(document.querySelector('.local-banner')),
      nav: [...document.querySelectorAll('nav.pages a')].map((a) => ({ text: text(a), current: a.getAttribute('aria-current') })),
      tiles: [...document.querySelectorAll('main .tile')].map((t) => text(t)),
      mainText: text(document.querySelector('main'))?.slice(0, 4000),
      overflowX: document.documentElement.scrollWidth > window.innerWidth + 1,
      status: document.querySelector('main .message')?.getAttribute('data-status') || null,
    };
  }, visit.keyboard || 0);
}

async function tabThrough(n) {
  const seen = [];
  for (let i = 0; i < n; i += 1) {
    await page.keyboard.press('Tab');
    seen.push(
      await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const style = window.getComputedStyle(el);
        return {
          tag: el.tagName.toLowerCase(),
          text: (el.textContent || el.getAttribute('aria-label') || '').replace(/\s+/g, ' ').trim().slice(0, 60),
          href: el.getAttribute('href'),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
        };
      }),
    );
  }
  return seen;
}

try {
  if (plan.login) {
    const res = await page.goto(`${plan.base}/dashboard/login`, { waitUntil: 'load' });
    if (res.status() !== 200) throw new Error(`login page answered ${res.status()}`);
    await page.selectOption('#login-person', plan.login.email);
    if (plan.login.password) await page.fill('#login-password', plan.login.password);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('.login-form button[type=submit]')]);
  }
  for (const visit of plan.visits) {
    const entry = { path: visit.path };
    const url = visit.path.startsWith('http') ? visit.path : `${plan.base}${visit.path}`;
    const started = Date.now();
    const res = await page.goto(plan.host ? `${plan.host.url}&path=${encodeURIComponent(visit.path)}` : url, { waitUntil: 'load' });
    entry.httpStatus = res ? res.status() : null;
    let frame = page;
    if (plan.host) {
      const handle = await page.waitForSelector('iframe#tab', { timeout: 15000 });
      frame = await handle.contentFrame();
    }
    if (visit.waitFor) await frame.waitForSelector(visit.waitFor, { timeout: visit.timeout || 15000 });
    if (visit.click) {
      await frame.click(visit.click);
      await frame.waitForFunction((sel) => document.querySelector('main h1') && !document.querySelector('main[aria-busy=true]') && (!sel || document.querySelector(sel)), visit.clickWaitFor || null, { timeout: 15000 });
    }
    if (visit.hostEval) {
      await page.evaluate(visit.hostEval);
      await page.waitForTimeout(visit.hostWait || 1000);
    }
    if (plan.host) entry.hostLog = await page.evaluate(() => window.hostLog || []);
    entry.loadMs = Date.now() - started;
    Object.assign(entry, await snapshot(frame, visit));
    if (visit.keyboard) entry.focus = await tabThrough(visit.keyboard);
    if (visit.fetchCsv) {
      entry.csv = await frame.evaluate(async (hrefs) => {
        const out = [];
        for (const href of hrefs) {
          const r = await fetch(href, { credentials: 'same-origin' });
          const body = await r.text();
          out.push({ href, status: r.status, type: r.headers.get('content-type'), lines: body.split('\r\n').filter((l) => l).length, head: body.slice(0, 200) });
        }
        return out;
      }, entry.csvLinks);
    }
    if (visit.screenshot) {
      const file = path.join(artifacts, `${visit.screenshot}.png`);
      await page.screenshot({ path: file, fullPage: !!visit.fullPage });
      report.screenshots.push(file);
      entry.screenshot = file;
    }
    report.visits.push(entry);
  }
  report.ok = true;
} catch (e) {
  report.error = e.message.split('\n')[0];
  await page.screenshot({ path: path.join(artifacts, 'error.png') }).catch(() => {});
} finally {
  await session.close();
}
// exitCode, not process.exit(): a report longer than the pipe buffer must be written out in full first
process.exitCode = report.ok ? 0 : 1;
process.stdout.write(JSON.stringify(report, null, 1) + '\n');
