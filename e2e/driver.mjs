#!/usr/bin/env node
// Run a scripted conversation in one or more Agents Playgrounds and print what the pages showed, as JSON.
//
//   node e2e/driver.mjs --url http://127.0.0.1:56150/ --artifacts test-artifacts/e2e/help --steps steps.json
//   node e2e/driver.mjs --url admin=http://127.0.0.1:56150/ --url leader=http://127.0.0.1:56151/ --steps -
//
// Each --url is one playground, i.e. one signed-in mock user, opened in its own tab before the first step
// (so that a proactive message sent to that user while the script runs is seen: the playground UI does
// not show messages that arrived while no tab was open). Name them with name=URL; a step runs in the tab
// named by its "as" (default: the first).
//
// steps.json (or --steps - for stdin) is a list; each step is one of:
//   {"chat": "Personal Chat"}                       select a conversation ("DX推進課 - General", group chat name)
//   {"send": "ヘルプ", "mention": false, "thread": false}
//                                                   type and send a message (mention: true = @ the bot first,
//                                                   or a member's name; thread: reply in the channel's last post)
//   {"expect": {"text": "できること", "card": true, "anywhere": false, "timeout": 20000}}
//                                                   wait for a bot message (one that came after the last send or
//                                                   chat switch, unless anywhere) and record it
//   {"fill": {"field": "件名", "value": "…"}, "card": "…"}      type into a card input (label or placeholder)
//   {"choose": {"field": "対象", "option": "全課"}, "card": "…"} pick a ChoiceSet option
//   {"toggle": {"title": "既読確認を求める", "on": true}, "card": "…"}  set an Input.Toggle
//   {"click": "送信する", "card": "…"}                click a card button; "card" picks the last card containing it
//   {"screenshot": "help-card", "card": "…"}          save <artifacts>/<name>.png (of one card if "card" is given)
//   {"wait": 500}                                    sleep (ms)
//   {"snapshot": "label"}                            record all messages of the tab now
//   {"viewport": {"width": 390, "height": 844}}      resize the tab's window (the playground itself keeps
//                                                   a desktop layout below ~800 px; see "narrow")
//   {"narrow": 320, "card": "…"}                    render that card at a phone's width (the playground has no
//                                                   phone view) and report what no longer fits:
//                                                   {"width", "cut": [texts clipped or past the card's edge]}
// Any step may carry "as": "<name>" to run in that user's tab.
// Output (stdout): {"ok", "error", "results": [per step], "messages": [first tab's messages],
//                   "tabs": {name: messages}, "screenshots": [...], "consoleErrors": [...]}
// Exit status 0 when every step passed, 1 when one failed (error-<tab>.png is saved then), 2 on bad usage.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launch } from './lib/playground.mjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', multiple: true },
    steps: { type: 'string' },
    artifacts: { type: 'string', default: 'test-artifacts/e2e' },
    'bot-name': { type: 'string' },
    timeout: { type: 'string', default: '20000' },
  },
});
if (!args.url?.length || !args.steps) {
  console.error('usage: driver.mjs --url [name=]URL... --steps FILE|- [--artifacts DIR] [--bot-name NAME] [--timeout MS]');
  process.exit(2);
}
const targets = args.url.map((spec, i) => {
  const m = spec.match(/^([\w.@-]+)=(https?:.*)$/);
  return m ? { name: m[1], url: m[2] } : { name: i === 0 ? 'main' : `tab${i + 1}`, url: spec };
});
const steps = JSON.parse(fs.readFileSync(args.steps === '-' ? 0 : args.steps, 'utf8'));
const artifactsDir = path.resolve(args.artifacts);
const report = { ok: false, error: null, results: [], messages: [], tabs: {}, screenshots: [], consoleErrors: [] };

const session = await launch({ artifactsDir });
const tabs = new Map();
try {
  for (const t of targets) {
    tabs.set(t.name, await session.open(t.url, { botName: args['bot-name'], timeout: Number(args.timeout) }));
  }
  for (const [i, step] of steps.entries()) {
    const name = step.as || targets[0].name;
    const pg = tabs.get(name);
    try {
      if (!pg) throw new Error(`no tab named ${JSON.stringify(name)} (have ${[...tabs.keys()].join(', ')})`);
      report.results.push(await runStep(pg, step));
    } catch (e) {
      throw new Error(`step ${i + 1} ${JSON.stringify(step)}: ${e.message.split('\n')[0]}`);
    }
  }
  report.ok = true;
} catch (e) {
  report.error = e.message;
  for (const [name, pg] of tabs) await pg.screenshot(tabs.size > 1 ? `error-${name}` : 'error').catch(() => {});
} finally {
  for (const [name, pg] of tabs) {
    report.tabs[name] = await pg.messages().catch(() => []);
    report.screenshots.push(...pg.screenshots);
    report.consoleErrors.push(...pg.consoleErrors);
  }
  report.messages = report.tabs[targets[0].name] || [];
  await session.close();
}
// Exit only once the report is flushed: a pipe is written asynchronously, and exiting at once cut
// reports longer than the pipe's buffer (a long flow's report is more than 64 KB).
process.stdout.write(JSON.stringify(report, null, 1) + '\n', () => process.exit(report.ok ? 0 : 1));

async function runStep(pg, step) {
  if ('chat' in step) return pg.openChat(step.chat);
  if ('send' in step) return pg.send(step.send, { mention: step.mention || false, thread: !!step.thread });
  if ('expect' in step) return pg.expectBotMessage(step.expect);
  if ('fill' in step) return pg.card(step.card).fill(step.fill.field, step.fill.value);
  if ('choose' in step) return pg.card(step.card).choose(step.choose.field, step.choose.option);
  if ('toggle' in step) return pg.card(step.card).toggle(step.toggle.title, step.toggle.on !== false);
  if ('click' in step) return pg.card(step.card).click(step.click);
  if ('screenshot' in step) return pg.screenshot(step.screenshot, { card: step.card });
  if ('wait' in step) return pg.page.waitForTimeout(step.wait);
  if ('snapshot' in step) return { label: step.snapshot, messages: await pg.messages() };
  if ('viewport' in step) return pg.page.setViewportSize({ width: step.viewport.width, height: step.viewport.height });
  if ('narrow' in step) return narrowCard(pg, step.narrow, step.card);
  throw new Error(`unknown step ${JSON.stringify(step)}`);
}

// Squeeze one rendered card to `width` px, let the renderer lay it out again, and list the texts that no
// longer fit: an element whose content is wider than its box (a button title cut with "…") or that
// sticks out past the card's right edge.
async function narrowCard(pg, width, text) {
  const card = pg.card(text).locator;
  await card.evaluate((el, w) => {
    el.style.width = `${w}px`;
    el.style.maxWidth = `${w}px`;
    el.style.minWidth = '0';
  }, width);
  await pg.page.waitForTimeout(300);
  return card.evaluate((el) => {
    const edge = el.getBoundingClientRect().right;
    const cut = [];
    for (const node of el.querySelectorAll('button, .ac-textBlock, .ac-container')) {
      const label = (node.innerText || node.getAttribute('title') || '').trim();
      if (!label) continue;
      const clipped = node.scrollWidth > node.clientWidth + 1;
      const past = node.getBoundingClientRect().right > edge + 1;
      if (clipped || past) cut.push(label.slice(0, 80));
    }
    return { width: el.getBoundingClientRect().width, cut };
  });
}
